//! What a decoded snapshot must satisfy before it is handed out, and the derived indexes rebuilt from it.
//!
//! Two layers. Structure: every index the engine follows without checking (a task's mm, a PTE's frame or swap
//! slot, a VMA's file, a memcg id, a free list) is in range and the lists are well formed, so no later call can
//! index out of bounds on them. Accounting: the invariants the seeded property tests hold after every operation
//! (kernel/prop_tests.rs `check_invariants`): free + used == total frames, vmstat's free count, mapcounts equal
//! the PTEs mapping each frame, each mm's RSS counters and total_vm, Committed_AS equals the accounted VMAs plus
//! shmem charges, swap counts equal the swap PTEs plus shmem swap entries, nr_anon_pages, nr_swapcached, and
//! page_counter usage covering the children's. The checksum already rules out accidental damage; these catch a
//! snapshot that was edited or written by a buggy tool.

use crate::kernel::Kernel;
use crate::mm_types::{pte_frame, pte_present, Backing, MmCounter, Vma, NR_MM_COUNTERS, PMD_SHIFT, PTE_SHIFT, PTE_SWAP, PUD_SHIFT, VM_ACCOUNT};
use crate::page_alloc::frames::{F_SWAPCACHE, KIND_ANON, KIND_FREE};
use crate::vmstat::Vmstat;

pub(super) fn check_and_rebuild(k: &mut Kernel) -> Result<(), String> {
    structure(k)?;
    k.rebuild_pid_index()?;
    let nr_frames = k.frames.total();
    k.swap.check_and_reindex(nr_frames)?;
    for slot in 0..k.tasks.slots_len() {
        k.oom_scan_task(slot);
    }
    for id in 0..k.mms.len() {
        k.oom_scan_mm(id as u32);
    }
    accounting(k)
}

fn structure(k: &mut Kernel) -> Result<(), String> {
    if k.frames.total() != k.config.totalram_pages || k.config.hugetlb_total_pages > k.config.totalram_pages {
        return Err(format!("{} frames for a machine of {} pages", k.frames.total(), k.config.totalram_pages));
    }
    k.frames.check_lists()?;
    k.tasks.check()?;
    k.memcg.rebuild_path_index()?;
    let nmemcg = k.memcg.len();
    let nmm = k.mms.len();
    for t in k.tasks.iter() {
        if k.mms.get(t.mm as usize).is_none_or(Option::is_none) {
            return Err(format!("pid {}: mm {} does not exist", t.pid, t.mm));
        }
        if t.memcg_high_slept_jiffies > t.memcg_high_delay_jiffies {
            return Err(format!("pid {}: slept more memory.high delay than it was given", t.pid));
        }
        if t.memcg as usize >= nmemcg || t.oom_wait.as_ref().is_some_and(|w| w.memcg as usize >= nmemcg) || k.memcg.lookup(&t.cgroup) != Some(t.memcg) {
            return Err(format!("pid {}: memcg {} ({:?}) is not in the hierarchy", t.pid, t.memcg, t.cgroup));
        }
    }
    let mut free_mm = vec![false; nmm];
    for &i in &k.free_mms {
        if k.mms.get(i as usize).is_none_or(Option::is_some) || std::mem::replace(&mut free_mm[i as usize], true) {
            return Err(format!("free mm slot {i} is inconsistent"));
        }
    }
    let high = k.frames.high_water();
    let swap_total = k.swap.total;
    for (id, mm) in k.mms.iter().enumerate() {
        let Some(mm) = mm else { continue };
        let mut prev_end = 0;
        for v in &mm.vmas {
            if v.start >= v.end || v.start < prev_end || v.ptes.len() != Vma::nr_chunks(v.start, v.end) {
                return Err(format!("mm {id}: VMA {:#x}..{:#x} is malformed", v.start, v.end));
            }
            if let Backing::File(f) = v.backing {
                if f as usize >= k.files.len() {
                    return Err(format!("mm {id}: VMA {:#x} maps file {f}, which does not exist", v.start));
                }
            }
            prev_end = v.end;
            let mut bad = None;
            each_pte(v, |vpn, pte| {
                if (pte & PTE_SWAP != 0 && pte & !PTE_SWAP >= swap_total) || (pte_present(pte) && pte_frame(pte) >= high) {
                    bad.get_or_insert(vpn);
                }
            });
            if let Some(vpn) = bad {
                return Err(format!("mm {id}: the PTE of page {vpn:#x} points outside the machine"));
            }
            // page tables: every PTE chunk's table exists, and the PMD and PUD tables above it
            for (c, chunk) in v.ptes.iter().enumerate() {
                let t = v.first_chunk() + c as u64;
                if chunk.is_some() && !mm.pte_tables.contains(&t) {
                    return Err(format!("mm {id}: PTE chunk {t:#x} has no page table"));
                }
            }
        }
        if mm.pte_tables.iter().any(|&t| !mm.pmd_tables.contains(&(t >> (PMD_SHIFT - PTE_SHIFT))) || !mm.pud_tables.contains(&(t >> (PUD_SHIFT - PTE_SHIFT)))) {
            return Err(format!("mm {id}: a page table has no PMD or PUD table above it"));
        }
    }
    for (i, f) in k.files.iter().enumerate() {
        if let Err(e) = f.cache.check() {
            return Err(format!("file {i} ({:?}): page cache: {e}", f.name));
        }
        if f.live && f.cache.len() < f.size {
            return Err(format!("file {i} ({:?}): a page-cache index of {} pages for a file of {}", f.name, f.cache.len(), f.size));
        }
        if f.cache.present().any(|c| c > high) || f.swapped.values().any(|&s| s >= swap_total) {
            return Err(format!("file {i} ({:?}): a page points outside the machine", f.name));
        }
    }
    if k.swap_memcg.len() != swap_total as usize {
        return Err(format!("{} swap_cgroup entries for {swap_total} slots", k.swap_memcg.len()));
    }
    let memcg_ok = |m: u32| (m as usize) < nmemcg;
    if k.swap_memcg.iter().any(|&m| m != crate::memcontrol::NO_MEMCG && !memcg_ok(m)) || (0..high).any(|f| k.frames.in_use(f) && !memcg_ok(k.frames.memcg[f as usize])) {
        return Err("a page is charged to a memcg that does not exist".into());
    }
    if k.lruvecs.len() > nmemcg || k.lruvecs.iter().any(|l| !l.rings_in_range(k.frames.total())) || k.reclaim.memcg_psi.len() > nmemcg {
        return Err("an LRU list or PSI group is out of range".into());
    }
    if k.cgroup_fds.iter().any(|fd| !memcg_ok(fd.memcg)) || !memcg_ok(k.current.memcg) || !memcg_ok(k.current.memcg_in_oom) || k.current.wp_pinned.is_some_and(|f| f >= high) {
        return Err("an open cgroup file or the current entry names a memcg or frame that does not exist".into());
    }
    if k.oom.reaper.iter().any(|r| r.mm as usize >= nmm) {
        return Err("an OOM-reaper timer names an mm that does not exist".into());
    }
    Ok(())
}

