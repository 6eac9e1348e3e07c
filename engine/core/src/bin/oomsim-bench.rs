//! Native side of `npm run bench`: times the workloads of `oomsim_core::bench_workloads` on the native core.
//! Usage: `oomsim-bench <workload> <frames> <runs>`; prints one JSON object: the digest (checked against the wasm
//! engine's before any time is compared), seconds per run (wall clock, and CPU time of this thread: on a machine
//! shared with other jobs the CPU time is the steadier figure), and the process's peak RSS.

use oomsim_core::bench_workloads::{digest, ops, run, setup, WORKLOADS};
use std::time::Instant;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// CPU time this thread has run, in ns (/proc/thread-self/schedstat, first field; 0 where it cannot be read).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok().and_then(|s| s.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: oomsim-bench <workload> <frames> <runs>; workloads: {}", WORKLOADS.join(", "));
        std::process::exit(2);
    }
    let w = args[1].as_str();
    if !WORKLOADS.contains(&w) {
        eprintln!("oomsim-bench: unknown workload {w:?}; expected one of {}", WORKLOADS.join(", "));
        std::process::exit(2);
    }
    let frames: u32 = args[2].parse().unwrap_or_else(|_| {
        eprintln!("oomsim-bench: frames must be an integer 1..{}", oomsim_core::mm_types::MAX_PTE_FRAME);
        std::process::exit(2)
    });
    let runs: u32 = args[3].parse().unwrap_or(5).max(1);
    let t0 = Instant::now();
    let init = setup("first_touch", frames);
    let init_s = t0.elapsed().as_secs_f64();
    drop(init);
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut dig = 0;
    for i in 0..=runs {
        let mut p = setup(w, frames);
        let c = cpu_ns();
        let t = Instant::now();
        run(w, &mut p);
        let dt = t.elapsed().as_secs_f64();
        let dc = cpu_ns().saturating_sub(c) as f64 / 1e9;
        dig = digest(&p.k);
        if i > 0 {
            times.push(dt); // run 0 is the warm-up
            cpu.push(dc);
        }
    }
    let times_s: Vec<String> = times.iter().map(|t| format!("{t:.6}")).collect();
    let cpu_s: Vec<String> = cpu.iter().map(|t| format!("{t:.6}")).collect();
    println!(
        "{{\"workload\":\"{w}\",\"frames\":{frames},\"ops\":{},\"digest\":\"{dig:016x}\",\"times_s\":[{}],\"cpu_s\":[{}],\"setup_machine_s\":{init_s:.6},\"peak_rss_kb\":{}}}",
        ops(w, frames),
        times_s.join(","),
        cpu_s.join(","),
        peak_rss_kb()
    );
}
