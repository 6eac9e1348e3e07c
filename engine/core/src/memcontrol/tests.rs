//! Unit tests of the memcg tree, including the cgroup-level parts of the public memcg `ops` vectors replayed
//! against the tree with a fake engine.

use super::*;
use std::collections::BTreeMap;

/// A fake engine: per memcg, pages reclaim can free (clean page cache) and "tasks" (pages owned) the OOM killer
/// can kill (the largest in the OOM memcg's subtree). Kills raise `oom_kill` on the victim's memcg.
#[derive(Default)]
struct FakeEnv {
    reclaimable: BTreeMap<MemcgId, u64>,
    tasks: Vec<(MemcgId, u64)>,
    reclaim_calls: u64,
    oom_calls: u64,
    killed: Vec<usize>,
    recovered: Vec<MemcgId>,
}

impl MemcgEnv for FakeEnv {
    fn reclaim(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, nr_pages: u64, _may_swap: bool) -> u64 {
        self.reclaim_calls += 1;
        let want = nr_pages.max(SWAP_CLUSTER_MAX);
        let mut got = 0;
        for m in tree.subtree(memcg) {
            let r = self.reclaimable.entry(m).or_default();
            let n = (*r).min(want - got);
            *r -= n;
            got += n;
            tree.uncharge(m, n);
            if got == want {
                break;
            }
        }
        got
    }
    fn out_of_memory(&mut self, tree: &mut MemCgroupTree, memcg: MemcgId, _order: u32) -> bool {
        self.oom_calls += 1;
        let victim = (0..self.tasks.len())
            .filter(|&i| !self.killed.contains(&i) && tree.is_descendant(self.tasks[i].0, memcg))
            .max_by_key(|&i| self.tasks[i].1);
        let Some(v) = victim else { return false };
        self.killed.push(v);
        let (m, pages) = self.tasks[v];
        tree.memcg_memory_event(m, MemcgEvent::OomKill);
        tree.uncharge(m, pages);
        self.tasks[v].1 = 0;
        true
    }
    fn memcg1_oom_recover(&mut self, _tree: &mut MemCgroupTree, memcg: MemcgId) {
        self.recovered.push(memcg);
    }
}

fn user_fault() -> ChargeTask {
    ChargeTask { in_user_fault: true, ..Default::default() }
}

fn kv(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{key} not in {text}"))
        .parse()
        .unwrap()
}

#[test]
fn mkdir_requires_parent_and_inherits_v1() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    assert_eq!(t.mkdir("/A/B"), Err(Errno::ENOENT));
    let a = t.mkdir("/A").unwrap();
    assert_eq!(t.mkdir("/A"), Err(Errno::EINVAL));
    let mut env = FakeEnv::default();
    t.write(&mut env, a, "memory.oom_control", "1").unwrap();
    t.write(&mut env, a, "memory.swappiness", "10").unwrap();
    let b = t.mkdir("/A/B").unwrap();
    assert!(t.memcg(b).oom_kill_disable);
    assert_eq!(t.read(b, "memory.swappiness").unwrap(), "10\n");
    assert_eq!(t.path(b), "/A/B");
    assert_eq!(t.write(&mut env, a, "memory.swappiness", "201"), Err(Errno::EINVAL));
    t.write(&mut env, ROOT_MEMCG, "memory.swappiness", "30").unwrap();
    assert_eq!(t.vm_swappiness, 30);
}

// v1-memsw-invariant, v1-limit-below-memsw-required
#[test]
fn v1_memsw_invariant() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    t.mkdir("/A").unwrap();
    assert_eq!(t.write_file(&mut env, "/A", "memory.limit_in_bytes", "209715200"), Ok(()));
    assert_eq!(t.write_file(&mut env, "/A", "memory.memsw.limit_in_bytes", "104857600"), Err(Errno::EINVAL));
    t.write_file(&mut env, "/A", "memory.memsw.limit_in_bytes", "209715200").unwrap();
    assert_eq!(t.write_file(&mut env, "/A", "memory.limit_in_bytes", "209719296"), Err(Errno::EINVAL));
    assert_eq!(t.write_file(&mut env, "/", "memory.limit_in_bytes", "4096"), Err(Errno::EINVAL));
}