/// The PTEs of the VMA's allocated chunks, with their page numbers.
fn each_pte(v: &Vma, mut f: impl FnMut(u64, u32)) {
    for (c, chunk) in v.ptes.iter().enumerate() {
        let Some(t) = chunk else { continue };
        let base = (v.first_chunk() + c as u64) << PTE_SHIFT;
        for vpn in base.max(v.start)..(base + 512).min(v.end) {
            f(vpn, t[(vpn & 511) as usize]);
        }
    }
}

fn accounting(k: &Kernel) -> Result<(), String> {
    let high = k.frames.high_water();
    let used = (0..high).filter(|&f| k.frames.in_use(f)).count() as u64 + k.config.hugetlb_total_pages as u64;
    if k.nr_free_pages() + used != k.totalram_pages() || k.vmstat.get(Vmstat::nr_free_pages) != k.nr_free_pages() {
        return Err(format!("free {} + used {used} frames != total {} (vmstat nr_free_pages {})", k.nr_free_pages(), k.totalram_pages(), k.vmstat.get(Vmstat::nr_free_pages)));
    }
    let mut mapcount = vec![0u32; high as usize];
    let mut swaprefs = vec![0u32; k.swap.total as usize];
    let mut committed = k.config.committed_as_pages as i128;
    for (id, mm) in k.mms.iter().enumerate() {
        let Some(mm) = mm else { continue };
        let mut rss = [0i64; NR_MM_COUNTERS];
        let mut total_vm = 0u64;
        let mut unmapped_frame = None;
        let mut bad_rmap = None;
        for v in &mm.vmas {
            total_vm += v.pages();
            if v.flags & VM_ACCOUNT != 0 {
                committed += v.pages() as i128;
            }
            each_pte(v, |vpn, pte| {
                if pte & PTE_SWAP != 0 {
                    rss[MmCounter::MM_SWAPENTS as usize] += 1;
                    swaprefs[(pte & !PTE_SWAP) as usize] += 1;
                } else if pte_present(pte) {
                    let f = pte_frame(pte);
                    if !k.frames.in_use(f) {
                        unmapped_frame.get_or_insert(f);
                    }
                    mapcount[f as usize] += 1;
                    rss[crate::memory::kind_counter(k.frames.kind(f)) as usize] += 1;
                    // the reverse map finds this PTE again: anon pages by anon_vma root and pgoff, file pages by file
                    let owner = match (k.frames.kind(f), v.backing) {
                        (KIND_ANON, _) => Some(v.anon_vma),
                        (_, Backing::File(fid)) => Some(fid),
                        _ => None,
                    };
                    if owner != Some(k.frames.owner[f as usize]) || k.frames.index[f as usize] != (v.pgoff + (vpn - v.start)) as u32 {
                        bad_rmap.get_or_insert(vpn);
                    }
                }
            });
        }
        if let Some(f) = unmapped_frame {
            return Err(format!("mm {id}: a PTE maps free frame {f}"));
        }
        if let Some(vpn) = bad_rmap {
            return Err(format!("mm {id}: the reverse map of the page at {vpn:#x} does not lead back to it"));
        }
        if mm.rss != rss || mm.total_vm != total_vm {
            return Err(format!("mm {id}: RSS counters {:?} / total_vm {} do not match its PTEs ({rss:?} / {total_vm})", mm.rss, mm.total_vm));
        }
    }
    let mut vma_refs = vec![0u32; k.files.len()];
    for v in k.mms.iter().flatten().flat_map(|mm| &mm.vmas) {
        if let Backing::File(fid) = v.backing {
            vma_refs[fid as usize] += 1;
        }
    }
    for (fid, file) in k.files.iter().enumerate() {
        if file.vma_refs != vma_refs[fid] || file.nr_cached != file.cache.present().count() as u64 {
            return Err(format!("file {fid}: vma_refs {} / nr_cached {} do not match its mappings and cache", file.vma_refs, file.nr_cached));
        }
        for (idx, c) in file.cache.entries() {
            let f = (c - 1) as usize;
            if (k.frames.meta[f] & crate::page_alloc::frames::KIND_MASK == KIND_FREE || k.frames.owner[f] != fid as u32 || k.frames.index[f] != idx as u32) {
                return Err(format!("file {fid}: page {idx} in the page cache is not that file's frame"));
            }
        }
    }
    if let Some(f) = (0..high).find(|&f| k.frames.in_use(f) && k.frames.has(f, F_SWAPCACHE) != k.swap.cache.slot_of(f).is_some()) {
        return Err(format!("frame {f}: its swap-cache flag and the swap cache disagree"));
    }
    for f in k.files.iter().filter(|f| f.live) {
        committed += (f.acct_size + f.acct_blocks) as i128;
        for &slot in f.swapped.values() {
            swaprefs[slot as usize] += 1;
        }
    }
    if k.committed as i128 != committed {
        return Err(format!("Committed_AS {} pages != accounted VMAs and shmem {committed}", k.committed));
    }
    if let Some(f) = (0..high).find(|&f| k.frames.in_use(f) && k.frames.mapcount(f) != mapcount[f as usize]) {
        return Err(format!("frame {f}: mapcount {} != the {} PTEs mapping it", k.frames.mapcount(f), mapcount[f as usize]));
    }
    if swaprefs != k.swap.count {
        return Err("swap slot counts != swap PTEs + shmem swap entries".into());
    }
    let anon_mapped = (0..high).filter(|&f| k.frames.in_use(f) && k.frames.kind(f) == KIND_ANON && k.frames.mapcount(f) > 0).count() as u64;
    if k.vmstat.get(Vmstat::nr_anon_pages) != anon_mapped || k.vmstat.get(Vmstat::nr_swapcached) != k.swap.cache.len() as u64 {
        return Err("vmstat nr_anon_pages or nr_swapcached does not match the pages".into());
    }
    // the LRU list sizes of each memcg (and vmstat's) count exactly its pages on each list
    let mut on_lru = vec![[0u64; crate::swap::NR_LRU_LISTS]; k.memcg.len()];
    for f in (0..high).filter(|&f| k.frames.in_use(f)) {
        if let Some(lru) = crate::swap::folio_lru_list(k.frames.meta[f as usize]) {
            on_lru[k.frames.memcg[f as usize] as usize][lru as usize] += 1;
        }
    }
    for (m, want) in on_lru.iter().enumerate() {
        let have = k.lruvecs.get(m).map(|l| l.nr).unwrap_or_default();
        if have != *want {
            return Err(format!("memcg {m}: LRU list sizes {have:?} != its pages on them {want:?}"));
        }
    }
    for lru in crate::swap::Lru::ALL {
        let total: u64 = on_lru.iter().map(|n| n[lru as usize]).sum();
        if k.vmstat.get(lru.vmstat()) != total {
            return Err(format!("vmstat {:?} {} != the {total} pages on that list", lru.vmstat(), k.vmstat.get(lru.vmstat())));
        }
    }
    let mut users = vec![0u32; k.mms.len()];
    for t in k.tasks() {
        users[t.mm as usize] += 1;
    }
    if let Some(id) = k.mms.iter().enumerate().find_map(|(id, mm)| mm.as_ref().filter(|m| m.users != users[id]).map(|_| id)) {
        return Err(format!("mm {id}: users does not match the tasks on it"));
    }
    Ok(())
}
