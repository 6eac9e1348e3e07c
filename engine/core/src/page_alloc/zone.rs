//! mm/page_alloc.c: zones, min_free_kbytes, watermarks, lowmem_reserve, totalreserve_pages and the watermark test.

use crate::kb_to_pages;
use crate::util::int_sqrt;

/// include/linux/mmzone.h `enum zone_type`, lowest first. `HighMem` and `Movable` are not "lowmem" zones.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneType {
    Dma,
    Dma32,
    Normal,
    HighMem,
    Movable,
}

impl ZoneType {
    pub const ALL: [ZoneType; 5] =
        [ZoneType::Dma, ZoneType::Dma32, ZoneType::Normal, ZoneType::HighMem, ZoneType::Movable];

    /// The zone name as the kernel prints it (mm/page_alloc.c `zone_names`).
    pub const fn name(self) -> &'static str {
        match self {
            ZoneType::Dma => "DMA",
            ZoneType::Dma32 => "DMA32",
            ZoneType::Normal => "Normal",
            ZoneType::HighMem => "HighMem",
            ZoneType::Movable => "Movable",
        }
    }

    pub fn from_name(name: &str) -> Option<ZoneType> {
        ZoneType::ALL.into_iter().find(|z| z.name() == name)
    }

    /// HighMem and Movable zones are excluded from "lowmem" (`is_highmem()` / `ZONE_MOVABLE` tests).
    pub const fn is_lowmem(self) -> bool {
        !matches!(self, ZoneType::HighMem | ZoneType::Movable)
    }

    /// Default vm.lowmem_reserve_ratio entry (mm/page_alloc.c `sysctl_lowmem_reserve_ratio`).
    pub const fn default_lowmem_reserve_ratio(self) -> u64 {
        match self {
            ZoneType::Dma | ZoneType::Dma32 => 256,
            ZoneType::Normal => 32,
            ZoneType::HighMem | ZoneType::Movable => 0,
        }
    }
}

/// One zone of the node: its type and its managed pages.
#[derive(Clone, Debug)]
pub struct ZoneSpec {
    pub kind: ZoneType,
    pub managed_pages: u64,
}

/// The zone's watermarks in pages (`_watermark[WMARK_MIN/LOW/HIGH/PROMO]`; watermark_boost is always 0 here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZoneWatermarks {
    pub min: u64,
    pub low: u64,
    pub high: u64,
    pub promo: u64,
}

/// Lower bound of vm.min_free_kbytes at boot (mm/page_alloc.c:calculate_min_free_kbytes).
pub const MIN_FREE_KBYTES_FLOOR: u64 = 128;
/// Upper bound of the boot-time vm.min_free_kbytes (256 MiB; older kernels used 64 MiB).
pub const MIN_FREE_KBYTES_CEIL: u64 = 262144;
/// SWAP_CLUSTER_MAX (include/linux/swap.h).
pub const SWAP_CLUSTER_MAX: u64 = 32;
/// Default vm.watermark_scale_factor (0.1 % of a zone).
pub const DEFAULT_WATERMARK_SCALE_FACTOR: u64 = 10;

/// mm/page_alloc.c:calculate_min_free_kbytes(): the floor of sqrt(lowmem_kbytes * 16), clamped to 128..=262144 kB.
/// `lowmem_kbytes` is nr_free_buffer_pages() in kB. The multiplication is `unsigned long` (wraps like C).
pub fn calculate_min_free_kbytes(lowmem_kbytes: u64) -> u64 {
    int_sqrt(lowmem_kbytes.wrapping_mul(16)).clamp(MIN_FREE_KBYTES_FLOOR, MIN_FREE_KBYTES_CEIL)
}

/// mm/page_alloc.c:calculate_min_free_kbytes() with a user-set value: the computed value replaces a value the user
/// wrote to vm.min_free_kbytes only if it is larger; otherwise the user's value stays and the kernel warns with the
/// returned line. Returns (new min_free_kbytes, optional pr_warn text).
pub fn calculate_min_free_kbytes_with_user(
    lowmem_kbytes: u64,
    user_min_free_kbytes: Option<u64>,
) -> (u64, Option<String>) {
    let computed = calculate_min_free_kbytes(lowmem_kbytes);
    match user_min_free_kbytes {
        Some(user) if computed <= user => (
            user,
            Some(format!(
                "min_free_kbytes is not updated to {computed} because user defined value {user} is preferred"
            )),
        ),
        _ => (computed, None),
    }
}