// v1-limit-rounding and the measured memparse rules
#[test]
fn v1_limit_rounding() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    t.mkdir("/A").unwrap();
    let rd = |t: &MemCgroupTree| t.read_file("/A", "memory.limit_in_bytes").unwrap();
    for (v, want) in [("4097", "4096\n"), ("1", "0\n"), ("-1", "9223372036854771712\n"), ("1G", "1073741824\n")] {
        t.write_file(&mut env, "/A", "memory.limit_in_bytes", v).unwrap();
        assert_eq!(rd(&t), want, "{v}");
    }
    for bad in ["max", "-2", "1.5M", "abc"] {
        assert_eq!(t.write_file(&mut env, "/A", "memory.limit_in_bytes", bad), Err(Errno::EINVAL));
    }
    t.write_file(&mut env, "/A", "memory.limit_in_bytes", "").unwrap();
    assert_eq!(rd(&t), "1073741824\n");
    t.write_file(&mut env, "/A", "memory.limit_in_bytes", "1k").unwrap();
    assert_eq!(rd(&t), "0\n");
    assert_eq!(t.read_file("/A", "memory.soft_limit_in_bytes").unwrap(), "9223372036854771712\n");
    assert_eq!(t.read_file("/A", "memory.nope"), None);
    assert_eq!(t.write_file(&mut env, "/A", "memory.nope", "1"), Err(Errno::ENOENT));
    assert_eq!(t.write_file(&mut env, "/A", "memory.usage_in_bytes", "1"), Err(Errno::EINVAL));
}

// v1-failcnt-on-failing-ancestor
#[test]
fn v1_failcnt_on_failing_ancestor() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let c = t.mkdir("/P/C").unwrap();
    t.write(&mut env, p, "memory.limit_in_bytes", "409600").unwrap();
    t.counter_try_charge(p, 60).unwrap();
    t.counter_try_charge(c, 40).unwrap();
    assert_eq!(t.counter_try_charge(c, 1), Err((p, false)));
    assert_eq!(t.memory(p).failcnt, 1);
    assert_eq!(t.memory(c).failcnt, 0);
    assert_eq!(t.memory(p).usage, 100);
    assert_eq!(t.memory(c).usage, 40);
    assert_eq!(t.memsw(c).unwrap().usage, 40, "memsw part undone");
    assert_eq!(t.memsw(p).unwrap().failcnt, 0);
    t.write(&mut env, p, "memory.failcnt", "junk").unwrap();
    assert_eq!(t.read(p, "memory.failcnt").unwrap(), "0\n");
}

// v1-max-usage-reset
#[test]
fn v1_max_usage_reset() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.counter_try_charge(a, 50).unwrap();
    t.uncharge(a, 20);
    t.write(&mut env, a, "memory.max_usage_in_bytes", "0").unwrap();
    t.counter_try_charge(a, 10).unwrap();
    assert_eq!(t.read(a, "memory.usage_in_bytes").unwrap(), "163840\n");
    assert_eq!(t.read(a, "memory.max_usage_in_bytes").unwrap(), "163840\n");
}

// v1-limit-write-no-oom
#[test]
fn v1_limit_write_ebusy_never_oom() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    env.tasks.push((a, 30000));
    for _ in 0..30000 {
        assert_eq!(t.try_charge_memcg(&mut env, &mut user_fault(), a, ChargeGfp::KERNEL, 1), ChargeResult::Charged);
    }
    assert_eq!(t.write(&mut env, a, "memory.limit_in_bytes", "81920000"), Err(Errno::EBUSY));
    assert_eq!(env.oom_calls, 0);
    assert_eq!(env.reclaim_calls, 1, "drain first, then one fruitless reclaim");
    assert_eq!(t.read(a, "memory.limit_in_bytes").unwrap(), "9223372036854771712\n");
    assert_eq!(t.memory(a).failcnt, 0);
    // with reclaimable page cache the write succeeds after reclaiming
    env.reclaimable.insert(a, 30000);
    assert_eq!(t.write(&mut env, a, "memory.limit_in_bytes", "81920000"), Ok(()));
    assert!(t.memory(a).usage <= 20000);
}

