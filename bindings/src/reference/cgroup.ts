/**
 * cgroup operations (kernel/cgroup/cgroup.c mkdir, kernfs file reads and writes, open fds) and the counter-level
 * `charge` / `uncharge` ops. The files themselves are memcontrol.ts's.
 */
import { fileExists, type FileValue, Memcg, readFile, writeFile } from './memcontrol.js';
import { type Kernel, memcgAt } from './state.js';
import { InvalidOp, type OpResult } from './types.js';

export function cgroupCreate(k: Kernel, path: string): OpResult {
  if (k.cgroups.memcgs.has(path)) throw new InvalidOp(`cgroup ${path} exists`);
  const parentPath = path.slice(0, path.lastIndexOf('/')) || '/';
  const parent = memcgAt(k, parentPath);
  k.cgroups.memcgs.set(path, new Memcg(path, parent, k.cgroupVersion));
  return 'ok';
}

export function cgroupWrite(k: Kernel, path: string, file: string, value: string, fdState?: { peakBaseline?: number }): OpResult {
  const m = memcgAt(k, path);
  if (!fileExists(m, file)) throw new InvalidOp(`no file ${file} on ${path}`);
  const r = writeFile(m, file, value, k.host, fdState);
  if (file === 'memory.swappiness' && m.isRoot && r === 'ok') k.sysctl['vm.swappiness'] = m.swappiness;
  return r;
}

export function cgroupRead(k: Kernel, path: string, file: string): FileValue {
  const m = k.cgroups.memcgs.get(path);
  if (!m) return null;
  return readFile(m, file, k.host);
}

export function cgroupOpen(k: Kernel, path: string, file: string, fd: string): OpResult {
  const m = memcgAt(k, path);
  if (!fileExists(m, file)) throw new InvalidOp(`no file ${file} on ${path}`);
  k.cgroups.fds.set(fd, { memcg: m, file });
  return 'ok';
}

export function fdWrite(k: Kernel, fd: string, value: string): OpResult {
  const st = k.cgroups.fds.get(fd);
  if (!st) throw new InvalidOp(`fd ${fd} is not open`);
  return cgroupWrite(k, st.memcg.path, st.file, value, st);
}

/** Read through an open fd: memory.peak shows max(baseline, local watermark) after a reset on this fd. */
export function fdRead(k: Kernel, fd: string): FileValue {
  const st = k.cgroups.fds.get(fd);
  if (!st) throw new InvalidOp(`fd ${fd} is not open`);
  if (st.file === 'memory.peak' && st.peakBaseline !== undefined) {
    return (BigInt(Math.max(st.peakBaseline, st.memcg.memory.localWatermark)) * 4096n).toString();
  }
  return readFile(st.memcg, st.file, k.host);
}

/** The `charge` op: one counter-level page_counter_try_charge (v1: memsw first), no reclaim, no events. */
export function charge(k: Kernel, path: string, pages: number): OpResult {
  const m = memcgAt(k, path);
  if (m.version === 'v1') {
    if (m.swap.tryCharge(pages)) return 'ENOMEM';
    if (m.memory.tryCharge(pages)) {
      m.swap.uncharge(pages);
      return 'ENOMEM';
    }
    return 'ok';
  }
  return m.memory.tryCharge(pages) ? 'ENOMEM' : 'ok';
}

/** The `uncharge` op: like memcg_uncharge() — no v1 OOM waiter wake-up. */
export function unchargeOp(k: Kernel, path: string, pages: number): OpResult {
  const m = memcgAt(k, path);
  m.memory.uncharge(pages);
  if (m.version === 'v1') m.swap.uncharge(pages);
  return 'ok';
}
