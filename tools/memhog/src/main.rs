//! oomsim-memhog: the helper process of the real-kernel tests (test/capture-kernel.test.ts).
//!
//! `oomsim-memhog [--procs <cgroup.procs>] [--adj <oom_score_adj>] [--mib <n>] [--leader-exits]`
//!
//! 1. writes its own pid to `--procs` (joins that memcg before it allocates, so every page it touches is charged
//!    there), then writes `--adj` to /proc/self/oom_score_adj;
//! 2. allocates `--mib` MiB and writes every page (private anonymous memory: RssAnon);
//! 3. prints `ready <pid>` and then reads commands from stdin, one per line:
//!    `grow <n>` allocates and writes n MiB more, 1 MiB at a time, then prints `grown <total MiB>`;
//!    `status` prints `held <total MiB>`.
//!
//! With `--leader-exits` the work runs on a second thread and the main thread ends with pthread_exit, leaving the
//! process with an exited (zombie) leader and a live thread that holds the mm.
//!
//! It exits when stdin closes, so a helper never outlives the test that started it. Errors go to stderr with
//! exit code 2 (bad arguments) or 1 (a write the kernel refused).
use std::io::{BufRead, Write};

extern "C" {
    // libc, which std links. pthread_exit would unwind through Rust frames (an abort), so the main thread ends
    // with the raw exit(2) system call, which ends the calling thread only (exit_group ends the process).
    fn syscall(number: std::ffi::c_long, ...) -> std::ffi::c_long;
}

#[cfg(target_arch = "x86_64")]
const SYS_EXIT: std::ffi::c_long = 60;
#[cfg(target_arch = "aarch64")]
const SYS_EXIT: std::ffi::c_long = 93;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const SYS_EXIT: std::ffi::c_long = -1; // --leader-exits reports that it is not supported here

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;

fn touch(mib: usize) -> Vec<u8> {
    let mut v = vec![0u8; mib * MIB];
    // vec![0; n] may come from calloc'd, untouched zero pages: write one byte per page so each page is faulted in.
    for i in (0..v.len()).step_by(PAGE) {
        v[i] = 1;
    }
    v
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("oomsim-memhog: writing {text:?} to {path}: {e}"))
}

fn run() -> Result<(), String> {
    let mut procs: Option<String> = None;
    let mut adj: Option<i32> = None;
    let mut mib = 0usize;
    let mut leader_exits = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or_else(|| format!("oomsim-memhog: {name} needs a value"));
        match a.as_str() {
            "--procs" => procs = Some(val("--procs")?),
            "--adj" => adj = Some(val("--adj")?.parse().map_err(|_| "oomsim-memhog: --adj needs an integer -1000..1000".to_string())?),
            "--mib" => mib = val("--mib")?.parse().map_err(|_| "oomsim-memhog: --mib needs a whole number of MiB".to_string())?,
            "--leader-exits" => leader_exits = true,
            _ => return Err(format!("oomsim-memhog: unknown argument {a:?} (allowed: --procs <file>, --adj <n>, --mib <n>, --leader-exits)")),
        }
    }
    let pid = std::process::id();
    if let Some(p) = procs {
        write_file(&p, &pid.to_string())?;
    }
    if let Some(a) = adj {
        write_file("/proc/self/oom_score_adj", &a.to_string())?;
    }
    if leader_exits {
        std::thread::spawn(move || {
            if let Err(e) = serve(pid, mib) {
                eprintln!("{e}");
                std::process::exit(1);
            }
        });
        if SYS_EXIT < 0 {
            return Err("oomsim-memhog: --leader-exits needs x86_64 or aarch64".to_string());
        }
        // SAFETY: exit(2) ends only this thread, without unwinding; the worker owns everything it uses and ends the
        // process itself (exit_group via std::process::exit) when stdin closes.
        unsafe { syscall(SYS_EXIT, 0 as std::ffi::c_long) };
        unreachable!("exit(2) returned");
    }
    serve(pid, mib)
}

fn serve(pid: u32, mib: usize) -> Result<(), String> {
    let mut held: Vec<Vec<u8>> = vec![touch(mib)];
    let mut total = mib;
    let stdout = std::io::stdout();
    let say = |s: String| {
        let mut o = stdout.lock();
        let _ = writeln!(o, "{s}");
        let _ = o.flush();
    };
    say(format!("ready {pid}"));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut w = line.split_whitespace();
        match (w.next(), w.next()) {
            (Some("grow"), Some(n)) => {
                let n: usize = n.parse().map_err(|_| format!("oomsim-memhog: grow needs a number, got {n:?}"))?;
                for _ in 0..n {
                    held.push(touch(1));
                    total += 1;
                }
                say(format!("grown {total}"));
            }
            (Some("status"), None) => say(format!("held {total}")),
            _ => eprintln!("oomsim-memhog: unknown command {line:?} (allowed: grow <MiB>, status)"),
        }
    }
    std::hint::black_box(&held);
    // With --leader-exits this is not the main thread: end the whole process, not just this thread.
    std::process::exit(0)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(if e.contains("argument") || e.contains("needs") { 2 } else { 1 });
    }
}