// v1-oom-kill-disable (cgroup-level part)
#[test]
fn v1_oom_kill_disable_waits() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.limit_in_bytes", "409600").unwrap();
    t.write(&mut env, a, "memory.oom_control", "1").unwrap();
    env.tasks.push((a, 20));
    let mut task = user_fault();
    for _ in 0..100 {
        assert!(t.try_charge_memcg(&mut env, &mut task, a, ChargeGfp::KERNEL, 1).is_ok());
    }
    let r = t.try_charge_memcg(&mut env, &mut task, a, ChargeGfp::KERNEL, 1);
    assert_eq!(r, ChargeResult::OomWait(a));
    assert_eq!(env.oom_calls, 0);
    assert_eq!(task.memcg_in_oom, Some(a));
    let oc = t.read(a, "memory.oom_control").unwrap();
    assert_eq!(oc, "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n");
    assert_eq!(t.events(a, MemcgEvent::Oom), 1);
    // failcnt: 18 failed passes before the OOM, no stock
    assert_eq!(t.memory(a).failcnt, 18);
    // a kernel-context charge (page cache read) gets ENOMEM
    let mut kt = ChargeTask::default();
    assert_eq!(t.try_charge_memcg(&mut env, &mut kt, a, ChargeGfp::KERNEL, 1), ChargeResult::NoMem);
    // raising the limit wakes the waiters
    t.write(&mut env, a, "memory.limit_in_bytes", "614400").unwrap();
    assert_eq!(env.recovered, vec![a]);
    t.oom_wait_end(&mut task);
    assert_eq!(t.memcg(a).under_oom, 0);
    assert_eq!(t.write(&mut env, ROOT_MEMCG, "memory.oom_control", "1"), Err(Errno::EINVAL));
    assert_eq!(t.write(&mut env, a, "memory.oom_control", "2"), Err(Errno::EINVAL));
    // oom_kill_disable=0 wakes only while under_oom
    t.mark_under_oom(a);
    t.write(&mut env, a, "memory.oom_control", "0").unwrap();
    assert_eq!(env.recovered, vec![a, a]);
}

// v2-events-propagation
#[test]
fn v2_events_propagation() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let c = t.mkdir("/P/C").unwrap();
    t.write(&mut env, c, "memory.max", "409600").unwrap();
    for _ in 0..100 {
        assert!(t.try_charge_memcg(&mut env, &mut ChargeTask::default(), c, ChargeGfp::KERNEL, 1).is_ok());
    }
    env.reclaimable.insert(c, 100);
    assert_eq!(t.try_charge_memcg(&mut env, &mut user_fault(), c, ChargeGfp::KERNEL, 1), ChargeResult::Charged);
    assert_eq!(kv(&t.read(c, "memory.events").unwrap(), "max"), 1);
    assert_eq!(kv(&t.read(c, "memory.events.local").unwrap(), "max"), 1);
    assert_eq!(kv(&t.read(p, "memory.events").unwrap(), "max"), 1);
    assert_eq!(kv(&t.read(p, "memory.events.local").unwrap(), "max"), 0);
    assert_eq!(t.read(ROOT_MEMCG, "memory.events"), None);
    assert_eq!(t.events(ROOT_MEMCG, MemcgEvent::Max), 0);
    assert_eq!(
        t.read(c, "memory.events").unwrap(),
        "low 0\nhigh 0\nmax 1\noom 0\noom_kill 0\noom_group_kill 0\nsock_throttled 0\n"
    );
}