/// mm/page_alloc.c:nr_free_buffer_pages(): over the zones up to Normal, the managed pages above the high watermark
/// (a zone whose high watermark is not below its managed pages adds nothing).
pub fn nr_free_buffer_pages(zones: &[ZoneSpec], wmarks: &[ZoneWatermarks]) -> u64 {
    zones
        .iter()
        .enumerate()
        .filter(|(_, z)| z.kind <= ZoneType::Normal)
        .map(|(k, z)| {
            let high = wmarks.get(k).map_or(0, |w| w.high);
            z.managed_pages.saturating_sub(high)
        })
        .sum()
}

/// include/linux/math.h mult_frac(x, n, d): x * n / d without overflowing the intermediate product.
pub const fn mult_frac(x: u64, n: u64, d: u64) -> u64 {
    (x / d) * n + ((x % d) * n) / d
}

/// mm/page_alloc.c:__setup_per_zone_wmarks(). `pages_min` (min_free_kbytes in pages) is shared among the lowmem
/// zones in proportion to their managed pages (multiplied first, then divided). A lowmem zone's min is that share;
/// a HighMem/Movable zone's min is managed/1024 clamped to 32..=128 pages. The distance between successive marks
/// is the larger of a quarter of the share and `watermark_scale_factor` / 10000 of the zone; low, high and promo
/// each add that distance. With no lowmem pages at all the kernel would divide by zero; here the share is 0.
pub fn setup_per_zone_wmarks(
    min_free_kbytes: u64,
    watermark_scale_factor: u64,
    zones: &[ZoneSpec],
) -> Vec<ZoneWatermarks> {
    let pages_min = kb_to_pages(min_free_kbytes);
    let lowmem_pages: u64 = zones.iter().filter(|z| z.kind.is_lowmem()).map(|z| z.managed_pages).sum();
    zones
        .iter()
        .map(|z| {
            let share = if lowmem_pages == 0 {
                0
            } else {
                ((u128::from(pages_min) * u128::from(z.managed_pages)) / u128::from(lowmem_pages)) as u64
            };
            let min = if z.kind.is_lowmem() { share } else { (z.managed_pages / 1024).clamp(SWAP_CLUSTER_MAX, 128) };
            let d = (share >> 2).max(mult_frac(z.managed_pages, watermark_scale_factor, 10000));
            let low = min + d;
            let high = low + d;
            ZoneWatermarks { min, low, high, promo: high + d }
        })
        .collect()
}

/// mm/page_alloc.c:setup_per_zone_lowmem_reserve(). For a lower zone `i` and each higher zone `j` (in the node's
/// order), `reserve[i][j]` is the managed pages of zones i+1..=j divided by zone i's ratio, or 0 when the ratio is
/// 0 or zone i is empty. `ratios[i]` is vm.lowmem_reserve_ratio of zone `i`. The result is a square matrix indexed
/// by position in `zones`; entries with j <= i are 0.
pub fn setup_per_zone_lowmem_reserve(zones: &[ZoneSpec], ratios: &[u64]) -> Vec<Vec<u64>> {
    let n = zones.len();
    let mut reserve = vec![vec![0u64; n]; n];
    for i in 0..n {
        let ratio = ratios.get(i).copied().unwrap_or_else(|| zones[i].kind.default_lowmem_reserve_ratio());
        let clear = ratio == 0 || zones[i].managed_pages == 0;
        let mut upper = 0u64;
        for j in i + 1..n {
            upper += zones[j].managed_pages;
            reserve[i][j] = if clear { 0 } else { upper / ratio };
        }
    }
    reserve
}

/// mm/page_alloc.c:calculate_totalreserve_pages(): per zone, the largest lowmem_reserve entry (0 if none) plus the
/// high watermark, capped at the zone's managed pages; summed over the zones.
pub fn calculate_totalreserve_pages(zones: &[ZoneSpec], high_wmarks: &[u64], lowmem_reserve: &[Vec<u64>]) -> u64 {
    zones
        .iter()
        .enumerate()
        .map(|(i, z)| {
            let max_reserve = lowmem_reserve.get(i).and_then(|r| r.iter().skip(i).max().copied()).unwrap_or(0);
            let high = high_wmarks.get(i).copied().unwrap_or(0);
            (max_reserve + high).min(z.managed_pages)
        })
        .sum()
}

