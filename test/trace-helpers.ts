/** Helpers shared by the trace tests (trace-import, trace-pageref, trace-record). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { TraceStream } from '../bindings/src/trace/reader.js';
import type { TraceRecord, TraceSample } from '../bindings/src/trace/format.js';

/** The message `p` rejects with; fails the test when it resolves. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** A fresh folder under the OS temp dir for this test file, removed after its tests (no shared temp paths). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every record of a trace stream, in order. */
export async function records(t: TraceStream): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of t.records) out.push(r.record);
  return out;
}

/** The sample records of a trace stream, in order. */
export async function samples(t: TraceStream): Promise<TraceSample[]> {
  return (await records(t)).filter((r): r is TraceSample => r.type === 'sample');
}
