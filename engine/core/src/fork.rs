//! kernel/fork.c, mm/mmap.c:`dup_mmap`/`exit_mmap`, fs/exec.c, kernel/exit.c: process creation and teardown.
//!
//! * fork (`dup_mmap`): every VMA except VM_DONTCOPY ones is copied. Each VM_ACCOUNT VMA is charged again to
//!   Committed_AS, checked against the *parent's* mm (`security_vm_enough_memory_mm(oldmm, len)`); a refusal fails
//!   the fork with ENOMEM and leaves nothing behind. PTEs are copied only for VMAs that have an anon_vma
//!   (`vma_needs_copy`): shared mappings and file mappings without anon pages start empty in the child. Private
//!   pages become shared, write-protected in both processes and counted in both RSS values (`copy_present_ptes`);
//!   swap entries gain a reference (`swap_duplicate`). No page is allocated.
//! * vfork: the child shares the parent's mm until it execs or exits.
//! * exec: the task gets a new, empty mm; the old one is released (`exec_mmap` → `mmput`).
//! * exit: `exit_mm` → `mmput`; the last user of an mm tears it down (`exit_mmap`): every page is unmapped, every
//!   VM_ACCOUNT VMA uncharged, page tables freed. Page-cache pages stay in the page cache.

use crate::errno::{ApiError, Errno};
use crate::event::EventKind;
use crate::kernel::Kernel;
use crate::types::SysResult;
use crate::mm_types::*;
use crate::task::{Task, TaskState};