// v2-events-oom-sequence
#[test]
fn v2_events_oom_sequence() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let c = t.mkdir("/P/C").unwrap();
    t.write(&mut env, c, "memory.max", "409600").unwrap();
    env.tasks.push((c, 0));
    let mut task = user_fault();
    let mut oomed = false;
    for _ in 0..200 {
        let r = t.try_charge_memcg(&mut env, &mut task, c, ChargeGfp::KERNEL, 1);
        assert!(r.is_ok());
        if env.killed.is_empty() {
            env.tasks[0].1 += 1;
        } else {
            // the task was killed during this charge: it exits, the op is abandoned
            oomed = true;
            t.uncharge(c, 1);
            break;
        }
    }
    assert!(oomed);
    for m in [c, p] {
        let ev = t.read(m, "memory.events").unwrap();
        assert!(kv(&ev, "max") >= 1);
        assert_eq!(kv(&ev, "oom"), 1);
        assert_eq!(kv(&ev, "oom_kill"), 1);
    }
    assert_eq!(t.memory(c).usage, 0);
}

// v2-events-ancestor-limit
#[test]
fn v2_events_ancestor_limit() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let c = t.mkdir("/P/C").unwrap();
    let d = t.mkdir("/P/D").unwrap();
    t.write(&mut env, p, "memory.max", "409600").unwrap();
    for _ in 0..60 {
        assert!(t.try_charge_memcg(&mut env, &mut user_fault(), d, ChargeGfp::KERNEL, 1).is_ok());
    }
    env.tasks.push((d, 60));
    env.tasks.push((c, 0));
    for _ in 0..50 {
        assert!(t.try_charge_memcg(&mut env, &mut user_fault(), c, ChargeGfp::KERNEL, 1).is_ok());
        env.tasks[1].1 += 1;
    }
    assert_eq!(env.killed, vec![0], "the victim is in the sibling D");
    assert_eq!(t.mem_cgroup_get_max(p, 0), 100);
    let cl = t.read(c, "memory.events.local").unwrap();
    assert_eq!((kv(&cl, "max"), kv(&cl, "oom")), (0, 0));
    let pl = t.read(p, "memory.events.local").unwrap();
    assert!(kv(&pl, "max") >= 1);
    assert_eq!(kv(&pl, "oom"), 1);
    assert_eq!(kv(&t.read(d, "memory.events").unwrap(), "oom_kill"), 1);
    assert_eq!(kv(&t.read(p, "memory.events").unwrap(), "oom_kill"), 1);
}

// v2-current-and-tunables
#[test]
fn v2_current_and_tunables() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.counter_try_charge(a, 25600).unwrap();
    t.write(&mut env, a, "memory.high", "104857601").unwrap();
    assert_eq!(t.read(a, "memory.current").unwrap(), "104857600\n");
    assert_eq!(t.read(a, "memory.max").unwrap(), "max\n");
    assert_eq!(t.read(a, "memory.high").unwrap(), "104857600\n");
    assert_eq!(t.read(ROOT_MEMCG, "memory.current"), None);
    assert!(t.read(ROOT_MEMCG, "memory.stat").is_some());
    // memory.high below usage: reclaim runs (1 + 16 fruitless retries after the drain), no OOM
    t.write(&mut env, a, "memory.high", "0").unwrap();
    assert_eq!(env.reclaim_calls, 17);
    assert_eq!(env.oom_calls, 0);
    assert_eq!(t.write(&mut env, a, "memory.high", "-1"), Err(Errno::EINVAL));
    assert_eq!(t.write(&mut env, a, "memory.oom.group", "2"), Err(Errno::EINVAL));
    t.write(&mut env, a, "memory.oom.group", "1").unwrap();
    assert_eq!(t.read(a, "memory.oom.group").unwrap(), "1\n");
    t.write(&mut env, a, "memory.low", "8192").unwrap();
    assert_eq!(t.read(a, "memory.low").unwrap(), "8192\n");
}

// v2-max-write-below-usage
#[test]
fn v2_max_write_reclaims_then_ooms() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.counter_try_charge(a, 310).unwrap();
    env.tasks.push((a, 200));
    env.tasks.push((a, 100));
    t.write(&mut env, a, "memory.max", "0").unwrap();
    assert_eq!(t.read(a, "memory.max").unwrap(), "0\n");
    assert_eq!(env.reclaim_calls, 16);
    assert_eq!(env.killed, vec![0, 1]);
    assert_eq!(env.oom_calls, 3, "two kills, then no victim left for the 10 kernel pages");
    assert_eq!(t.events(a, MemcgEvent::Oom), 3);
    assert_eq!(t.memory(a).usage, 10);
}

