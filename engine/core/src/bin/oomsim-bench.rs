//! Native side of `npm run bench`: times the workloads of `oomsim_core::bench_workloads` on the native core.
//! Usage: `oomsim-bench <workload> <frames> <runs>`; prints one JSON object: the digest (checked against the wasm
//! engine's before any time is compared), seconds per run (wall clock, and CPU time of this thread: on a machine
//! shared with other jobs the CPU time is the steadier figure), and the process's peak RSS.
//!
//! `oomsim-bench pageref <ram_pages> <swap_pages> <max_pages>`: the native side of bench/pagetrace.ts. Reads packed
//! page references (`oomsim_core::pageref` layout, little-endian u32 words) from stdin until EOF and walks them on
//! the machine bench/pagetrace.ts builds for the wasm engine; prints the counters (compared with the wasm run's
//! before any time is) and the time spent in the walk alone (reading stdin is not timed).

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

fn usage_int(what: &str, s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| {
        eprintln!("oomsim-bench pageref: {what}: {s:?} is not an integer");
        std::process::exit(2)
    })
}

fn pageref(args: &[String]) {
    use oomsim_core::mmap::{MapFlags, PROT_RW};
    use oomsim_core::pageref::PageRefWalk;
    use oomsim_core::vmstat::Vmstat;
    use std::io::Read;
    if args.len() != 5 {
        eprintln!("usage: oomsim-bench pageref <ram_pages> <swap_pages> <max_pages> < refs.u32le");
        std::process::exit(2);
    }
    let (ram, swap, max_pages) = (usage_int("ram_pages", &args[2]), usage_int("swap_pages", &args[3]), usage_int("max_pages", &args[4]));
    // the machine of bench/pagetrace.ts: Engine defaults (seed 0, cgroup v2), a disk swap area, overcommit 1
    let mut k = oomsim_core::Kernel::new(oomsim_core::MachineConfig { totalram_pages: ram as u32, ..Default::default() }).expect("machine");
    if swap > 0 {
        k.swapon(swap as u32, -2, oomsim_core::vmscan::IoDevice::from_name("disk").expect("disk"), 0).expect("swapon");
    }
    k.sysctl_write("vm.overcommit_memory", 1).expect("sysctl").expect("overcommit 1");
    k.spawn(1000, "trace").expect("spawn");
    let base = k.mmap(1000, max_pages, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).expect("mmap").expect("mmap admitted");
    let before = k.vmstat.v.clone();
    let mut walk = PageRefWalk::new(1000, base, max_pages);
    let mut stdin = std::io::stdin().lock();
    let mut bytes = vec![0u8; 1 << 20];
    let mut words: Vec<u32> = Vec::with_capacity(1 << 18);
    let mut carry = 0usize;
    let (mut wall, mut cpu) = (0f64, 0u64);
    loop {
        let n = stdin.read(&mut bytes[carry..]).expect("read stdin");
        let have = carry + n;
        let whole = have / 8 * 8; // whole references
        words.clear();
        words.extend(bytes[..whole].chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        let (c, t) = (cpu_ns(), Instant::now());
        walk.run(&mut k, &words).expect("walk");
        wall += t.elapsed().as_secs_f64();
        cpu += cpu_ns().saturating_sub(c);
        bytes.copy_within(whole..have, 0);
        carry = have - whole;
        if n == 0 {
            break;
        }
    }
    let d = |v: Vmstat| k.vmstat.v[v as usize] - before[v as usize];
    println!(
        "{{\"references\":{},\"touches\":{},\"distinct_pages\":{},\"state\":{},\"counters\":{{\"pgfault\":{},\"pgmajfault\":{},\"pgscan\":{},\"pgsteal\":{},\"pswpin\":{},\"pswpout\":{},\"workingset_refault_anon\":{},\"workingset_refault_file\":{}}},\"digest\":\"{:016x}\",\"walk_s\":{wall:.6},\"walk_cpu_s\":{:.6},\"peak_rss_kb\":{}}}",
        walk.references,
        walk.touches,
        walk.distinct_pages(),
        walk.state as u32,
        d(Vmstat::pgfault),
        d(Vmstat::pgmajfault),
        d(Vmstat::pgscan_kswapd) + d(Vmstat::pgscan_direct),
        d(Vmstat::pgsteal_kswapd) + d(Vmstat::pgsteal_direct),
        d(Vmstat::pswpin),
        d(Vmstat::pswpout),
        d(Vmstat::workingset_refault_anon),
        d(Vmstat::workingset_refault_file),
        digest(&k),
        cpu as f64 / 1e9,
        peak_rss_kb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("pageref") {
        return pageref(&args);
    }
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
        eprintln!("oomsim-bench: frames must be an integer 1..{}", oomsim_core::types::MAX_RAM_PAGES);
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
