//! The command-buffer protocol. The caller writes commands as little-endian `u32` words into a buffer the engine
//! owns (in wasm, a typed-array view over wasm memory), then asks the engine to execute `len` words at once: one
//! boundary crossing for a whole batch. Each command is `[op, nargs, arg0, .., arg{nargs-1}]`; every command
//! appends one `i64` result (`>= 0` a value, `< 0` a negated errno returned to the simulated caller).
//!
//! 64-bit arguments (virtual page numbers, sysctl values) take two words, low then high. Virtual page numbers are
//! what `mmap`/`mmap_anon` return. Signals a touch raises (SIGSEGV, SIGBUS) are events; the touch's result is the
//! number of pages accessed before it.
//!
//! An *invalid* command (unknown op, wrong argument count, unknown pid) stops the batch with an `ApiError` naming the
//! command index and word offset; commands before it have taken effect, as with a sequence of syscalls.

use crate::errno::{ApiError, Errno};
use crate::event::EventKind;
use crate::filemap::FileKind;
use crate::kernel::{Kernel, SysResult, SYSCTL_NAMES};
use crate::memory::{Access, Pattern, TouchOutcome, TouchStop};
use crate::mmap::{Advice, MapFlags};

/// Command opcodes. Stable numbers: they are part of the boundary (bindings/src/generated/ops.ts).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    Spawn = 1,
    MmapAnon = 2,
    Touch = 3,
    Exit = 4,
    Fork = 5,
    Vfork = 6,
    Exec = 7,
    Mmap = 8,
    Munmap = 9,
    Mprotect = 10,
    Madvise = 11,
    Brk = 12,
    TouchPattern = 13,
    Swapout = 14,
    Sysctl = 15,
    FileCreate = 16,
    FileRead = 17,
    FileWrite = 18,
    OomScoreAdj = 19,
}

/// (name, opcode, nargs, argument names). The argument names document the layout; `*_lo`/`*_hi` are the halves of
/// a 64-bit value.
pub const OP_TABLE: &[(&str, Op, &[&str])] = &[
    ("spawn", Op::Spawn, &["pid"]),
    ("mmap_anon", Op::MmapAnon, &["pid", "pages"]),
    ("touch", Op::Touch, &["pid", "vpn_lo", "vpn_hi", "count", "access"]),
    ("exit", Op::Exit, &["pid"]),
    ("fork", Op::Fork, &["pid", "child"]),
    ("vfork", Op::Vfork, &["pid", "child"]),
    ("exec", Op::Exec, &["pid"]),
    ("mmap", Op::Mmap, &["pid", "pages", "prot", "flags", "file"]),
    ("munmap", Op::Munmap, &["pid", "vpn_lo", "vpn_hi", "pages"]),
    ("mprotect", Op::Mprotect, &["pid", "vpn_lo", "vpn_hi", "pages", "prot"]),
    ("madvise", Op::Madvise, &["pid", "vpn_lo", "vpn_hi", "pages", "advice"]),
    ("brk", Op::Brk, &["pid", "pages"]),
    ("touch_pattern", Op::TouchPattern, &["pid", "vpn_lo", "vpn_hi", "npages", "pattern", "stride", "count", "access"]),
    ("swapout", Op::Swapout, &["pid", "vpn_lo", "vpn_hi", "pages", "keep_swapcache"]),
    ("sysctl", Op::Sysctl, &["name_index", "value_lo", "value_hi"]),
    ("file_create", Op::FileCreate, &["fs", "pages", "cached"]),
    ("file_read", Op::FileRead, &["pid", "file", "first", "count"]),
    ("file_write", Op::FileWrite, &["pid", "file", "first", "count"]),
    ("oom_score_adj", Op::OomScoreAdj, &["pid", "adj_i32"]),
];

/// mmap flag bits in the `flags` word.
pub const MAP_SHARED_BIT: u32 = 1;
pub const MAP_ANONYMOUS_BIT: u32 = 2;
pub const MAP_NORESERVE_BIT: u32 = 4;
/// `file` word meaning "no file".
pub const NO_FILE: u32 = u32::MAX;

fn entry(op: u32) -> Option<&'static (&'static str, Op, &'static [&'static str])> {
    OP_TABLE.iter().find(|(_, o, _)| *o as u32 == op)
}

fn wide(lo: u32, hi: u32) -> u64 {
    lo as u64 | (hi as u64) << 32
}

