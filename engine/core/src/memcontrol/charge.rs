//! The memcg charge path (mm/memcontrol.c: `try_charge_memcg`, `mem_cgroup_oom`, `mem_cgroup_out_of_memory`,
//! `reclaim_high`, `__mem_cgroup_handle_over_high`; mm/memcontrol-v1.c: `memcg1_oom_prepare`).
//!
//! Reclaim and the OOM killer belong to the engine; they are reached through `MemcgEnv`.

use super::{
    calculate_high_delay, clamp_high_delay, MemCgroupTree, MemcgEvent, MemcgId, MAX_RECLAIM_RETRIES,
    MEMCG_CHARGE_BATCH, PAGE_ALLOC_COSTLY_ORDER, ROOT_MEMCG, SWAP_CLUSTER_MAX,
};

/// What the memcg code needs from the rest of the kernel.
pub trait MemcgEnv {
    /// `try_to_free_mem_cgroup_pages(memcg, nr_pages, gfp, may_swap)`: reclaim from the memcg's subtree (the
    /// kernel aims at `max(nr_pages, SWAP_CLUSTER_MAX)` pages). The engine frees pages and uncharges them from
    /// `tree`; it returns the number of pages reclaimed.
    fn reclaim(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, nr_pages: u64, may_swap: bool) -> u64;

    /// `out_of_memory()` with a memcg constraint on `memcg` (selection in its subtree, kill, oom_kill events on
    /// the victim's memcg via `tree.memcg_memory_event`). True when something was chosen (the kernel's `ret`).
    fn out_of_memory(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, order: u32) -> bool;

    /// `signal_pending(current)` of the writer of memory.max / memory.high (never, for the admin process).
    fn signal_pending(&self) -> bool {
        false
    }

    /// `memcg1_oom_recover(memcg)`: wake the tasks waiting in a v1 memcg OOM on `memcg` (or a related memcg,
    /// see `MemCgroupTree::oom_wake_matches`) when `under_oom` is set. Called on v1 limit raises and
    /// oom_kill_disable=0 writes; the engine also calls it itself for folio uncharges.
    fn memcg1_oom_recover(&mut self, _tree: &mut MemCgroupTree, _memcg: MemcgId) {}

    /// `task_is_dying()` of the charging task now (it may have been OOM-killed during this charge). The charge
    /// path re-reads it on every pass, as the kernel does.
    fn current_dying(&self) -> bool {
        false
    }

    /// Observation hook: `mem_cgroup_oom()` has been entered for `memcg` and raised its `oom` event (or returned
    /// early for a costly order). Called before the OOM killer runs.
    fn on_mem_cgroup_oom(&mut self, _tree: &MemCgroupTree, _memcg: MemcgId) {}
}

/// The gfp bits the charge path looks at.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ChargeGfp {
    /// __GFP_DIRECT_RECLAIM (`gfpflags_allow_blocking`).
    pub direct_reclaim: bool,
    pub noretry: bool,
    pub retry_mayfail: bool,
    pub nofail: bool,
    pub high: bool,
}

impl ChargeGfp {
    /// GFP_KERNEL (and GFP_HIGHUSER_MOVABLE, as far as the charge path is concerned).
    pub const KERNEL: ChargeGfp =
        ChargeGfp { direct_reclaim: true, noretry: false, retry_mayfail: false, nofail: false, high: false };

    /// OR of gfp tokens (vectors-format.md §4.1). None for an unknown token.
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Option<ChargeGfp> {
        let mut g = ChargeGfp::default();
        for t in tokens {
            match t {
                "GFP_KERNEL" | "GFP_HIGHUSER_MOVABLE" | "GFP_NOFS" | "GFP_NOIO" => g.direct_reclaim = true,
                "GFP_NOWAIT" => {}
                "GFP_ATOMIC" => g.high = true,
                "__GFP_NORETRY" => g.noretry = true,
                "__GFP_RETRY_MAYFAIL" => g.retry_mayfail = true,
                "__GFP_NOFAIL" => g.nofail = true,
                "__GFP_THISNODE" | "__GFP_NOWARN" | "__GFP_DMA32" => {}
                _ => return None,
            }
        }
        Some(g)
    }
}

