/**
 * Waiting in tests without fixed sleeps: poll a condition until it holds, with a deadline generous enough for a
 * loaded 2-core machine. The deadline is a hang detector, never a speed check (a test that needs it to be short
 * is a timed test, which the project does not write).
 */

/** Resolves once `cond()` is true (checked every `intervalMs`); rejects naming `what` after `timeoutMs`, or at
 *  once when `cond` throws (e.g. "the process we wait on has exited"). */
export async function until(cond: () => boolean, what: string, timeoutMs = 120_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
