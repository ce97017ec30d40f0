//! Keeps the code and the proof ledger (SAFETY.md) in agreement:
//!
//! 1. every atomic ordering in `src` has an `// ORDERING: [TAG]` comment just
//!    above it, and that comment names each ordering the code line uses;
//! 2. every `unsafe` block and `unsafe impl` has a `// SAFETY: [TAG]` comment;
//! 3. every tag cited in `src` is defined in SAFETY.md (a heading `### [TAG] ...`);
//! 4. every tag defined in SAFETY.md is cited somewhere in `src`;
//! 5. every test a ledger entry names (`file.rs::test_name`) exists.
//!
//! `src/mutate.rs` (the ordering-mutation runtime, which names orderings as
//! data) is not scanned for sites, and a line marked `// not an atomic
//! operation` is skipped.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const ORDERINGS: [&str; 5] = ["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"];
/// How many lines above a site its comment may start (long comments and
/// multi-line statements).
const WINDOW: usize = 6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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

/// Tags of the form `[ABC-O1]`, `[ABC-I2]` in `text`.
fn tags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(open) = text[i..].find('[') {
        let start = i + open + 1;
        let Some(len) = text[start..].find(']') else { break };
        let candidate = &text[start..start + len];
        if is_tag(candidate) {
            found.push(candidate.to_string());
        }
        i = start;
        if i >= bytes.len() {
            break;
        }
    }
    found
}

fn is_tag(s: &str) -> bool {
    let Some((prefix, suffix)) = s.rsplit_once('-') else { return false };
    !prefix.is_empty()
        && prefix.chars().next().unwrap().is_ascii_uppercase()
        && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && suffix.len() >= 2
        && (suffix.starts_with('O') || suffix.starts_with('I'))
        && suffix[1..].chars().all(|c| c.is_ascii_digit())
}

fn words(code: &str) -> Vec<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

/// The code part of a line (before a `//` comment), or `None` for comment lines.
fn code_of(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") || trimmed.starts_with("#[") || trimmed.starts_with("#![") {
        return None;
    }
    Some(match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    })
}

struct Ledger {
    /// tag -> the tests its entry names
    entries: BTreeMap<String, Vec<String>>,
}

fn ledger() -> Ledger {
    let text = fs::read_to_string(root().join("SAFETY.md")).expect("SAFETY.md exists");
    let mut entries: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("### [") {
            let head = format!("[{head}");
            let defined = tags(&head);
            assert!(defined.len() == 1, "SAFETY.md heading must define exactly one tag: {line}");
            let tag = defined[0].clone();
            assert!(!entries.contains_key(&tag), "SAFETY.md defines [{tag}] twice");
            entries.insert(tag.clone(), Vec::new());
            current = Some(tag);
        } else if line.starts_with("## ") || line.starts_with("### ") {
            current = None;
        } else if let (Some(tag), Some(rest)) =
            (&current, line.trim_start().strip_prefix("- **Tests:**"))
        {
            for item in rest.split('`').skip(1).step_by(2) {
                entries.get_mut(tag).unwrap().push(item.to_string());
            }
        }
    }
    Ledger { entries }
}

#[test]
fn every_ordering_and_unsafe_block_is_commented() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        if name == "src/mutate.rs" {
            continue;
        }
        for (i, line) in lines.iter().enumerate() {
            if line.contains("// not an atomic operation") {
                continue;
            }
            let Some(code) = code_of(line) else { continue };
            let t = code.trim_start();
            if t.starts_with("use ")
                || t.starts_with("pub use ")
                || t.starts_with("pub(crate) use ")
            {
                continue;
            }
            let window = &lines[i.saturating_sub(WINDOW)..i];
            let used: Vec<&str> =
                words(code).into_iter().filter(|w| ORDERINGS.contains(w)).collect();
            if !used.is_empty() {
                match window.iter().rposition(|l| l.contains("// ORDERING:")) {
                    None => problems
                        .push(format!("{name}:{}: ordering without `// ORDERING: [TAG]`", i + 1)),
                    Some(at) => {
                        // The comment runs from its `ORDERING:` line down to the site.
                        let comment: String = window[at..]
                            .iter()
                            .filter(|l| l.trim_start().starts_with("//"))
                            .copied()
                            .collect::<Vec<_>>()
                            .join(" ");
                        if tags(&comment).is_empty() {
                            problems.push(format!(
                                "{name}:{}: ORDERING comment without a [TAG]",
                                i + 1
                            ));
                        }
                        let named = words(&comment);
                        for ordering in &used {
                            if !named.contains(ordering) {
                                problems.push(format!(
                                    "{name}:{}: code uses {ordering} but its ORDERING comment does not say so",
                                    i + 1
                                ));
                            }
                        }
                    }
                }
            }
            let is_unsafe_block = t.contains("unsafe {") || t.contains("unsafe impl");
            if is_unsafe_block {
                let ok = window
                    .iter()
                    .chain(std::iter::once(line))
                    .any(|l| l.contains("// SAFETY:") && !tags(l).is_empty());
                if !ok {
                    problems.push(format!("{name}:{}: unsafe without `// SAFETY: [TAG]`", i + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "uncommented sites:\n{}", problems.join("\n"));
}

#[test]
fn cited_and_defined_tags_agree() {
    let ledger = ledger();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut cited = BTreeSet::new();
    for file in &files {
        for line in fs::read_to_string(file).unwrap().lines() {
            if line.contains("//") {
                cited.extend(tags(line));
            }
        }
    }
    let defined: BTreeSet<String> = ledger.entries.keys().cloned().collect();
    let undefined: Vec<_> = cited.difference(&defined).collect();
    let uncited: Vec<_> = defined.difference(&cited).collect();
    assert!(undefined.is_empty(), "tags cited in src but not defined in SAFETY.md: {undefined:?}");
    assert!(uncited.is_empty(), "tags defined in SAFETY.md but cited nowhere in src: {uncited:?}");
}

#[test]
fn every_ordering_entry_names_existing_tests() {
    let ledger = ledger();
    let mut problems = Vec::new();
    for (tag, tests) in &ledger.entries {
        if tag.contains("-O") && tests.is_empty() {
            problems.push(format!("[{tag}] names no test"));
        }
        for test in tests {
            let Some((file, func)) = test.split_once("::") else {
                problems.push(format!("[{tag}]: `{test}` is not `path.rs::test_name`"));
                continue;
            };
            let source = fs::read_to_string(root().join(file)).unwrap_or_default();
            let defines =
                source.contains(&format!("fn {func}(")) || source.contains(&format!("fn {func}<"));
            if !defines {
                problems.push(format!("[{tag}]: `{test}` does not exist"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn tag_parser_recognises_the_grammar() {
    assert_eq!(
        tags("// ORDERING: [SPSC-O2] Acquire — pairs with [SPSC-O1]"),
        ["SPSC-O2", "SPSC-O1"]
    );
    assert_eq!(tags("[x] [CTR-I3] [lower-O1] [A-B]"), ["CTR-I3"]);
    assert!(code_of("    // ORDERING: text").is_none());
    assert_eq!(code_of("a.load(Relaxed); // c"), Some("a.load(Relaxed); "));
}
