//! Kernel vectors as table tests: every vector the engine supports must pass. Unsupported vectors are counted and
//! printed (they are tracked, not ignored: the conformance runner reports each one with its reason).
//!
//! Files: the public vectors (../shared/spec/kernel-vectors.json beside the repository, else the copy in
//! test/vectors/), plus every other file in test/vectors/ (our own vectors: regressions found by the differential
//! tests, OOM scenarios). `$OOMSIM_VECTORS` replaces the whole list with one file.

use oomsim_core::conformance::{run_text, Outcome, Summary};
use std::path::PathBuf;

fn vector_files() -> Vec<PathBuf> {
    if let Ok(p) = std::env::var("OOMSIM_VECTORS") {
        return vec![PathBuf::from(p)];
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared/spec/kernel-vectors.json");
    let ours = root.join("test/vectors");
    let mut files = vec![if shared.exists() { shared } else { ours.join("kernel-vectors.json") }];
    let mut extra: Vec<PathBuf> = std::fs::read_dir(&ours)
        .expect("test/vectors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "kernel-vectors.json"))
        .collect();
    extra.sort();
    files.extend(extra);
    files
}

#[test]
fn kernel_vectors_pass() {
    let mut failures = Vec::new();
    for path in vector_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let reports = run_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for r in &reports {
            if let Outcome::Fail(_) = r.outcome {
                failures.push(format!("{}: {}", path.display(), r.line()));
            }
        }
        let s = Summary::of(&reports);
        eprintln!("kernel vectors ({}): {}", path.display(), s.line());
        assert!(s.passed + s.unsupported + s.doc_only + s.failed == reports.len());
    }
    assert!(failures.is_empty(), "{} vector(s) failed:\n{}", failures.len(), failures.join("\n"));
}

