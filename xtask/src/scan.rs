//! What the source and the ledger say: ordering sites found by reading
//! `src/**/*.rs` (the same rules as `tests/safety_refs.rs`), and the
//! survivor justifications and test lists of SAFETY.md entries.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub const ORDERINGS: [&str; 5] = ["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"];
/// How many lines above a site its `// ORDERING:` comment may start.
const WINDOW: usize = 6;

/// A source line that uses an ordering as an argument to an atomic operation or fence.
#[derive(Debug, Clone)]
pub struct StaticSite {
    /// Path relative to the crate root, e.g. `src/counter.rs`.
    pub file: String,
    pub line: usize,
    /// The first tag of the `// ORDERING:` comment above it (`?` if none).
    pub tag: String,
    /// The module the file belongs to (`counter`, `disruptor`, `loom`, ...).
    pub primitive: String,
}

/// `src/counter.rs` → `counter`; `src/disruptor/ring_buffer.rs` and
/// `src/disruptor.rs` → `disruptor`; `src/loom.rs` → `loom` (the switch
/// module, whose sites are attributed to the primitives that execute them).
pub fn primitive_of(file: &str) -> String {
    let rest = file.strip_prefix("src/").unwrap_or(file);
    let first = rest.split('/').next().unwrap_or(rest);
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Tags of the form `[ABC-O1]`, `[ABC-I2]` in `text`, in order.
pub fn tags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        if is_tag(&rest[..close]) {
            found.push(rest[..close].to_string());
        }
    }
    found
}

fn is_tag(s: &str) -> bool {
    let Some((prefix, suffix)) = s.rsplit_once('-') else { return false };
    prefix.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && suffix.len() >= 2
        && (suffix.starts_with('O') || suffix.starts_with('I'))
        && suffix[1..].chars().all(|c| c.is_ascii_digit())
}

fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The code part of a line, or `None` for comment and attribute lines.
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

/// Every ordering site in `src`, except the mutation runtime itself
/// (`src/mutate.rs`) and lines marked `// not an atomic operation`.
pub fn static_sites(root: &Path) -> Vec<StaticSite> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut sites = Vec::new();
    for path in files {
        let file = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if file == "src/mutate.rs" {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
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
            if !words(code).any(|w| ORDERINGS.contains(&w)) {
                continue;
            }
            let window = &lines[i.saturating_sub(WINDOW)..i];
            let tag = window
                .iter()
                .rposition(|l| l.contains("// ORDERING:"))
                .and_then(|at| tags(window[at]).into_iter().next())
                .unwrap_or_else(|| "?".to_string());
            sites.push(StaticSite {
                primitive: primitive_of(&file),
                file: file.clone(),
                line: i + 1,
                tag,
            });
        }
    }
    sites
}

/// What SAFETY.md says about one tag.
#[derive(Debug, Default, Clone)]
pub struct LedgerEntry {
    /// `tests/file.rs::name` items of the `- **Tests:**` line.
    pub tests: Vec<String>,
    /// `(kind, Ordering)` pairs of `- **Survivor:** <kind>=<Ordering> — why` lines.
    pub survivors: Vec<(String, String)>,
}

/// Entries of SAFETY.md keyed by tag (headings `### [TAG] title`).
pub fn ledger(text: &str) -> BTreeMap<String, LedgerEntry> {
    let mut entries: BTreeMap<String, LedgerEntry> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("### [") {
            current = tags(&format!("[{head}")).into_iter().next();
            if let Some(tag) = &current {
                entries.entry(tag.clone()).or_default();
            }
        } else if line.starts_with("## ") || line.starts_with("### ") || line.starts_with("<!--") {
            current = None;
        } else if let Some(tag) = &current {
            let entry = entries.get_mut(tag).expect("entry exists");
            let item = line.trim_start();
            if let Some(rest) = item.strip_prefix("- **Tests:**") {
                entry.tests.extend(rest.split('`').skip(1).step_by(2).map(str::to_string));
            } else if let Some(rest) = item.strip_prefix("- **Survivor:**") {
                let spec = rest.trim().trim_start_matches('`');
                let spec: String = spec
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '=')
                    .collect();
                if let Some((kind, order)) = spec.split_once('=') {
                    entry.survivors.push((kind.to_string(), order.to_string()));
                }
            }
        }
    }
    entries
}

/// Replaces the text between `begin` and `end` markers (appending the
/// marked block, preceded by `heading`, when the markers are missing).
pub fn replace_section(text: &str, begin: &str, end: &str, body: &str, heading: &str) -> String {
    match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{begin}\n{body}{}", &text[..b], &text[e..])
        }
        _ => {
            let mut out = text.trim_end().to_string();
            out.push_str(&format!("\n\n{heading}{begin}\n{body}{end}\n"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_follow_the_file_layout() {
        assert_eq!(primitive_of("src/counter.rs"), "counter");
        assert_eq!(primitive_of("src/disruptor/ring_buffer.rs"), "disruptor");
        assert_eq!(primitive_of("src/disruptor.rs"), "disruptor");
        assert_eq!(primitive_of("src/loom.rs"), "loom");
    }

    #[test]
    fn ledger_reads_tests_and_survivors() {
        let text = "### [A-O1] x\n- **Tests:** `tests/a.rs::t1`, `tests/loom_a.rs::t2`\n\
                    - **Survivor:** load=Relaxed — masked by y\n## next\n- **Survivor:** store=Relaxed\n";
        let l = ledger(text);
        assert_eq!(l["A-O1"].tests, ["tests/a.rs::t1", "tests/loom_a.rs::t2"]);
        assert_eq!(l["A-O1"].survivors, [("load".to_string(), "Relaxed".to_string())]);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn sections_are_replaced_or_appended() {
        let text = "a\n<!-- b -->\nold\n<!-- e -->\nz\n";
        assert_eq!(
            replace_section(text, "<!-- b -->", "<!-- e -->", "new\n", ""),
            "a\n<!-- b -->\nnew\n<!-- e -->\nz\n"
        );
        assert_eq!(
            replace_section("a\n", "<!-- b -->", "<!-- e -->", "new\n", "## H\n\n"),
            "a\n\n## H\n\n<!-- b -->\nnew\n<!-- e -->\n"
        );
    }
}
