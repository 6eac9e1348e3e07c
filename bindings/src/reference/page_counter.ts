/**
 * mm/page_counter.c: the hierarchical counters behind every memcg limit. Dossier §3.1.
 *
 * Values are pages as numbers: PAGE_COUNTER_MAX (2^51 - 1) is a safe integer, and usage never exceeds RAM + swap.
 */

/** LONG_MAX / PAGE_SIZE on 64-bit. */
export const PAGE_COUNTER_MAX = 2251799813685247;

export class PageCounter {
  usage = 0;
  max = PAGE_COUNTER_MAX;
  /** The global peak (memory.peak / max_usage_in_bytes). */
  watermark = 0;
  /** The fd-resettable peak (memory.peak written through an fd). */
  localWatermark = 0;
  failcnt = 0;
  high = PAGE_COUNTER_MAX;
  min = 0;
  low = 0;

  /** `trackFailcnt`: in 6.19 only the v1 `memory` counter counts failures (dossier §3.2 memory.failcnt). */
  constructor(
    readonly parent: PageCounter | null,
    readonly trackFailcnt: boolean,
  ) {}

  /** Ancestors including this counter, bottom-up. */
  *levels(): Generator<PageCounter> {
    for (let c: PageCounter | null = this; c; c = c.parent) yield c;
  }

  private propagatePeak(): void {
    if (this.usage > this.watermark) this.watermark = this.usage;
    if (this.usage > this.localWatermark) this.localWatermark = this.usage;
  }

  /**
   * mm/page_counter.c:page_counter_try_charge(): add `n` level by level up to the root; the first level whose new
   * usage exceeds its max takes it back, counts a failure there (if it tracks them), and every lower level is
   * undone. Returns null on success, or the counter that failed (mem_over_limit).
   */
  tryCharge(n: number): PageCounter | null {
    const done: PageCounter[] = [];
    for (const c of this.levels()) {
      c.usage += n;
      if (c.usage > c.max) {
        c.usage -= n;
        if (c.trackFailcnt) c.failcnt++;
        for (const d of done) d.usage -= n;
        return c;
      }
      c.propagatePeak();
      done.push(c);
    }
    return null;
  }

  /** mm/page_counter.c:page_counter_charge(): forced, no limit check. */
  charge(n: number): void {
    for (const c of this.levels()) {
      c.usage += n;
      c.propagatePeak();
    }
  }

  /** mm/page_counter.c:page_counter_uncharge(): subtract at every level, clamping at 0 (the kernel warns). */
  uncharge(n: number): void {
    for (const c of this.levels()) c.usage = Math.max(0, c.usage - n);
  }

  /** mm/page_counter.c:page_counter_set_max(): -EBUSY (false) when usage is above the new limit. */
  setMax(nr: number): boolean {
    if (this.usage > nr) return false;
    this.max = nr;
    return true;
  }

  /** memory.max - usage, floored at 0 (mm/memcontrol.c:mem_cgroup_margin for one counter). */
  margin(): number {
    return this.usage < this.max ? this.max - this.usage : 0;
  }
}

/**
 * mm/page_counter.c:page_counter_memparse() on top of lib/cmdline.c:memparse(): optional surrounding whitespace, a
 * decimal / 0x-hex / 0-octal number with an optional K/M/G/T/P/E suffix, bytes floored to pages, clamped at
 * PAGE_COUNTER_MAX. `maxToken` ("max" in v2, "-1" in v1) means PAGE_COUNTER_MAX. Returns null for EINVAL.
 */
export function pageCounterMemparse(text: string, maxToken: string): number | null {
  const s = text.trim();
  if (s === maxToken) return PAGE_COUNTER_MAX;
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)$/.exec(s);
  if (!m) return null;
  let bytes = m[1].startsWith('0x') || m[1].startsWith('0X') ? BigInt(m[1]) : m[1].length > 1 && m[1][0] === '0' ? BigInt(`0o${m[1].slice(1)}`) : BigInt(m[1]);
  const shift = { '': 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n }[m[2].toLowerCase()] ?? 0n;
  bytes = (bytes << shift) & ((1n << 64n) - 1n);
  const pages = bytes / 4096n;
  return pages > BigInt(PAGE_COUNTER_MAX) ? PAGE_COUNTER_MAX : Number(pages);
}
