//! The simulated machine: one node, tasks, address spaces, frames and counters.
//!
//! Foundation version: anonymous private mappings, write faults that allocate, read faults that map the zero page
//! (mm/memory.c:`do_anonymous_page`), and the counters behind MemTotal/MemFree/pgfault. The engine-core work
//! extends this with fork/COW, file pages, overcommit accounting and the rest.

use crate::errno::{ApiError, Errno};
use crate::event::{Event, EventKind};
use crate::page_alloc::FrameAllocator;
use crate::vmstat::{Vmstat, VmstatCounters};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineConfig {
    /// Managed RAM in pages (MemTotal).
    pub totalram_pages: u32,
    pub seed: u64,
}

/// Page-table entry encoding inside a VMA's PTE array: 0 none, 1 the shared zero page, n >= 2 frame n-2.
const PTE_NONE: u32 = 0;
const PTE_ZERO: u32 = 1;
const PTE_FRAME0: u32 = 2;

#[derive(Clone, Debug)]
pub struct Vma {
    pub pages: u32,
    ptes: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub pid: u32,
    pub comm: String,
    pub vmas: Vec<Vma>,
    pub rss_anon: u64,
    pub min_flt: u64,
    pub alive: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Access {
    Read = 0,
    Write = 1,
}

#[derive(Clone, Debug)]
pub struct Kernel {
    pub config: MachineConfig,
    frames: FrameAllocator,
    tasks: Vec<Task>,
    pub vmstat: VmstatCounters,
    events: Vec<Event>,
    now_ns: u64,
}

impl Kernel {
    pub fn new(config: MachineConfig) -> Result<Self, ApiError> {
        if config.totalram_pages == 0 {
            return Err(ApiError::new("E_ARG", "machine.totalram_pages: 0 is not allowed; expected 1..=4294967295 pages"));
        }
        let mut vmstat = VmstatCounters::default();
        vmstat.v[Vmstat::nr_free_pages as usize] = config.totalram_pages as u64;
        Ok(Kernel { frames: FrameAllocator::new(config.totalram_pages), config, tasks: Vec::new(), vmstat, events: Vec::new(), now_ns: 0 })
    }

    pub fn totalram_pages(&self) -> u64 {
        self.config.totalram_pages as u64
    }

    pub fn nr_free_pages(&self) -> u64 {
        self.frames.nr_free() as u64
    }

    fn task_index(&self, pid: u32) -> Result<usize, ApiError> {
        self.tasks
            .iter()
            .position(|t| t.pid == pid && t.alive)
            .ok_or_else(|| ApiError::errno("E_NOPID", Errno::ESRCH, format!("pid {pid}: no such live task")))
    }

    pub fn task(&self, pid: u32) -> Option<&Task> {
        self.tasks.iter().find(|t| t.pid == pid && t.alive)
    }

    /// Create a process with an empty address space (as after exec).
    pub fn spawn(&mut self, pid: u32, comm: &str) -> Result<(), ApiError> {
        if pid == 0 {
            return Err(ApiError::new("E_ARG", "spawn.pid: 0 is not allowed; expected 1..=4194304"));
        }
        if self.task(pid).is_some() {
            return Err(ApiError::errno("E_ARG", Errno::EINVAL, format!("spawn.pid: pid {pid} is already in use")));
        }
        self.tasks.push(Task { pid, comm: comm.to_string(), vmas: Vec::new(), rss_anon: 0, min_flt: 0, alive: true });
        self.events.push(Event { kind: EventKind::TaskNew, pid, a: 0, b: 0, c: 0, time_ns: self.now_ns });
        Ok(())
    }

    /// mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE) of `pages` pages; returns the region index.
    pub fn mmap_anon(&mut self, pid: u32, pages: u32) -> Result<u32, ApiError> {
        if pages == 0 {
            return Err(ApiError::errno("E_ARG", Errno::EINVAL, "mmap.pages: 0 is not allowed (mmap of length 0 is EINVAL)"));
        }
        let ti = self.task_index(pid)?;
        let t = &mut self.tasks[ti];
        t.vmas.push(Vma { pages, ptes: vec![PTE_NONE; pages as usize] });
        Ok((t.vmas.len() - 1) as u32)
    }

