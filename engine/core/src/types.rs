//! The vocabulary every subsystem shares: the syscall result, the allocation failure, what a fault and a COW
//! did, the memcg index and the root memcg, the access patterns, the page size and the address-space constants.
//! A leaf: it imports nothing of the engine but `errno`, so any module may use it without joining an import
//! cycle.

use crate::errno::Errno;

/// One page is 4096 bytes (PAGE_SHIFT = 12). Only this page size is simulated.
pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;

/// Highest user virtual page + 1: x86-64 TASK_SIZE (0x7ffffffff000) in pages.
pub const TASK_SIZE_PAGES: u64 = 0x7_ffff_ffff;
/// Where top-down mmap starts (below a stack gap), and where the heap starts.
pub const MMAP_BASE: u64 = 0x7_f000_0000;
pub const START_BRK: u64 = 0x5_5555_6000;
/// The simulator keeps reverse-map indices in 32 bits: one mapping is at most 2^32 - 1 pages (16 TiB).
pub const MAX_MAP_PAGES: u64 = u32::MAX as u64;

/// The most RAM an engine models: 2^27 frames (512 GiB). An engine lives in wasm32's 4 GiB of linear memory: a
/// frame costs 16 bytes at boot and about 24 in use with the LRU, so 2^27 frames take 2 GiB at boot and leave room
/// for the swap map and page tables. (The PTE encoding alone would name 2^28 - 3 frames, `mm_types::MAX_PTE_FRAME`:
/// a machine that large trapped in the allocator while booting.)
pub const MAX_RAM_PAGES: u32 = 1 << 27;
/// The most swap an engine models, over all areas: 2^26 slots (256 GiB), 8 bytes a slot (the swap count and the
/// slot's memcg, mm/swap_cgroup.c). The earlier bound, 2^30 - 1, let one swapon allocate 8 GiB and trap.
pub const MAX_SWAP_PAGES: u32 = 1 << 26;
const _: () = assert!(MAX_RAM_PAGES <= crate::mm_types::MAX_PTE_FRAME);

/// The result a simulated syscall returns to its caller: a value, or an errno.
pub type SysResult<T = u64> = Result<T, Errno>;

/// Index of a memcg in its tree (memcontrol/); the root is `memcontrol::ROOT_MEMCG`.
pub type MemcgId = u32;
/// The root memcg (`root_mem_cgroup`), path `/`.
pub const ROOT_MEMCG: MemcgId = 0;

/// What the last fault did (for single-page observations).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FaultKind {
    None,
    Minor,
    Major,
}

/// What `do_wp_page` did.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CowKind {
    None,
    Copy,
    Reuse,
}

/// Why an allocation of a user page failed. The reclaim/OOM work plugs in at `alloc_user_page`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AllocFail {
    /// No frame above the min watermark after reclaim, and the OOM killer did not make room (disabled, kernel
    /// context, a request that may not OOM).
    OutOfMemory,
    /// The allocating task itself was killed by the OOM killer: its current kernel entry is abandoned.
    Killed,
    /// The OOM killer panicked the machine.
    Panic,
    /// A user fault's memcg charge failed in a v1 memcg with oom_kill_disable 1: the task must sleep in the
    /// memcg OOM wait on this memcg (`mem_cgroup_oom_synchronize`).
    OomWait(MemcgId),
}

/// Access patterns for `touch_pattern`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pattern {
    /// Page `(i * stride) % npages` for i in 0..count (stride 1: sequential).
    Strided { stride: u64 },
    /// Uniformly random pages (`Rng::below`).
    Uniform,
    /// Zipf-like with exponent 1, integer-only so the TypeScript engine can reproduce it bit for bit: a dyadic block
    /// `b` (pages `2^b - 1 .. 2^(b+1) - 1`) is chosen with equal probability (a Zipf(1) distribution puts about
    /// ln 2 of its mass in every dyadic block), then a page uniformly within the block. Page 0 is the hottest.
    Zipf,
}