fn sys<T: Into<i64>>(r: SysResult<T>) -> i64 {
    match r {
        Ok(v) => v.into(),
        Err(e) => -(e as i64),
    }
}

fn touch_result(o: TouchOutcome) -> Result<i64, ApiError> {
    match o.stop {
        None => Ok(o.done as i64),
        // the engine already delivered the signal (event) and the task died of it (Kernel::force_sig_fault)
        Some(TouchStop::Segv { .. }) | Some(TouchStop::Sigbus { .. }) => Ok(o.done as i64),
        Some(TouchStop::OutOfMemory { .. }) => Ok(-(Errno::ENOMEM as i64)),
        // the OomKill/TaskExit or Panic events tell the caller what happened; the result is the pages done
        // a v1 memcg OOM wait: the task is blocked (state D) with the rest pending; the result is the pages done
        Some(TouchStop::Killed { .. }) | Some(TouchStop::Panic { .. }) | Some(TouchStop::Blocked { .. }) => Ok(o.done as i64),
        Some(TouchStop::Unsupported(s)) => Err(ApiError::new("E_UNSUPPORTED", s)),
    }
}

/// The codes of the enumerated argument words, defined once here: the decoders below use these tables, and
/// bindings/src/generated/codes.ts is generated from them (engine/wasm/tests/generated_codes.rs).
/// (TS name, word value). `prot`: the mmap/mprotect protection.
pub const PROT_CODES: &[(&str, u32)] = &[("none", 0), ("r", 1), ("rw", 3)];
/// `access` of touch/touch_pattern.
pub const ACCESS_CODES: &[(&str, u32)] = &[("read", 0), ("write", 1)];
/// `advice` of madvise: the kernel's MADV_* numbers (include/uapi/asm-generic/mman-common.h).
pub const ADVICE_CODES: &[(&str, u32)] = &[("MADV_DONTNEED", 4), ("MADV_DONTFORK", 10), ("MADV_DOFORK", 11)];
/// `pattern` of touch_pattern.
pub const PATTERN_CODES: &[(&str, u32)] = &[("strided", 0), ("uniform", 1), ("zipf", 2)];
/// `fs` of file_create.
pub const FS_CODES: &[(&str, u32)] = &[("disk", 0), ("tmpfs", 1), ("hugetlbfs", 2)];
/// Bits of mmap's `flags` word.
pub const MAP_FLAG_BITS: &[(&str, u32)] = &[("shared", MAP_SHARED_BIT), ("anonymous", MAP_ANONYMOUS_BIT), ("noreserve", MAP_NORESERVE_BIT)];

/// The largest file the boundary creates, in pages (2^26 = 256 GiB). The page-cache index is sparse
/// (`filemap::page_cache`), but its chunk pointers are allocated up front (512 KiB in wasm for 2^26 pages), and a
/// frame's file index is a u32.
pub const MAX_FILE_PAGES: u64 = 1 << 26;

/// `file_create.pages` within MAX_FILE_PAGES.
pub fn file_pages_ok(pages: u64) -> Result<(), String> {
    if pages > MAX_FILE_PAGES {
        return Err(format!("file_create.pages: {pages} is not allowed; expected 0..={MAX_FILE_PAGES} (256 GiB)"));
    }
    Ok(())
}

/// Decode an enumerated word against its table; the error names the field and the allowed values.
fn code_of(field: &str, table: &[(&str, u32)], w: u32) -> Result<u32, String> {
    if table.iter().any(|(_, c)| *c == w) {
        return Ok(w);
    }
    let allowed: Vec<String> = table.iter().map(|(n, c)| format!("{c} ({n})")).collect();
    Err(format!("{field}: {w} is not allowed; expected {}", allowed.join(", ")))
}

fn prot_of(w: u32) -> Result<u32, String> {
    Ok(match code_of("prot", PROT_CODES, w)? {
        0 => crate::mmap::PROT_NONE,
        1 => crate::mmap::PROT_READ,
        _ => crate::mmap::PROT_RW,
    })
}

fn access_of(w: u32) -> Result<Access, String> {
    Ok(if code_of("access", ACCESS_CODES, w)? == 0 { Access::Read } else { Access::Write })
}

fn advice_of(w: u32) -> Result<Advice, String> {
    Ok(match code_of("madvise.advice", ADVICE_CODES, w)? {
        4 => Advice::DontNeed,
        10 => Advice::DontFork,
        _ => Advice::DoFork,
    })
}

