//! STAND-IN (engine branch): zone watermark functions with the signatures agreed for the parallel page-allocator
//! work (mm/page_alloc.c:`calculate_min_free_kbytes`, `__setup_per_zone_wmarks`). The lead replaces this file.

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ZoneType {
    Dma,
    Dma32,
    Normal,
    HighMem,
    Movable,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ZoneSpec {
    pub kind: ZoneType,
    pub managed_pages: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct ZoneWatermarks {
    pub min: u64,
    pub low: u64,
    pub high: u64,
    pub promo: u64,
}

fn isqrt(x: u64) -> u64 {
    let mut r = (x as f64).sqrt() as u64;
    while r * r > x {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= x {
        r += 1;
    }
    r
}

/// mm/page_alloc.c:`calculate_min_free_kbytes`: clamp(isqrt(lowmem_kb * 16), 128, 262144).
pub fn calculate_min_free_kbytes(lowmem_kbytes: u64) -> u64 {
    isqrt(lowmem_kbytes * 16).clamp(128, 262144)
}

fn mult_frac(x: u64, n: u64, d: u64) -> u64 {
    (x / d) * n + ((x % d) * n) / d
}

/// mm/page_alloc.c:`__setup_per_zone_wmarks`.
pub fn setup_per_zone_wmarks(min_free_kbytes: u64, watermark_scale_factor: u64, zones: &[ZoneSpec]) -> Vec<ZoneWatermarks> {
    let pages_min = min_free_kbytes >> 2;
    let lowmem: u64 = zones
        .iter()
        .filter(|z| !matches!(z.kind, ZoneType::HighMem | ZoneType::Movable))
        .map(|z| z.managed_pages)
        .sum();
    zones
        .iter()
        .map(|z| {
            let tmp = (pages_min * z.managed_pages).checked_div(lowmem).unwrap_or(0);
            let min = if matches!(z.kind, ZoneType::HighMem | ZoneType::Movable) {
                (z.managed_pages / 1024).clamp(32, 128)
            } else {
                tmp
            };
            let d = (tmp >> 2).max(mult_frac(z.managed_pages, watermark_scale_factor, 10000));
            ZoneWatermarks { min, low: min + d, high: min + 2 * d, promo: min + 3 * d }
        })
        .collect()
}
