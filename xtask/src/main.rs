//! Developer tasks for acqrel. One command so far:
//!
//! `cargo xtask mutate-orderings [--primitive NAME]... [--no-miri] [--seeds N]
//! [--jobs N] [--stress] [--report-only] [--no-write] [--timeout SECS]
//! [--miri-timeout SECS]`
//!
//! For every ordering site the tests execute, weaken the ordering in every
//! permitted way, one mutant at a time, and run the tests that guard the
//! site's primitive: its loom models first (one instrumented build; per
//! mutant, one model per run until one fails), then Miri over several seeds for the loom
//! survivors, then (with `--stress`) the native stress tests. A mutant no
//! oracle kills must be justified in SAFETY.md by a line
//! `- **Survivor:** <kind>=<Ordering> — ...` in its tag's entry. The result is
//! written to SAFETY.md and README.md between `<!-- mutation:begin -->` and
//! `<!-- mutation:end -->` markers. See README.md, "Extended checks".
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a host tool, not crate code

mod exec;
mod scan;

use exec::{Outcome, TestBinary};
use scan::StaticSite;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering as Mem};
use std::time::{Duration, Instant};

const BEGIN: &str = "<!-- mutation:begin -->";
const END: &str = "<!-- mutation:end -->";
/// How far below a runtime site (the line of the method call) the ordering
/// argument may sit when a call is split over several lines.
const CALL_SPAN: usize = 8;

struct Options {
    primitives: Vec<String>,
    miri: bool,
    seeds: u32,
    jobs: usize,
    stress: bool,
    report_only: bool,
    write: bool,
    /// Per loom (and stress) run.
    timeout: Duration,
    /// Per Miri run.
    miri_timeout: Duration,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo xtask mutate-orderings [--primitive NAME]... [--no-miri] [--seeds N] \
         [--jobs N] [--stress] [--timeout SECS] [--miri-timeout SECS] [--report-only] [--no-write]"
    );
    std::process::exit(2)
}

fn parse_options(args: &[String]) -> Options {
    let mut o = Options {
        primitives: Vec::new(),
        miri: true,
        seeds: 8,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        stress: false,
        report_only: false,
        write: true,
        timeout: Duration::from_secs(600),
        miri_timeout: Duration::from_secs(120),
    };
    let mut it = args.iter();
    let number =
        |v: Option<&String>| -> u64 { v.and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()) };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--primitive" => o.primitives.push(it.next().cloned().unwrap_or_else(|| usage())),
            "--no-miri" => o.miri = false,
            "--seeds" => o.seeds = number(it.next()) as u32,
            "--jobs" => o.jobs = number(it.next()).max(1) as usize,
            "--stress" => o.stress = true,
            "--report-only" => o.report_only = true,
            "--no-write" => o.write = false,
            "--timeout" => o.timeout = Duration::from_secs(number(it.next())),
            "--miri-timeout" => o.miri_timeout = Duration::from_secs(number(it.next())),
            _ => usage(),
        }
    }
    o
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("mutate-orderings") => mutate_orderings(&parse_options(&args[1..])),
        _ => usage(),
    }
}

/// A site as the instrumented build reports it: `file:line:col:kind` and the
/// ordering written there.
#[derive(Debug, Clone)]
struct Site {
    key: String,
    file: String,
    line: usize,
    kind: String,
    original: String,
    tag: String,
    /// The primitive it belongs to (for the switch module: its users).
    primitive: String,
}

#[derive(Debug, Clone)]
enum Verdict {
    Killed(String),
    Justified,
    Survived,
}

#[derive(Debug, Clone)]
struct Mutant {
    site: Site,
    ordering: &'static str,
    verdict: Verdict,
}

impl Mutant {
    fn spec(&self) -> String {
        format!("{}={}", self.site.key, self.ordering)
    }
}