fn pattern_of(w: u32, stride: u32) -> Result<Pattern, String> {
    Ok(match code_of("touch_pattern.pattern", PATTERN_CODES, w)? {
        0 => Pattern::Strided { stride: stride as u64 },
        1 => Pattern::Uniform,
        _ => Pattern::Zipf,
    })
}

pub fn fs_of(w: u32) -> Result<FileKind, String> {
    Ok(match code_of("file_create.fs", FS_CODES, w)? {
        0 => FileKind::Disk,
        1 => FileKind::Tmpfs,
        _ => FileKind::Hugetlbfs,
    })
}

fn flags_of(w: u32) -> Result<MapFlags, String> {
    let known = MAP_FLAG_BITS.iter().fold(0, |m, (_, b)| m | b);
    if w & !known != 0 {
        return Err(format!("mmap.flags: {w:#x} has unknown bits; allowed 1 (shared), 2 (anonymous), 4 (noreserve)"));
    }
    Ok(MapFlags { shared: w & MAP_SHARED_BIT != 0, anonymous: w & MAP_ANONYMOUS_BIT != 0, noreserve: w & MAP_NORESERVE_BIT != 0 })
}

/// The input-only checks of one command's enumerated words (no kernel state): what `validate` runs before a batch.
fn check_words(op: Op, a: &[u32]) -> Result<(), String> {
    match op {
        Op::Touch => access_of(a[4]).map(|_| ()),
        Op::Mmap => flags_of(a[3]).and(prot_of(a[2])).map(|_| ()),
        Op::Mprotect => prot_of(a[4]).map(|_| ()),
        Op::Madvise => advice_of(a[4]).map(|_| ()),
        Op::TouchPattern => pattern_of(a[4], a[5]).and(access_of(a[7])).map(|_| ()),
        Op::Sysctl if a[0] as usize >= SYSCTL_NAMES.len() => Err(format!("sysctl.name_index: {} is not allowed; expected 0..={}", a[0], SYSCTL_NAMES.len() - 1)),
        Op::FileCreate => fs_of(a[0]).and(file_pages_ok(a[1] as u64)),
        _ => Ok(()),
    }
}

fn run_one(k: &mut Kernel, op: Op, a: &[u32]) -> Result<i64, ApiError> {
    let arg = |m: String| ApiError::new("E_ARG", m);
    Ok(match op {
        Op::Spawn => k.spawn(a[0], "").map(|_| 0)?,
        Op::MmapAnon => sys(k.mmap(a[0], a[1] as u64, crate::mmap::PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None)?.map(|v| v as i64)),
        Op::Touch => {
            let o = k.touch(a[0], wide(a[1], a[2]), a[3] as u64, access_of(a[4]).map_err(arg)?)?;
            touch_result(o)?
        }
        Op::Exit => k.exit(a[0]).map(|_| 0)?,
        Op::Fork => sys(k.fork(a[0], a[1])?.map(|_| 0i64)),
        Op::Vfork => sys(k.vfork(a[0], a[1])?.map(|_| 0i64)),
        Op::Exec => sys(k.exec(a[0], None)?.map(|_| 0i64)),
        Op::Mmap => {
            let flags = flags_of(a[3]).map_err(arg)?;
            let file = (a[4] != NO_FILE).then_some(a[4]);
            sys(k.mmap(a[0], a[1] as u64, prot_of(a[2]).map_err(arg)?, flags, file)?.map(|v| v as i64))
        }
        Op::Munmap => sys(k.munmap(a[0], wide(a[1], a[2]), a[3] as u64)?.map(|_| 0i64)),
        Op::Mprotect => sys(k.mprotect(a[0], wide(a[1], a[2]), a[3] as u64, prot_of(a[4]).map_err(arg)?)?.map(|_| 0i64)),
        Op::Madvise => {
            let adv = advice_of(a[4]).map_err(arg)?;
            sys(k.madvise(a[0], wide(a[1], a[2]), a[3] as u64, adv)?.map(|_| 0i64))
        }
        Op::Brk => sys(k.brk(a[0], a[1] as u64)?.map(|_| 0i64)),
        Op::TouchPattern => {
            let pattern = pattern_of(a[4], a[5]).map_err(arg)?;
            let o = k.touch_pattern(a[0], wide(a[1], a[2]), a[3] as u64, pattern, a[6] as u64, access_of(a[7]).map_err(arg)?)?;
            touch_result(o)?
        }
        Op::Swapout => k.swapout(a[0], wide(a[1], a[2]), a[3] as u64, a[4] != 0)?.swapped as i64,
        Op::Sysctl => {
            let name = SYSCTL_NAMES.get(a[0] as usize).ok_or_else(|| arg(format!("sysctl.name_index: {} is not allowed; expected 0..={}", a[0], SYSCTL_NAMES.len() - 1)))?;
            sys(k.sysctl_write(name, wide(a[1], a[2]) as i64)?.map(|_| 0i64))
        }
        Op::FileCreate => {
            let kind = fs_of(a[0]).map_err(arg)?;
            let name = format!("file{}", k.files.len());
            sys(k.file_create(&name, kind, a[1] as u64, a[2] != 0)?.map(|f| f as i64))
        }
        Op::FileRead => sys(k.file_read(a[0], a[1], a[2] as u64, a[3] as u64)?.map(|n| n as i64)),
        Op::FileWrite => sys(k.file_write(a[0], a[1], a[2] as u64, a[3] as u64)?.map(|n| n as i64)),
        Op::OomScoreAdj => sys(k.set_oom_score_adj(a[0], a[1] as i32 as i64)?.map(|_| 0i64)),
    })
}