impl Kernel {
    /// fork(2) by `parent`, creating `child`.
    pub fn fork(&mut self, parent: u32, child: u32) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        self.check_not_blocked(parent)?;
        let pi = self.task_index(parent)?;
        self.check_new_pid(child, "fork.child")?;
        let old_id = self.tasks[pi].mm;
        let new_id = self.new_mm();
        match self.dup_mmap(parent, old_id, new_id) {
            Ok(()) => {}
            Err(e) => {
                self.mmput(new_id);
                return Ok(self.syscall_result(parent, 8, Err(e)));
            }
        }
        let p = &self.tasks[pi];
        let t = Task {
            pid: child,
            ppid: parent,
            comm: p.comm.clone(),
            uid: p.uid,
            cap_sys_admin: p.cap_sys_admin,
            oom_score_adj: p.oom_score_adj,
            oom_score_adj_min: p.oom_score_adj_min,
            oom_victim: false,
            state: TaskState::Running,
            mm: new_id,
            in_vfork: false,
            min_flt: 0,
            maj_flt: 0,
            cgroup: p.cgroup.clone(),
            memcg: p.memcg,
            cg_seq: 0,
            memcg_nr_pages_over_high: 0,
            memcg_high_delay_jiffies: 0,
            memcg_high_slept_jiffies: 0,
            oom_wait: None,
        };
        let mut t = t;
        t.cg_seq = self.next_cg_seq();
        self.push_task(t);
        self.event(EventKind::TaskNew, child, parent, 0, 0);
        Ok(Ok(()))
    }

    /// vfork(2): the child runs on the parent's mm until exec or exit.
    pub fn vfork(&mut self, parent: u32, child: u32) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        self.check_not_blocked(parent)?;
        let pi = self.task_index(parent)?;
        self.check_new_pid(child, "vfork.child")?;
        let mut t = self.tasks[pi].clone();
        t.pid = child;
        t.ppid = parent;
        t.in_vfork = true;
        t.oom_victim = false;
        t.min_flt = 0;
        t.maj_flt = 0;
        t.cg_seq = self.next_cg_seq();
        t.memcg_nr_pages_over_high = 0;
        t.oom_wait = None;
        t.state = TaskState::Running;
        self.mm_mut(t.mm).users += 1;
        self.push_task(t);
        self.event(EventKind::TaskNew, child, parent, 0, 0);
        Ok(Ok(()))
    }

    /// execve(2): the address space is replaced by an empty one (the simulated program maps what it needs).
    pub fn exec(&mut self, pid: u32, comm: Option<&str>) -> Result<SysResult<()>, ApiError> {
        self.check_running()?;
        self.check_not_blocked(pid)?;
        let ti = self.task_index(pid)?;
        let old = self.tasks[ti].mm;
        let new = self.new_mm();
        let t = &mut self.tasks[ti];
        t.mm = new;
        t.in_vfork = false;
        if let Some(c) = comm {
            t.comm = c.chars().take(15).collect::<String>().into();
        }
        self.oom_scan_task(ti);
        self.mmput(old);
        Ok(Ok(()))
    }

    /// exit(2): the task's memory is released (if it was the mm's last user) and the task is gone.
    pub fn exit(&mut self, pid: u32) -> Result<(), ApiError> {
        self.check_running()?;
        self.check_not_blocked(pid)?;
        let r = self.do_exit(pid, false);
        self.end_entry();
        r
    }

    /// kernel/exit.c:`do_exit` for a live task: the task leaves the task table (creation order is kept), its mm
    /// loses a user (the last one tears it down). `sigkill`: it died of SIGKILL (the event says so).
    pub(crate) fn do_exit(&mut self, pid: u32, sigkill: bool) -> Result<(), ApiError> {
        let ti = self.task_index(pid)?;
        let t = self.remove_task(ti);
        self.current.task_exited(pid);
        if let Some(w) = &t.oom_wait {
            // a task killed while it waited in a v1 memcg OOM leaves the wait (mem_cgroup_oom_synchronize)
            self.memcg.unmark_under_oom(w.memcg);
        }
        self.oom_woken.retain(|&p| p != pid);
        self.mmput(t.mm);
        self.event(EventKind::TaskExit, pid, sigkill as u32, 0, 0);
        Ok(())
    }

    fn check_new_pid(&self, pid: u32, what: &str) -> Result<(), ApiError> {
        if pid == 0 || pid > 4_194_304 {
            return Err(ApiError::new("E_ARG", format!("{what}: {pid} is not allowed; expected 1..=4194304 (pid_max)")));
        }
        if self.task(pid).is_some() {
            return Err(ApiError::errno("E_ARG", Errno::EINVAL, format!("{what}: pid {pid} is already in use")));
        }
        Ok(())
    }

    /// Drop one user of an mm; the last one tears it down (`mmput` → `exit_mmap`).
    pub(crate) fn mmput(&mut self, mm_id: u32) {
        let mm = self.mm_mut(mm_id);
        mm.users -= 1;
        if mm.users > 0 {
            return;
        }
        let n = self.mm(mm_id).vmas.len();
        self.remove_vmas(mm_id, 0..n);
        debug_assert_eq!(self.mm(mm_id).rss, [0; NR_MM_COUNTERS]);
        debug_assert_eq!(self.mm(mm_id).pgtables_bytes(), 0);
        self.mms[mm_id as usize] = None;
        self.oom_scan_mm(mm_id);
        self.free_mms.push(mm_id);
    }

    /// mm/mmap.c:`dup_mmap` from `old` into the empty `new`, by `parent`.
    fn dup_mmap(&mut self, parent: u32, old: u32, new: u32) -> SysResult<()> {
        let (start_brk, brk, nvmas) = {
            let o = self.mm(old);
            (o.start_brk, o.brk, o.vmas.len())
        };
        {
            let n = self.mm_mut(new);
            n.start_brk = start_brk;
            n.brk = brk;
        }
        let parent_total_vm = self.mm(old).total_vm;
        for vi in 0..nvmas {
            let (flags, pages) = {
                let v = &self.mm(old).vmas[vi];
                (v.flags, v.pages())
            };
            if flags & VM_DONTCOPY != 0 {
                continue;
            }
            if flags & VM_ACCOUNT != 0 {
                // checked against the parent's mm; the child's VMAs added so far are torn down by the caller
                self.vm_enough(Some(parent), Some(parent_total_vm), pages)?;
            }
            self.copy_vma(old, vi, new);
        }
        Ok(())
    }

    /// Copy VMA `vi` of `old` into `new` (`vm_area_dup` + `copy_page_range`).
    fn copy_vma(&mut self, old: u32, vi: usize, new: u32) {
        let (mut vma, needs_copy, cow) = {
            let v = &self.mm(old).vmas[vi];
            let copy = Vma { start: v.start, end: v.end, flags: v.flags, backing: v.backing, pgoff: v.pgoff, anon_vma: v.anon_vma, ptes: vec![None; v.ptes.len()], is_heap: v.is_heap };
            (copy, v.anon_vma != 0, v.is_cow())
        };
        if let Backing::File(fid) = vma.backing {
            self.files[fid as usize].vma_refs += 1;
        }
        if needs_copy {
            let first = vma.first_chunk();
            let (start, end) = (vma.start, vma.end);
            let mut src = std::mem::take(&mut self.mm_mut(old).vmas[vi].ptes);
            let mut rss = [0i64; NR_MM_COUNTERS];
            for (c, t) in src.iter_mut().enumerate() {
                let Some(t) = t else { continue };
                let base = (first + c as u64) << PTE_SHIFT;
                let lo = (start.max(base) - base) as usize;
                let hi = (end.min(base + 512) - base) as usize;
                let mut dst = Box::new([PTE_NONE; 512]);
                for i in lo..hi {
                    let pte = t[i];
                    if pte == PTE_NONE {
                        continue;
                    }
                    if pte & PTE_SWAP != 0 {
                        self.swap.count[(pte & !PTE_SWAP) as usize] += 1;
                        rss[MmCounter::MM_SWAPENTS as usize] += 1;
                        dst[i] = pte;
                    } else if pte == PTE_ZERO {
                        dst[i] = pte;
                    } else {
                        let f = pte_frame(pte);
                        self.rmap_add(f);
                        rss[crate::memory::kind_counter(self.frames.kind(f)) as usize] += 1;
                        let p = if cow { pte & !PTE_W } else { pte };
                        t[i] = p;
                        // copy_present_ptes(): the child's copy is old (pte_mkold)
                        dst[i] = p & !PTE_YOUNG;
                    }
                }
                vma.ptes[c] = Some(dst);
                self.mm_mut(new).pte_alloc(first + c as u64);
            }
            self.mm_mut(old).vmas[vi].ptes = src;
            let n = self.mm_mut(new);
            for (i, d) in rss.iter().enumerate() {
                n.rss[i] += d;
            }
            self.oom_scan_mm(new);
        }
        self.insert_vma(new, vma);
    }
}

