//! Keeps the code and the proof ledger (SAFETY.md) in agreement:
//!
//! 1. every atomic ordering in `src` has an `// ORDERING: [TAG]` comment just
//!    above it, and that comment names each ordering the code line uses;
//! 2. every `unsafe` block and `unsafe impl` has a `// SAFETY: [TAG]` comment;
//! 3. every tag cited in `src` is defined in SAFETY.md (a heading `### [TAG] ...`);
//! 4. every tag defined in SAFETY.md is cited somewhere in `src`;
//! 5. every test a ledger entry names (`file.rs::test_name`) exists;
//! 6. every safe-code entry (`<PRIM>-S<n>`: what safe code can do to a
//!    primitive) says which hazard it covers (`- **Hazard:**` one of
//!    [`HAZARDS`]) and names the tests that show it;
//! 7. every tag SAFETY.md mentions is defined there, and every primitive
//!    with proof entries has safe-code entries too;
//! 8. every public trait, and every public function that calls user code
//!    (a closure or an iterator it is given), is listed in SAFETY.md's
//!    section "User code the crate calls" as `` `Type::method` `` (or
//!    `` `module::function` `` for free functions, `` `Trait` `` for traits);
//! 9. every tag a doc comment cites links to its entry on the generated
//!    `acqrel::safety` page, and every entry has that anchor.
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
        && (suffix.starts_with('O') || suffix.starts_with('I') || suffix.starts_with('S'))
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

/// What safe code can do to a primitive; each safe-code entry covers one.
const HAZARDS: [&str; 6] = ["forget", "panic", "user code", "drop order", "thread exit", "misuse"];

struct Ledger {
    /// tag -> the tests its entry names
    entries: BTreeMap<String, Vec<String>>,
    /// tag -> the text of its `- **Hazard:**` line (safe-code entries)
    hazards: BTreeMap<String, String>,
    /// The text of the section "User code the crate calls".
    user_code: String,
}