// v2-peak
#[test]
fn v2_peak_fd_local() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let a = t.mkdir("/A").unwrap();
    t.counter_try_charge(a, 100).unwrap();
    t.uncharge(a, 60);
    let fd2 = t.peak_open(a, false);
    let fd1 = t.peak_open(a, false);
    t.peak_write(fd1, "reset").unwrap();
    t.counter_try_charge(a, 10).unwrap();
    assert_eq!(t.read(a, "memory.peak").unwrap(), "409600\n");
    assert_eq!(t.peak_read(fd1), Some(50));
    assert_eq!(t.peak_read(fd2), Some(100));
    // a second reset by another fd does not lose fd1's peak
    t.counter_try_charge(a, 30).unwrap();
    t.uncharge(a, 30);
    t.peak_write(fd2, "x").unwrap();
    assert_eq!(t.peak_read(fd1), Some(80));
    assert_eq!(t.peak_read(fd2), Some(50));
}

// v2-swap-max-fail
#[test]
fn v2_swap_max_fail() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.swap.max", "0").unwrap();
    assert!(!t.try_charge_swap(a, 1));
    let ev = t.read(a, "memory.swap.events").unwrap();
    assert_eq!(ev, "high 0\nmax 1\nfail 1\n");
    t.write(&mut env, a, "memory.swap.max", "max").unwrap();
    assert!(t.try_charge_swap(a, 1));
    assert_eq!(t.read(a, "memory.swap.current").unwrap(), "4096\n");
}

// oom-group-kill (the memcg part)
#[test]
fn oom_group_lookup_and_events() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let c = t.mkdir("/P/C").unwrap();
    t.write(&mut env, c, "memory.oom.group", "1").unwrap();
    assert_eq!(t.mem_cgroup_get_oom_group(c, Some(p)), Some(c));
    t.write(&mut env, p, "memory.oom.group", "1").unwrap();
    assert_eq!(t.mem_cgroup_get_oom_group(c, Some(p)), Some(p));
    assert_eq!(t.mem_cgroup_get_oom_group(c, Some(c)), Some(c), "walk stops at the domain");
    assert_eq!(t.mem_cgroup_get_oom_group(c, None), Some(p));
    assert_eq!(t.mem_cgroup_get_oom_group(ROOT_MEMCG, None), None);
    let q = t.mkdir("/Q").unwrap();
    assert_eq!(t.mem_cgroup_get_oom_group(c, Some(q)), None, "outside the domain");
    t.memcg_memory_event(c, MemcgEvent::OomGroupKill);
    assert_eq!(t.events(p, MemcgEvent::OomGroupKill), 1);
    assert_eq!(t.events_local(p, MemcgEvent::OomGroupKill), 0);
}

#[test]
fn get_max_v1_v2() {
    let mut env = FakeEnv::default();
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.max", "409600").unwrap();
    assert_eq!(t.mem_cgroup_get_max(a, 1000), 1100);
    t.write(&mut env, a, "memory.swap.max", "40960").unwrap();
    assert_eq!(t.mem_cgroup_get_max(a, 1000), 110);
    t.vm_swappiness = 0;
    assert_eq!(t.mem_cgroup_get_max(a, 1000), 100);
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.limit_in_bytes", "409600").unwrap();
    t.write(&mut env, a, "memory.memsw.limit_in_bytes", "819200").unwrap();
    assert_eq!(t.mem_cgroup_get_max(a, 1000), 200);
    assert_eq!(t.mem_cgroup_get_max(a, 50), 150);
    t.write(&mut env, a, "memory.swappiness", "0").unwrap();
    assert_eq!(t.mem_cgroup_get_max(a, 1000), 100);
}

