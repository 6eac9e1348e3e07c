//! A page-reference trace walked inside the engine (`oomsim pagetrace`, bindings/src/trace/pageref.ts). Not a
//! kernel file: this is the simulated *program* that replays a trace (a Valgrind lackey, Dinero .din or
//! libCacheSim-style csv trace parsed by the TS layer), one memory access at a time, as user-mode accesses of one
//! process. The caller hands over whole batches of references (packed `u32` words, below), so the per-reference
//! loop runs here rather than as one command-buffer `touch` per reference.
//!
//! A reference is two words: `[page_lo, page_hi | write << 31]`, where `page` is the trace's own page number
//! (address / 4096, below 2^52; a csv object's pages). The trace's pages get slots of one anonymous mapping at
//! `base` in first-touch order, so a sparse 48-bit address space costs only the pages it touches. A reference
//! whose (page, access) equals the one before it is merged (the second access would be a TLB hit: the engine
//! would only count it as a hit). Each remaining reference is exactly one `Kernel::touch` of one page, the same
//! call the command buffer's `touch` op makes, so the outcome is identical to sending one `touch` command per
//! reference (test/trace-pageref.test.ts compares the two).

use crate::errno::ApiError;
use crate::kernel::Kernel;
use crate::memory::Access;

/// Where a walk is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum WalkState {
    /// Takes more references.
    Running = 0,
    /// The process is gone (the OOM killer took it, or it died of a signal): later references are only counted.
    Gone = 1,
    /// The trace touched more distinct pages than the mapping has (`max_pages`); the reference that would have
    /// needed one more slot and everything after it did not run.
    TooManyPages = 2,
}

/// The trace's page number to its slot, in runs of `RUN` consecutive pages (one 64-byte cache line of slots per
/// run): a hash table (open addressing, linear probing, a multiplicative hash) from the run number to the run's
/// slots. Traces are clustered (stack, heap, code), so the slots of a hot set sit in a few cache lines; a table
/// hashed per page put every lookup on a cache miss. Slots are handed out in first-touch order, so neither the
/// hash nor the run size shows in a result.
struct SlotMap {
    keys: Vec<u64>,
    runs: Vec<u32>,
    /// `RUN` slots per run, `NONE` where the page has none yet.
    slots: Vec<u32>,
    /// Pages given a slot.
    len: u64,
    shift: u32,
    /// The last run looked up (key, index into `slots`): consecutive references often share a run.
    last: (u64, usize),
}

const EMPTY: u64 = u64::MAX;
const NONE: u32 = u32::MAX;
const RUN_SHIFT: u32 = 4;
const RUN: usize = 1 << RUN_SHIFT;

