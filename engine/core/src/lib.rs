//! oomsim-core: Linux memory management and the OOM killer, simulated with the kernel's own semantics.
//!
//! Pure Rust, no wasm dependencies: everything here builds and is tested natively with `cargo test`.
//! Modules are named after the kernel files whose rules they restate (the kernel is GPL: rules are restated and
//! cited as `file:function`, never copied). All quantities are in pages (4096 bytes) inside the engine; bytes and
//! kB appear only at the edges (`meminfo`, log lines, cgroup files).

pub mod bench_workloads;
pub mod cmd;
pub mod conformance;
pub mod current;
pub mod errno;
pub mod event;
pub mod filemap;
pub mod fork;
pub mod gfp_types;
pub mod kernel;
pub mod memcontrol;
pub mod meminfo;
pub mod memory;
pub mod mm_types;
pub mod mmap;
pub mod oom_kill;
pub mod pageref;
pub mod page_alloc;
pub mod page_counter;
pub mod proc_base;
pub mod psi;
pub mod rand;
pub mod show_mem;
pub mod snapshot;
pub mod swap;
pub mod swapfile;
pub mod task;
pub mod task_mmu;
pub mod types;
pub mod util;
pub mod vmscan;
pub mod vmstat;

pub use errno::{ApiError, Errno};
pub use kernel::{Kernel, MachineConfig};
pub use memory::Access;

pub use types::{PAGE_SHIFT, PAGE_SIZE};

/// Pages to kB: the kernel's `K(x)` is `x << (PAGE_SHIFT - 10)`.
#[inline]
pub const fn pages_to_kb(pages: u64) -> u64 {
    pages << (PAGE_SHIFT - 10)
}

/// kB to pages, truncating (`x >> (PAGE_SHIFT - 10)`).
#[inline]
pub const fn kb_to_pages(kb: u64) -> u64 {
    kb >> (PAGE_SHIFT - 10)
}