/// Every ordering weaker than `original` that the operation `kind` accepts.
fn weaker(kind: &str, original: &str) -> Vec<&'static str> {
    let all: &[&'static str] = match (kind, original) {
        (_, "Relaxed") => &[],
        ("load" | "cas_failure", "SeqCst") => &["Acquire", "Relaxed"],
        ("store", "SeqCst") => &["Release", "Relaxed"],
        ("rmw" | "cas_success" | "fence", "SeqCst") => &["AcqRel", "Acquire", "Release", "Relaxed"],
        ("rmw" | "cas_success" | "fence", "AcqRel") => &["Acquire", "Release", "Relaxed"],
        (_, "Acquire" | "Release") => &["Relaxed"],
        _ => &[],
    };
    all.to_vec()
}

fn describe(kind: &str, ordering: &str) -> String {
    if kind == "fence" && ordering == "Relaxed" {
        "removed".to_string()
    } else {
        ordering.to_string()
    }
}

fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().expect("xtask/ sits in the crate root").to_path_buf()
}

fn mutate_orderings(opts: &Options) -> ExitCode {
    let start = Instant::now();
    let root = root();
    let work = root.join("target/mutate-work");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).expect("create target/mutate-work");
    let safety_text = fs::read_to_string(root.join("SAFETY.md")).unwrap_or_default();
    let ledger = scan::ledger(&safety_text);

    // 1. Static enumeration.
    let statics = scan::static_sites(&root);
    let mut primitives: BTreeSet<String> =
        statics.iter().map(|s| s.primitive.clone()).filter(|p| p != "loom" && p != "lib").collect();
    if !opts.primitives.is_empty() {
        primitives.retain(|p| opts.primitives.contains(p));
        if primitives.is_empty() {
            eprintln!("mutate: no ordering sites for {:?}", opts.primitives);
            return ExitCode::FAILURE;
        }
    }
    let exists = |name: &str| root.join(format!("tests/{name}.rs")).exists();
    let loom_tests: Vec<String> =
        primitives.iter().map(|p| format!("loom_{p}")).filter(|t| exists(t)).collect();
    let std_tests: Vec<String> = primitives.iter().filter(|p| exists(p)).cloned().collect();
    println!(
        "mutate: {} ordering sites in src; primitives {:?}; loom models {:?}; std tests {:?}",
        statics.len(),
        primitives,
        loom_tests,
        std_tests
    );

    // 2. One instrumented build per oracle kind.
    let t = Instant::now();
    let loom_bins = match exec::build_tests(
        &root,
        "target/mutate-loom",
        "--cfg loom --cfg crossbeam_loom --cfg acqrel_mutate",
        true, // loom models explore many executions: optimise them
        &loom_tests,
    ) {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let std_bins =
        match exec::build_tests(&root, "target/mutate", "--cfg acqrel_mutate", false, &std_tests) {
            Ok(b) => b,
            Err(e) => return fail(&e),
        };
    println!(
        "mutate: built {} loom and {} std test binaries in {:.0?}",
        loom_bins.len(),
        std_bins.len(),
        t.elapsed()
    );

    // 3. Baseline runs: every binary must pass and reports the sites it executes.
    let t = Instant::now();
    let mut records: BTreeMap<String, (String, String)> = BTreeMap::new(); // key -> (kind, original)
    let mut loom_exec: BTreeMap<String, Vec<TestBinary>> = BTreeMap::new();
    let mut std_exec: BTreeMap<String, Vec<TestBinary>> = BTreeMap::new();
    for (bins, exec_map, is_loom) in
        [(&loom_bins, &mut loom_exec, true), (&std_bins, &mut std_exec, false)]
    {
        for bin in bins {
            let sites_file = work.join(format!("sites-{}.txt", bin.name));
            let mut env = vec![("ACQREL_SITES", sites_file.display().to_string())];
            env.extend(oracle_env(is_loom));
            let log = work.join(format!("baseline-{}.log", bin.name));
            match exec::run(&bin.path, &[], &env, &root, opts.timeout, &log) {
                Outcome::Passed => {}
                other => {
                    return fail(&format!(
                        "baseline run of {} does not pass ({other:?}); see {}",
                        bin.name,
                        log.display()
                    ));
                }
            }
            for line in fs::read_to_string(&sites_file).unwrap_or_default().lines() {
                let Some((key, original)) = line.rsplit_once(' ') else { continue };
                let key = normalise(key);
                let kind = key.rsplit(':').next().unwrap_or_default().to_string();
                records.entry(key.clone()).or_insert((kind, original.to_string()));
                exec_map.entry(key).or_default().push(bin.clone());
            }
        }
    }
    println!(
        "mutate: baseline runs passed in {:.0?}; {} sites executed",
        t.elapsed(),
        records.len()
    );

    // 4. Runtime sites ↔ source lines, tags and primitives.
    let mut executed_static: BTreeSet<(String, usize)> = BTreeSet::new();
    let mut sites: Vec<Site> = Vec::new();
    for (key, (kind, original)) in &records {
        let mut parts = key.split(':');
        let (Some(file), Some(line)) =
            (parts.next(), parts.next().and_then(|l| l.parse::<usize>().ok()))
        else {
            continue;
        };
        let matched: Option<&StaticSite> = statics
            .iter()
            .filter(|s| s.file == file && s.line >= line && s.line <= line + CALL_SPAN)
            .min_by_key(|s| s.line);
        if let Some(s) = matched {
            executed_static.insert((s.file.clone(), s.line));
        }
        let mut primitive = scan::primitive_of(file);
        if primitive == "loom" {
            // The switch module's own sites (its loom-only stand-ins) belong to
            // the primitives whose models run them.
            let users: BTreeSet<String> = loom_exec
                .get(key)
                .into_iter()
                .chain(std_exec.get(key))
                .flatten()
                .map(|b| b.name.trim_start_matches("loom_").to_string())
                .collect();
            primitive =
                format!("loom.rs (used by {})", users.into_iter().collect::<Vec<_>>().join(", "));
        } else if !primitives.contains(&primitive) {
            continue;
        }
        sites.push(Site {
            key: key.clone(),
            file: file.to_string(),
            line,
            kind: kind.clone(),
            original: original.clone(),
            tag: matched.map_or_else(|| "?".to_string(), |s| s.tag.clone()),
            primitive,
        });
    }
    // The switch module's sites count when every primitive is selected, or
    // when a selected primitive's tests execute them.
    let selected_statics: Vec<&StaticSite> = statics
        .iter()
        .filter(|s| {
            primitives.contains(&s.primitive)
                || (s.primitive == "loom"
                    && (opts.primitives.is_empty()
                        || executed_static.contains(&(s.file.clone(), s.line))))
        })
        .collect();
    let unexecuted: Vec<&StaticSite> = selected_statics
        .iter()
        .filter(|s| !executed_static.contains(&(s.file.clone(), s.line)))
        .copied()
        .collect();

    // 5. Mutants, and the loom oracle for each.
    sites.sort_by(|a, b| (&a.file, a.line, &a.kind).cmp(&(&b.file, b.line, &b.kind)));
    let mut mutants: Vec<Mutant> = sites
        .iter()
        .flat_map(|s| {
            weaker(&s.kind, &s.original).into_iter().map(|o| Mutant {
                site: s.clone(),
                ordering: o,
                verdict: Verdict::Survived,
            })
        })
        .collect();
    let t = Instant::now();
    // One model per run, stopping at the first that fails: a mutant an early
    // model kills never pays for the slow ones after it (a three-thread
    // model can take minutes).
    let listed: BTreeMap<PathBuf, Vec<String>> = loom_exec
        .values()
        .flatten()
        .map(|bin| (bin.path.clone(), exec::list_tests(&bin.path)))
        .collect();
    parallel(&mut mutants, opts.jobs, |i, m| {
        let bins = ordered_bins(loom_exec.get(&m.site.key), &m.site.primitive, "loom_");
        for bin in bins {
            let mut env = vec![("ACQREL_MUTANT", m.spec())];
            env.extend(oracle_env(true));
            for (j, test) in listed.get(&bin.path).into_iter().flatten().enumerate() {
                let log = work.join(format!("loom-{i}-{}-{j}.log", bin.name));
                let args =
                    vec!["--test-threads=1".to_string(), "--exact".to_string(), test.clone()];
                if let Some(v) = verdict(
                    exec::run(&bin.path, &args, &env, &root, opts.timeout, &log),
                    &bin.name,
                    "loom",
                ) {
                    return v;
                }
            }
        }
        Verdict::Survived
    });
    println!(
        "mutate: loom: {} mutants, {} killed, in {:.0?}",
        mutants.len(),
        mutants.iter().filter(|m| matches!(m.verdict, Verdict::Killed(_))).count(),
        t.elapsed()
    );

    // A loom survivor whose tag's SAFETY.md entry carries a matching
    // `**Survivor:**` line has been examined already; Miri is not rerun on it
    // (that is what keeps the CI run within budget).
    let is_justified = |m: &Mutant| {
        ledger.get(&m.site.tag).is_some_and(|e| {
            e.survivors.iter().any(|(k, o)| {
                *k == m.site.kind
                    && (o == m.ordering
                        || (m.ordering == "Relaxed" && m.site.kind == "fence" && o == "removed"))
            })
        })
    };

    // 6. Miri over several seeds for what loom left alive.
    if opts.miri {
        let t = Instant::now();
        let mut probed: BTreeSet<String> = BTreeSet::new();
        for m in mutants
            .iter_mut()
            .filter(|m| matches!(m.verdict, Verdict::Survived))
            .filter(|m| !is_justified(m))
        {
            let Some(file) = std_exec
                .get(&m.site.key)
                .and_then(|b| ordered_bins(Some(b), &m.site.primitive, "").first().cloned())
            else {
                continue; // no std test executes the site: Miri cannot see it either
            };
            let filters = guarding_tests(&ledger, &m.site.tag, &file.name);
            if probed.insert(file.name.clone())
                && let Err(e) =
                    miri_probe(&root, &work, &file.name, &filters, opts.seeds, opts.miri_timeout)
            {
                return fail(&e);
            }
            let outcome = miri(
                &root,
                &work,
                &file.name,
                &filters,
                Some(&m.spec()),
                opts.seeds,
                opts.miri_timeout,
            );
            if let Some(v) = verdict(outcome, &file.name, &format!("Miri, {} seeds", opts.seeds)) {
                m.verdict = v;
            }
        }
        println!("mutate: Miri pass over loom survivors in {:.0?}", t.elapsed());
    }

    // 7. Optionally the native stress tests.
    if opts.stress {
        parallel(&mut mutants, opts.jobs, |i, m| {
            if !matches!(m.verdict, Verdict::Survived) {
                return m.verdict.clone();
            }
            for bin in ordered_bins(std_exec.get(&m.site.key), &m.site.primitive, "") {
                let log = work.join(format!("stress-{i}-{}.log", bin.name));
                let env = vec![("ACQREL_MUTANT", m.spec())];
                if let Some(v) = verdict(
                    exec::run(&bin.path, &[], &env, &root, opts.timeout, &log),
                    &bin.name,
                    "native",
                ) {
                    return v;
                }
            }
            Verdict::Survived
        });
    }

    // 8. Survivors SAFETY.md explains.
    for m in mutants.iter_mut().filter(|m| matches!(m.verdict, Verdict::Survived)) {
        if is_justified(m) {
            m.verdict = Verdict::Justified;
        }
    }

    // 9. Report.
    let count = |f: fn(&Verdict) -> bool| mutants.iter().filter(|m| f(&m.verdict)).count();
    let killed = count(|v| matches!(v, Verdict::Killed(_)));
    let justified = count(|v| matches!(v, Verdict::Justified));
    let survived = count(|v| matches!(v, Verdict::Survived));
    let score = format!(
        "{} mutants generated: {killed} killed, {justified} justified, {survived} survived; \
         ordering sites executed by tests: {}/{}",
        mutants.len(),
        selected_statics.len() - unexecuted.len(),
        selected_statics.len()
    );
    let relaxed: Vec<&Site> =
        sites.iter().filter(|s| weaker(&s.kind, &s.original).is_empty()).collect();
    let table = render(&mutants, &relaxed, &unexecuted, &score, opts);
    println!("\n{table}");
    // Only a complete run (every primitive, every oracle) rewrites the ledger.
    if opts.write && opts.primitives.is_empty() && opts.miri {
        let safety = scan::replace_section(
            &safety_text,
            BEGIN,
            END,
            &table,
            "## Ordering mutation (generated by `cargo xtask mutate-orderings`)\n\n",
        );
        fs::write(root.join("SAFETY.md"), safety).expect("write SAFETY.md");
        let readme_path = root.join("README.md");
        let readme = fs::read_to_string(&readme_path).unwrap_or_default();
        let line = format!("Ordering mutation score: {score}.\n");
        fs::write(&readme_path, scan::replace_section(&readme, BEGIN, END, &line, ""))
            .expect("write README.md");
        println!("mutate: wrote the tables to SAFETY.md and the score to README.md");
    }
    println!("mutate: {score} (total {:.0?})", start.elapsed());
    if (survived > 0 || !unexecuted.is_empty()) && !opts.report_only {
        eprintln!(
            "mutate: FAILED: {survived} unexplained survivors, {} unexecuted ordering sites",
            unexecuted.len()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("mutate: {msg}");
    ExitCode::FAILURE
}

/// Environment for oracle runs: loom's preemption bound as in `ci/loom.sh`,
/// stress sizes scaled down for the native baseline.
fn oracle_env(loom: bool) -> Vec<(&'static str, String)> {
    if loom {
        let bound = std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "3".to_string());
        vec![("LOOM_MAX_PREEMPTIONS", bound)]
    } else {
        let scale = std::env::var("ACQREL_TEST_SCALE").unwrap_or_else(|_| "20".to_string());
        vec![("ACQREL_TEST_SCALE", scale)]
    }
}

/// Paths are recorded as the compiler saw them; keep them relative to the crate.
fn normalise(key: &str) -> String {
    match key.find("src/") {
        Some(at) => key[at..].to_string(),
        None => key.to_string(),
    }
}

/// The binaries that executed a site, the site's own primitive's first.
fn ordered_bins(bins: Option<&Vec<TestBinary>>, primitive: &str, prefix: &str) -> Vec<TestBinary> {
    let mut bins: Vec<TestBinary> = bins.cloned().unwrap_or_default();
    let own = format!("{prefix}{primitive}");
    bins.sort_by_key(|b| b.name != own);
    bins
}

/// A mutant's verdict from one oracle run (`None`: it survived this run).
fn verdict(outcome: Outcome, binary: &str, oracle: &str) -> Option<Verdict> {
    match outcome {
        Outcome::Passed => None,
        Outcome::TimedOut => Some(Verdict::Killed(format!("{oracle}: `{binary}` timed out"))),
        Outcome::Failed { tests, reason, seed } => {
            let oracle = match seed {
                Some(seed) => format!("{oracle} (failing seed {seed})"),
                None => oracle.to_string(),
            };
            if tests.is_empty() {
                return Some(Verdict::Killed(format!(
                    "{oracle}: `{binary}` ({})",
                    reason.replace('|', "/")
                )));
            }
            let names: Vec<String> = tests.iter().map(|t| format!("`{binary}::{t}`")).collect();
            Some(Verdict::Killed(format!("{oracle}: {}", names.join(", "))))
        }
    }
}

/// The tests of `tests/<file>.rs` that the tag's SAFETY.md entry names.
fn guarding_tests(
    ledger: &BTreeMap<String, scan::LedgerEntry>,
    tag: &str,
    file: &str,
) -> Vec<String> {
    let prefix = format!("tests/{file}.rs::");
    ledger
        .get(tag)
        .map(|e| {
            e.tests.iter().filter_map(|t| t.strip_prefix(&prefix)).map(str::to_string).collect()
        })
        .unwrap_or_default()
}

fn miri_flags(root: &Path, file: &str) -> String {
    // Files built on crossbeam-epoch need the flags that crate needs under Miri (see ci/miri.sh).
    let source = fs::read_to_string(root.join(format!("src/{file}.rs"))).unwrap_or_default();
    if source.contains("crossbeam_epoch") || source.contains("epoch::") {
        "-Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-ignore-leaks".to_string()
    } else {
        "-Zmiri-strict-provenance".to_string()
    }
}

/// `cargo +nightly miri test --test <file> -- --exact <filters>` with the
/// mutant set inside the interpreted program by `-Zmiri-env-set` (cargo-miri
/// replays the environment of the build, so a forwarded variable could be stale).
fn miri(
    root: &Path,
    work: &Path,
    file: &str,
    filters: &[String],
    mutant: Option<&str>,
    seeds: u32,
    timeout: Duration,
) -> Outcome {
    let mut flags = miri_flags(root, file);
    if let Some(m) = mutant {
        flags.push_str(&format!(" -Zmiri-env-set=ACQREL_MUTANT={m}"));
    }
    if seeds > 1 {
        flags.push_str(&format!(" -Zmiri-many-seeds=0..{seeds}"));
    }
    let mut args: Vec<String> =
        ["+nightly", "miri", "test", "--target-dir", "target/mutate-miri", "--test", file]
            .map(String::from)
            .to_vec();
    if !filters.is_empty() {
        args.push("--".to_string());
        args.push("--exact".to_string());
        args.extend(filters.iter().cloned());
    }
    let env = vec![
        ("RUSTFLAGS", "--cfg acqrel_mutate".to_string()),
        ("MIRIFLAGS", flags),
        ("CARGO_TERM_COLOR", "never".to_string()),
    ];
    let log = work.join(format!(
        "miri-{file}-{}.log",
        mutant.unwrap_or("baseline").replace(['/', ':', '='], "_")
    ));
    exec::run(Path::new("cargo"), &args, &env, root, timeout, &log)
}

/// Checks that Miri builds and passes the file's guarding tests, and that the
/// interpreted program really sees `ACQREL_MUTANT` (an unknown ordering must panic).
fn miri_probe(
    root: &Path,
    work: &Path,
    file: &str,
    filters: &[String],
    seeds: u32,
    timeout: Duration,
) -> Result<(), String> {
    let build_timeout = timeout.max(Duration::from_secs(900));
    match miri(root, work, file, filters, None, seeds, build_timeout) {
        Outcome::Passed => {}
        other => return Err(format!("Miri baseline of tests/{file}.rs does not pass: {other:?}")),
    }
    let probe = "src/probe.rs:0:0:load=NotAnOrdering";
    match miri(root, work, file, filters, Some(probe), 1, timeout) {
        Outcome::Failed { .. } => {
            let log = work.join(format!("miri-{file}-{}.log", probe.replace(['/', ':', '='], "_")));
            let text = fs::read_to_string(log).unwrap_or_default();
            if text.contains("unknown ordering NotAnOrdering") {
                Ok(())
            } else {
                Err("Miri probe failed for another reason than the forwarded ACQREL_MUTANT"
                    .to_string())
            }
        }
        other => {
            Err(format!("under Miri the mutation hook does not see ACQREL_MUTANT ({other:?})"))
        }
    }
}

/// Runs `f` over the mutants on `jobs` threads, storing each verdict.
fn parallel(mutants: &mut [Mutant], jobs: usize, f: impl Fn(usize, &Mutant) -> Verdict + Sync) {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Verdict>>> = mutants.iter().map(|_| Mutex::new(None)).collect();
    let snapshot: &[Mutant] = mutants;
    std::thread::scope(|s| {
        for _ in 0..jobs.min(snapshot.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Mem::Relaxed);
                    let Some(m) = snapshot.get(i) else { break };
                    let v = f(i, m);
                    *results[i].lock().unwrap() = Some(v);
                }
            });
        }
    });
    for (m, r) in mutants.iter_mut().zip(results) {
        if let Some(v) = r.into_inner().unwrap() {
            m.verdict = v;
        }
    }
}