/// The allocator's `alloc_flags` (mm/internal.h ALLOC_*), as a bit set.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocFlags(pub u32);

impl AllocFlags {
    /// Watermark selection (the low two bits): ALLOC_WMARK_MIN is 0.
    pub const WMARK_MIN: u32 = 0x00;
    pub const WMARK_LOW: u32 = 0x01;
    pub const WMARK_HIGH: u32 = 0x02;
    pub const NO_WATERMARKS: u32 = 0x04;
    /// ALLOC_OOM: an OOM victim may dip further into the reserves.
    pub const OOM: u32 = 0x08;
    /// ALLOC_NON_BLOCK: the caller cannot reclaim (atomic).
    pub const NON_BLOCK: u32 = 0x10;
    /// ALLOC_MIN_RESERVE: __GFP_HIGH.
    pub const MIN_RESERVE: u32 = 0x20;
    pub const CPUSET: u32 = 0x40;
    pub const HIGHATOMIC: u32 = 0x200;
    /// ALLOC_RESERVES: any flag that gives access to the reserves.
    pub const RESERVES: u32 = Self::NON_BLOCK | Self::MIN_RESERVE | Self::HIGHATOMIC | Self::OOM;

    pub const fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// The min watermark after the reserve reductions of mm/page_alloc.c:__zone_watermark_ok(): __GFP_HIGH
/// (MIN_RESERVE) halves it and, if the caller is also non-blocking, takes a further quarter off; an OOM victim
/// (OOM) halves what is left. NON_BLOCK alone gives nothing. Each step truncates.
pub fn watermark_effective_min(mark: u64, flags: AllocFlags) -> i64 {
    let mut min = mark as i64;
    if flags.0 & AllocFlags::RESERVES != 0 {
        if flags.has(AllocFlags::MIN_RESERVE) {
            min -= min / 2;
            if flags.has(AllocFlags::NON_BLOCK) {
                min -= min / 4;
            }
        }
        if flags.has(AllocFlags::OOM) {
            min -= min / 2;
        }
    }
    min
}

/// Largest page order the buddy allocator hands out (MAX_PAGE_ORDER, 4 MiB blocks on x86-64).
pub const MAX_PAGE_ORDER: u32 = 10;

/// mm/page_alloc.c:__zone_watermark_ok(). The pages a request of `order` needs beyond its first page are taken
/// off `free` (which may go negative); the test fails when the remaining free pages are not strictly above the
/// reduced min plus lowmem_reserve[highest_zoneidx] (equality fails). An order > 0 request also needs a free block
/// of at least that order in an allowed migratetype (`free_block_available`). Highatomic and CMA are not modelled.
/// `order` above [`MAX_PAGE_ORDER`] never passes.
pub fn zone_watermark_ok(
    free: i64,
    order: u32,
    mark: u64,
    lowmem_reserve: i64,
    flags: AllocFlags,
    free_block_available: bool,
) -> bool {
    if order > MAX_PAGE_ORDER {
        return false;
    }
    let free = free - ((1i64 << order) - 1);
    let min = watermark_effective_min(mark, flags);
    if free <= min + lowmem_reserve {
        return false;
    }
    order == 0 || free_block_available
}

/// The order-0 fast path of mm/page_alloc.c:get_page_from_freelist() at the **low** mark (ALLOC_WMARK_LOW,
/// `zone_watermark_fast`): passes when free > low + lowmem_reserve.
pub fn fast_path_watermark_ok(free: i64, low: u64, lowmem_reserve: i64) -> bool {
    zone_watermark_ok(free, 0, low, lowmem_reserve, AllocFlags(AllocFlags::WMARK_LOW), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(kind: ZoneType, managed: u64) -> ZoneSpec {
        ZoneSpec { kind, managed_pages: managed }
    }

    #[test]
    fn min_free_kbytes_clamps() {
        assert_eq!(calculate_min_free_kbytes(8192), 362);
        assert_eq!(calculate_min_free_kbytes(16777216), 16384);
        assert_eq!(calculate_min_free_kbytes(512), 128);
        assert_eq!(calculate_min_free_kbytes(4294967296), 262144);
        assert_eq!(calculate_min_free_kbytes(0), 128);
        assert_eq!(calculate_min_free_kbytes_with_user(1048576, Some(5000)).0, 5000);
        assert_eq!(calculate_min_free_kbytes_with_user(1048576, Some(4000)), (4096, None));
        assert_eq!(
            calculate_min_free_kbytes_with_user(1048576, Some(4096)).1.unwrap(),
            "min_free_kbytes is not updated to 4096 because user defined value 4096 is preferred"
        );
    }

    #[test]
    fn watermarks() {
        let w = setup_per_zone_wmarks(67584, 10, &[z(ZoneType::Normal, 4000000)]);
        assert_eq!(w[0], ZoneWatermarks { min: 16896, low: 21120, high: 25344, promo: 29568 });
        let w = setup_per_zone_wmarks(67584, 100, &[z(ZoneType::Normal, 4000000)]);
        assert_eq!(w[0], ZoneWatermarks { min: 16896, low: 56896, high: 96896, promo: 136896 });
        // Movable: min from its own size, share from the lowmem split still sets the distance
        let w = setup_per_zone_wmarks(4096, 10, &[z(ZoneType::Normal, 100000), z(ZoneType::Movable, 10000)]);
        // share(normal) = 1024*100000/100000 = 1024; share(movable) = 1024*10000/100000 = 102
        assert_eq!(w[0].min, 1024);
        assert_eq!(w[1].min, 32); // 10000/1024 = 9 clamped up to 32
        assert_eq!(w[1].low, 32 + 25); // max(102>>2=25, mult_frac(10000,10,10000)=10)
        assert_eq!(mult_frac(9999, 10, 10000), 9);
        assert_eq!(
            nr_free_buffer_pages(
                &[z(ZoneType::Normal, 100), z(ZoneType::Movable, 50)],
                &[ZoneWatermarks { high: 30, ..Default::default() }]
            ),
            70
        );
    }

    #[test]
    fn lowmem_reserve_and_totalreserve() {
        let zones = [z(ZoneType::Dma, 3975), z(ZoneType::Dma32, 500000), z(ZoneType::Normal, 1400000)];
        let ratios: Vec<u64> = zones.iter().map(|z| z.kind.default_lowmem_reserve_ratio()).collect();
        let r = setup_per_zone_lowmem_reserve(&zones, &ratios);
        assert_eq!(r[0][1], 1953);
        assert_eq!(r[0][2], 7421);
        assert_eq!(r[1][2], 5468);
        assert_eq!(r[2][2], 0);
        assert_eq!(calculate_totalreserve_pages(&zones, &[20, 3000, 8400], &r), 20843);
        // empty zone or ratio 0 gives no reserve
        let r = setup_per_zone_lowmem_reserve(&[z(ZoneType::Dma, 0), z(ZoneType::Normal, 1000)], &[256, 32]);
        assert_eq!(r[0][1], 0);
        let r = setup_per_zone_lowmem_reserve(&[z(ZoneType::Dma, 10), z(ZoneType::Normal, 1000)], &[0, 32]);
        assert_eq!(r[0][1], 0);
    }

    #[test]
    fn watermark_test() {
        let f = |bits| AllocFlags(bits);
        assert!(zone_watermark_ok(1001, 0, 1000, 0, f(0), true));
        assert!(!zone_watermark_ok(1000, 0, 1000, 0, f(0), true));
        let atomic = f(AllocFlags::MIN_RESERVE | AllocFlags::NON_BLOCK);
        assert_eq!(watermark_effective_min(1000, atomic), 375);
        assert_eq!(watermark_effective_min(1000, f(AllocFlags::NON_BLOCK)), 1000);
        assert_eq!(watermark_effective_min(1001, f(AllocFlags::MIN_RESERVE)), 501);
        assert_eq!(watermark_effective_min(1000, f(AllocFlags::OOM)), 500);
        assert!(!zone_watermark_ok(375, 0, 1000, 0, atomic, true));
        assert!(!zone_watermark_ok(1500, 0, 1000, 11718, f(0), true));
        assert!(zone_watermark_ok(1008, 3, 1000, 0, f(0), true));
        assert!(!zone_watermark_ok(1007, 3, 1000, 0, f(0), true));
        assert!(!zone_watermark_ok(1008, 3, 1000, 0, f(0), false));
        assert!(!zone_watermark_ok(-5, 0, 0, 0, f(0), true));
        assert!(!zone_watermark_ok(i64::MAX, 11, 0, 0, f(0), true));
        assert!(fast_path_watermark_ok(21121, 21120, 0));
        assert!(!fast_path_watermark_ok(21120, 21120, 0));
    }
}