#[test]
fn v1_memsw_failure_reclaims_without_swap_and_forced_charges() {
    struct Env(Vec<bool>);
    impl MemcgEnv for Env {
        fn reclaim(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u64, may_swap: bool) -> u64 {
            self.0.push(may_swap);
            0
        }
        fn out_of_memory(&mut self, _: &mut MemCgroupTree, _: MemcgId, _: u32) -> bool {
            false
        }
    }
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = Env(vec![]);
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.limit_in_bytes", "40960").unwrap();
    t.write(&mut env, a, "memory.memsw.limit_in_bytes", "40960").unwrap();
    t.counter_try_charge(a, 10).unwrap();
    let mut task = ChargeTask::default();
    let gfp = ChargeGfp { nofail: true, ..ChargeGfp::KERNEL };
    assert_eq!(t.try_charge_memcg(&mut env, &mut task, a, gfp, 1), ChargeResult::Forced);
    assert!(env.0.iter().all(|s| !s), "memsw failure: no swap");
    assert_eq!(t.memory(a).usage, 11);
    assert_eq!(t.memsw(a).unwrap().usage, 11);
    assert_eq!(t.memory(a).failcnt, 0, "memory was never tried: memsw failed first");
    // PF_MEMALLOC forces without reclaim, raising max once
    let before = env.0.len();
    let mut task = ChargeTask { pf_memalloc: true, ..Default::default() };
    assert_eq!(t.try_charge_memcg(&mut env, &mut task, a, ChargeGfp::KERNEL, 1), ChargeResult::Forced);
    assert_eq!(env.0.len(), before);
}

#[test]
fn stock_precharge_and_drain() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    t.use_stock = true;
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    assert!(t.try_charge_memcg(&mut env, &mut ChargeTask::default(), a, ChargeGfp::KERNEL, 1).is_ok());
    assert_eq!(t.memory(a).usage, 64);
    assert!(t.try_charge_memcg(&mut env, &mut ChargeTask::default(), a, ChargeGfp::KERNEL, 1).is_ok());
    assert_eq!(t.memory(a).usage, 64);
    t.drain_all_stock(ROOT_MEMCG);
    assert_eq!(t.memory(a).usage, 2);
}

#[test]
fn high_overage_and_throttle() {
    assert_eq!(calculate_overage(25856, 25600), 10485);
    assert_eq!(calculate_overage(25600, 25600), 0);
    assert_eq!(calculate_high_delay(10485, 64, 1000), 6);
    assert_eq!(calculate_high_delay(calculate_overage(26112, 25600), 64, 1000), 25);
    assert_eq!(clamp_high_delay(calculate_high_delay(calculate_overage(30208, 25600), 64, 1000), 1000), 2000);
    assert!(!high_delay_sleeps(10, 1000));
    assert!(high_delay_sleeps(11, 1000));
    // charge path: over high adds the batch to the task; reclaim_high raises `high`
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    t.write(&mut env, a, "memory.high", "409600").unwrap();
    let mut task = ChargeTask::default();
    for _ in 0..101 {
        assert!(t.try_charge_memcg(&mut env, &mut task, a, ChargeGfp::KERNEL, 1).is_ok());
    }
    assert_eq!(task.nr_pages_over_high, 1);
    let slept = t.mem_cgroup_handle_over_high(&mut env, &mut task, a);
    assert_eq!(slept, 0, "1% over: small penalty, no sleep");
    assert_eq!(t.events(a, MemcgEvent::High), 1);
}

#[test]
fn protection_through_tree() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let p = t.mkdir("/P").unwrap();
    let a = t.mkdir("/P/A").unwrap();
    let b = t.mkdir("/P/B").unwrap();
    t.write(&mut env, p, "memory.low", "409600").unwrap();
    t.write(&mut env, a, "memory.low", "409600").unwrap();
    t.write(&mut env, b, "memory.low", "819200").unwrap();
    t.counter_try_charge(a, 100).unwrap();
    t.counter_try_charge(b, 200).unwrap();
    for m in [p, a, b] {
        t.mem_cgroup_calculate_protection(None, m);
    }
    assert_eq!(t.memory(p).elow, 100);
    assert_eq!(t.memory(a).elow, 33);
    assert_eq!(t.memory(b).elow, 66);
    assert!(!t.mem_cgroup_below_low(None, a));
    assert!(!t.mem_cgroup_below_low(Some(p), p), "the reclaim target is never protected");
}

