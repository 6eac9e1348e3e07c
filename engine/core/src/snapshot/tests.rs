//! Snapshot tests: snapshot -> restore -> snapshot is byte-identical; a run split at a random operation, saved
//! and restored into a new kernel, ends exactly as the run that was not split (seeded, many sequences); every
//! kind of damage to a snapshot gives its own E_SNAPSHOT message.

use super::*;
use crate::filemap::FileKind;
use crate::memcontrol::CgroupMode;
use crate::memory::{Access, Pattern};
use crate::mmap::{MapFlags, PROT_RW};
use crate::rand::Rng;

/// A machine drawn from `rng`: small RAM, maybe swap, cgroup v1 or v2.
fn boot(rng: &mut Rng) -> Kernel {
    let swap = [0, 64, 512][rng.below(3) as usize];
    let mode = if rng.below(2) == 0 { CgroupMode::V1 } else { CgroupMode::V2 };
    let mut k = Kernel::new(MachineConfig { totalram_pages: 1024, seed: rng.next_u64(), total_swap_pages: swap, committed_as_pages: 3, cgroup_mode: mode, ..Default::default() }).unwrap();
    k.cgroup_create("/a").unwrap().unwrap();
    let limit = if mode == CgroupMode::V1 { "memory.limit_in_bytes" } else { "memory.max" };
    k.cgroup_write("/a", limit, &format!("{}", 4096 * (64 + rng.below(256) as u64))).unwrap().unwrap();
    k.file_create("d", FileKind::Disk, 64, true).unwrap().unwrap();
    k.file_create("t", FileKind::Tmpfs, 64, false).unwrap().unwrap();
    k.spawn(1, "init").unwrap();
    k
}

/// One random operation (the choice depends only on `rng` and the kernel's state, so two equal kernels fed
/// equal generators stay equal). Errors the kernel reports are outcomes, not failures.
fn step(k: &mut Kernel, rng: &mut Rng, next_pid: &mut u32) {
    let pids: Vec<u32> = k.tasks().map(|t| t.pid).collect();
    if k.oom.panicked.is_some() {
        return;
    }
    if pids.is_empty() {
        let _ = k.spawn(*next_pid, "p");
        *next_pid += 1;
        return;
    }
    let pid = pids[rng.below(pids.len() as u32) as usize];
    let vmas: Vec<(u64, u64)> = k.task_mm(pid).unwrap().vmas.iter().map(|v| (v.start, v.end)).collect();
    let range = |rng: &mut Rng| {
        let &(s, e) = vmas.get(rng.below(vmas.len().max(1) as u32) as usize)?;
        let a = s + rng.below((e - s) as u32) as u64;
        Some((a, 1 + rng.below((e - a) as u32) as u64))
    };
    match rng.below(14) {
        0 => {
            let _ = k.spawn(*next_pid, "s");
            *next_pid += 1;
        }
        1 => {
            let _ = k.fork(pid, *next_pid);
            *next_pid += 1;
        }
        2 if pids.len() > 1 => {
            let _ = k.exit(pid); // E_BLOCKED for a task in a v1 memcg OOM wait
        }
        3 | 4 => {
            let file = [None, None, Some(0), Some(1)][rng.below(4) as usize];
            let fl = MapFlags { shared: file.is_some() && rng.below(2) == 0, anonymous: file.is_none(), noreserve: false };
            let _ = k.mmap(pid, 1 + rng.below(700) as u64, PROT_RW, fl, file);
        }
        5..=7 => {
            if let Some((a, n)) = range(rng) {
                let acc = if rng.below(3) == 0 { Access::Read } else { Access::Write };
                if rng.below(3) == 0 {
                    let _ = k.touch_pattern(pid, a, n, [Pattern::Uniform, Pattern::Zipf][rng.below(2) as usize], n, acc);
                } else {
                    let _ = k.touch(pid, a, n, acc);
                }
            }
        }
        8 => {
            if let Some((a, n)) = range(rng) {
                let _ = k.munmap(pid, a, n);
            }
        }
        9 => {
            if let Some((a, n)) = range(rng) {
                let _ = k.swapout(pid, a, n, rng.below(2) == 0);
            }
        }
        10 => {
            let _ = k.move_task(pid, if rng.below(2) == 0 { "/a" } else { "/" });
        }
        11 => {
            let _ = k.file_read(pid, rng.below(2), rng.below(60) as u64, 4);
        }
        12 => {
            let _ = k.set_oom_score_adj(pid, rng.below(2001) as i64 - 1000);
        }
        _ => {
            k.advance(1 + rng.below(3_000_000_000) as u64);
        }
    }
}