#[cfg(test)]
mod tests {
    use crate::errno::Errno;
    use crate::kernel::{Kernel, MachineConfig};
    use crate::memory::Access;
    use crate::mm_types::VM_ACCOUNT;
    use crate::mmap::{Advice, MapFlags, PROT_READ, PROT_RW};

    const GIB: u64 = 262144; // pages

    fn anon() -> MapFlags {
        MapFlags { anonymous: true, ..Default::default() }
    }

    /// The seed article's example: 7 GiB RAM, no swap, a process with a 4 GiB private writable anon mapping, fully
    /// touched, forks. Returns (fork result, Committed_AS after, free pages after).
    fn seed_fork(mode: i64, then_exec: bool) -> (Result<(), Errno>, u64, u64, Kernel) {
        let mut k = Kernel::new(MachineConfig { totalram_pages: (7 * GIB) as u32, ..Default::default() }).unwrap();
        k.spawn(1, "big").unwrap();
        let v = k.mmap(1, 4 * GIB, PROT_RW, anon(), None).unwrap().unwrap();
        assert_eq!(k.touch(1, v, 4 * GIB, Access::Write).unwrap().done, 4 * GIB);
        // the mode is switched after the mapping exists (in mode 2 the 4 GiB mmap itself would be refused:
        // CommitLimit is 3.5 GiB)
        k.sysctl_write("vm.overcommit_memory", mode).unwrap().unwrap();
        let r = k.fork(1, 2).unwrap();
        if r.is_ok() && then_exec {
            k.exec(2, Some("sh")).unwrap().unwrap();
        }
        let (c, f) = (k.committed_as_pages(), k.nr_free_pages());
        (r, c, f, k)
    }

    #[test]
    fn seed_article_fork_of_a_4gib_process_on_7gib() {
        // CommitLimit = 7 GiB * 50 % + 0 swap = 3.5 GiB = 917504 pages in every mode
        // mode 0 (GUESS): only the single request is checked against RAM + swap: 4 GiB <= 7 GiB, fork succeeds;
        // Committed_AS doubles to 8 GiB (2097152 pages), far above CommitLimit, and no page is copied.
        let (r, committed, free, k) = seed_fork(0, false);
        assert_eq!(r, Ok(()));
        assert_eq!(k.commit_limit_pages(), 917504);
        assert_eq!(committed, 2 * 4 * GIB);
        assert_eq!(free, 7 * GIB - 4 * GIB, "COW: the child shares every page");
        assert_eq!(k.task_mem(2).unwrap().rss_anon, 4 * 1024 * 1024, "shared pages count in the child's RSS (kB)");
        // mode 1 (ALWAYS): never refused
        let (r, committed, _, _) = seed_fork(1, false);
        assert_eq!((r, committed), (Ok(()), 2 * 4 * GIB));
        // mode 2 (NEVER): the child's 4 GiB charge would make Committed_AS 8 GiB, not below
        // 917504 - 2048 (admin reserve) - min(1048576/32, 32768) (user reserve): ENOMEM, nothing left behind
        let (r, committed, free, k) = seed_fork(2, false);
        assert_eq!(r, Err(Errno::ENOMEM));
        assert_eq!(committed, 4 * GIB);
        assert_eq!(free, 3 * GIB);
        assert!(k.task(2).is_none());
        // fork + exec: the exec returns the child's charge and drops its share of the pages
        let (r, committed, _, k) = seed_fork(0, true);
        assert_eq!((r, committed), (Ok(()), 4 * GIB));
        assert_eq!(k.task_mem(2).unwrap().vm_rss, 0);
        let (r, _, _, _) = seed_fork(2, true);
        assert_eq!(r, Err(Errno::ENOMEM), "in mode 2 the fork fails before exec can run");
    }

