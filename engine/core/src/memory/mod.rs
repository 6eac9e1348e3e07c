//! mm/memory.c: page faults and the accesses that take them.
//!
//! * `do_anonymous_page`: a read of an untouched private anon page maps the shared zero page (no allocation, no
//!   RSS); a write allocates a zeroed page on the inactive anon LRU. Both are minor faults.
//! * `do_wp_page`: a write to a present read-only PTE. Private pages still mapped elsewhere (fork) or the zero page
//!   or a page-cache page get a private copy (`wp_page_copy`); an anon page mapped only here is reused
//!   (`wp_can_reuse_anon_folio`); shared mappings make the PTE writable (`wp_page_shared`).
//! * `do_read_fault`/`do_cow_fault`/`do_shared_fault` via the page cache (mm/filemap.c:`filemap_fault`: a miss
//!   reads the page and is major; mm/shmem.c:`shmem_fault`: shmem has no zero page and allocates on first access,
//!   minor).
//! * `do_swap_page`: swap cache hit minor, otherwise a read from swap (major, `pswpin`).
//! * `mm_account_fault`: every completed fault counts in `pgfault`, and in the task's `maj_flt` or `min_flt`.
//!
//! The touch loop is a tight scan over a 512-entry PTE chunk: a page whose PTE already allows the access costs one
//! load and one compare; only pages that need a fault leave the loop.
//!
//! This file holds the vocabulary of the fault path (accesses, outcomes, `VmFault`, the fault errors) and its
//! pure helpers; the access loops and the fault handlers on the engine are [`engine`].

use crate::errno::ApiError;
pub use crate::types::Pattern;
use crate::types::{AllocFail, CowKind, FaultKind};
use crate::mm_types::*;
use crate::page_alloc::frames::{F_DIRTY, F_SWAPCACHE, KIND_ANON, KIND_FILE, KIND_MASK, KIND_SHMEM};
use crate::vmstat::Vmstat;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Access {
    Read = 0,
    Write = 1,
}

/// Why a touch stopped before its last page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TouchStop {
    /// Access outside any VMA or against its protection: SIGSEGV.
    Segv { vpn: u64 },
    /// Access beyond the end of a file, or a shmem page that could not be accounted (ENOSPC): SIGBUS.
    Sigbus { vpn: u64 },
    /// No page could be allocated even after reclaim and the OOM killer (OOM killer disabled, or it made no
    /// progress): VM_FAULT_OOM.
    OutOfMemory { vpn: u64 },
    /// The touching task was chosen by the OOM killer while faulting at `vpn`: it has exited (SIGKILL).
    Killed { vpn: u64 },
    /// The OOM killer panicked the machine while this task faulted at `vpn`.
    Panic { vpn: u64 },
    /// The fault at `vpn` failed its memcg charge in a v1 memcg with oom_kill_disable 1: the task sleeps in the
    /// memcg OOM wait (state D) with this page and the rest of the access pending; it resumes when woken
    /// (`Kernel::resume_woken`).
    Blocked { vpn: u64 },
    /// A case the engine does not model yet.
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TouchOutcome {
    /// Pages accessed.
    pub done: u64,
    pub stop: Option<TouchStop>,
}

#[derive(Debug)]
pub(crate) enum FaultErr {
    Segv,
    Sigbus,
    Oom,
    /// The faulting task was OOM-killed.
    Killed,
    /// The OOM killer panicked the machine.
    Panic,
    /// A user-fault memcg charge must wait in a v1 memcg OOM (oom_kill_disable); the memcg is in
    /// `Current::memcg_in_oom`.
    OomWait,
    /// The fault returned without completing the access (`wp_page_copy` found the PTE changed while it allocated
    /// the copy: reclaim had unmapped the page): the access runs again.
    Retry,
    Unsupported(String),
}

impl From<AllocFail> for FaultErr {
    fn from(e: AllocFail) -> Self {
        match e {
            AllocFail::OutOfMemory => FaultErr::Oom,
            AllocFail::Killed => FaultErr::Killed,
            AllocFail::Panic => FaultErr::Panic,
            AllocFail::OomWait(_) => FaultErr::OomWait,
        }
    }
}

/// mm/memory.c `struct vm_fault`: one fault, built by the access loop and passed down the handlers, which
/// report what they did in `fault` (set when the fault completes: `mm_account_fault`) and `cow` (what
/// `do_wp_page` decided). The access loop folds them into `Kernel::last_fault`/`last_cow`, which describe the
/// entry's last fault and last COW.
#[derive(Copy, Clone, Debug)]
pub(crate) struct VmFault {
    pub pid: u32,
    pub mm_id: u32,
    /// The VMA's index in its mm.
    pub vi: usize,
    pub vpn: u64,
    pub write: bool,
    pub fault: FaultKind,
    pub cow: CowKind,
}

impl VmFault {
    #[inline]
    fn new(pid: u32, mm_id: u32, vi: usize, vpn: u64, write: bool) -> Self {
        VmFault { pid, mm_id, vi, vpn, write, fault: FaultKind::None, cow: CowKind::None }
    }
}

#[inline]
fn pte_allows(pte: u32, write: bool) -> bool {
    if write {
        pte & PTE_W != 0
    } else {
        pte != PTE_NONE && pte & PTE_SWAP == 0
    }
}

fn vma_allows(flags: VmFlags, write: bool) -> bool {
    if write {
        flags & VM_WRITE != 0
    } else {
        flags & VM_READ != 0
    }
}

/// Upper bound for touch ranges (TASK_SIZE in pages).
const TASK_SIZE_PAGES_PLUS: u64 = crate::types::TASK_SIZE_PAGES;

/// The RSS counter a mapped frame of this kind counts in.
pub(crate) fn kind_counter(kind: u32) -> MmCounter {
    match kind {
        KIND_ANON => MmCounter::MM_ANONPAGES,
        KIND_SHMEM => MmCounter::MM_SHMEMPAGES,
        _ => MmCounter::MM_FILEPAGES,
    }
}

fn fault_stop(e: FaultErr, vpn: u64) -> TouchStop {
    match e {
        FaultErr::Segv => TouchStop::Segv { vpn },
        FaultErr::Sigbus => TouchStop::Sigbus { vpn },
        FaultErr::Oom => TouchStop::OutOfMemory { vpn },
        FaultErr::Killed => TouchStop::Killed { vpn },
        FaultErr::Panic => TouchStop::Panic { vpn },
        FaultErr::OomWait => TouchStop::Blocked { vpn },
        FaultErr::Unsupported(s) => TouchStop::Unsupported(s),
        FaultErr::Retry => unreachable!("a retried fault is taken again"),
    }
}

mod batch;
mod engine;
#[cfg(test)]
mod tests;