/// The charging task's memcg state (`current->...`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChargeTask {
    /// `current->in_user_fault`: the charge comes from a user page fault (v1 oom_kill_disable then waits).
    pub in_user_fault: bool,
    /// PF_MEMALLOC: the charge is forced at once.
    pub pf_memalloc: bool,
    /// `task_is_dying()`: an OOM victim, a fatal signal pending, or PF_EXITING.
    pub dying: bool,
    /// `current->memcg_in_oom` (v1): the memcg whose OOM this task waits on at the end of its fault.
    pub memcg_in_oom: Option<MemcgId>,
    /// `current->memcg_nr_pages_over_high`.
    pub nr_pages_over_high: u64,
    /// Penalty the memory.high throttling made this task sleep, jiffies (accumulated; informational).
    pub high_delay_jiffies: u64,
}

/// Outcome of `try_charge_memcg`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChargeResult {
    /// Charged within the limits.
    Charged,
    /// Charged over the limit (`force`: PF_MEMALLOC, or nomem with __GFP_NOFAIL/__GFP_HIGH).
    Forced,
    /// -ENOMEM.
    NoMem,
    /// -ENOMEM from a user fault with v1 oom_kill_disable on `memcg`: the task must sleep at the end of its
    /// fault (`mem_cgroup_oom_synchronize`). `under_oom` has been raised on the subtree; call
    /// `MemCgroupTree::oom_wait_end` when the task wakes.
    OomWait(MemcgId),
}

impl ChargeResult {
    pub fn is_ok(self) -> bool {
        matches!(self, ChargeResult::Charged | ChargeResult::Forced)
    }
}

/// `get_order(nr_pages * PAGE_SIZE)`: the smallest order whose block holds nr_pages.
pub fn get_order(nr_pages: u64) -> u32 {
    if nr_pages <= 1 {
        0
    } else {
        64 - (nr_pages - 1).leading_zeros()
    }
}

impl MemCgroupTree {
    /// `try_charge_memcg(memcg, gfp, nr_pages)` (via `try_charge`: the root memcg is never charged).
    ///
    /// Per pass: the stock (when modelled); v1 memsw then memory try_charge of `batch` (64 or nr_pages; the
    /// stock is off: nr_pages); a failed larger batch retries at once with nr_pages, without reclaim or event.
    /// Then: PF_MEMALLOC forces; a task already in a memcg OOM and non-blocking gfp fail; the `max` event is
    /// raised on `mem_over_limit` on every pass that gets here; reclaim (no swap when memsw failed); a margin
    /// of nr_pages retries; the first fruitless pass drains the stock and retries; __GFP_NORETRY fails; some
    /// progress on a charge of at most 8 pages retries; then 16 more retries; __GFP_RETRY_MAYFAIL fails; a dying
    /// task that already passed an OOM fails; then `mem_cgroup_oom`, whose success resets the retries.
    /// nomem is final unless __GFP_NOFAIL/__GFP_HIGH force the charge (raising `max` if not yet raised).
    pub fn try_charge_memcg(
        &mut self,
        env: &mut dyn MemcgEnv,
        task: &mut ChargeTask,
        memcg: MemcgId,
        gfp: ChargeGfp,
        nr_pages: u64,
    ) -> ChargeResult {
        if memcg == ROOT_MEMCG {
            return ChargeResult::Charged;
        }
        let mut batch = if self.use_stock { MEMCG_CHARGE_BATCH.max(nr_pages) } else { nr_pages };
        let mut nr_retries = MAX_RECLAIM_RETRIES;
        let mut drained = false;
        let mut raised_max_event = false;
        let mut passed_oom = false;
        let mut mem_over_limit = memcg;

        let outcome = 'charge: loop {
            if !task.dying && env.current_dying() {
                task.dying = true;
            }
            if self.use_stock && self.consume_stock(memcg, nr_pages) {
                return ChargeResult::Charged;
            }
            let mut may_swap = true;
            match self.counter_try_charge(memcg, batch) {
                Ok(()) => break 'charge Ok(()),
                Err((over, memsw_failed)) => {
                    mem_over_limit = over;
                    if memsw_failed {
                        may_swap = false;
                    }
                }
            }
            if batch > nr_pages {
                batch = nr_pages;
                continue;
            }
            if task.pf_memalloc {
                break 'charge Err(true);
            }
            if task.memcg_in_oom.is_some() {
                break 'charge Err(false);
            }
            if !gfp.direct_reclaim {
                break 'charge Err(false);
            }
            self.memcg_memory_event(mem_over_limit, MemcgEvent::Max);
            raised_max_event = true;
            let nr_reclaimed = env.reclaim(self, mem_over_limit, nr_pages, may_swap);
            if self.mem_cgroup_margin(mem_over_limit) >= nr_pages {
                continue;
            }
            if !drained {
                self.drain_all_stock(mem_over_limit);
                drained = true;
                continue;
            }
            if gfp.noretry {
                break 'charge Err(false);
            }
            if nr_reclaimed != 0 && nr_pages <= (1 << PAGE_ALLOC_COSTLY_ORDER) {
                continue;
            }
            if nr_retries > 0 {
                nr_retries -= 1;
                continue;
            }
            if gfp.retry_mayfail {
                break 'charge Err(false);
            }
            if passed_oom && task.dying {
                break 'charge Err(false);
            }
            match self.mem_cgroup_oom(env, task, mem_over_limit, get_order(nr_pages)) {
                OomStatus::Progress => {
                    passed_oom = true;
                    nr_retries = MAX_RECLAIM_RETRIES;
                    continue;
                }
                OomStatus::Failed => break 'charge Err(false),
                OomStatus::Wait(m) => {
                    // memcg1_oom_prepare recorded the wait; the charge itself fails (nomem).
                    if gfp.nofail || gfp.high {
                        break 'charge Err(false);
                    }
                    self.mark_under_oom(m);
                    return ChargeResult::OomWait(m);
                }
            }
        };

