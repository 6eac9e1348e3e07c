//! mm/memory.c on the engine: the access loops (`touch`, `touch_pattern`) and the fault handlers they call
//! (`handle_mm_fault` → `do_anonymous_page`, `do_wp_page`, `do_swap_page`, `do_read_fault`, `do_cow_fault`,
//! `do_shared_fault`), with the PTE, rmap and swap-cache helpers the rest of the engine shares.

use super::*;
use crate::filemap::FileKind;
use crate::kernel::Kernel;

/// Accesses of a `touch_pattern` block whose page-table reads are issued together (`touch_pattern_block`): the
/// more reads are in flight at once, the better the cache misses overlap (docs/decisions/0017-perf.md §11).
const GATHER: usize = 256;
/// The block size after a block stopped at a fault, until a block of this size completes: a block that stops at
/// access `j` has drawn `GATHER - j` offsets in vain and draws `j` again, which a small block keeps small where
/// faults are frequent.
const GATHER_SMALL: usize = 16;
const _: () = assert!(GATHER % 8 == 0 && GATHER_SMALL % 8 == 0);

/// The offset of access `i` of a pattern within its `npages` pages, `nblocks` the Zipf blocks covering them
/// (docs/workload-patterns.md): Uniform and Zipf draw from `rng`.
#[inline(always)]
fn pattern_offset(rng: &mut crate::rand::Rng, pattern: Pattern, i: u64, npages: u64, nblocks: u64) -> u64 {
    match pattern {
        Pattern::Strided { stride } => ((i as u128 * stride as u128) % npages as u128) as u64,
        Pattern::Uniform => rng.below(npages as u32) as u64,
        Pattern::Zipf => zipf_offset(rng, npages, nblocks),
    }
}

/// A Zipf offset: a block `b` of `0..nblocks` drawn uniformly, then a page uniformly within pages
/// `2^b - 1 .. min(2^(b+1) - 1, npages)`.
#[inline(always)]
fn zipf_offset(rng: &mut crate::rand::Rng, npages: u64, nblocks: u64) -> u64 {
    let b = rng.below(nblocks as u32) as u64;
    let lo = (1u64 << b) - 1;
    let hi = ((1u64 << (b + 1)) - 1).min(npages);
    lo + rng.below((hi - lo) as u32) as u64
}

impl Kernel {
    /// Access `count` pages from virtual page `vpn` in order, taking the faults they need. An access the kernel
    /// answers with SIGSEGV or SIGBUS kills the task (see [`Kernel::force_sig_fault`]).
    pub fn touch(&mut self, pid: u32, vpn: u64, count: u64, access: Access) -> Result<TouchOutcome, ApiError> {
        if self.touch_present(pid, vpn, count, access == Access::Write) {
            return Ok(TouchOutcome { done: count, stop: None });
        }
        self.check_not_blocked(pid)?;
        let r = self.touch_range(pid, vpn, count, access);
        self.end_entry();
        let o = r?;
        self.force_sig_fault(pid, &o)?;
        Ok(o)
    }

    /// `touch` of pages that are all mapped and allow the access, within one PTE table of one VMA, by a live,
    /// running task, when the entry's end has nothing to do ([`Kernel::end_entry_idle`], no OOM victim pending
    /// exit): the access sets the accessed (and, for a write, dirty) bits as the hardware does and nothing else
    /// happens, so this is the whole entry, with the state the full path leaves (the entry's task current,
    /// `last_fault`/`last_cow` cleared). Most references of a trace are such hits (bench/pagetrace.ts: 17 in 18);
    /// the full path pays three task-table lookups, the entry and exit work and the fault loop's set-up for them.
    /// Returns false, having changed nothing, when any condition fails: the full path then runs.
    #[inline]
    fn touch_present(&mut self, pid: u32, vpn: u64, count: u64, write: bool) -> bool {
        #[cfg(test)]
        if super::batch::tests::NO_PRESENT_FAST.with(|c| c.get()) {
            return false;
        }
        let Some(end) = vpn.checked_add(count) else { return false };
        if count == 0 || end > TASK_SIZE_PAGES_PLUS || vpn >> PTE_SHIFT != (end - 1) >> PTE_SHIFT {
            return false;
        }
        if self.oom.panicked.is_some() || !self.oom.current_killed.is_empty() {
            return false;
        }
        let Some(t) = self.task(pid) else { return false };
        if t.state == crate::task::TaskState::Blocked || !self.end_entry_idle(t) {
            return false;
        }
        let (mm_id, memcg) = (t.mm, t.memcg);
        let Some(mm) = self.mms[mm_id as usize].as_mut() else { return false };
        let Some(vi) = mm.find_vma(vpn) else { return false };
        let vma = &mut mm.vmas[vi];
        if vma.end < end || !vma_allows(vma.flags, write) {
            return false;
        }
        let c = ((vpn >> PTE_SHIFT) - vma.first_chunk()) as usize;
        let Some(t) = vma.ptes[c].as_mut() else { return false };
        let (lo, hi) = ((vpn & 511) as usize, ((end - 1) & 511) as usize + 1);
        let t = &mut t[lo..hi];
        if !t.iter().all(|&p| pte_allows(p, write)) {
            return false;
        }
        let bits = if write { PTE_YOUNG | PTE_DIRTY } else { PTE_YOUNG };
        for p in t.iter_mut() {
            if pte_present(*p) {
                *p |= bits;
            }
        }
        self.current.enter(pid, memcg);
        self.current.in_user_fault = false;
        self.last_fault = FaultKind::None;
        self.last_cow = CowKind::None;
        #[cfg(test)]
        super::batch::tests::PRESENT_FAST.with(|c| c.set(c.get() + 1));
        true
    }