/// Walks a batch command by command: checks each header (a known op, the argument count its table entry gives, no
/// truncation) and hands the op and its argument words to `each`. Errors, the header's and those `each` returns,
/// are located as `command #n at word i`. The one decoder behind `validate` and `execute`.
fn for_each_command(words: &[u32], mut each: impl FnMut(Op, &[u32]) -> Result<(), ApiError>) -> Result<u32, ApiError> {
    let mut i = 0usize;
    let mut n = 0u32;
    while i < words.len() {
        let at = |msg: String| ApiError::new("E_CMD", format!("command #{n} at word {i}: {msg}"));
        if i + 2 > words.len() {
            return Err(at("truncated header; expected [op, nargs, args...]".into()));
        }
        let (op, nargs) = (words[i], words[i + 1]);
        let (name, opv, args) = entry(op).ok_or_else(|| at(format!("unknown op {op}; allowed: {}", allowed_ops())))?;
        if nargs != args.len() as u32 {
            return Err(at(format!("op {op} ({name}) takes {} arguments ({}), got {nargs}", args.len(), args.join(", "))));
        }
        let end = i + 2 + nargs as usize;
        if end > words.len() {
            return Err(at(format!("truncated: needs {nargs} argument words")));
        }
        each(*opv, &words[i + 2..end]).map_err(|e| ApiError { message: format!("command #{n} at word {i}: {}", e.message), ..e })?;
        n += 1;
        i = end;
    }
    Ok(n)
}

/// Execute the commands in `words`, appending one result per command to `results`.
pub fn execute(k: &mut Kernel, words: &[u32], results: &mut Vec<i64>) -> Result<u32, ApiError> {
    for_each_command(words, |op, a| {
        results.push(run_one(k, op, a)?);
        Ok(())
    })
}

/// Check a whole batch before any of it runs: headers, opcodes, argument counts, truncation and the enumerated
/// words (prot, access, flags, advice, pattern, fs, sysctl index). A batch that fails here changes nothing; errors
/// that depend on kernel state (an unknown pid) can only show while executing and stop the batch at that command.
/// Returns the number of commands.
pub fn validate(words: &[u32]) -> Result<u32, ApiError> {
    for_each_command(words, |op, a| check_words(op, a).map_err(|m| ApiError::new("E_ARG", m)))
}

fn allowed_ops() -> String {
    OP_TABLE.iter().map(|(name, o, _)| format!("{} ({name})", *o as u32)).collect::<Vec<_>>().join(", ")
}