fn ledger() -> Ledger {
    let text = fs::read_to_string(root().join("SAFETY.md")).expect("SAFETY.md exists");
    let mut entries: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut hazards = BTreeMap::new();
    let mut user_code = String::new();
    let mut in_user_code = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("## ") {
            in_user_code = line == "## User code the crate calls";
        }
        if in_user_code {
            user_code.push_str(line);
            user_code.push('\n');
        }
        if let (Some(tag), Some(rest)) = (&current, line.trim_start().strip_prefix("- **Hazard:**"))
        {
            hazards.insert(tag.clone(), rest.trim().to_string());
        }
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
    Ledger { entries, hazards, user_code }
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
        if (tag.contains("-O") || tag.contains("-S")) && tests.is_empty() {
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
fn every_tag_the_ledger_mentions_is_defined_and_every_primitive_has_safe_code_entries() {
    let text = fs::read_to_string(root().join("SAFETY.md")).unwrap();
    let ledger = ledger();
    let mut problems = Vec::new();
    let mut section = String::new();
    let mut prefixes_with_entries: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.to_string();
        }
        for tag in tags(line) {
            if !ledger.entries.contains_key(&tag) {
                problems.push(format!("SAFETY.md ({section}) mentions [{tag}], defined nowhere"));
            }
        }
        if let Some(head) = line.strip_prefix("### [") {
            let tag = &tags(&format!("[{head}"))[0];
            let (prefix, suffix) = tag.rsplit_once('-').unwrap();
            let seen = prefixes_with_entries.entry(prefix.to_string()).or_default();
            if suffix.starts_with('S') {
                seen.1 = true;
            } else {
                seen.0 = true;
            }
        }
    }
    for (prefix, (proofs, safe_code)) in &prefixes_with_entries {
        if *proofs && !safe_code {
            problems.push(format!("[{prefix}-*] has no safe-code entry ([{prefix}-S1], ...)"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_safe_code_entry_names_its_hazard() {
    let ledger = ledger();
    let mut problems = Vec::new();
    for tag in ledger.entries.keys().filter(|t| t.contains("-S")) {
        match ledger.hazards.get(tag) {
            None => problems.push(format!("[{tag}] has no `- **Hazard:**` line")),
            Some(h) if !HAZARDS.iter().any(|k| h.starts_with(k)) => {
                problems.push(format!("[{tag}]: hazard `{h}` is not one of {HAZARDS:?}"))
            }
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The name of the type an `impl` line implements (`impl<T> Trait for Type<T> {` → `Type`).
fn impl_type(line: &str) -> Option<String> {
    let mut rest = line.trim_start().strip_prefix("impl")?;
    if rest.starts_with('<') {
        let mut depth = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                rest = &rest[i + 1..];
                break;
            }
        }
    }
    let rest = match rest.find(" for ") {
        Some(at) => &rest[at + 5..],
        None => rest,
    };
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    Some(name.rsplit("::").next().unwrap().to_string())
}

/// `Type::method` (or `module::function`) of every public function in `src`
/// whose signature takes a closure or an iterator, and every public trait.
fn user_code_entry_points() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let module = file.file_stem().unwrap().to_string_lossy().to_string();
        let lines: Vec<&str> = text.lines().collect();
        let mut owner: Option<String> = None;
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if t.starts_with("impl<") || t.starts_with("impl ") {
                owner = impl_type(line);
            } else if *line == "}" || line.starts_with("fn ") || line.starts_with("pub fn ") {
                owner = None; // the end of an impl block, or a free function
            }
            if let Some(rest) = t.strip_prefix("pub trait ") {
                let name: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                // A sealed trait cannot be implemented outside the crate.
                if !rest.contains("Sealed") && name != "Sealed" {
                    found.push(name);
                }
                continue;
            }
            let Some(sig_start) = t.strip_prefix("pub fn ").or(t.strip_prefix("pub unsafe fn "))
            else {
                continue;
            };
            let name: String =
                sig_start.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let mut signature = String::new();
            for l in &lines[i..] {
                signature.push_str(l);
                if l.contains('{') || l.trim_end().ends_with(';') {
                    break;
                }
            }
            let calls_user_code =
                ["Fn(", "FnMut(", "FnOnce(", "Iterator<"].iter().any(|p| signature.contains(p));
            if calls_user_code {
                found.push(format!("{}::{name}", owner.clone().unwrap_or_else(|| module.clone())));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_entry_point_for_user_code_is_listed() {
    let ledger = ledger();
    assert!(!ledger.user_code.is_empty(), "SAFETY.md has no section \"User code the crate calls\"");
    let missing: Vec<String> = user_code_entry_points()
        .into_iter()
        .filter(|name| !ledger.user_code.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "public traits and functions that call user code, not listed in SAFETY.md's \
         \"User code the crate calls\": {missing:?}"
    );
}

#[test]
fn tag_parser_recognises_the_grammar() {
    assert_eq!(
        tags("// ORDERING: [SPSC-O2] Acquire — pairs with [SPSC-O1]"),
        ["SPSC-O2", "SPSC-O1"]
    );
    assert_eq!(tags("[x] [CTR-I3] [lower-O1] [A-B] [SPSC-S2]"), ["CTR-I3", "SPSC-S2"]);
    assert_eq!(impl_type("impl<T, S: Storage> Producer<T, S> {").as_deref(), Some("Producer"));
    assert_eq!(
        impl_type("impl<E, F> EventHandler<E> for F").as_deref(),
        Some("F"),
        "the implementing type, not the trait"
    );
    assert!(code_of("    // ORDERING: text").is_none());
    assert_eq!(code_of("a.load(Relaxed); // c"), Some("a.load(Relaxed); "));
}

/// 9. every tag a doc comment in `src` cites links to its entry in the
///    generated docs (`[TAG](crate::safety#TAG)`, the ledger rendered as the
///    `acqrel::safety` page), and every entry has the anchor it links to.
#[test]
fn doc_comment_tags_link_to_their_ledger_entries() {
    let text = fs::read_to_string(root().join("SAFETY.md")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(head) = line.strip_prefix("### [") {
            let tag = &tags(&format!("[{head}"))[0];
            let anchor = format!("<a id=\"{tag}\"></a>");
            assert!(
                i > 0 && lines[i - 1] == anchor,
                "SAFETY.md: the heading of [{tag}] needs `{anchor}` on the line above it"
            );
        }
    }
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut unlinked = Vec::new();
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        for (n, line) in source.lines().enumerate() {
            let doc = line.trim_start();
            if !(doc.starts_with("///") || doc.starts_with("//!")) {
                continue;
            }
            for tag in tags(doc) {
                let cited = format!("[{tag}]");
                let linked = format!("[{tag}](crate::safety#{tag})");
                if doc.matches(&cited).count() != doc.matches(&linked).count() {
                    unlinked.push(format!("{}:{}: [{tag}]", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        unlinked.is_empty(),
        "doc comments cite tags without linking them (write `[TAG](crate::safety#TAG)`):\n{}",
        unlinked.join("\n")
    );
}
