//! Building the instrumented test binaries and running them under a timeout.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A compiled test binary (`tests/<name>.rs`).
#[derive(Debug, Clone)]
pub struct TestBinary {
    pub name: String,
    pub path: PathBuf,
}

/// Builds the named test targets with `rustflags` into `target_dir` and
/// returns their executables (cargo's JSON messages name them).
pub fn build_tests(
    root: &Path,
    target_dir: &str,
    rustflags: &str,
    release: bool,
    tests: &[String],
) -> Result<Vec<TestBinary>, String> {
    if tests.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["test", "--no-run", "--message-format=json", "--target-dir", target_dir])
        .env("RUSTFLAGS", rustflags)
        .env("CARGO_TERM_COLOR", "never")
        .stderr(Stdio::inherit());
    if release {
        cmd.arg("--release");
    }
    for t in tests {
        cmd.args(["--test", t]);
    }
    let out = cmd.output().map_err(|e| format!("cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building {tests:?} with RUSTFLAGS=\"{rustflags}\" failed"));
    }
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (Some(exe), Some(name)) = (json_str(line, "executable"), target_name(line)) else {
            continue;
        };
        if tests.contains(&name) {
            found.push(TestBinary { name, path: PathBuf::from(exe) });
        }
    }
    Ok(found)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// The string value of `"key":"..."` in one line of cargo's JSON output
/// (paths and target names need no unescaping beyond `\\` and `\"`).
fn json_str(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat)? + pat.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

fn target_name(line: &str) -> Option<String> {
    let target = &line[line.find("\"target\":{")?..];
    json_str(target, "name")
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed,
    /// Non-zero exit: the libtest tests reported FAILED (may be empty when
    /// the process crashed or Miri stopped on undefined behaviour), and a
    /// one-line reason from the output.
    Failed {
        tests: Vec<String>,
        reason: String,
        seed: Option<String>,
    },
    TimedOut,
}

/// Runs `program args` with `env` set, killing its whole process group after
/// `timeout` (coreutils `timeout`, so `cargo miri`'s children die too).
/// Output goes to `log`.
pub fn run(
    program: &Path,
    args: &[String],
    env: &[(&str, String)],
    cwd: &Path,
    timeout: Duration,
    log: &Path,
) -> Outcome {
    let file = fs::File::create(log).expect("log file");
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=10")
        .arg(format!("{}", timeout.as_secs().max(1)))
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file"))
        .stderr(file);
    // Only what the caller passes reaches the run (not the caller's shell).
    cmd.env_remove("ACQREL_MUTANT").env_remove("ACQREL_SITES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let status = cmd.status().expect("run `timeout` (coreutils)");
    let text = fs::read_to_string(log).unwrap_or_default();
    match status.code() {
        Some(0) => Outcome::Passed,
        Some(124) | Some(137) => Outcome::TimedOut,
        None if start.elapsed() >= timeout => Outcome::TimedOut,
        _ => Outcome::Failed {
            tests: failed_tests(&text),
            reason: reason(&text),
            seed: failing_seed(&text),
        },
    }
}

/// The tests of a compiled test binary, in the order libtest lists them
/// (`<name>: test` lines of `--list`). Listing runs none of them.
pub fn list_tests(program: &Path) -> Vec<String> {
    let out = Command::new(program)
        .arg("--list")
        .stdin(Stdio::null())
        .env_remove("ACQREL_MUTANT")
        .env_remove("ACQREL_SITES")
        .output()
        .expect("list the tests of a test binary");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(String::from)
        .collect()
}

/// Names of tests libtest reported as `test <name> ... FAILED` (Miri's
/// parallel seeds may interleave two such lines into one).
pub fn failed_tests(output: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in output.lines() {
        let parts: Vec<&str> = line.split(" ... ").collect();
        for pair in parts.windows(2) {
            if !pair[1].starts_with("FAILED") {
                continue;
            }
            if let Some(at) = pair[0].rfind("test ") {
                let name = pair[0][at + 5..].trim().to_string();
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// The seed Miri's `-Zmiri-many-seeds` reports as failing, if any.
pub fn failing_seed(output: &str) -> Option<String> {
    output.lines().find_map(|l| l.strip_prefix("FAILING SEED: ")).map(|s| s.trim().to_string())
}

/// The most telling line of a failed run's output.
fn reason(output: &str) -> String {
    let interesting = [
        "Undefined Behavior",
        "Causality violation",
        "panicked at",
        "deadlock",
        "exceeded",
        "error:",
    ];
    for needle in interesting {
        if let Some(line) = output.lines().find(|l| l.contains(needle)) {
            let mut line = line.trim().to_string();
            if let Some(next) = output.lines().skip_while(|l| !l.contains(needle)).nth(1)
                && needle == "panicked at"
            {
                line = next.trim().to_string();
            }
            line.truncate(100);
            return line;
        }
    }
    "non-zero exit".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"loom_counter","src_path":"/x"},"executable":"/t/loom_counter-ab"}"#;
        assert_eq!(json_str(line, "executable").as_deref(), Some("/t/loom_counter-ab"));
        assert_eq!(target_name(line).as_deref(), Some("loom_counter"));
        assert_eq!(json_str(r#"{"executable":null}"#, "executable"), None);
    }

    #[test]
    fn finds_failed_tests() {
        let out = "test a ... ok\ntest b ... FAILED\ntest c::d ... FAILED\n";
        assert_eq!(failed_tests(out), ["b", "c::d"]);
        let miri = "test x ... test x ... FAILED\nFAILED\nFAILING SEED: 7\n";
        assert_eq!(failed_tests(miri), ["x"]);
        assert_eq!(failing_seed(miri).as_deref(), Some("7"));
    }
}
