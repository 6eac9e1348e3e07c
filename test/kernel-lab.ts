/**
 * A small lab on the real kernel for tests: child v1 memcgs under this test process's own memcg, helper processes
 * (tools/memhog) started in them, and a cleanup that kills only the processes it started (by pid) and removes every
 * memcg it made, children first, even after a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const V1_MOUNT = '/sys/fs/cgroup/memory';
export const MEMHOG = process.env.OOMSIM_MEMHOG ?? 'target/debug/oomsim-memhog';

/** Why the real-kernel tests cannot run here, or null when they can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!existsSync('/proc/self/oom_score')) return '/proc/self/oom_score is not readable';
  if (process.getuid?.() !== 0) return 'not root: creating memcgs and moving tasks needs root';
  if (!existsSync(`${V1_MOUNT}/memory.limit_in_bytes`)) return `no cgroup v1 memory controller at ${V1_MOUNT}`;
  const own = ownMemcg();
  if (own === null) return '/proc/self/cgroup has no v1 memory line';
  if (!existsSync(`${V1_MOUNT}${own}`)) return `our memcg ${own} is not under ${V1_MOUNT} (another cgroup namespace?)`;
  return null;
}

/** This process's v1 memcg path (from /proc/self/cgroup). */
export function ownMemcg(): string | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls !== undefined && ctrls.split(',').includes('memory')) return path === '/' ? '' : path!;
  }
  return null;
}

/** Builds the helper with cargo when scripts/build.sh has not (the dev profile: a second or two). */
export function ensureMemhog(): void {
  if (existsSync(MEMHOG)) return;
  const r = spawnSync('cargo', ['build', '--quiet', '-p', 'oomsim-memhog'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(MEMHOG)) throw new Error(`building ${MEMHOG} failed (cargo build -p oomsim-memhog)`);
}

function fsSubdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

function removeTree(dir: string): void {
  for (const d of fsSubdirs(dir)) removeTree(`${dir}/${d}`);
  try {
    rmdirSync(dir);
  } catch {
    // still in use, or already gone
  }
}

export interface Helper {
  pid: number;
  child: ChildProcess;
  /** The memcg path (relative to the v1 mount). */
  memcg: string;
  /** Resolves with the signal when the process ends. */
  exited: Promise<NodeJS.Signals | null>;
  alive: boolean;
  /** Sends one command line and waits for its one-line answer. */
  command(line: string): Promise<string>;
}

export class KernelLab {
  /** The lab's root memcg path (relative to the v1 mount), e.g. /process_api/x/oomsim-test-123. */
  readonly root: string;
  private readonly groups: string[] = [];
  private readonly helpers: Helper[] = [];
  private readonly onExit = () => this.killAllSync();

  constructor(name: string) {
    const own = ownMemcg() ?? '';
    this.root = `${own}/${name}-${process.pid}`;
    process.on('exit', this.onExit);
    // A lab of an earlier run that was killed before its cleanup: its helpers exited with their stdin, so its
    // memcgs are empty and rmdir takes them (a group that still has tasks answers EBUSY and is left alone). Only a
    // lab whose test process is gone: another run of the same test beside this one (another checkout on the same
    // machine) may be between creating its groups and starting its helpers, when rmdir would take them.
    for (const d of fsSubdirs(`${V1_MOUNT}${own}`)) {
      const m = new RegExp(`^${name}-(\\d+)$`).exec(d);
      if (m && Number(m[1]) !== process.pid && !existsSync(`/proc/${m[1]}`)) removeTree(`${V1_MOUNT}${own}/${d}`);
    }
  }

  /** Creates a memcg under the lab root ('' is the root itself) with the given v1 files, in order. */
  mkgroup(rel: string, files: Record<string, string> = {}): string {
    const path = rel === '' ? this.root : `${this.root}/${rel}`;
    mkdirSync(`${V1_MOUNT}${path}`);
    this.groups.push(path);
    for (const [f, v] of Object.entries(files)) writeFileSync(`${V1_MOUNT}${path}/${f}`, v);
    return path;
  }

  read(path: string, file: string): string {
    return readFileSync(`${V1_MOUNT}${path}/${file}`, 'utf8');
  }

  /** Starts a helper in `memcg` with `adj` holding `mib` MiB (and memhog's `extra` flags); resolves when it has
   *  allocated and said ready. */
  async start(memcg: string, mib: number, adj: number, extra: string[] = []): Promise<Helper> {
    const child = spawn(MEMHOG, ['--procs', `${V1_MOUNT}${memcg}/cgroup.procs`, '--adj', String(adj), '--mib', String(mib), ...extra], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const waiting: ((l: string) => void)[] = [];
    const early: string[] = [];
    lines.on('line', (l) => {
      const w = waiting.shift();
      if (w) w(l);
      else early.push(l);
    });
    const next = () => new Promise<string>((res, rej) => {
      const l = early.shift();
      if (l !== undefined) return res(l);
      waiting.push(res);
      child.once('exit', (code, sig) => rej(new Error(`helper ${child.pid} exited (${sig ?? code}) before answering`)));
    });
    const h: Helper = {
      pid: child.pid!,
      child,
      memcg,
      alive: true,
      exited: new Promise((res) => child.on('exit', (_code, sig) => {
        h.alive = false;
        res(sig);
      })),
      command: (line) => {
        child.stdin!.write(line + '\n');
        return next();
      },
    };
    this.helpers.push(h);
    const ready = await next();
    if (ready !== `ready ${h.pid}`) throw new Error(`helper ${h.pid}: expected "ready ${h.pid}", got ${JSON.stringify(ready)}`);
    return h;
  }

  /** SIGKILL to every helper still running (only the pids this lab started). */
  private killAllSync(): void {
    for (const h of this.helpers) {
      if (!h.alive) continue;
      try {
        process.kill(h.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Kills the helpers, waits for them, removes the memcgs children first. Returns what could not be removed. */
  async cleanup(): Promise<string[]> {
    this.killAllSync();
    // Generous waits: a SIGKILLed helper holding tens of MiB is torn down slowly on a loaded machine.
    await Promise.all(this.helpers.map((h) => Promise.race([h.exited, new Promise((r) => setTimeout(r, 30_000))])));
    process.off('exit', this.onExit);
    const left: string[] = [];
    for (const g of [...this.groups].reverse()) {
      let err: unknown = null;
      // rmdir answers EBUSY while a killed task is still being torn down: retry for a while (30 s).
      for (let i = 0; i < 600; i++) {
        try {
          rmdirSync(`${V1_MOUNT}${g}`);
          err = null;
          break;
        } catch (e) {
          err = e;
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            err = null;
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (err) left.push(`${g}: ${(err as Error).message}`);
    }
    return left;
  }
}
