//! Run-time ordering mutation, compiled only with `--cfg acqrel_mutate`.
//!
//! Every ordering in the crate passes through `crate::loom::atomic::site`,
//! which under this cfg calls [`ordering`] with the kind of use and the
//! caller's source location. Two environment variables drive it:
//!
//! - `ACQREL_MUTANT=<file>:<line>:<column>:<kind>=<Ordering>` replaces the
//!   ordering used at that one site (`Relaxed` for a fence removes it);
//! - `ACQREL_SITES=<path>` appends one line `<file>:<line>:<column>:<kind> <Ordering>`
//!   to `<path>` the first time each site executes (ordering coverage).
//!
//! One build thus serves every mutant; `xtask mutate-orderings` drives it.
#![allow(clippy::disallowed_types)]

use core::panic::Location;
use core::sync::atomic::Ordering;
use std::collections::HashSet;
use std::io::Write;
use std::string::String;
use std::sync::{Mutex, OnceLock};

struct Config {
    mutant: Option<(String, Ordering)>,
    sites: Option<(String, Mutex<HashSet<String>>)>,
}

fn parse_ordering(name: &str) -> Ordering {
    match name {
        "Relaxed" => Ordering::Relaxed,
        "Acquire" => Ordering::Acquire,
        "Release" => Ordering::Release,
        "AcqRel" => Ordering::AcqRel,
        "SeqCst" => Ordering::SeqCst,
        other => panic!("ACQREL_MUTANT: unknown ordering {other}"),
    }
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config {
        mutant: std::env::var("ACQREL_MUTANT").ok().filter(|m| !m.is_empty()).map(|m| {
            let (site, order) =
                m.rsplit_once('=').expect("ACQREL_MUTANT is <site>:<kind>=<Ordering>");
            (site.to_string(), parse_ordering(order))
        }),
        sites: std::env::var("ACQREL_SITES").ok().map(|path| (path, Mutex::new(HashSet::new()))),
    })
}

/// The ordering to use at `location` for a use of `kind` written as `order`.
pub(crate) fn ordering(
    kind: &str,
    order: Ordering,
    location: &'static Location<'static>,
) -> Ordering {
    let config = config();
    if config.mutant.is_none() && config.sites.is_none() {
        return order;
    }
    let site =
        std::format!("{}:{}:{}:{}", location.file(), location.line(), location.column(), kind);
    if let Some((path, seen)) = &config.sites {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.insert(site.clone()) {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("ACQREL_SITES");
            let _ = writeln!(file, "{site} {order:?}");
        }
    }
    match &config.mutant {
        Some((target, replacement)) if *target == site => *replacement,
        _ => order,
    }
}
