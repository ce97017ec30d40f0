//! Every public type, trait, type alias and function (inherent methods
//! included) has an `# Examples` section. (That every ledger tag a doc comment
//! cites links to its entry is checked in `safety_refs.rs`.)
//!
//! The scan is textual: an item counts as public when its line starts with
//! `pub ` (not `pub(crate)`), outside the crate-private modules listed in
//! [`PRIVATE`] and outside `mod tests` / `mod sealed` blocks; its doc block
//! is the run of `///` and attribute lines just above it. Trait-impl methods
//! cannot be `pub`, so they are not counted (the trait documents them).
use std::fs;
use std::path::{Path, PathBuf};

/// Modules that are not part of the public API.
const PRIVATE: [&str; 3] = ["src/loom.rs", "src/mutate.rs", "src/patience.rs"];

/// Items under these attributes are not part of the public API of a normal
/// build.
const NOT_API: [&str; 3] = ["#[doc(hidden)]", "#[cfg(doctest)]", "#[cfg(loom)]"];

const ITEMS: [&str; 8] = [
    "pub fn ",
    "pub const fn ",
    "pub unsafe fn ",
    "pub struct ",
    "pub enum ",
    "pub trait ",
    "pub unsafe trait ",
    "pub type ",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_public_item_has_an_example() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut missing = Vec::new();
    let mut counted = 0;
    for file in files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if PRIVATE.contains(&rel.as_str()) {
            continue;
        }
        let source = fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        // Indentation of an enclosing `mod tests` / `mod sealed` block, if any.
        let mut skip_until: Option<usize> = None;
        for (n, line) in lines.iter().enumerate() {
            let text = line.trim_start();
            let indent = line.len() - text.len();
            if let Some(depth) = skip_until {
                if indent == depth && text.starts_with('}') {
                    skip_until = None;
                }
                continue;
            }
            if text.starts_with("mod tests") || text.starts_with("mod sealed") {
                if text.ends_with('{') {
                    skip_until = Some(indent);
                }
                continue;
            }
            if !ITEMS.iter().any(|item| text.starts_with(item)) {
                continue;
            }
            let mut doc = String::new();
            let mut hidden = false;
            let mut in_attribute = false;
            for above in lines[..n].iter().rev() {
                let above = above.trim_start();
                // A multi-line attribute, read upwards from its `)]`.
                if in_attribute || above == ")]" {
                    in_attribute = !above.starts_with("#[");
                    continue;
                }
                if let Some(d) = above.strip_prefix("///") {
                    doc.push_str(d);
                    doc.push('\n');
                } else if above.starts_with("#[") || above.starts_with("//") {
                    hidden |= NOT_API.iter().any(|attr| above.starts_with(attr));
                } else {
                    break;
                }
            }
            if hidden {
                continue;
            }
            counted += 1;
            if !doc.contains("# Examples") {
                missing.push(format!("{rel}:{}: {}", n + 1, text.trim_end_matches('{').trim()));
            }
        }
    }
    assert!(counted > 100, "the scan found only {counted} public items: is it still reading src?");
    assert!(
        missing.is_empty(),
        "{} of {counted} public items have no `# Examples` section:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
