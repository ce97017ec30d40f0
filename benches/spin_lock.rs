//! Spin locks side by side (placeholder until the bench lands).
fn main() {}
