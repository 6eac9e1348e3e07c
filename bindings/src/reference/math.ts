/**
 * Integer helpers the kernel's arithmetic is written with (include/linux/math.h, lib/math/int_sqrt.c). C division
 * truncates toward zero; every value the engine passes stays far below 2^53.
 */

/** C signed division: truncates toward zero. */
export const cdiv = (a: number, b: number): number => Math.trunc(a / b);

/** include/linux/math.h:mult_frac(x, n, d) = (x/d)*n + ((x%d)*n)/d, for non-negative values. */
export const multFrac = (x: number, n: number, d: number): number => cdiv(x, d) * n + cdiv((x % d) * n, d);

/** Integer square root (lib/math/int_sqrt.c:int_sqrt): the largest r with r*r <= x. */
export function intSqrt(x: number): number {
  if (x < 2) return x;
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}
