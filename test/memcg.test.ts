/**
 * Memory cgroups through the built package: cgroup creation, limit writes with the kernel's errnos, file reads
 * (null for a file that does not exist), spawning into a cgroup, the memcg OOM, the v1 oom_kill_disable wait and
 * its wake-up, and task moves (charges stay behind).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, load } from '../bindings/src/index.js';

beforeAll(async () => {
  await load();
});

const EINVAL = -22;
const ENOENT = -2;
const EBUSY = -16;

describe('memory cgroups', () => {
  it('v2: create, write, read; memcg OOM kills inside the cgroup', () => {
    const e = new Engine({ totalramPages: 262144 });
    expect(e.cgroupCreate('/web')).toBe(0);
    expect(e.cgroupCreate('/nope/x')).toBe(ENOENT);
    expect(e.cgroupWrite('/web', 'memory.max', '409600')).toBe(0);
    expect(e.cgroupWrite('/web', 'memory.max', 'abc')).toBe(EINVAL);
    expect(e.cgroupWrite('/web', 'memory.bogus', '1')).toBe(ENOENT);
    expect(e.cgroupRead('/web', 'memory.max')).toBe('409600\n');
    expect(e.cgroupRead('/', 'memory.current')).toBeNull();
    e.spawn(10, { comm: 'nginx', cgroup: '/web' });
    e.spawn(11, { comm: 'other' });
    const v = e.mmapAnon(10, 200);
    e.touch(10, v, 200, 'write');
    const tasks = e.tasks().map((t) => t.pid);
    expect(tasks).toEqual([11]);
    const ev = e.cgroupRead('/web', 'memory.events') ?? '';
    expect(ev).toContain('oom 1\n');
    expect(ev).toContain('oom_kill 1\n');
    expect(e.drainLog().some((l) => l.startsWith('Memory cgroup out of memory: Killed process 10 (nginx)'))).toBe(true);
    e.free();
  });

  it('v1: limit rules, oom_kill_disable blocks and a limit raise resumes', () => {
    const e = new Engine({ totalramPages: 262144, cgroup: 'v1' });
    expect(e.cgroupCreate('/j')).toBe(0);
    expect(e.cgroupWrite('/j', 'memory.limit_in_bytes', '204800')).toBe(0);
    expect(e.cgroupWrite('/j', 'memory.memsw.limit_in_bytes', '102400')).toBe(EINVAL);
    expect(e.cgroupWrite('/j', 'memory.oom_control', '1')).toBe(0);
    e.spawn(20, { cgroup: '/j' });
    const v = e.mmapAnon(20, 80);
    e.touch(20, v, 80, 'write');
    expect(e.taskBlocked(20)).toBe(true);
    expect(e.cgroupRead('/j', 'memory.oom_control')).toBe('oom_kill_disable 1\nunder_oom 1\noom_kill 0\n');
    expect(() => e.touch(20, v, 1, 'write')).toThrow(/E_BLOCKED/);
    expect(e.cgroupWrite('/j', 'memory.limit_in_bytes', '409600')).toBe(0);
    expect(e.taskBlocked(20)).toBe(false);
    expect(e.cgroupRead('/j', 'memory.usage_in_bytes')).toBe(`${80 * 4096}\n`);
    e.free();
  });

  it('v1: lowering the limit below unreclaimable usage is EBUSY; moves leave charges behind', () => {
    const e = new Engine({ totalramPages: 262144, cgroup: 'v1' });
    e.cgroupCreate('/a');
    e.cgroupCreate('/b');
    e.spawn(30, { cgroup: '/a' });
    const v = e.mmapAnon(30, 100);
    e.touch(30, v, 50, 'write');
    expect(e.cgroupWrite('/a', 'memory.limit_in_bytes', '4096')).toBe(EBUSY);
    expect(e.moveTask(30, '/b')).toBe(0);
    expect(e.moveTask(30, '/zzz')).toBe(ENOENT);
    e.touch(30, v + 50, 10, 'write');
    expect(e.cgroupRead('/a', 'memory.usage_in_bytes')).toBe(`${50 * 4096}\n`);
    expect(e.cgroupRead('/b', 'memory.usage_in_bytes')).toBe(`${10 * 4096}\n`);
    e.free();
  });
});