    /// kernel/signal.c:`force_sig_fault` from the fault path (arch do_user_addr_fault → `bad_area` for an access
    /// outside any VMA or against its protection: SIGSEGV; mm/memory.c VM_FAULT_SIGBUS past the end of a file or
    /// when shmem cannot account a page: SIGBUS). The task has no handler (the model has none), so the signal's
    /// default action runs when the fault returns to user mode: both signals terminate the process
    /// (kernel/signal.c:`get_signal` → `do_group_exit`, with a core dump). The task exits here, its memory freed
    /// exactly as exit(2) frees it; the rest of the access sequence is abandoned.
    /// docs/decisions/0004-differential-testing.md records this decision.
    pub fn force_sig_fault(&mut self, pid: u32, o: &TouchOutcome) -> Result<(), ApiError> {
        let (sig, vpn) = match o.stop {
            Some(TouchStop::Segv { vpn }) => (11, vpn),
            Some(TouchStop::Sigbus { vpn }) => (7, vpn),
            _ => return Ok(()),
        };
        self.signal_event(pid, sig, vpn);
        self.exit(pid)
    }

    /// One `touch` kernel entry (also used to resume a woken task's pending range): faults are user faults; a
    /// v1 memcg OOM wait blocks the task with the rest of the range pending.
    pub(crate) fn touch_range(&mut self, pid: u32, vpn: u64, count: u64, access: Access) -> Result<TouchOutcome, ApiError> {
        self.current.in_user_fault = true;
        let r = self.touch_inner(pid, vpn, count, access);
        self.current.in_user_fault = false;
        if let Ok(TouchOutcome { stop: Some(TouchStop::Blocked { vpn: at }), .. }) = &r {
            let end = vpn + count;
            self.memcg_block_task(pid, crate::task::PendingAccess::Range { vpn: *at, end, write: access == Access::Write });
        }
        self.oom_exit_killed_current();
        r
    }