        match outcome {
            Ok(()) => {
                if batch > nr_pages {
                    self.refill_stock(memcg, batch - nr_pages);
                }
                self.note_over_high(env, task, memcg, gfp, batch);
                ChargeResult::Charged
            }
            Err(force) => {
                if !(force || gfp.nofail || gfp.high) {
                    return ChargeResult::NoMem;
                }
                if !raised_max_event {
                    self.memcg_memory_event(mem_over_limit, MemcgEvent::Max);
                }
                self.counter_charge(memcg, nr_pages);
                ChargeResult::Forced
            }
        }
    }

    /// The tail of `try_charge_memcg` after a successful charge: the first memcg from `memcg` up whose memory
    /// (or swap) usage is above its high limit adds `batch` to the task's over-high pages; above 64 such pages
    /// (and when the task may block) the over-high handling runs synchronously.
    fn note_over_high(
        &mut self,
        env: &mut dyn MemcgEnv,
        task: &mut ChargeTask,
        memcg: MemcgId,
        gfp: ChargeGfp,
        batch: u64,
    ) {
        let mut cur = Some(memcg);
        while let Some(c) = cur {
            let mem = self.memory(c);
            let mem_high = mem.usage > mem.high;
            let swap_high = self.swap(c).is_some_and(|s| s.usage > s.high);
            if mem_high || swap_high {
                task.nr_pages_over_high += batch;
                break;
            }
            cur = self.parent(c);
        }
        if task.nr_pages_over_high > MEMCG_CHARGE_BATCH && !task.pf_memalloc && gfp.direct_reclaim {
            self.mem_cgroup_handle_over_high(env, task, memcg);
        }
    }

    /// `mem_cgroup_oom(memcg, gfp, order)`: nothing for order > 3 (no event); else the `oom` event on `memcg`;
    /// with v1 oom_kill_disable no kill (a user fault is set to wait); else `mem_cgroup_out_of_memory`.
    fn mem_cgroup_oom(
        &mut self,
        env: &mut dyn MemcgEnv,
        task: &mut ChargeTask,
        memcg: MemcgId,
        order: u32,
    ) -> OomStatus {
        if order > PAGE_ALLOC_COSTLY_ORDER {
            env.on_mem_cgroup_oom(self, memcg);
            return OomStatus::Failed;
        }
        self.memcg_memory_event(memcg, MemcgEvent::Oom);
        env.on_mem_cgroup_oom(self, memcg);
        // memcg1_oom_prepare
        if self.memcg(memcg).oom_kill_disable {
            if task.in_user_fault {
                task.memcg_in_oom = Some(memcg);
                return OomStatus::Wait(memcg);
            }
            return OomStatus::Failed;
        }
        if self.mem_cgroup_out_of_memory(env, memcg, order, task.dying) {
            OomStatus::Progress
        } else {
            OomStatus::Failed
        }
    }

    /// `mem_cgroup_out_of_memory(memcg, gfp, order)`: no kill when the margin already fits 2^order pages
    /// (reported as success); a dying caller also reports success; else the OOM killer.
    pub fn mem_cgroup_out_of_memory(
        &mut self,
        env: &mut dyn MemcgEnv,
        memcg: MemcgId,
        order: u32,
        caller_dying: bool,
    ) -> bool {
        if self.mem_cgroup_margin(memcg) >= (1u64 << order) {
            return true;
        }
        caller_dying || env.out_of_memory(self, memcg, order)
    }

    /// A task that waited in a v1 memcg OOM wakes (`mem_cgroup_oom_synchronize` returns): `under_oom` drops on
    /// the subtree and `memcg_in_oom` is cleared. The engine then retries the fault.
    pub fn oom_wait_end(&mut self, task: &mut ChargeTask) {
        if let Some(m) = task.memcg_in_oom.take() {
            self.unmark_under_oom(m);
        }
    }

    /// `reclaim_high(memcg, nr_pages)`: for the memcg and each non-root ancestor whose memory usage is above
    /// memory.high, raise `high` and reclaim `nr_pages` from it. Returns the pages reclaimed.
    pub fn reclaim_high(&mut self, env: &mut dyn MemcgEnv, memcg: MemcgId, nr_pages: u64) -> u64 {
        let mut nr_reclaimed = 0u64;
        let mut cur = memcg;
        loop {
            let mem = self.memory(cur);
            if mem.usage > mem.high {
                self.memcg_memory_event(cur, MemcgEvent::High);
                nr_reclaimed = nr_reclaimed.wrapping_add(env.reclaim(self, cur, nr_pages, true));
            }
            match self.parent(cur) {
                Some(p) if p != ROOT_MEMCG => cur = p,
                _ => return nr_reclaimed,
            }
        }
    }

    /// `__mem_cgroup_handle_over_high` for the task's memcg: reclaim_high (32 pages on retries), then the
    /// penalty (memory plus swap overage, clamped at 2*HZ). No sleep at or below HZ/100; while reclaim makes
    /// progress or retries (16) remain, reclaim again; else the task sleeps the penalty. Returns the jiffies
    /// slept (0 when none) and adds them to `task.high_delay_jiffies`.
    pub fn mem_cgroup_handle_over_high(&mut self, env: &mut dyn MemcgEnv, task: &mut ChargeTask, memcg: MemcgId) -> u64 {
        let nr_pages = task.nr_pages_over_high;
        if nr_pages == 0 {
            return 0;
        }
        task.nr_pages_over_high = 0;
        let mut nr_retries = MAX_RECLAIM_RETRIES;
        let mut in_retry = false;
        loop {
            if task.dying {
                return 0;
            }
            let nr_reclaimed = self.reclaim_high(env, memcg, if in_retry { SWAP_CLUSTER_MAX } else { nr_pages });
            let hz = self.hz;
            let mut penalty = calculate_high_delay(self.mem_find_max_overage(memcg), nr_pages, hz);
            let swap_overage = self.swap_find_max_overage(memcg);
            penalty = penalty.wrapping_add(calculate_high_delay(swap_overage, nr_pages, hz));
            let penalty = clamp_high_delay(penalty, hz);
            if penalty <= hz / 100 {
                return 0;
            }
            if nr_reclaimed != 0 {
                in_retry = true;
                continue;
            }
            if nr_retries > 0 {
                nr_retries -= 1;
                in_retry = true;
                continue;
            }
            task.high_delay_jiffies += penalty;
            return penalty;
        }
    }
}

enum OomStatus {
    Progress,
    Failed,
    Wait(MemcgId),
}