    /// Access pages `first..first+count` of region `region` in order, faulting as needed. Returns the number of
    /// pages accessed; stops early (with a SyscallError-style ENOMEM event) when no frame is left.
    pub fn touch(&mut self, pid: u32, region: u32, first: u32, count: u32, access: Access) -> Result<u32, ApiError> {
        let ti = self.task_index(pid)?;
        let t = &mut self.tasks[ti];
        let vma = t
            .vmas
            .get_mut(region as usize)
            .ok_or_else(|| ApiError::new("E_ARG", format!("touch.region: task {pid} has no region {region}")))?;
        let end = first as u64 + count as u64;
        if end > vma.pages as u64 {
            return Err(ApiError::new(
                "E_ARG",
                format!("touch: pages {first}..{end} are outside region {region} of {} pages", vma.pages),
            ));
        }
        let mut done = 0;
        for p in first..first + count {
            let pte = &mut vma.ptes[p as usize];
            match (*pte, access) {
                (PTE_NONE, Access::Read) => {
                    // mm/memory.c:do_anonymous_page: read of an untouched private anon page maps the zero page.
                    *pte = PTE_ZERO;
                    t.min_flt += 1;
                    self.vmstat.inc(Vmstat::pgfault);
                }
                (PTE_NONE, Access::Write) | (PTE_ZERO, Access::Write) => {
                    let Some(f) = self.frames.alloc() else {
                        self.events.push(Event { kind: EventKind::SyscallError, pid, a: 0, b: Errno::ENOMEM as u32, c: p as u64, time_ns: self.now_ns });
                        break;
                    };
                    *pte = PTE_FRAME0 + f;
                    t.rss_anon += 1;
                    t.min_flt += 1;
                    self.vmstat.inc(Vmstat::pgfault);
                    self.vmstat.inc(Vmstat::pgalloc_normal);
                    self.vmstat.inc(Vmstat::nr_anon_pages);
                    self.vmstat.inc(Vmstat::nr_inactive_anon);
                    self.vmstat.v[Vmstat::nr_free_pages as usize] -= 1;
                }
                _ => {}
            }
            done += 1;
        }
        Ok(done)
    }

    /// exit(): free everything the task holds.
    pub fn exit(&mut self, pid: u32) -> Result<(), ApiError> {
        let ti = self.task_index(pid)?;
        let vmas = std::mem::take(&mut self.tasks[ti].vmas);
        for vma in vmas {
            for pte in vma.ptes {
                if pte >= PTE_FRAME0 {
                    self.frames.free(pte - PTE_FRAME0);
                    self.vmstat.inc(Vmstat::pgfree);
                    self.vmstat.sub(Vmstat::nr_anon_pages, 1);
                    self.vmstat.sub(Vmstat::nr_inactive_anon, 1);
                    self.vmstat.v[Vmstat::nr_free_pages as usize] += 1;
                }
            }
        }
        let t = &mut self.tasks[ti];
        t.rss_anon = 0;
        t.alive = false;
        self.events.push(Event { kind: EventKind::TaskExit, pid, a: 0, b: 0, c: 0, time_ns: self.now_ns });
        Ok(())
    }

    /// Move the queued events out (the caller drains them after each call returns).
    pub fn drain_events(&mut self, out: &mut Vec<u32>) {
        for e in self.events.drain(..) {
            e.encode(out);
        }
    }

    pub fn pending_events(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(pages: u32) -> Kernel {
        Kernel::new(MachineConfig { totalram_pages: pages, seed: 1 }).unwrap()
    }

    #[test]
    fn write_faults_allocate_and_read_faults_map_zero_page() {
        let mut k = k(1024);
        k.spawn(1, "a").unwrap();
        let r = k.mmap_anon(1, 100).unwrap();
        k.touch(1, r, 0, 10, Access::Read).unwrap();
        assert_eq!(k.nr_free_pages(), 1024, "zero-page mappings allocate nothing");
        assert_eq!(k.vmstat.get(Vmstat::pgfault), 10);
        k.touch(1, r, 0, 100, Access::Write).unwrap();
        assert_eq!(k.nr_free_pages(), 924);
        assert_eq!(k.vmstat.get(Vmstat::pgfault), 110, "read-then-write is two faults per page");
        k.touch(1, r, 0, 100, Access::Write).unwrap();
        assert_eq!(k.vmstat.get(Vmstat::pgfault), 110, "present pages take no fault");
        k.exit(1).unwrap();
        assert_eq!(k.nr_free_pages(), 1024);
        assert_eq!(k.vmstat.get(Vmstat::nr_anon_pages), 0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut k = k(16);
        assert_eq!(k.mmap_anon(9, 1).unwrap_err().code, "E_NOPID");
        k.spawn(1, "a").unwrap();
        let r = k.mmap_anon(1, 4).unwrap();
        let e = k.touch(1, r, 2, 3, Access::Write).unwrap_err();
        assert!(e.message.contains("outside region"), "{e}");
        assert!(Kernel::new(MachineConfig { totalram_pages: 0, seed: 0 }).is_err());
    }

    #[test]
    fn running_out_of_frames_is_an_event() {
        let mut k = k(4);
        k.spawn(1, "a").unwrap();
        let r = k.mmap_anon(1, 8).unwrap();
        assert_eq!(k.touch(1, r, 0, 8, Access::Write).unwrap(), 4);
        let mut ev = Vec::new();
        k.drain_events(&mut ev);
        assert!(ev.chunks(8).any(|e| e[0] == EventKind::SyscallError as u32 && e[3] == Errno::ENOMEM as u32));
    }
}