    #[test]
    fn vfork_then_exec_needs_no_commit_charge() {
        let (_, _, _, mut k) = seed_fork(2, false);
        k.vfork(1, 3).unwrap().unwrap();
        assert_eq!(k.committed_as_pages(), 4 * GIB, "vfork shares the mm: nothing charged");
        assert_eq!(k.task(3).unwrap().mm, k.task(1).unwrap().mm);
        k.exec(3, Some("sh")).unwrap().unwrap();
        assert_ne!(k.task(3).unwrap().mm, k.task(1).unwrap().mm);
        k.exit(3).unwrap();
        assert_eq!(k.task_mem(1).unwrap().rss_anon, 4 * 1024 * 1024, "the parent's memory is intact");
    }

    #[test]
    fn cow_copy_then_reuse_after_the_sharer_exits() {
        let mut k = Kernel::new(MachineConfig::default()).unwrap();
        k.spawn(1, "a").unwrap();
        let v = k.mmap(1, 10, PROT_RW, anon(), None).unwrap().unwrap();
        k.touch(1, v, 10, Access::Write).unwrap();
        k.fork(1, 2).unwrap().unwrap();
        let before = k.stats.pages_allocated;
        k.touch(2, v, 3, Access::Write).unwrap();
        assert_eq!(k.stats.pages_allocated - before, 3, "three COW copies");
        assert_eq!(k.last_cow, crate::types::CowKind::Copy);
        k.exit(2).unwrap();
        k.touch(1, v + 5, 1, Access::Write).unwrap();
        assert_eq!(k.last_cow, crate::types::CowKind::Reuse);
        assert_eq!(k.stats.pages_allocated - before, 3);
        // reading a write-protected shared page takes no fault
        k.fork(1, 3).unwrap().unwrap();
        let f = k.stats.faults_minor;
        k.touch(3, v, 10, Access::Read).unwrap();
        assert_eq!(k.stats.faults_minor, f);
    }

    #[test]
    fn fork_charges_every_accounted_vma_except_dontfork() {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 4 * GIB as u32, ..Default::default() }).unwrap();
        k.spawn(1, "a").unwrap();
        k.mmap(1, 200, PROT_RW, anon(), None).unwrap().unwrap();
        k.mmap(1, 50, PROT_READ, anon(), None).unwrap().unwrap();
        let d = k.mmap(1, 10, PROT_RW, anon(), None).unwrap().unwrap();
        k.madvise(1, d, 10, Advice::DontFork).unwrap().unwrap();
        let shm = k.mmap(1, 30, PROT_RW, MapFlags { shared: true, anonymous: true, noreserve: false }, None).unwrap().unwrap();
        let c0 = k.committed_as_pages();
        assert_eq!(c0, 200 + 10 + 30);
        k.fork(1, 2).unwrap().unwrap();
        assert_eq!(k.committed_as_pages() - c0, 200, "shmem is charged once, DONTFORK not copied");
        let child = k.task_mm(2).unwrap();
        assert_eq!(child.total_vm, 200 + 50 + 30);
        assert!(child.vmas.iter().all(|v| v.start != d));
        // the shared anon object lives until its last mapping goes
        k.exit(1).unwrap();
        assert_eq!(k.committed_as_pages(), 200 + 30);
        k.touch(2, shm, 30, Access::Read).unwrap();
        assert_eq!(k.task_mem(2).unwrap().rss_shmem, 30 * 4, "no zero page for shmem: a read allocates");
        k.exit(2).unwrap();
        assert_eq!(k.committed_as_pages(), 0);
        assert_eq!(k.nr_free_pages(), 4 * GIB);
        assert!(k.mms.iter().all(|m| m.is_none()));
    }

    #[test]
    fn fork_copies_ptes_only_where_there_is_an_anon_vma() {
        let mut k = Kernel::new(MachineConfig::default()).unwrap();
        k.spawn(1, "a").unwrap();
        let f = k.file_create("f", crate::filemap::FileKind::Disk, 8, true).unwrap().unwrap();
        let v = k.mmap(1, 8, PROT_READ, MapFlags::default(), Some(f)).unwrap().unwrap();
        k.touch(1, v, 8, Access::Read).unwrap();
        k.fork(1, 2).unwrap().unwrap();
        assert_eq!(k.task_mem(1).unwrap().rss_file, 32);
        assert_eq!(k.task_mem(2).unwrap().rss_file, 0, "file VMA without anon pages: PTEs not copied");
        let w = k.mmap(1, 4, PROT_RW, MapFlags::default(), Some(f)).unwrap().unwrap();
        assert!(k.task_mm(1).unwrap().vmas.iter().any(|x| x.start == w && x.flags & VM_ACCOUNT != 0), "private writable file mapping is accounted");
    }
}
