//! Events: fixed-size records appended while the engine runs and drained by the caller after each call returns
//! (JS never runs while Rust holds state). A record is 8 little-endian `u32` words:
//! `[kind, pid, a, b, c_lo, c_hi, time_lo, time_hi]`; the meaning of a/b/c depends on `kind`.

pub const EVENT_WORDS: usize = 8;

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[repr(u32)]
pub enum EventKind {
    /// A syscall returned an errno to the simulated caller: a = syscall id (`cmd::Op`), b = errno.
    SyscallError = 1,
    /// A task was created: a = parent pid (0 for none).
    TaskNew = 2,
    /// A task exited: a = exit reason (0 exit, 1 SIGKILL).
    TaskExit = 3,
    /// OOM kill: pid = victim, a = constraint, b = killed-by (0 kernel, 1 allocating task, 2 oom.group), c = badness.
    OomKill = 4,
    /// Kernel panic: a = reason code.
    Panic = 5,
    /// A fault raised a signal: a = signal number (11 SIGSEGV, 7 SIGBUS), c = the faulting virtual page.
    Signal = 6,
}

/// Every event kind with the name the TS bindings use (bindings/src/generated/codes.ts is generated from this).
pub const EVENT_KIND_TABLE: &[(&str, EventKind)] = &[
    ("syscall_error", EventKind::SyscallError),
    ("task_new", EventKind::TaskNew),
    ("task_exit", EventKind::TaskExit),
    ("oom_kill", EventKind::OomKill),
    ("panic", EventKind::Panic),
    ("signal", EventKind::Signal),
];

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub pid: u32,
    pub a: u32,
    pub b: u32,
    pub c: u64,
    pub time_ns: u64,
}

impl Event {
    pub fn encode(&self, out: &mut Vec<u32>) {
        out.extend_from_slice(&[
            self.kind as u32,
            self.pid,
            self.a,
            self.b,
            self.c as u32,
            (self.c >> 32) as u32,
            self.time_ns as u32,
            (self.time_ns >> 32) as u32,
        ]);
    }
}
