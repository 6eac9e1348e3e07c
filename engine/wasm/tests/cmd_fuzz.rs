//! Seeded fuzzing of the command decoder natively (issue #19 item 3), with the core's own PRNG: cargo-fuzz needs a
//! nightly toolchain and libFuzzer, which this project does not install (docs/decisions/0015-robustness.md), and
//! proptest would be a new dependency for what a loop over a seeded generator does. Words are biased towards
//! well-formed commands (real opcodes, right argument counts, live pids, mapped pages, edge values) so that the
//! executor, not only the header checks, is reached. Properties: no panic; `validate` rejecting a batch means
//! `execute` was never needed (the wasm `exec` runs validate first), and a batch `validate` accepts never fails
//! with E_CMD in `execute`. `OOMSIM_FUZZ_INPUTS=N` sets the count (default 20,000 batches;
//! a batch slower than 0.5 s is printed).

use oomsim_core::cmd::{execute, validate, OP_TABLE};
use oomsim_core::rand::Rng;
use oomsim_core::{Kernel, MachineConfig};

const EDGE: [u32; 8] = [0, 1, 2, 3, 4, 7, 0x7fff_ffff, u32::MAX];

fn word(r: &mut Rng, vpns: &[u64]) -> u32 {
    match r.below(6) {
        0 => EDGE[r.below(EDGE.len() as u32) as usize],
        1 => 1 + r.below(4), // a pid that likely lives
        2 if !vpns.is_empty() => vpns[r.below(vpns.len() as u32) as usize] as u32,
        3 => r.below(64),
        4 => r.next_u64() as u32,
        _ => r.below(4096),
    }
}

fn batch(r: &mut Rng, vpns: &[u64]) -> Vec<u32> {
    let mut w = Vec::new();
    for _ in 0..1 + r.below(6) {
        if r.below(20) == 0 {
            w.push(word(r, vpns)); // junk
            continue;
        }
        let (_, op, args) = OP_TABLE[r.below(OP_TABLE.len() as u32) as usize];
        w.push(op as u32);
        w.push(if r.below(30) == 0 { r.below(9) } else { args.len() as u32 });
        for _ in 0..args.len() {
            w.push(word(r, vpns));
        }
    }
    if r.below(30) == 0 {
        w.truncate(r.below(w.len() as u32 + 1) as usize);
    }
    w
}

#[test]
fn command_batches_never_panic_and_validate_decides_structure() {
    let inputs: u64 = std::env::var("OOMSIM_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut r = Rng::new(0x19_0019);
    let fresh = || Kernel::new(MachineConfig { totalram_pages: 2048, total_swap_pages: 256, ..MachineConfig::default() }).unwrap();
    let mut k = fresh();
    let mut vpns: Vec<u64> = Vec::new();
    let (mut accepted, mut rejected, mut stopped) = (0u64, 0u64, 0u64);
    let start = std::time::Instant::now();
    for i in 0..inputs {
        if i % 200 == 0 {
            k = fresh();
            vpns.clear();
            let mut res = Vec::new();
            execute(&mut k, &[1, 1, 1, 1, 1, 2, 2, 2, 1, 256], &mut res).unwrap();
            vpns.push(res[2] as u64);
        }
        let words = batch(&mut r, &vpns);
        match validate(&words) {
            Err(e) => {
                assert!(e.code == "E_CMD" || e.code == "E_ARG", "{e}");
                assert!(e.message.starts_with("command #"), "{e}");
                rejected += 1;
            }
            Ok(n) => {
                let mut res = Vec::new();
                let t = std::time::Instant::now();
                let out = execute(&mut k, &words, &mut res);
                if t.elapsed().as_millis() > 500 {
                    println!("slow batch #{i} ({} ms): {words:?}", t.elapsed().as_millis());
                }
                match out {
                    Ok(m) => assert_eq!(m, n),
                    Err(e) => {
                        assert_ne!(e.code, "E_CMD", "validate accepted {words:?} but execute: {e}");
                        stopped += 1;
                    }
                }
                for (j, v) in res.iter().enumerate() {
                    // mmap results are page numbers: keep some as targets for later commands
                    if *v > 0xffff && vpns.len() < 64 && j < 8 {
                        vpns.push(*v as u64);
                    }
                }
                accepted += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("cmd fuzz: {inputs} batches in {secs:.2} s ({:.0}/s): {accepted} valid ({stopped} stopped by state), {rejected} rejected", inputs as f64 / secs);
    assert!(accepted > inputs / 10 && rejected > inputs / 10, "the generator should reach both paths: {accepted} {rejected}");
}
