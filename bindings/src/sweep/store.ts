/**
 * The results file: SQLite through sql.js (SQLite compiled to wasm; installs from the npm registry alone). One row
 * per job in `runs`, the scenario records in `scenarios`. The database lives in memory and is written to the file
 * atomically (a temporary file, then rename) at checkpoints and at the end, so a killed submitter loses at most
 * the rows since the last checkpoint, and those jobs are simply run (or collected from Redis) again.
 *
 * Columns of `runs` (docs/decisions/0014-sweeps.md): the job (id, engine, scenario, scenario_digest, policy,
 * params, point, seed, label), its outcome (status, result = the canonical JSON of the row, error) and the metrics
 * copied out of the result for SQL (kills ... panic). `backend`, `worker`, `attempts`, `finished_at` describe the
 * run, not the result: they differ between backends and are left out of every comparison.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import { OomsimError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import type { PlannedJob } from './jobs.js';

export const STORE_FORMAT = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (digest TEXT PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  engine TEXT NOT NULL,
  scenario TEXT NOT NULL,
  scenario_digest TEXT NOT NULL,
  policy TEXT NOT NULL,
  params TEXT NOT NULL,
  point TEXT NOT NULL,
  seed INTEGER NOT NULL,
  label TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  result TEXT,
  error TEXT,
  kills INTEGER,
  collateral_kills INTEGER,
  first_action_ns INTEGER,
  stalled_ns INTEGER,
  under_pressure_ns INTEGER,
  work_lost_mibs REAL,
  protected_ok INTEGER,
  kernel_oom_kills INTEGER,
  panic INTEGER,
  backend TEXT,
  worker TEXT,
  attempts INTEGER,
  finished_at TEXT
);`;

/** The columns that make up a job and its result: equal across backends for the same job. */
export const RESULT_COLUMNS = [
  'id', 'engine', 'scenario', 'scenario_digest', 'policy', 'params', 'point', 'seed', 'label', 'status', 'result', 'error',
  'kills', 'collateral_kills', 'first_action_ns', 'stalled_ns', 'under_pressure_ns', 'work_lost_mibs', 'protected_ok', 'kernel_oom_kills', 'panic',
] as const;

export interface RunMeta {
  backend: string;
  worker?: string | null;
  attempts?: number;
}

let sqlPromise: ReturnType<typeof initSqlJs> | undefined;
const sql = () => (sqlPromise ??= initSqlJs());

