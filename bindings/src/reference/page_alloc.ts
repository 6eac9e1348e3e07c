/**
 * The single Normal zone of the modelled machine: mm/page_alloc.c (calculate_min_free_kbytes,
 * __setup_per_zone_wmarks, calculate_totalreserve_pages). Dossier §5.1.
 */
import { cdiv, intSqrt, multFrac } from './math.js';

/** mm/page_alloc.c:calculate_min_free_kbytes(): clamp(isqrt(lowmem_kb * 16), 128, 262144). */
export function calculateMinFreeKbytes(lowmemKb: number): number {
  return Math.min(Math.max(intSqrt(lowmemKb * 16), 128), 262144);
}

export interface Watermarks {
  min: number;
  low: number;
  high: number;
  promo: number;
}

/**
 * mm/page_alloc.c:__setup_per_zone_wmarks() for one Normal (lowmem) zone holding all managed pages:
 * min = pages_min * managed / lowmem (= pages_min), distance = max(min/4, managed * wsf / 10000).
 */
export function setupZoneWmarks(managed: number, minFreeKbytes: number, watermarkScaleFactor: number): Watermarks {
  const pagesMin = Math.floor(minFreeKbytes / 4);
  const tmp = managed > 0 ? cdiv(pagesMin * managed, managed) : 0;
  const d = Math.max(Math.floor(tmp / 4), multFrac(managed, watermarkScaleFactor, 10000));
  const low = tmp + d;
  const high = low + d;
  return { min: tmp, low, high, promo: high + d };
}

/**
 * mm/page_alloc.c:calculate_totalreserve_pages(): per zone min(managed, largest lowmem_reserve + high). The only
 * zone has no higher zone, so its lowmem_reserve is 0.
 */
export const totalreservePages = (managed: number, w: Watermarks): number => Math.min(managed, w.high);

/**
 * mm/page_alloc.c:__zone_watermark_ok() for an order-0 request on the only zone (dossier §5.2): ALLOC_OOM (an OOM
 * victim) may dip to half the mark; the zone has no higher zone, so lowmem_reserve is 0. Fails when
 * `free <= mark` (equality fails).
 */
export function zoneWatermarkOk(free: number, mark: number, allocOom = false): boolean {
  let min = mark;
  if (allocOom) min -= Math.trunc(min / 2);
  return free > min;
}