    fn touch_inner(&mut self, pid: u32, vpn: u64, count: u64, access: Access) -> Result<TouchOutcome, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let mm_id = self.tasks[ti].mm;
        self.current.enter(pid, self.tasks[ti].memcg);
        let write = access == Access::Write;
        let end = vpn.checked_add(count).filter(|e| *e <= TASK_SIZE_PAGES_PLUS).ok_or_else(|| {
            ApiError::new("E_ARG", format!("touch: pages {vpn}+{count} run past the address-space limit {TASK_SIZE_PAGES_PLUS}"))
        })?;
        self.last_fault = FaultKind::None;
        self.last_cow = CowKind::None;
        let mut v = vpn;
        while v < end {
            let Some(vi) = self.mm(mm_id).find_vma(v) else {
                return Ok(TouchOutcome { done: v - vpn, stop: Some(TouchStop::Segv { vpn: v }) });
            };
            let (vflags, vend) = {
                let vma = &self.mm(mm_id).vmas[vi];
                (vma.flags, vma.end.min(end))
            };
            if !vma_allows(vflags, write) {
                return Ok(TouchOutcome { done: v - vpn, stop: Some(TouchStop::Segv { vpn: v }) });
            }
            while v < vend {
                let chunk_end = vend.min(((v >> PTE_SHIFT) + 1) << PTE_SHIFT);
                let stop_at = {
                    let vma = &self.mms[mm_id as usize].as_ref().unwrap().vmas[vi];
                    let c = ((v >> PTE_SHIFT) - vma.first_chunk()) as usize;
                    match &vma.ptes[c] {
                        None => v,
                        Some(t) => {
                            let base = v & !511;
                            let mut i = (v - base) as usize;
                            let hi = (chunk_end - base) as usize;
                            let t = &t[..hi];
                            let i0 = i;
                            if write {
                                while i < hi && t[i] & PTE_W != 0 {
                                    i += 1;
                                }
                            } else {
                                while i < hi && pte_allows(t[i], false) {
                                    i += 1;
                                }
                            }
                            if i > i0 {
                                // the hardware sets the accessed bit of each PTE used, and the dirty bit on a write
                                let bits = if write { PTE_YOUNG | PTE_DIRTY } else { PTE_YOUNG };
                                if let Some(t) = self.mms[mm_id as usize].as_mut().unwrap().vmas[vi].ptes[c].as_mut() {
                                    for p in &mut t[i0..i] {
                                        if pte_present(*p) {
                                            *p |= bits;
                                        }
                                    }
                                }
                            }
                            base + i as u64
                        }
                    }
                };
                v = stop_at;
                if v >= chunk_end {
                    continue;
                }
                if write {
                    // a run of untouched anon pages: faulted in one step where the single-page path would take
                    // its fast path for each (memory/batch.rs)
                    let mut n = self.do_anonymous_run(pid, mm_id, vi, v, chunk_end);
                    if n == 0 {
                        // a run of COW pages: copied in one step the same way
                        n = self.do_wp_run(pid, mm_id, vi, v, chunk_end);
                    }
                    if n > 0 {
                        v += n;
                        continue;
                    }
                }
                let mut vmf = VmFault::new(pid, mm_id, vi, v, write);
                let r = self.handle_mm_fault(&mut vmf);
                self.note_fault(&vmf);
                match r {
                    Ok(()) => v += 1,
                    // the same page is accessed again (unless the task was killed meanwhile: below)
                    Err(FaultErr::Retry) => {}
                    Err(e) => return Ok(TouchOutcome { done: v - vpn, stop: Some(self.fault_failed(pid, e, v)) }),
                }
                if self.oom.current_killed.contains(&pid) {
                    // the OOM killer chose this task during the fault, which it completed from the reserve
                    // (ALLOC_OOM): the SIGKILL is delivered when the fault returns, before the next access
                    return Ok(TouchOutcome { done: v - vpn, stop: Some(TouchStop::Killed { vpn: v }) });
                }
            }
        }
        Ok(TouchOutcome { done: end - vpn, stop: None })
    }

    /// Access `count` pages chosen by `pattern` among the `npages` pages from `vpn`, drawing from the kernel's
    /// seeded PRNG: millions of accesses in one call.
    pub fn touch_pattern(&mut self, pid: u32, vpn: u64, npages: u64, pattern: Pattern, count: u64, access: Access) -> Result<TouchOutcome, ApiError> {
        self.check_not_blocked(pid)?;
        let r = self.touch_pattern_entry(pid, vpn, npages, pattern, count, access, None);
        self.end_entry();
        let o = r?;
        self.force_sig_fault(pid, &o)?;
        Ok(o)
    }

    /// One `touch_pattern` entry; `first`: a page already drawn that is accessed before the `count` draws (a
    /// resumed task's blocked page).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn touch_pattern_entry(&mut self, pid: u32, vpn: u64, npages: u64, pattern: Pattern, count: u64, access: Access, first: Option<u64>) -> Result<TouchOutcome, ApiError> {
        self.current.in_user_fault = true;
        let mut r = match first {
            Some(p) => self.touch_inner(pid, p, 1, access).map(|o| TouchOutcome { done: 0, stop: o.stop }),
            None => Ok(TouchOutcome { done: 0, stop: None }),
        };
        // draws still to do after a blocked page: all of them when the pending first page blocked again
        let mut left_after = count;
        if matches!(r, Ok(TouchOutcome { stop: None, .. })) {
            r = self.touch_pattern_inner(pid, vpn, npages, pattern, count, access);
            if let Ok(o) = &r {
                left_after = count.saturating_sub(o.done + 1);
            }
        }
        self.current.in_user_fault = false;
        if let Ok(TouchOutcome { stop: Some(TouchStop::Blocked { vpn: at }), .. }) = &r {
            self.memcg_block_task(pid, crate::task::PendingAccess::Pattern { vpn: *at, base: vpn, npages, pattern, left: left_after, write: access == Access::Write });
        }
        self.oom_exit_killed_current();
        r
    }

    fn touch_pattern_inner(&mut self, pid: u32, vpn: u64, npages: u64, pattern: Pattern, count: u64, access: Access) -> Result<TouchOutcome, ApiError> {
        self.check_running()?;
        let ti = self.task_index(pid)?;
        let mm_id = self.tasks[ti].mm;
        self.current.enter(pid, self.tasks[ti].memcg);
        if npages == 0 || npages > u32::MAX as u64 {
            return Err(ApiError::new("E_ARG", format!("touch_pattern.npages: {npages} is not allowed; expected 1..=4294967295")));
        }
        if vpn.checked_add(npages).is_none_or(|e| e > TASK_SIZE_PAGES_PLUS) {
            return Err(ApiError::new("E_ARG", "touch_pattern: the range runs past the address-space limit"));
        }
        let write = access == Access::Write;
        self.last_fault = FaultKind::None;
        self.last_cow = CowKind::None;
        let mut cached: Option<(usize, u64, u64)> = None; // (vma index, start, end)
        let nblocks = 64 - npages.leading_zeros() as u64; // blocks covering 0..npages
        // the last block completed: the next may be large
        let mut big = true;
        let mut i = 0;
        while i < count {
            if let Some((vi, s, e)) = cached {
                #[cfg(test)]
                let gather = !super::batch::tests::SINGLE_PAGE.with(|c| c.get());
                #[cfg(not(test))]
                let gather = true;
                let n = if big && count - i >= GATHER as u64 { GATHER } else { GATHER_SMALL };
                if gather && s <= vpn && vpn + npages <= e && count - i >= n as u64 {
                    // the whole range in one allowed VMA: a block of accesses that need no fault
                    let done = if n == GATHER {
                        self.touch_pattern_block::<GATHER>(mm_id, vi, vpn, npages, nblocks, pattern, i, write)
                    } else {
                        self.touch_pattern_block::<GATHER_SMALL>(mm_id, vi, vpn, npages, nblocks, pattern, i, write)
                    };
                    i += done;
                    #[cfg(test)]
                    super::batch::tests::GATHERED.with(|c| c.set(c.get() + done));
                    big = done == n as u64;
                    if big {
                        continue;
                    }
                }
            }
            let v = vpn + self.pattern_offset(pattern, i, npages, nblocks);
            let vi = match cached {
                Some((vi, s, e)) if s <= v && v < e => vi,
                _ => {
                    let mm = self.mm(mm_id);
                    let Some(vi) = mm.find_vma(v) else {
                        return Ok(TouchOutcome { done: i, stop: Some(TouchStop::Segv { vpn: v }) });
                    };
                    let vma = &mm.vmas[vi];
                    if !vma_allows(vma.flags, write) {
                        return Ok(TouchOutcome { done: i, stop: Some(TouchStop::Segv { vpn: v }) });
                    }
                    cached = Some((vi, vma.start, vma.end));
                    vi
                }
            };
            let pte = self.mms[mm_id as usize].as_ref().unwrap().vmas[vi].pte(v);
            if pte_allows(pte, write) {
                let bits = if write { PTE_YOUNG | PTE_DIRTY } else { PTE_YOUNG };
                if pte_present(pte) && pte & bits != bits {
                    self.store_pte(mm_id, vi, v, pte | bits);
                }
                i += 1;
                continue;
            }
            loop {
                let mut vmf = VmFault::new(pid, mm_id, vi, v, write);
                let r = self.handle_mm_fault(&mut vmf);
                self.note_fault(&vmf);
                match r {
                    Ok(()) => break,
                    Err(FaultErr::Retry) => {
                        if self.oom.current_killed.contains(&pid) {
                            // chosen by the OOM killer during the fault that had to be retried: it dies first
                            return Ok(TouchOutcome { done: i, stop: Some(TouchStop::Killed { vpn: v }) });
                        }
                    }
                    Err(e) => return Ok(TouchOutcome { done: i, stop: Some(self.fault_failed(pid, e, v)) }),
                }
            }
            if self.oom.current_killed.contains(&pid) {
                // completed from the reserve by a task the OOM killer just chose: it dies when the fault returns
                return Ok(TouchOutcome { done: i + 1, stop: Some(TouchStop::Killed { vpn: v + 1 }) });
            }
            i += 1;
        }
        Ok(TouchOutcome { done: count, stop: None })
    }

    /// The offset of access `i` of a pattern within its `npages` pages (Uniform and Zipf draw from the PRNG).
    #[inline(always)]
    fn pattern_offset(&mut self, pattern: Pattern, i: u64, npages: u64, nblocks: u64) -> u64 {
        pattern_offset(&mut self.rng, pattern, i, npages, nblocks)
    }

    /// Up to `N` ([`GATHER`] or [`GATHER_SMALL`]) accesses `i..` of a pattern on pages `vpn..vpn + npages`, all inside allowed VMA `vi`,
    /// as long as none needs a fault: the offsets are drawn first and the PTEs read in a separate loop, so the
    /// cache misses on the page table overlap (the access loop otherwise waits for one miss per access). Returns
    /// the accesses done; at the first that needs a fault the PRNG is set back to just before that access's draw,
    /// so the caller continues with the same sequence as one access at a time. A PTE read ahead may be stale
    /// only by the young and dirty bits this block sets itself (a page drawn twice): setting them again is the
    /// same store. One copy of the block per pattern ([`Kernel::touch_block_with`]), so the draw loop has no
    /// branch on the pattern.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn touch_pattern_block<const N: usize>(&mut self, mm_id: u32, vi: usize, vpn: u64, npages: u64, nblocks: u64, pattern: Pattern, i: u64, write: bool) -> u64 {
        match pattern {
            Pattern::Uniform => self.touch_block_with::<N>(mm_id, vi, vpn, write, |rng, _| rng.below(npages as u32)),
            Pattern::Zipf => self.touch_block_with::<N>(mm_id, vi, vpn, write, |rng, _| zipf_offset(rng, npages, nblocks) as u32),
            Pattern::Strided { .. } => self.touch_block_with::<N>(mm_id, vi, vpn, write, |rng, j| pattern_offset(rng, pattern, i + j, npages, nblocks) as u32),
        }
    }

    /// [`Kernel::touch_pattern_block`] with `draw(rng, j)` the offset of its access `j`. The PRNG state is a local
    /// copy while the block runs (kept in registers, also in wasm) and written back once.
    #[inline(always)]
    fn touch_block_with<const N: usize>(&mut self, mm_id: u32, vi: usize, vpn: u64, write: bool, mut draw: impl FnMut(&mut crate::rand::Rng, u64) -> u32) -> u64 {
        let saved = self.rng.clone();
        let mut rng = saved.clone();
        let mut offs = [0u32; N];
        for (c, o8) in offs.chunks_exact_mut(8).enumerate() {
            for (k, o) in o8.iter_mut().enumerate() {
                *o = draw(&mut rng, (8 * c + k) as u64);
            }
        }
        let vma = &mut self.mms[mm_id as usize].as_mut().unwrap().vmas[vi];
        let first = vma.first_chunk();
        // eight reads per loop step: the wasm compiler does not unroll, and fewer instructions between the
        // reads keep more of them in the out-of-order window at once
        let mut ptes = [0u32; N];
        for (p8, o8) in ptes.chunks_exact_mut(8).zip(offs.chunks_exact(8)) {
            for (p, &o) in p8.iter_mut().zip(o8) {
                let v = vpn + o as u64;
                *p = match &vma.ptes[((v >> PTE_SHIFT) - first) as usize] {
                    Some(t) => t[(v & 511) as usize],
                    None => PTE_NONE,
                };
            }
        }
        let bits = if write { PTE_YOUNG | PTE_DIRTY } else { PTE_YOUNG };
        // the usual block: every access finds its PTE allowing it and already young (and dirty): nothing to do
        let mut idle = true;
        for p8 in ptes.chunks_exact(8) {
            for &pte in p8 {
                idle &= pte_allows(pte, write) & (!pte_present(pte) | (pte & bits == bits));
            }
        }
        if idle {
            self.rng = rng;
            return N as u64;
        }
        for j in 0..N {
            let pte = ptes[j];
            if !pte_allows(pte, write) {
                // a fault: back to the state before draw j
                let mut rng = saved;
                for k in 0..j {
                    draw(&mut rng, k as u64);
                }
                self.rng = rng;
                return j as u64;
            }
            if pte_present(pte) && pte & bits != bits {
                let v = vpn + offs[j] as u64;
                if let Some(t) = vma.ptes[((v >> PTE_SHIFT) - first) as usize].as_mut() {
                    t[(v & 511) as usize] = pte | bits;
                }
            }
        }
        self.rng = rng;
        N as u64
    }

    /// A fault that `handle_mm_fault` could not complete. mm/memory.c:`mm_account_fault` counts `pgfault` for
    /// failed faults too (VM_FAULT_SIGBUS, VM_FAULT_OOM — also the allocation of a task the OOM killer chose, which
    /// fails when even the ALLOC_OOM reserve is short, and the charge of a v1 oom_kill_disable memcg, after which
    /// the task waits and takes the fault again), in the vmstat and in the mm's memcg (`count_memcg_event_mm`), but
    /// not min_flt/maj_flt; an access the arch fault handler refuses before `handle_mm_fault` (no VMA, protection:
    /// SIGSEGV) counts nothing.
    fn fault_failed(&mut self, pid: u32, e: FaultErr, vpn: u64) -> TouchStop {
        if matches!(e, FaultErr::Sigbus | FaultErr::Oom | FaultErr::Killed | FaultErr::OomWait) {
            self.vmstat.inc(Vmstat::pgfault);
            let memcg = self.memcg_of_pid(Some(pid));
            self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Pgfault, 1);
        }
        fault_stop(e, vpn)
    }

    /// Store a PTE, allocating its chunk (and the page-table pages above it) on first use. A present PTE is
    /// stored young: every present PTE stored here serves the access being made (a fault, a write upgrade).
    pub(crate) fn set_pte(&mut self, mm_id: u32, vi: usize, vpn: u64, val: u32) {
        let val = if pte_present(val) { val | PTE_YOUNG } else { val };
        let mm = self.mms[mm_id as usize].as_mut().unwrap();
        let vma = &mut mm.vmas[vi];
        let chunk = vpn >> PTE_SHIFT;
        let c = (chunk - vma.first_chunk()) as usize;
        let slot = &mut vma.ptes[c];
        match slot {
            Some(t) => t[(vpn & 511) as usize] = val,
            None => {
                // First PTE of this VMA in the chunk: the page-table page may be new (another VMA overlapping
                // the chunk may already have it). A VMA holding a chunk always overlaps it, so the table cannot
                // have been freed while the chunk exists: the set is consulted only here, not per fault.
                let mut t = Box::new([PTE_NONE; 512]);
                t[(vpn & 511) as usize] = val;
                *slot = Some(t);
                mm.pte_alloc(chunk);
                self.oom_scan_mm(mm_id);
            }
        }
    }

    /// PGMAJFAULT in the vmstat and in the faulting task's memcg (`count_memcg_event_mm`), where the kernel counts
    /// it: do_swap_page once the page is read, filemap_fault and shmem_swapin_folio before the page is allocated —
    /// so also for a fault that fails afterwards (min_flt/maj_flt count completed faults only: `account_fault`).
    pub(crate) fn count_majfault(&mut self, pid: Option<u32>) {
        self.vmstat.inc(Vmstat::pgmajfault);
        let memcg = self.memcg_of_pid(pid);
        self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Pgmajfault, 1);
    }

    /// What one fault did, as the entry's last fault and last COW (a fault that did neither leaves them).
    #[inline]
    fn note_fault(&mut self, vmf: &VmFault) {
        if vmf.fault != FaultKind::None {
            self.last_fault = vmf.fault;
        }
        if vmf.cow != CowKind::None {
            self.last_cow = vmf.cow;
        }
    }

    fn account_fault(&mut self, vmf: &mut VmFault, major: bool) {
        // mm/memory.c:mm_account_fault (and count_memcg_event_mm on the task's memcg)
        let pid = vmf.pid;
        self.vmstat.inc(Vmstat::pgfault);
        let memcg = self.memcg_of_pid(Some(pid));
        self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Pgfault, 1);
        if major {
            if let Some(t) = self.task_mut(pid) {
                t.maj_flt += 1;
            }
            self.stats.faults_major += 1;
            vmf.fault = FaultKind::Major;
        } else {
            let ns = self.reclaim.cost.minor_fault_ns;
            self.spend(ns);
            if let Some(t) = self.task_mut(pid) {
                t.min_flt += 1;
            }
            self.stats.faults_minor += 1;
            vmf.fault = FaultKind::Minor;
        }
    }

    #[inline]
    pub(crate) fn rss_add(&mut self, mm_id: u32, c: MmCounter, d: i64) {
        self.mms[mm_id as usize].as_mut().unwrap().rss[c as usize] += d;
        self.oom_scan_rss_add(mm_id, c, d);
    }

    /// `__anon_vma_prepare`: give the VMA an anon_vma (root id) if it has none.
    pub(crate) fn anon_vma_prepare(&mut self, mm_id: u32, vi: usize) -> u32 {
        let id = self.next_anon_vma;
        let vma = &mut self.mm_mut(mm_id).vmas[vi];
        if vma.anon_vma == 0 {
            vma.anon_vma = id;
            self.next_anon_vma += 1;
        }
        self.mm(mm_id).vmas[vi].anon_vma
    }

    /// A new anon page for the page at `vpn` of VMA `vi`: allocated, on the inactive anon LRU, with its reverse map.
    fn new_anon_page(&mut self, pid: u32, mm_id: u32, vi: usize, vpn: u64) -> Result<u32, FaultErr> {
        let root = self.anon_vma_prepare(mm_id, vi);
        let f = self.alloc_user_page(Some(pid), KIND_ANON)?;
        let vma = &self.mm(mm_id).vmas[vi];
        let index = vma.pgoff + (vpn - vma.start);
        self.frames.owner[f as usize] = root;
        self.frames.index[f as usize] = index as u32;
        self.lru_add(f, false);
        Ok(f)
    }

    /// Resolve one fault (`handle_mm_fault`).
    pub(crate) fn handle_mm_fault(&mut self, vmf: &mut VmFault) -> Result<(), FaultErr> {
        self.handle_mm_fault_inner(vmf)?;
        let VmFault { mm_id, vi, vpn, write, .. } = *vmf;
        if write {
            // the write the fault completes dirties the PTE it installed or made writable
            let pte = self.mm(mm_id).vmas[vi].pte(vpn);
            if pte_present(pte) {
                self.store_pte(mm_id, vi, vpn, pte | PTE_DIRTY);
            }
        }
        Ok(())
    }

    /// Overwrite an existing PTE as is (no bit added, unlike [`Kernel::set_pte`]).
    pub(crate) fn store_pte(&mut self, mm_id: u32, vi: usize, vpn: u64, val: u32) {
        let v = &mut self.mms[mm_id as usize].as_mut().unwrap().vmas[vi];
        let c = ((vpn >> PTE_SHIFT) - v.first_chunk()) as usize;
        if let Some(t) = v.ptes[c].as_mut() {
            t[(vpn & 511) as usize] = val;
        }
    }

    fn handle_mm_fault_inner(&mut self, vmf: &mut VmFault) -> Result<(), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, write, .. } = *vmf;
        let (flags, backing, pte) = {
            let vma = &self.mm(mm_id).vmas[vi];
            (vma.flags, vma.backing, vma.pte(vpn))
        };
        if !vma_allows(flags, write) {
            return Err(FaultErr::Segv);
        }
        if pte & PTE_SWAP != 0 {
            return self.do_swap_page(vmf, pte & !PTE_SWAP);
        }
        match pte {
            PTE_NONE => match backing {
                Backing::Anon => self.do_anonymous_page(vmf),
                Backing::File(fid) => {
                    if self.files[fid as usize].kind == FileKind::Hugetlbfs {
                        return Err(FaultErr::Unsupported("faults on hugetlbfs mappings are not modelled".into()));
                    }
                    if !write {
                        self.do_read_fault(vmf, fid)
                    } else if flags & VM_SHARED != 0 {
                        self.do_shared_fault(vmf, fid)
                    } else {
                        self.do_cow_fault(vmf, fid)
                    }
                }
            },
            PTE_ZERO => {
                debug_assert!(write);
                // do_wp_page on the zero page: wp_page_copy into a new zeroed page.
                let f = self.new_anon_page(pid, mm_id, vi, vpn)?;
                self.rmap_add(f);
                self.rss_add(mm_id, MmCounter::MM_ANONPAGES, 1);
                self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
                vmf.cow = CowKind::Copy;
                self.account_fault(vmf, false);
                Ok(())
            }
            _ => {
                debug_assert!(write && pte & PTE_W == 0);
                self.do_wp_page(vmf, pte_frame(pte), flags, false)
            }
        }
    }

    fn do_anonymous_page(&mut self, vmf: &mut VmFault) -> Result<(), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, write, .. } = *vmf;
        if !write {
            self.set_pte(mm_id, vi, vpn, PTE_ZERO);
        } else {
            let f = self.new_anon_page(pid, mm_id, vi, vpn)?;
            self.rmap_add(f);
            self.rss_add(mm_id, MmCounter::MM_ANONPAGES, 1);
            self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
        }
        self.account_fault(vmf, false);
        Ok(())
    }

    /// `major`: the fault already read the page from swap (do_swap_page hands a write over to do_wp_page).
    fn do_wp_page(&mut self, vmf: &mut VmFault, f: u32, flags: VmFlags, major: bool) -> Result<(), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, .. } = *vmf;
        let kind = self.frames.kind(f);
        if flags & VM_SHARED != 0 {
            // wp_page_shared: the shared page itself becomes writable (and dirty)
            self.mark_dirty(f);
            self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
            vmf.cow = CowKind::Reuse;
            self.account_fault(vmf, major);
            return Ok(());
        }
        if kind == KIND_ANON && self.frames.mapcount(f) == 1 && self.anon_swap_refs(f) == 0 {
            // wp_can_reuse_anon_folio: exclusive again; drop a now-useless swap-cache copy first
            self.free_swap_cache_of(f);
            self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
            vmf.cow = CowKind::Reuse;
            self.account_fault(vmf, major);
            return Ok(());
        }
        // wp_page_copy: the page copied from is held (do_wp_page's folio_get) while the copy is allocated, so the
        // direct reclaim that allocation may run can unmap it but not free it (shrink_folio_list keeps it). The PTE
        // is then checked again (pte_same): if reclaim changed it, the copy is dropped and the fault returns, to be
        // taken again.
        self.current.wp_pinned = Some(f);
        let new = self.new_anon_page(pid, mm_id, vi, vpn);
        self.current.wp_pinned = None;
        let new = new?;
        let pte = self.mm(mm_id).vmas[vi].pte(vpn);
        if !pte_present(pte) || pte_frame(pte) != f {
            self.free_user_page(new);
            self.account_fault(vmf, major);
            return Err(FaultErr::Retry);
        }
        self.rmap_add(new);
        self.rss_add(mm_id, MmCounter::MM_ANONPAGES, 1);
        self.rss_add(mm_id, kind_counter(kind), -1);
        self.set_pte(mm_id, vi, vpn, pte_mk(new, true));
        if self.rmap_remove(f) == 0 && kind == KIND_ANON {
            self.put_anon_frame(f);
        }
        vmf.cow = CowKind::Copy;
        self.account_fault(vmf, major);
        Ok(())
    }

    /// File page index of `vpn` in VMA `vi`, or SIGBUS beyond EOF.
    fn file_index(&self, mm_id: u32, vi: usize, vpn: u64, fid: u32) -> Result<u64, FaultErr> {
        let vma = &self.mm(mm_id).vmas[vi];
        let idx = vma.pgoff + (vpn - vma.start);
        if idx >= self.files[fid as usize].size {
            return Err(FaultErr::Sigbus);
        }
        Ok(idx)
    }

    /// The page-cache half of a read or shared fault (mm/memory.c:`__do_fault`): the file's page at the faulting
    /// index, mapped (rmap, rss by its kind). Returns the frame, its kind and whether it was a major fault.
    fn map_file_page(&mut self, vmf: &VmFault, fid: u32) -> Result<(u32, u32, bool), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, .. } = *vmf;
        let idx = self.file_index(mm_id, vi, vpn, fid)?;
        let (f, major) = self.filemap_get_page(Some(pid), fid, idx)?;
        self.rmap_add(f);
        let kind = self.frames.kind(f);
        self.rss_add(mm_id, kind_counter(kind), 1);
        Ok((f, kind, major))
    }

    fn do_read_fault(&mut self, vmf: &mut VmFault, fid: u32) -> Result<(), FaultErr> {
        let VmFault { mm_id, vi, vpn, .. } = *vmf;
        let (f, kind, major) = self.map_file_page(vmf, fid)?;
        let flags = self.mm(mm_id).vmas[vi].flags;
        // shmem mappings need no write notification: a shared writable shmem PTE is writable at once
        let writable = flags & (VM_SHARED | VM_WRITE) == (VM_SHARED | VM_WRITE) && kind == KIND_SHMEM;
        self.set_pte(mm_id, vi, vpn, pte_mk(f, writable));
        self.account_fault(vmf, major);
        Ok(())
    }

    fn do_shared_fault(&mut self, vmf: &mut VmFault, fid: u32) -> Result<(), FaultErr> {
        let VmFault { mm_id, vi, vpn, .. } = *vmf;
        let (f, _, major) = self.map_file_page(vmf, fid)?;
        self.mark_dirty(f);
        self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
        self.account_fault(vmf, major);
        Ok(())
    }

    fn do_cow_fault(&mut self, vmf: &mut VmFault, fid: u32) -> Result<(), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, .. } = *vmf;
        let idx = self.file_index(mm_id, vi, vpn, fid)?;
        let (_src, major) = self.filemap_get_page(Some(pid), fid, idx)?;
        let f = self.new_anon_page(pid, mm_id, vi, vpn)?;
        self.rmap_add(f);
        self.rss_add(mm_id, MmCounter::MM_ANONPAGES, 1);
        self.set_pte(mm_id, vi, vpn, pte_mk(f, true));
        self.account_fault(vmf, major);
        Ok(())
    }

    fn do_swap_page(&mut self, vmf: &mut VmFault, slot: u32) -> Result<(), FaultErr> {
        let VmFault { pid, mm_id, vi, vpn, write, .. } = *vmf;
        let (f, major) = match self.swap.cache.get(slot) {
            Some(f) => (f, false),
            None => {
                // mem_cgroup_swapin_charge_folio: the memcg recorded for the entry, else the task's
                let rec = self.swap_memcg[slot as usize];
                let memcg = if rec != crate::memcontrol::engine::NO_MEMCG { rec } else { self.memcg_of_pid(Some(pid)) };
                let f = self.alloc_user_page_memcg(Some(pid), KIND_ANON, memcg)?;
                let vma = &self.mm(mm_id).vmas[vi];
                let (root, index) = (vma.anon_vma, vma.pgoff + (vpn - vma.start));
                self.frames.owner[f as usize] = root;
                self.frames.index[f as usize] = index as u32;
                self.lru_add(f, false);
                self.add_to_swap_cache(slot, f);
                self.mem_cgroup_swapin_uncharge_swap(slot);
                self.memcg.mod_stat(memcg, crate::memcontrol::Stat::Pswpin, 1);
                self.vmstat.inc(Vmstat::pswpin);
                // "Had to read the page from swap area: Major fault": counted here, whatever the fault does next
                self.count_majfault(Some(pid));
                self.vmstat.add(Vmstat::pgpgin, 4);
                // the task waits for the read from the swap device: a memory stall (thrashing)
                let ns = self.swap.devices[self.swap.device_of(slot)].io.read_ns();
                self.memstall(Some(pid), ns);
                (f, true)
            }
        };
        // this PTE's reference to the slot goes away (swap_free)
        self.swap.count[slot as usize] -= 1;
        self.rss_add(mm_id, MmCounter::MM_SWAPENTS, -1);
        self.rss_add(mm_id, MmCounter::MM_ANONPAGES, 1);
        self.rmap_add(f);
        let exclusive = self.swap.count[slot as usize] == 0 && self.frames.mapcount(f) == 1;
        // should_try_to_free_swap: swap more than half full, or a write by the exclusive owner
        if (self.swap.vm_swap_full() || (write && exclusive)) && self.swap.count[slot as usize] == 0 {
            self.free_swap_cache_of(f);
        }
        let writable = exclusive && self.mm(mm_id).vmas[vi].flags & VM_WRITE != 0;
        self.set_pte(mm_id, vi, vpn, pte_mk(f, writable));
        if write && !writable {
            // the write is finished by do_wp_page within the same fault
            let flags = self.mm(mm_id).vmas[vi].flags;
            return self.do_wp_page(vmf, f, flags, major);
        }
        self.account_fault(vmf, major);
        Ok(())
    }

    /// Mark a page-cache page dirty (disk files count in NR_FILE_DIRTY; shmem pages do not).
    pub(crate) fn mark_dirty(&mut self, f: u32) {
        let m = self.frames.meta[f as usize];
        if m & F_DIRTY == 0 {
            self.frames.meta[f as usize] |= F_DIRTY;
            if m & KIND_MASK == KIND_FILE {
                self.vmstat.inc(Vmstat::nr_dirty);
                self.memcg.mod_stat(self.frames.memcg[f as usize], crate::memcontrol::Stat::FileDirty, 1);
            }
        }
    }

    /// Swap PTEs that still refer to the swap slot of a swap-cache frame (0 when not in the swap cache).
    pub(crate) fn anon_swap_refs(&self, f: u32) -> u32 {
        if self.frames.has(f, F_SWAPCACHE) {
            self.swap.cache.slot_of(f).map(|s| self.swap.count[s as usize]).unwrap_or(0)
        } else {
            0
        }
    }

    pub(crate) fn add_to_swap_cache(&mut self, slot: u32, f: u32) {
        self.swap.add_to_cache(slot, f);
        self.frames.meta[f as usize] |= F_SWAPCACHE;
        self.vmstat.inc(Vmstat::nr_swapcached);
        self.vmstat.inc(Vmstat::nr_file_pages);
        let m = self.frames.memcg[f as usize];
        self.memcg.mod_stat(m, crate::memcontrol::Stat::Swapcached, 1);
        self.memcg.mod_stat(m, crate::memcontrol::Stat::File, 1);
    }

    /// `__delete_from_swap_cache`: frame `f` leaves the swap cache (slot `slot`); the counterpart of
    /// [`Kernel::add_to_swap_cache`] (NR_SWAPCACHE and the swap cache's share of NR_FILE_PAGES drop).
    pub(crate) fn delete_from_swap_cache(&mut self, slot: u32, f: u32) {
        self.swap.delete_from_cache(slot);
        self.frames.meta[f as usize] &= !F_SWAPCACHE;
        self.vmstat.sub(Vmstat::nr_swapcached, 1);
        self.vmstat.sub(Vmstat::nr_file_pages, 1);
        let m = self.frames.memcg[f as usize];
        self.memcg.mod_stat(m, crate::memcontrol::Stat::Swapcached, -1);
        self.memcg.mod_stat(m, crate::memcontrol::Stat::File, -1);
    }

    /// `folio_free_swap`: take the frame out of the swap cache and release its slot (no swap PTE refers to it).
    pub(crate) fn free_swap_cache_of(&mut self, f: u32) {
        if let Some(slot) = self.swap.cache.slot_of(f) {
            debug_assert_eq!(self.swap.count[slot as usize], 0);
            self.delete_from_swap_cache(slot, f);
            self.swap_slot_release(slot);
        }
    }

    /// An anon frame nothing maps any more: freed, unless it is the swap-cache copy other swap PTEs still need.
    pub(crate) fn put_anon_frame(&mut self, f: u32) {
        if self.frames.has(f, F_SWAPCACHE) {
            if self.anon_swap_refs(f) > 0 {
                return;
            }
            self.free_swap_cache_of(f);
        }
        self.free_user_page(f);
    }

    /// Drop one PTE (`zap_pte_range`), updating the mm's counters, the frame's mapcount and swap references.
    pub(crate) fn zap_pte(&mut self, mm_id: u32, pte: u32) {
        if pte == PTE_NONE || pte == PTE_ZERO {
            return;
        }
        if pte & PTE_SWAP != 0 {
            let slot = pte & !PTE_SWAP;
            self.rss_add(mm_id, MmCounter::MM_SWAPENTS, -1);
            self.swap_free(slot);
            return;
        }
        let f = pte_frame(pte);
        let kind = self.frames.kind(f);
        if kind != KIND_ANON && pte & PTE_YOUNG != 0 {
            // mm/memory.c:zap_present_folio_ptes(): a young PTE of a page-cache (file or shmem) page passes its
            // reference on to the folio
            self.folio_mark_accessed(f);
        }
        self.rss_add(mm_id, kind_counter(kind), -1);
        if self.rmap_remove(f) == 0 && kind == KIND_ANON {
            self.put_anon_frame(f);
        }
    }

    /// `swap_free`: one reference to a slot goes away; with none left the slot (and an unmapped swap-cache page)
    /// is freed (`free_swap_and_cache`).
    pub(crate) fn swap_free(&mut self, slot: u32) {
        self.swap.count[slot as usize] -= 1;
        if self.swap.count[slot as usize] == 0 {
            match self.swap.cache.get(slot) {
                Some(f) => {
                    // mm/swapfile.c:free_swap_and_cache_nr → __try_to_reclaim_swap(TTRS_UNMAPPED | TTRS_FULL): an
                    // unmapped swap-cache folio is freed; a mapped one leaves the swap cache only when swap is full
                    if self.frames.mapcount(f) == 0 {
                        self.free_swap_cache_of(f);
                        self.free_user_page(f);
                    } else if self.swap.vm_swap_full() {
                        self.free_swap_cache_of(f);
                    }
                }
                None => self.swap_slot_release(slot),
            }
        }
    }
}