/** ns as an SQLite integer: exact below 2^53 ns (104 days of simulated time); beyond that the result JSON is exact. */
const nsCol = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class ResultStore {
  private dirty = false;
  private constructor(readonly file: string, private readonly db: Database) {}

  /** Open (or create) a results file; an existing file must be an oomsim sweep results file. */
  static async open(file: string): Promise<ResultStore> {
    const SQL = await sql();
    let db: Database;
    if (existsSync(file)) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new OomsimError('E_ARG', `--out ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      db = new SQL.Database(bytes);
      let format: SqlValue | undefined;
      try {
        format = db.exec(`SELECT value FROM meta WHERE key = 'format'`)[0]?.values[0]?.[0];
      } catch (e) {
        db.close();
        throw new OomsimError('E_ARG', `${file}: not an oomsim sweep results file (${(e as Error).message})`);
      }
      if (format !== STORE_FORMAT) {
        db.close();
        throw new OomsimError('E_ARG', `${file}: results format ${String(format ?? 'missing')}; this oomsim reads format ${STORE_FORMAT}`);
      }
      db.exec(SCHEMA);
    } else {
      db = new SQL.Database();
      db.exec(SCHEMA);
      db.run(`INSERT INTO meta (key, value) VALUES ('format', ?)`, [STORE_FORMAT]);
    }
    const s = new ResultStore(file, db);
    s.dirty = !existsSync(file);
    return s;
  }

  /** Status of a job already in the file, or undefined. */
  status(id: string): 'done' | 'failed' | undefined {
    const r = this.db.exec('SELECT status FROM runs WHERE id = ?', [id])[0]?.values[0]?.[0];
    return r === undefined ? undefined : (r as 'done' | 'failed');
  }
  /** Every job id in the file with its status. */
  statuses(): Map<string, 'done' | 'failed'> {
    const out = new Map<string, 'done' | 'failed'>();
    for (const [id, st] of this.db.exec('SELECT id, status FROM runs')[0]?.values ?? []) out.set(id as string, st as 'done' | 'failed');
    return out;
  }

  putScenario(digest: string, name: string, file: string, recordText: string): void {
    this.db.run('INSERT OR IGNORE INTO scenarios (digest, name, file, record) VALUES (?, ?, ?, ?)', [digest, name, file, recordText]);
    this.dirty = true;
  }

  /** Record a job's outcome: `result` (canonical JSON of its row) or `error`. Replaces an earlier row of the job. */
  put(j: PlannedJob, outcome: { result: string } | { error: string }, meta: RunMeta): void {
    const job = j.job;
    const common: SqlValue[] = [j.id, job.engine, j.name, job.scenario, job.policy, canonicalJson(job.params), canonicalJson(job.point), job.seed, j.label];
    const tail: SqlValue[] = [meta.backend, meta.worker ?? hostname(), meta.attempts ?? 1, new Date().toISOString()];
    let metrics: SqlValue[];
    if ('result' in outcome) {
      const r = JSON.parse(outcome.result) as Record<string, unknown>;
      metrics = ['done', outcome.result, null, (r.kills as unknown[]).length, r.collateralKills as number, nsCol(r.firstActionNs), nsCol(r.stalledNs), nsCol(r.underPressureNs), r.workLostMiBs as number, r.protectedSurvived ? 1 : 0, r.kernelOomKills as number, r.panic ? 1 : 0];
    } else {
      metrics = ['failed', null, outcome.error, null, null, null, null, null, null, null, null, null];
    }
    const values = [...common, ...metrics, ...tail];
    this.db.run(`INSERT OR REPLACE INTO runs (${[...RESULT_COLUMNS, 'backend', 'worker', 'attempts', 'finished_at'].join(', ')}) VALUES (${values.map(() => '?').join(', ')})`, values);
    this.dirty = true;
  }

  /** Forget failed rows (`--retry-failed`), returning their ids. */
  dropFailed(): string[] {
    const ids = (this.db.exec(`SELECT id FROM runs WHERE status = 'failed'`)[0]?.values ?? []).map((r) => r[0] as string);
    this.db.run(`DELETE FROM runs WHERE status = 'failed'`);
    if (ids.length) this.dirty = true;
    return ids;
  }

  /** Rows as objects (columns: RESULT_COLUMNS, or all with `withMeta`), ordered by id. */
  rows(o: { withMeta?: boolean } = {}): Record<string, SqlValue>[] {
    const cols = o.withMeta ? '*' : RESULT_COLUMNS.join(', ');
    const r = this.db.exec(`SELECT ${cols} FROM runs ORDER BY id`)[0];
    if (!r) return [];
    return r.values.map((v) => Object.fromEntries(r.columns.map((c, i) => [c, v[i]])));
  }

  scenarios(): { digest: string; name: string; file: string }[] {
    const r = this.db.exec('SELECT digest, name, file FROM scenarios ORDER BY name, digest')[0];
    return (r?.values ?? []).map(([digest, name, file]) => ({ digest: digest as string, name: name as string, file: file as string }));
  }

  /** Write the file if anything changed since the last checkpoint (atomically: temporary file, then rename). */
  checkpoint(): void {
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, this.db.export());
      renameSync(tmp, this.file);
    } catch (e) {
      throw new OomsimError('E_ARG', `--out ${this.file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.dirty = false;
  }

  close(): void {
    this.checkpoint();
    this.db.close();
  }
}

/** Open a results file for reading only (the report); it must exist. */
export async function openResults(file: string): Promise<ResultStore> {
  if (!existsSync(file)) throw new OomsimError('E_ARG', `--report ${file}: no such file`);
  return ResultStore.open(file);
}
