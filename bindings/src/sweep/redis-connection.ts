/**
 * `--backend redis://host:port[/db]` (or `rediss://` for TLS): parsing, the ioredis options of each role, and the
 * start-up probe that turns an unreachable server into a clear error within seconds (ioredis would otherwise
 * retry forever, and BullMQ's blocking connections wait for it).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { OomsimError } from '../errors.js';

export type Backend = { kind: 'local' } | { kind: 'redis'; url: string; display: string; options: RedisOptions };

/** `local` or a redis:// URL. */
export function parseBackend(text: string): Backend {
  if (text === 'local') return { kind: 'local' };
  const allowed = 'allowed: local, redis://host:port[/db], rediss://host:port[/db] (TLS), with user:password@ if the server wants one';
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new OomsimError('E_ARG', `--backend ${text}: not a URL; ${allowed}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new OomsimError('E_ARG', `--backend ${text}: scheme ${u.protocol.replace(/:$/, '')} is not supported; ${allowed}`);
  if (!u.hostname) throw new OomsimError('E_ARG', `--backend ${text}: no host; ${allowed}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new OomsimError('E_ARG', `--backend ${text}: database "${dbText}" is not a number; ${allowed}`);
  if (u.search || u.hash) throw new OomsimError('E_ARG', `--backend ${text}: query and fragment are not supported; ${allowed}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? { servername: host } : undefined,
    // RESP2, the protocol BullMQ's scripts are written against (ioredis 6 defaults to RESP3).
    protocol: 2,
    connectTimeout: 5000,
  };
  const display = `${u.protocol}//${u.host}${dbText ? `/${dbText}` : ''}`;
  return { kind: 'redis', url: text, display, options };
}

/**
 * Options for a role. The submitter gives up after about half a minute without Redis (the re-run resumes); a worker
 * keeps reconnecting (capped backoff) so it survives a Redis restart.
 */
export function roleOptions(b: Extract<Backend, { kind: 'redis' }>, role: 'submit' | 'worker'): RedisOptions {
  if (role === 'worker') return { ...b.options, maxRetriesPerRequest: null, retryStrategy: (n: number) => Math.min(250 * n, 5000) };
  return { ...b.options, maxRetriesPerRequest: 3, retryStrategy: (n: number) => (n > 15 ? null : Math.min(200 * n, 2000)) };
}

/** Connect once (no retry), read the server version; a clear error when that fails. */
export async function probeRedis(b: Extract<Backend, { kind: 'redis' }>, timeoutMs = 3000): Promise<{ version: string }> {
  const c = new Redis({ ...b.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let last: Error | undefined;
  c.on('error', (e: Error) => (last = e));
  const timer = setTimeout(() => c.disconnect(), timeoutMs + 500);
  try {
    await c.connect();
    const info = await c.info('server');
    const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
    const [maj, min] = version.split('.').map(Number);
    if (!(maj > 6 || (maj === 6 && min >= 2))) throw new OomsimError('E_BACKEND', `${b.display}: Redis ${version}; BullMQ needs Redis 6.2 or newer`);
    return { version };
  } catch (e) {
    if (e instanceof OomsimError) throw e;
    const why = (last as NodeJS.ErrnoException | undefined)?.code ?? last?.message ?? (e as Error).message;
    throw new OomsimError('E_BACKEND', `${b.display}: cannot reach Redis (${why}); start redis-server there or fix --backend (tried once, ${timeoutMs} ms timeout)`);
  } finally {
    clearTimeout(timer);
    c.disconnect();
  }
}

/** The Redis hash holding a queue's scenario records (digest -> tagged JSON). Outside BullMQ's own key space. */
export const recordsKey = (queue: string) => `oomsim:sweep:${queue}:scenarios`;

/** Queue names: BullMQ keys are `bull:<queue>:...`, so no colon; keep them short and printable. */
export function checkQueueName(q: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(q)) throw new OomsimError('E_ARG', `--queue ${q}: expected 1-100 characters of letters, digits, '.', '_', '-' (no ':'), starting with a letter or digit`);
  return q;
}