impl SlotMap {
    fn new() -> Self {
        SlotMap { keys: vec![EMPTY; 1 << 10], runs: vec![0; 1 << 10], slots: Vec::new(), len: 0, shift: 64 - 10, last: (EMPTY, 0) }
    }
    #[inline]
    fn home(&self, run: u64) -> usize {
        (run.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }
    /// The index in `slots` of the first page of `run`, adding the run when it is new.
    #[inline]
    fn run_of(&mut self, run: u64) -> usize {
        if self.last.0 == run {
            return self.last.1;
        }
        let mask = self.keys.len() - 1;
        let mut i = self.home(run);
        loop {
            let k = self.keys[i];
            if k == run {
                let at = self.runs[i] as usize;
                self.last = (run, at);
                return at;
            }
            if k == EMPTY {
                break;
            }
            i = (i + 1) & mask;
        }
        // a new run
        let at = self.slots.len();
        self.slots.resize(at + RUN, NONE);
        let n = self.slots.len() / RUN;
        if n * 2 > self.keys.len() {
            self.grow();
        }
        self.put(run, at as u32);
        self.last = (run, at);
        at
    }
    fn put(&mut self, run: u64, at: u32) {
        let mask = self.keys.len() - 1;
        let mut i = self.home(run);
        while self.keys[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.keys[i] = run;
        self.runs[i] = at;
    }
    fn grow(&mut self) {
        let n = self.keys.len() * 2;
        let keys = std::mem::replace(&mut self.keys, vec![EMPTY; n]);
        let runs = std::mem::replace(&mut self.runs, vec![0; n]);
        self.shift -= 1;
        for (k, v) in keys.into_iter().zip(runs) {
            if k != EMPTY {
                self.put(k, v);
            }
        }
    }
}

/// One trace being walked by process `pid` over its mapping of `max_pages` pages at `base`.
pub struct PageRefWalk {
    pid: u32,
    base: u64,
    max_pages: u64,
    slots: SlotMap,
    last_vpn: u64,
    last_write: bool,
    /// References handed over (after the process is gone too: the trace's length).
    pub references: u64,
    /// `touch` calls made (references after merging back-to-back repeats; up to and including the one the process
    /// died in).
    pub touches: u64,
    pub state: WalkState,
}

/// The largest page number a reference carries (52 bits: addresses below 2^64 / 4096).
pub const MAX_TRACE_PAGE: u64 = (1 << 52) - 1;

impl PageRefWalk {
    pub fn new(pid: u32, base: u64, max_pages: u64) -> Self {
        PageRefWalk { pid, base, max_pages, slots: SlotMap::new(), last_vpn: u64::MAX, last_write: false, references: 0, touches: 0, state: WalkState::Running }
    }

    /// Distinct pages given a slot so far.
    pub fn distinct_pages(&self) -> u64 {
        self.slots.len
    }

    /// Walk a batch of references (two words each). Errors: a malformed batch (odd length, a page above
    /// `MAX_TRACE_PAGE`: checked before any reference runs), or one a `touch` returns while the process is alive
    /// (e.g. E_BLOCKED in a v1 memcg OOM wait); the references before it have run.
    pub fn run(&mut self, k: &mut Kernel, refs: &[u32]) -> Result<WalkState, ApiError> {
        if refs.len() % 2 != 0 {
            return Err(ApiError::new("E_ARG", format!("pageref batch: {} words; expected two per reference [page_lo, page_hi | write << 31]", refs.len())));
        }
        if let Some(i) = refs.chunks_exact(2).position(|r| r[1] & 0x7fff_ffff > (MAX_TRACE_PAGE >> 32) as u32) {
            return Err(ApiError::new("E_ARG", format!("pageref batch: reference #{i}: page above 2^52 - 1")));
        }
        self.references += (refs.len() / 2) as u64;
        if self.state != WalkState::Running {
            return Ok(self.state);
        }
        for r in refs.chunks_exact(2) {
            let page = r[0] as u64 | ((r[1] & 0x7fff_ffff) as u64) << 32;
            let write = r[1] >> 31 != 0;
            let at = self.slots.run_of(page >> RUN_SHIFT) + (page as usize & (RUN - 1));
            let mut slot = self.slots.slots[at];
            if slot == NONE {
                if self.slots.len >= self.max_pages {
                    self.state = WalkState::TooManyPages;
                    return Ok(self.state);
                }
                slot = self.slots.len as u32;
                self.slots.slots[at] = slot;
                self.slots.len += 1;
            }
            let vpn = self.base + slot as u64;
            if vpn == self.last_vpn && write == self.last_write {
                continue;
            }
            self.last_vpn = vpn;
            self.last_write = write;
            match k.touch(self.pid, vpn, 1, if write { Access::Write } else { Access::Read }) {
                Ok(o) => {
                    self.touches += 1;
                    // a touch that stopped early (OOM kill, fatal signal) may have ended the process: then the
                    // walk ends here, and no later page is given a slot
                    if o.stop.is_some() && k.task(self.pid).is_none() {
                        self.state = WalkState::Gone;
                        return Ok(self.state);
                    }
                }
                Err(_) if k.task(self.pid).is_none() => {
                    self.state = WalkState::Gone;
                    return Ok(self.state);
                }
                Err(e) => return Err(e),
            }
        }
        if k.task(self.pid).is_none() {
            self.state = WalkState::Gone;
        }
        Ok(self.state)
    }
}

/// Two words of a reference (the layout `run` reads).
pub fn pack(page: u64, write: bool) -> [u32; 2] {
    [page as u32, (page >> 32) as u32 | (write as u32) << 31]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::MachineConfig;
    use crate::mmap::{MapFlags, PROT_RW};

    fn machine(ram: u32, swap: u32) -> (Kernel, u64) {
        let mut k = Kernel::new(MachineConfig { totalram_pages: ram, ..Default::default() }).unwrap();
        if swap > 0 {
            k.swapon(swap, -2, crate::vmscan::IoDevice::from_name("disk").unwrap(), 0).unwrap();
        }
        k.sysctl_write("vm.overcommit_memory", 1).unwrap().unwrap();
        k.spawn(1000, "trace").unwrap();
        let base = k.mmap(1000, 1 << 16, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        (k, base)
    }
    fn words(refs: &[(u64, bool)]) -> Vec<u32> {
        refs.iter().flat_map(|&(p, w)| pack(p, w)).collect()
    }

    #[test]
    fn slots_in_first_touch_order_and_repeats_merged() {
        let (mut k, base) = machine(4096, 0);
        let mut w = PageRefWalk::new(1000, base, 1 << 16);
        // a sparse address space: three far-apart pages, the first repeated
        let far = [(0x7f00_0000_0u64, false), (0x7f00_0000_0, false), (3, true), (0xf_ffff_ffff_ffff, false), (0x7f00_0000_0, true)];
        assert_eq!(w.run(&mut k, &words(&far)).unwrap(), WalkState::Running);
        assert_eq!((w.references, w.touches, w.distinct_pages()), (5, 4, 3));
        // slot 0 read then written, slot 1 written, slot 2 read (the zero page)
        assert_eq!(k.task_mem(1000).unwrap().rss_anon, 8, "two private anon pages (slots 0 and 1), in kB");
    }

    #[test]
    fn many_pages_grow_the_table_and_keep_their_slots() {
        let (mut k, base) = machine(1 << 16, 0);
        let mut w = PageRefWalk::new(1000, base, 1 << 16);
        let refs: Vec<(u64, bool)> = (0..20_000u64).map(|i| (i * 7919 + (1 << 40), true)).collect();
        w.run(&mut k, &words(&refs)).unwrap();
        assert_eq!(w.distinct_pages(), 20_000);
        let faults = k.vmstat.v[crate::vmstat::Vmstat::pgfault as usize];
        // the same pages again: all present, no fault
        w.run(&mut k, &words(&refs)).unwrap();
        assert_eq!(w.distinct_pages(), 20_000);
        assert_eq!(k.vmstat.v[crate::vmstat::Vmstat::pgfault as usize], faults);
        assert_eq!(w.touches, 40_000);
    }

    #[test]
    fn too_many_pages_stops_before_the_page_without_a_slot() {
        let (mut k, base) = machine(4096, 0);
        let mut w = PageRefWalk::new(1000, base, 2);
        assert_eq!(w.run(&mut k, &words(&[(10, true), (11, true), (10, false), (12, true), (11, false)])).unwrap(), WalkState::TooManyPages);
        assert_eq!((w.touches, w.distinct_pages()), (3, 2));
    }

    #[test]
    fn oom_kill_ends_the_walk_and_later_batches_only_count() {
        // 8 MiB of RAM, no swap, 4096 distinct pages written: the OOM killer takes the trace's process
        let (mut k, base) = machine(2048, 0);
        let mut w = PageRefWalk::new(1000, base, 1 << 16);
        let refs: Vec<(u64, bool)> = (0..4096u64).map(|i| (i, true)).collect();
        assert_eq!(w.run(&mut k, &words(&refs)).unwrap(), WalkState::Gone);
        assert!(w.touches < 4096 && w.touches > 1000, "{}", w.touches);
        assert!(k.task(1000).is_none());
        assert_eq!(w.run(&mut k, &words(&refs[..10])).unwrap(), WalkState::Gone);
        assert_eq!(w.references, 4106);
    }

    #[test]
    fn malformed_batches_are_refused_before_anything_runs() {
        let (mut k, base) = machine(4096, 0);
        let mut w = PageRefWalk::new(1000, base, 16);
        let e = w.run(&mut k, &[1, 0, 2]).unwrap_err();
        assert!(e.message.contains("3 words; expected two per reference"), "{e}");
        let e = w.run(&mut k, &[1, 0, 2, 0x10_0000]).unwrap_err();
        assert!(e.message.contains("reference #1: page above 2^52 - 1"), "{e}");
        assert_eq!((w.references, w.touches), (0, 0));
    }
}