/// What a caller can observe of a kernel (besides its snapshot bytes).
fn observe(k: &mut Kernel) -> (String, Vec<u32>, Vec<String>, String) {
    let mut ev = Vec::new();
    k.drain_events(&mut ev);
    (k.meminfo_text(), ev, k.drain_log(), k.psi_text())
}

#[test]
fn snapshot_restore_snapshot_is_byte_identical() {
    for seed in 0..60 {
        let mut rng = Rng::new(seed);
        let mut k = boot(&mut rng);
        let mut next_pid = 2;
        for _ in 0..rng.below(150) {
            step(&mut k, &mut rng, &mut next_pid);
        }
        let a = k.snapshot();
        let r = restore(&a).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(r.snapshot(), a, "seed {seed}: snapshot of the restored kernel");
        assert_eq!(r.meminfo_text(), k.meminfo_text(), "seed {seed}");
    }
}

#[test]
fn a_run_split_and_restored_equals_the_unsplit_run() {
    let mut ops_total = 0;
    for seed in 0..200 {
        let mut rng = Rng::new(1000 + seed);
        let n = 20 + rng.below(200);
        let split = rng.below(n + 1);
        let mut ops = Rng::new(seed);
        let (mut whole, mut part) = (boot(&mut rng.clone()), boot(&mut rng));
        let (mut ops_a, mut pid_a, mut pid_b) = (ops.clone(), 2, 2);
        for _ in 0..n {
            step(&mut whole, &mut ops_a, &mut pid_a);
        }
        for _ in 0..split {
            step(&mut part, &mut ops, &mut pid_b);
        }
        let bytes = part.snapshot();
        drop(part);
        let mut restored = restore(&bytes).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        for _ in split..n {
            step(&mut restored, &mut ops, &mut pid_b);
        }
        assert_eq!(restored.snapshot(), whole.snapshot(), "seed {seed}: split at {split} of {n}");
        assert_eq!(observe(&mut restored), observe(&mut whole), "seed {seed}: split at {split} of {n}");
        ops_total += n;
    }
    assert!(ops_total > 10_000);
}

/// The kernel of `seed` after 120 random operations.
fn ran(seed: u64) -> Kernel {
    let mut rng = Rng::new(seed);
    let mut k = boot(&mut rng);
    let mut next_pid = 2;
    for _ in 0..120 {
        step(&mut k, &mut rng, &mut next_pid);
    }
    k
}

/// A kernel with pages in RAM, swap and the swap cache, for the corruption corpus.
fn sample() -> Kernel {
    (7..)
        .map(ran)
        .find(|k| k.swap.used() > 0 && !k.swap.cache.is_empty() && k.tasks().count() > 1)
        .unwrap()
}

fn message(bytes: &[u8]) -> String {
    match restore(bytes) {
        Ok(_) => panic!("restore accepted damaged bytes"),
        Err(e) => {
            assert_eq!(e.code, "E_SNAPSHOT");
            e.message
        }
    }
}