#[test]
fn soft_limit_and_stat_formats() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    let b = t.mkdir("/A/B").unwrap();
    t.write(&mut env, a, "memory.soft_limit_in_bytes", "819200").unwrap();
    t.counter_try_charge(a, 300).unwrap();
    assert_eq!(t.soft_limit_excess(a), 100);
    t.mod_stat(a, Stat::Anon, 3);
    t.mod_stat(b, Stat::Anon, 2);
    t.mod_stat(b, Stat::Pgfault, 7);
    let s = t.read(a, "memory.stat").unwrap();
    let keys: Vec<&str> = s.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(&keys[..3], &["cache", "rss", "rss_huge"]);
    assert_eq!(keys[20], "hierarchical_memory_limit");
    assert_eq!(keys[22], "total_cache");
    assert_eq!(keys.len(), 42);
    assert_eq!(kv(&s, "rss"), 3 * 4096);
    assert_eq!(kv(&s, "total_rss"), 5 * 4096);
    assert_eq!(kv(&s, "total_pgfault"), 7);
    assert_eq!(kv(&s, "hierarchical_memory_limit"), 9223372036854771712);
    // root usage is approximated from the statistics
    assert_eq!(t.read(ROOT_MEMCG, "memory.usage_in_bytes").unwrap(), format!("{}\n", 5 * 4096));
    assert_eq!(t.read(ROOT_MEMCG, "memory.use_hierarchy").unwrap(), "1\n");
    assert_eq!(t.write(&mut env, a, "memory.use_hierarchy", "0"), Err(Errno::EINVAL));
    t.write(&mut env, a, "memory.use_hierarchy", "1").unwrap();

    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let a = t.mkdir("/A").unwrap();
    t.mod_stat(a, Stat::SlabReclaimable, 1);
    t.mod_stat(a, Stat::SlabUnreclaimable, 2);
    let s = t.read(a, "memory.stat").unwrap();
    let keys: Vec<&str> = s.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(&keys[..3], &["anon", "file", "kernel"]);
    let i = keys.iter().position(|k| *k == "slab_unreclaimable").unwrap();
    assert_eq!(keys[i + 1], "slab");
    assert_eq!(kv(&s, "slab"), 3 * 4096);
    let i = keys.iter().position(|k| *k == "pgscan").unwrap();
    assert_eq!(keys[i - 1], "pgpromote_success");
    assert_eq!(keys[i + 2], "pswpin");
}

#[test]
fn oom_meminfo_lines() {
    let mut t = MemCgroupTree::new(CgroupMode::V2);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/batch").unwrap();
    t.write(&mut env, a, "memory.max", "409600").unwrap();
    t.counter_try_charge(a, 100).unwrap();
    t.memcg_memory_event(a, MemcgEvent::Max);
    let l = t.mem_cgroup_print_oom_meminfo(a);
    assert_eq!(l[0], "memory: usage 400kB, limit 400kB, failcnt 1");
    assert_eq!(l[1], "swap: usage 0kB, limit 9007199254740988kB, failcnt 0");
    assert_eq!(l[2], "Memory cgroup stats for /batch:");
    assert!(l[3].starts_with("anon "));
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let a = t.mkdir("/A").unwrap();
    let l = t.mem_cgroup_print_oom_meminfo(a);
    assert_eq!(l[0], "memory: usage 0kB, limit 9007199254740988kB, failcnt 0");
    assert!(l[1].starts_with("memory+swap: usage 0kB"));
    assert!(l[2].starts_with("kmem: "));
    assert_eq!(l[3], "Memory cgroup stats for /A:");
    assert!(l[4].starts_with("cache "));
}

#[test]
fn get_order_values() {
    assert_eq!(charge::get_order(1), 0);
    assert_eq!(charge::get_order(8), 3);
    assert_eq!(charge::get_order(9), 4);
    assert_eq!(charge::get_order(16), 4);
}

