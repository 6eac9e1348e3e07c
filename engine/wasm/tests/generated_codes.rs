//! The boundary's code numbers (errnos, event kinds, and the enumerated command words: prot, access, mmap flags,
//! madvise advice, touch patterns, file systems) are defined once in oomsim-core; bindings/src/generated/codes.ts
//! is rendered from those tables here and this test fails when the committed file drifts.
//! `OOMSIM_BLESS=1 cargo test -p oomsim-wasm --test generated_codes` rewrites it.
//! Why a checked, committed file rather than generation in scripts/build.sh: docs/decisions/0015-robustness.md.

use oomsim_core::cmd::{ACCESS_CODES, ADVICE_CODES, FS_CODES, MAP_FLAG_BITS, PATTERN_CODES, PROT_CODES};
use oomsim_core::event::EVENT_KIND_TABLE;
use oomsim_core::Errno;
use std::path::PathBuf;

fn object(out: &mut String, doc: &str, name: &str, entries: &[(String, u32)]) {
    out.push_str(&format!("/** {doc} */\nexport const {name} = {{\n"));
    for (k, v) in entries {
        out.push_str(&format!("  {k}: {v},\n"));
    }
    out.push_str("} as const;\n");
}

fn table(t: &[(&str, u32)]) -> Vec<(String, u32)> {
    t.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

fn render() -> String {
    let mut s = String::from("// Generated from engine/core (errno.rs, event.rs, cmd.rs) by engine/wasm/tests/generated_codes.rs. Do not edit.\n");
    let errnos: Vec<(String, u32)> = Errno::ALL.iter().map(|e| (e.name().to_string(), *e as u32)).collect();
    object(&mut s, "Errno numbers the engine returns (negated) to simulated callers.", "ERRNO_CODES", &errnos);
    let events: Vec<(String, u32)> = EVENT_KIND_TABLE.iter().map(|(n, k)| (n.to_string(), *k as u32)).collect();
    object(&mut s, "Event kinds (word 0 of an event record).", "EVENT_KIND_CODES", &events);
    object(&mut s, "The `prot` word of mmap/mprotect.", "PROT_CODES", &table(PROT_CODES));
    object(&mut s, "The `access` word of touch/touch_pattern.", "ACCESS_CODES", &table(ACCESS_CODES));
    object(&mut s, "The `advice` word of madvise (the kernel's MADV_* numbers).", "ADVICE_CODES", &table(ADVICE_CODES));
    object(&mut s, "The `pattern` word of touch_pattern.", "PATTERN_CODES", &table(PATTERN_CODES));
    object(&mut s, "The `fs` word of file_create.", "FS_CODES", &table(FS_CODES));
    object(&mut s, "Bits of mmap's `flags` word.", "MAP_FLAG_BITS", &table(MAP_FLAG_BITS));
    s
}

#[test]
fn code_constants_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bindings/src/generated/codes.ts");
    let want = render();
    if std::env::var("OOMSIM_BLESS").is_ok() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "{} is stale: run `OOMSIM_BLESS=1 cargo test -p oomsim-wasm --test generated_codes`", path.display());
}