/// Re-seal `bytes` after editing them (a valid checksum over the edit).
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len() - 4;
    let crc = CRC32C.checksum(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn each_kind_of_damage_has_its_message() {
    let good = sample().snapshot();
    let vlen = good[10] as usize;
    let ids = 11 + vlen; // tables hash, then layout hash
    let len_at = ids + 16;
    let payload_at = len_at + 8;
    let crc_at = good.len() - 4;
    let edit = |at: usize, f: &dyn Fn(&mut u8)| {
        let mut b = good.clone();
        f(&mut b[at]);
        b
    };
    let ours = build_id().to_string();
    assert_eq!(message(b"PK\x03\x04 a zip file"), "not an oomsim snapshot (it does not start with \"OOMSIMSS\")");
    assert_eq!(message(&edit(0, &|b| *b ^= 0x20)), "not an oomsim snapshot (it does not start with \"OOMSIMSS\")");
    assert_eq!(message(&edit(8, &|b| *b = 2)), "snapshot format v2; this engine reads v1");
    assert_eq!(message(&edit(9, &|b| *b = 1)), "snapshot format v257; this engine reads v1");
    let other = |at: usize| {
        let mut b = good.clone();
        b[at] = b[at].wrapping_add(1);
        let theirs = BuildId {
            version: String::from_utf8_lossy(&b[11..11 + vlen]).into_owned(),
            tables: u64::from_le_bytes(b[ids..ids + 8].try_into().unwrap()),
            layout: u64::from_le_bytes(b[ids + 8..ids + 16].try_into().unwrap()),
        };
        (message(&b), format!("snapshot from another engine build ({theirs}; this engine is {ours})"))
    };
    for at in [11, ids, ids + 8] {
        let (have, want) = other(at);
        assert_eq!(have, want, "build identity byte {at}");
    }
    // the payload length: longer runs past the end, shorter moves the checksum
    let mut longer = good.clone();
    longer[len_at] = longer[len_at].wrapping_add(1);
    assert_eq!(message(&longer), format!("truncated: {} bytes end inside the checksum (byte {} of the snapshot)", good.len(), crc_at + 1));
    let mut shorter = good.clone();
    shorter[len_at] = shorter[len_at].wrapping_sub(1);
    assert_eq!(message(&shorter), "corrupted (checksum mismatch)");
    assert_eq!(message(&edit(payload_at + (crc_at - payload_at) / 2, &|b| *b ^= 0x01)), "corrupted (checksum mismatch)");
    assert_eq!(message(&edit(crc_at + 3, &|b| *b ^= 0x80)), "corrupted (checksum mismatch)");
    let mut extra = good.clone();
    extra.push(0);
    assert_eq!(message(&extra), "corrupted (1 extra bytes after the checksum)");
    // truncation inside and at the end of each section
    for (cut, section, at) in [
        (0, "magic", 0),
        (5, "magic", 0),
        (8, "format version", 8),
        (9, "format version", 8),
        (10, "build identity", 10),
        (11, "build identity", 11),
        (ids, "build identity", ids),
        (ids + 12, "build identity", ids + 8),
        (len_at, "payload length", len_at),
        (len_at + 3, "payload length", len_at),
        (payload_at, "payload", payload_at),
        (payload_at + 100, "payload", payload_at),
        (crc_at, "checksum", crc_at),
        (crc_at + 3, "checksum", crc_at),
    ] {
        assert_eq!(message(&good[..cut]), format!("truncated: {cut} bytes end inside the {section} (byte {at} of the snapshot)"), "cut at {cut}");
    }
    // a checksum that matches bytes that do not decode (a tool that sealed garbage)
    let mut garbage = good.clone();
    for b in &mut garbage[payload_at..payload_at + 64] {
        *b = 0xff;
    }
    assert!(message(&reseal(garbage)).starts_with("corrupted (the payload does not decode: "));
    let mut cut_payload = good[..payload_at + 40].to_vec();
    cut_payload[len_at..len_at + 8].copy_from_slice(&40u64.to_le_bytes());
    cut_payload.extend_from_slice(&[0; 4]);
    assert!(message(&reseal(cut_payload)).starts_with("corrupted (the payload does not decode: "));
}

#[test]
fn a_snapshot_that_decodes_but_is_inconsistent_is_refused() {
    let base = sample();
    let refused = |what: &str, f: &dyn Fn(&mut Kernel)| {
        let mut k = base.clone();
        f(&mut k);
        let m = message(&k.snapshot());
        assert!(m.starts_with("inconsistent state: "), "{what}: {m}");
        m
    };
    let m = refused("Committed_AS", &|k| k.committed += 1);
    assert!(m.contains("Committed_AS"), "{m}");
    let m = refused("a free frame mapped", &|k| {
        let f = (0..k.frames.high_water()).find(|&f| k.frames.in_use(f) && k.frames.mapcount(f) > 0).unwrap();
        k.frames.meta[f as usize] += 1;
    });
    assert!(m.contains("mapcount"), "{m}");
    let m = refused("task on a missing mm", &|k| {
        let slot = k.tasks.slot_at(0);
        k.tasks.get_mut(slot).unwrap().mm = 9999;
    });
    assert!(m.contains("mm 9999 does not exist"), "{m}");
    let m = refused("PTE past the machine", &|k| {
        let id = k.tasks().next().unwrap().mm;
        let mm = k.mm_mut(id);
        let v = mm.vmas.iter_mut().find(|v| v.ptes.iter().any(Option::is_some)).unwrap();
        let c = v.ptes.iter_mut().flatten().next().unwrap();
        c.iter_mut().for_each(|p| *p = crate::mm_types::pte_mk(1 << 20, true));
    });
    assert!(m.contains("points outside the machine"), "{m}");
    let m = refused("duplicate pid", &|k| {
        let pid = k.tasks().next().unwrap().pid;
        let slot = k.tasks.slot_at(1);
        k.tasks.get_mut(slot).unwrap().pid = pid;
    });
    assert!(m.contains("two task slots"), "{m}");
    let m = refused("reverse map", &|k| {
        let f = (0..k.frames.high_water()).find(|&f| k.frames.in_use(f) && k.frames.mapcount(f) > 0).unwrap();
        k.frames.index[f as usize] ^= 1;
    });
    assert!(m.contains("reverse map"), "{m}");
    let m = refused("LRU sizes", &|k| k.lruvecs[0].nr[0] += 1);
    assert!(m.contains("LRU list sizes"), "{m}");
    let m = refused("free frames miscounted", &|k| k.vmstat.v[Vmstat::nr_free_pages as usize] += 1);
    assert!(m.contains("nr_free_pages"), "{m}");
    let m = refused("swap count", &|k| k.swap.count[0] += 1);
    assert!(m.contains("swap slot counts"), "{m}");
    let m = refused("swap cache on a frame past the machine", &|k| {
        let (slot, _) = k.swap.cache.entries().next().unwrap();
        k.swap.cache.remove(slot);
        k.swap.cache.insert(slot, 1 << 20);
    });
    assert!(m.contains("swap cache entry"), "{m}");
    // edits of the swap cache's snapshot form: its (slot, frame) pairs
    let with_pairs = |k: &mut Kernel, pairs: Vec<(u32, u32)>| k.swap.cache = postcard::from_bytes(&postcard::to_allocvec(&pairs).unwrap()).unwrap();
    let m = refused("two swap-cache slots on one frame", &|k| {
        let (slot, frame) = k.swap.cache.entries().next().unwrap();
        let other = (0..k.swap.total).find(|&s| !k.swap.cache.contains_slot(s)).unwrap();
        let mut pairs: Vec<(u32, u32)> = k.swap.cache.entries().collect();
        pairs.push((other, frame));
        pairs.sort_unstable();
        assert!(pairs.iter().any(|&p| p == (slot, frame)));
        with_pairs(k, pairs);
    });
    assert!(m.contains("swap cache entry"), "{m}");
    let m = refused("a swap-cache slot past the swap areas", &|k| {
        let (slot, frame) = k.swap.cache.entries().next().unwrap();
        let past = k.swap.total + 3;
        let mut pairs: Vec<(u32, u32)> = k.swap.cache.entries().filter(|&(s, _)| s != slot).collect();
        pairs.push((past, frame));
        with_pairs(k, pairs);
    });
    assert!(m.contains("past the"), "{m}");
}

use crate::vmstat::Vmstat;

#[test]
fn the_generated_runs_reach_swap_cgroups_and_the_oom_killer() {
    let (mut pages, mut swapped, mut ooms, mut tasks) = (0, 0, 0, 0);
    for seed in 0..200 {
        let mut rng = Rng::new(1000 + seed);
        let n = 20 + rng.below(200);
        let mut k = boot(&mut rng);
        let (mut ops, mut pid) = (Rng::new(seed), 2);
        for _ in 0..n {
            step(&mut k, &mut ops, &mut pid);
        }
        pages += k.stats.pages_allocated;
        swapped += k.vmstat.get(Vmstat::pswpout);
        ooms += k.oom.records.len();
        tasks += k.tasks().count();
    }
    eprintln!("pages {pages} pswpout {swapped} ooms {ooms} tasks {tasks}");
    assert!(pages > 50_000 && swapped > 1_000 && ooms > 20 && tasks > 200, "pages {pages} pswpout {swapped} ooms {ooms} tasks {tasks}");
}

/// Resealed edits of a payload (1 to 3 bits flipped, the checksum recomputed: what a buggy tool would write):
/// restore refuses them or hands out a kernel that runs on without panicking, i.e. never a handle that traps
/// later. Several machines (v1 and v2, with swap), 4,000 edits. Before the reverse-map, LRU-size, page-table,
/// swap-cache-flag, file-reference and memory.high checks in check.rs, 23 of the 1,192 accepted edits panicked.
#[test]
fn resealed_payload_edits_are_refused_or_run() {
    let samples: Vec<Vec<u8>> = (7..40)
        .map(ran)
        .filter(|k| k.swap.used() > 0 && k.tasks().count() > 1)
        .take(4)
        .map(|k| k.snapshot())
        .collect();
    assert_eq!(samples.len(), 4);
    let mut rng = Rng::new(99);
    let (mut refused, mut ran, mut panics) = (0, 0, Vec::new());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..4000u64 {
        let good = &samples[(i % 4) as usize];
        let payload_at = 11 + good[10] as usize + 24;
        let crc_at = good.len() - 4;
        let mut b = good.clone();
        for _ in 0..1 + rng.below(3) {
            let at = payload_at + rng.below((crc_at - payload_at) as u32) as usize;
            b[at] ^= 1 << rng.below(8);
        }
        let b = reseal(b);
        let r = std::panic::catch_unwind(|| match restore(&b) {
            Err(e) => {
                assert_eq!(e.code, "E_SNAPSHOT");
                false
            }
            Ok(mut k) => {
                let (mut ops, mut pid) = (Rng::new(i), 1000);
                for _ in 0..60 {
                    step(&mut k, &mut ops, &mut pid);
                }
                true
            }
        });
        match r {
            Ok(false) => refused += 1,
            Ok(true) => ran += 1,
            Err(p) => panics.push((i, p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())),
        }
    }
    std::panic::set_hook(hook);
    assert!(panics.is_empty(), "{} of {} accepted edits panicked later: {:?}", panics.len(), ran + panics.len(), &panics[..panics.len().min(5)]);
    assert!(refused > 1000 && ran > 500, "refused {refused}, ran {ran}");
}

/// A MAP_SHARED|MAP_ANONYMOUS object freed with its last mapping keeps its size but drops its page-cache index
/// (filemap `file_put_vma_ref`): a snapshot of that state restores, and a live file with a short index does not.
#[test]
fn a_freed_shmem_object_restores_and_a_short_live_index_is_refused() {
    let mut k = Kernel::new(MachineConfig { totalram_pages: 1024, ..Default::default() }).unwrap();
    k.spawn(1, "p").unwrap();
    let vpn = k.mmap(1, 16, PROT_RW, MapFlags { shared: true, anonymous: true, noreserve: false }, None).unwrap().unwrap();
    k.touch(1, vpn, 16, Access::Write).unwrap();
    k.munmap(1, vpn, 16).unwrap().unwrap();
    let dead = k.files.iter().position(|f| f.kind == FileKind::ShmemAnon).expect("the shmem object");
    assert!(!k.files[dead].live && k.files[dead].size == 16 && k.files[dead].cache.len() == 0);
    let bytes = k.snapshot();
    assert_eq!(Kernel::restore(&bytes).expect("restores").snapshot(), bytes);
    let fid = k.file_create("d", FileKind::Disk, 8, false).unwrap().unwrap() as usize;
    k.files[fid].size = 9;
    let err = Kernel::restore(&k.snapshot()).err().expect("refused");
    assert!(err.message.contains("a page-cache index of 8 pages for a file of 9"), "{}", err.message);
}