/// The generated Markdown: one table per primitive, unexecuted sites, score.
fn render(
    mutants: &[Mutant],
    relaxed: &[&Site],
    unexecuted: &[&StaticSite],
    score: &str,
    opts: &Options,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Generated by `cargo xtask mutate-orderings` (oracles: loom models{}{}); do not edit by hand.\n\
         Each row is one weakened ordering at one executed site. A survivor is accepted only with a\n\
         `- **Survivor:** <kind>=<Ordering> — ...` line in its tag's entry above.\n\n",
        if opts.miri { format!(", then Miri over {} seeds", opts.seeds) } else { String::new() },
        if opts.stress { ", then the native stress tests" } else { "" },
    ));
    let mut by_primitive: BTreeMap<&str, Vec<&Mutant>> = BTreeMap::new();
    for m in mutants {
        by_primitive.entry(&m.site.primitive).or_default().push(m);
    }
    for s in relaxed {
        by_primitive.entry(&s.primitive).or_default();
    }
    for (primitive, list) in by_primitive {
        let nothing_weaker: Vec<String> = relaxed
            .iter()
            .filter(|s| s.primitive == primitive)
            .map(|s| format!("`{}:{}` {} [{}]", s.file, s.line, s.kind, s.tag))
            .collect();
        if list.is_empty() {
            out.push_str(&format!("#### {primitive}\n\n"));
            out.push_str(&format!(
                "Executed `Relaxed` sites (nothing weaker to try): {}.\n\n",
                nothing_weaker.join(", ")
            ));
            continue;
        }
        out.push_str(&format!("#### {primitive}\n\n| tag | site | kind | original | mutant | result |\n|---|---|---|---|---|---|\n"));
        for m in list {
            let result = match &m.verdict {
                Verdict::Killed(by) => format!("killed — {by}"),
                Verdict::Justified => "justified (see the entry's **Survivor** line)".to_string(),
                Verdict::Survived => "**survived**".to_string(),
            };
            out.push_str(&format!(
                "| [{}] | `{}:{}` | {} | {} | {} | {} |\n",
                m.site.tag,
                m.site.file,
                m.site.line,
                m.site.kind,
                m.site.original,
                describe(&m.site.kind, m.ordering),
                result
            ));
        }
        out.push('\n');
        if !nothing_weaker.is_empty() {
            out.push_str(&format!(
                "Executed `Relaxed` sites (nothing weaker to try): {}.\n\n",
                nothing_weaker.join(", ")
            ));
        }
    }
    if !unexecuted.is_empty() {
        out.push_str("Ordering sites no test executes:\n\n");
        for s in unexecuted {
            out.push_str(&format!("- `{}:{}` [{}]\n", s.file, s.line, s.tag));
        }
        out.push('\n');
    }
    out.push_str(&format!("Score: {score}.\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weaker_orderings_respect_each_operation() {
        assert_eq!(weaker("load", "SeqCst"), ["Acquire", "Relaxed"]);
        assert_eq!(weaker("store", "Release"), ["Relaxed"]);
        assert_eq!(weaker("rmw", "AcqRel"), ["Acquire", "Release", "Relaxed"]);
        assert_eq!(weaker("cas_failure", "SeqCst"), ["Acquire", "Relaxed"]);
        assert_eq!(weaker("fence", "SeqCst"), ["AcqRel", "Acquire", "Release", "Relaxed"]);
        assert!(weaker("rmw", "Relaxed").is_empty());
        assert_eq!(describe("fence", "Relaxed"), "removed");
    }

    #[test]
    fn site_paths_are_made_relative() {
        assert_eq!(normalise("/x/y/src/counter.rs:1:2:load"), "src/counter.rs:1:2:load");
        assert_eq!(normalise("src/a/b.rs:1:2:rmw"), "src/a/b.rs:1:2:rmw");
    }
}
