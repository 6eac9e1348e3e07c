//! Kernel vectors as table tests: every public vector the engine supports must pass. Unsupported vectors are
//! listed (they are tracked, not ignored: the count is printed and the conformance runner reports each one).
//! The vector file is ../shared/spec/kernel-vectors.json beside the repository, or `$OOMSIM_VECTORS`.

use oomsim_core::conformance::{run_text, Outcome, Summary};
use std::path::PathBuf;

fn vectors_path() -> PathBuf {
    if let Ok(p) = std::env::var("OOMSIM_VECTORS") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared/spec/kernel-vectors.json");
    if shared.exists() {
        shared
    } else {
        root.join("test/vectors/kernel-vectors.json")
    }
}

#[test]
fn public_kernel_vectors_pass() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reports = run_text(&text).expect("vector file parses");
    let mut failures = Vec::new();
    for r in &reports {
        if let Outcome::Fail(_) = r.outcome {
            failures.push(r.line());
        }
    }
    let s = Summary::of(&reports);
    eprintln!("kernel vectors ({}): {}", path.display(), s.line());
    assert!(failures.is_empty(), "{} vector(s) failed:\n{}", failures.len(), failures.join("\n"));
    assert!(s.passed + s.unsupported + s.doc_only == reports.len());
}

/// The regression vectors of divergences the differential test found (test/vectors/regressions.json): none may
/// fail; unsupported ones (the OOM killer is not wired into the engine's allocation path yet) are counted.
#[test]
fn regression_vectors_pass() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/regressions.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reports = run_text(&text).expect("vector file parses");
    let failures: Vec<String> = reports.iter().filter(|r| matches!(r.outcome, Outcome::Fail(_))).map(|r| r.line()).collect();
    let s = Summary::of(&reports);
    eprintln!("regression vectors ({}): {}", path.display(), s.line());
    assert!(failures.is_empty(), "{} vector(s) failed:\n{}", failures.len(), failures.join("\n"));
    assert!(s.passed >= reports.len() - 1, "only the OOM one may be unsupported: {}", s.line());
}