impl Kernel {
    /// A signal delivered to a task by a fault (a = signal number, c = the virtual page).
    pub fn signal_event(&mut self, pid: u32, sig: u32, vpn: u64) {
        self.event(EventKind::Signal, pid, sig, 0, vpn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::MachineConfig;

    fn k(pages: u32) -> Kernel {
        Kernel::new(MachineConfig { totalram_pages: pages, ..Default::default() }).unwrap()
    }

    #[test]
    fn batch_executes_in_order() {
        let mut k = k(4096);
        let mut res = Vec::new();
        execute(&mut k, &[1, 1, 7, 2, 2, 7, 64], &mut res).unwrap();
        let vpn = res[1] as u64;
        let free = k.nr_free_pages();
        let words = [3, 5, 7, vpn as u32, (vpn >> 32) as u32, 64, 1, 5, 2, 7, 8];
        assert_eq!(execute(&mut k, &words, &mut res).unwrap(), 2);
        assert_eq!(res[2], 64);
        assert_eq!(res[3], 0, "fork succeeded");
        assert_eq!(k.nr_free_pages(), free - 64);
        assert_eq!(k.task_mem(8).unwrap().rss_anon, 256, "child shares the 64 pages (kB)");
    }

    #[test]
    fn invalid_command_names_index_and_allowed_values() {
        let mut k = k(4096);
        let mut res = Vec::new();
        let e = execute(&mut k, &[1, 1, 3, 99, 0], &mut res).unwrap_err();
        assert_eq!(e.code, "E_CMD");
        assert!(e.message.contains("command #1") && e.message.contains("unknown op 99") && e.message.contains("(spawn)"), "{e}");
        assert_eq!(res.len(), 1, "the command before the bad one took effect");
        let e = execute(&mut k, &[3, 5, 9, 0, 0, 1, 1], &mut res).unwrap_err();
        assert_eq!(e.code, "E_NOPID", "{e}");
        let e = execute(&mut k, &[3, 2, 3, 0], &mut res).unwrap_err();
        assert!(e.message.contains("takes 5 arguments"), "{e}");
    }

    #[test]
    fn validate_rejects_a_bad_batch_before_anything_runs() {
        let mut k = k(4096);
        let mut res = Vec::new();
        // spawn 7 then an mmap with prot 2 (not a code): validate names it, nothing ran
        let words = [1, 1, 7, 8, 5, 7, 1, 2, 2, NO_FILE];
        let e = validate(&words).unwrap_err();
        assert_eq!(e.code, "E_ARG");
        assert!(e.message.contains("command #1 at word 3: prot: 2 is not allowed; expected 0 (none), 1 (r), 3 (rw)"), "{e}");
        assert!(k.task(7).is_none());
        for bad in [&[1u32, 1][..], &[1, 2, 7, 0], &[99, 0], &[3, 5, 7, 0, 0, 1, 2], &[11, 5, 7, 0, 0, 1, 5], &[13, 8, 7, 0, 0, 1, 3, 0, 1, 1], &[16, 3, 3, 0, 0], &[15, 3, 999, 0, 0], &[8, 5, 7, 1, 3, 8, NO_FILE]] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate(&words[..3]).unwrap(), 1);
        assert_eq!(validate(&[]).unwrap(), 0);
        execute(&mut k, &words[..3], &mut res).unwrap();
        assert!(k.task(7).is_some());
    }

    #[test]
    fn code_tables_decode_every_listed_value() {
        for (_, c) in PROT_CODES {
            prot_of(*c).unwrap();
        }
        for (_, c) in ADVICE_CODES {
            advice_of(*c).unwrap();
        }
        for (_, c) in PATTERN_CODES {
            pattern_of(*c, 1).unwrap();
        }
        for (_, c) in FS_CODES {
            fs_of(*c).unwrap();
        }
        assert_eq!(access_of(1).unwrap(), Access::Write);
        assert!(prot_of(2).is_err() && advice_of(0).is_err() && pattern_of(3, 0).is_err() && fs_of(3).is_err());
    }

    #[test]
    fn errno_results_are_negative_values_not_errors() {
        let mut k = k(4096);
        let mut res = Vec::new();
        // overcommit_memory = 3 is EINVAL
        execute(&mut k, &[15, 3, 0, 3, 0], &mut res).unwrap();
        assert_eq!(res, vec![-(Errno::EINVAL as i64)]);
        // a touch outside any mapping is SIGSEGV: an event, 0 pages done
        execute(&mut k, &[1, 1, 5, 3, 5, 5, 0x1000, 0, 1, 0], &mut res).unwrap();
        assert_eq!(res[2], 0);
        let mut ev = Vec::new();
        k.drain_events(&mut ev);
        assert!(ev.chunks(8).any(|e| e[0] == EventKind::Signal as u32 && e[2] == 11));
    }
}