#[test]
fn v1_event_ratelimit_is_time_after() {
    use super::v1::memcg1_event_ratelimit;
    let mut target = 0;
    assert!(memcg1_event_ratelimit(1, &mut target, 1024), "the first event passes the initial target");
    assert_eq!(target, 1025);
    assert!(!memcg1_event_ratelimit(1025, &mut target, 1024), "equal is not after");
    assert!(memcg1_event_ratelimit(1026, &mut target, 1024));
    assert_eq!(target, 2050);
    // the comparison is a signed difference, so it survives the counter wrapping
    let mut t2 = u64::MAX - 10;
    assert!(memcg1_event_ratelimit(5, &mut t2, 128));
    assert_eq!(t2, 133);
}

/// The soft limit tree files memcgs by the excess seen at their last update (every 1024 page events), and hands
/// out the largest first; an equal excess filed later goes to the right, so it is handed out first.
#[test]
fn v1_soft_limit_tree_order_and_ratelimit() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let mut env = FakeEnv::default();
    let a = t.mkdir("/A").unwrap();
    let b = t.mkdir("/B").unwrap();
    let c = t.mkdir("/C").unwrap();
    for (m, soft) in [(a, 100u64), (b, 100), (c, 100)] {
        t.write(&mut env, m, "memory.soft_limit_in_bytes", &(soft * 4096).to_string()).unwrap();
    }
    // A: 300 pages charged one at a time; only the first event updates the tree (excess 0 then: not filed)
    for _ in 0..300 {
        t.counter_try_charge(a, 1).unwrap();
        t.memcg1_page_events(a, 1);
    }
    assert!(t.soft_limit_tree_order().is_empty(), "the update ran at event 1, when A was under its soft limit");
    // The soft check only runs inside a passing threshold check (every 129 events: at 130, 259, ..., 904,
    // 1033): the first one past the SOFTLIMIT target (1025) is at event 1033, when A is filed with its excess.
    for _ in 300..1032 {
        t.counter_try_charge(a, 1).unwrap();
        t.memcg1_page_events(a, 1);
    }
    assert!(t.soft_limit_tree_order().is_empty(), "event 1032: no update yet");
    t.counter_try_charge(a, 1).unwrap();
    t.memcg1_page_events(a, 1);
    assert_eq!(t.soft_limit_tree_order(), vec![a]);
    assert_eq!(t.memcg(a).usage_in_excess, 1033 - 100);
    // B and C: one big charge each, then one event; equal excess: C, filed later, comes first
    t.counter_try_charge(b, 400).unwrap();
    t.memcg1_page_events(b, 1);
    t.counter_try_charge(c, 400).unwrap();
    t.memcg1_page_events(c, 1);
    assert_eq!(t.soft_limit_tree_order(), vec![a, c, b]);
    // a memcg whose excess is gone is dropped when it reaches the top
    t.uncharge(a, 1033);
    assert_eq!(t.soft_tree_take_largest(), Some(c));
    assert_eq!(t.soft_limit_tree_order(), vec![b], "A was dropped, C taken off");
    assert!(!t.memcg(a).soft_on_tree && !t.memcg(c).soft_on_tree);
    t.soft_tree_insert(c, 300);
    assert_eq!(t.soft_limit_tree_order(), vec![c, b], "refiled with the same excess as B: right of B, so first");
    // v2 has no soft limit tree
    let mut t2 = MemCgroupTree::new(CgroupMode::V2);
    let x = t2.mkdir("/X").unwrap();
    t2.memcg1_page_events(x, 5);
    assert_eq!(t2.memcg(x).nr_page_events, 0);
}

/// The reclaim-cookie walk resumes after the last memcg it returned and ends each pass with None.
#[test]
fn reclaim_iter_resumes_in_pre_order() {
    let mut t = MemCgroupTree::new(CgroupMode::V1);
    let a = t.mkdir("/A").unwrap();
    let b = t.mkdir("/A/B").unwrap();
    let c = t.mkdir("/A/C").unwrap();
    let walk: Vec<Option<MemcgId>> = (0..5).map(|_| t.mem_cgroup_iter_reclaim(a)).collect();
    assert_eq!(walk, vec![Some(a), Some(b), Some(c), None, Some(a)]);
    assert_eq!(t.mem_cgroup_iter_reclaim(b), Some(b));
    assert_eq!(t.mem_cgroup_iter_reclaim(b), None);
}
