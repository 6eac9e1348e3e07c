//! fs/proc/meminfo.c (meminfo_proc_show, show_val_kb) and mm/show_mem.c (si_mem_available): /proc/meminfo.
//!
//! [`Meminfo`] holds the counters the kernel reads, in the units the kernel keeps them (pages, except where a
//! field name says `_kb`); [`Meminfo::format`] derives the printed fields (Cached, MemAvailable, Active, Slab, ...)
//! and prints them in the kernel's order for an x86-64 distribution configuration (no HIGHMEM, MMU, ZSWAP, THP,
//! CMA, UNACCEPTED_MEMORY, MEMORY_FAILURE and hugetlb built in; no shadow call stack).

use crate::pages_to_kb;

/// mm/show_mem.c:si_mem_available(): an estimate of memory available to user space without swapping.
/// Free pages minus totalreserve_pages, plus the file LRU minus the smaller of half of it and the sum of the low
/// watermarks, plus reclaimable slab and misc kernel memory minus the smaller of half of it and the same sum;
/// computed signed and clamped at 0.
pub fn si_mem_available(
    nr_free_pages: u64,
    totalreserve_pages: u64,
    active_file: u64,
    inactive_file: u64,
    slab_reclaimable_pages: u64,
    kernel_misc_reclaimable_pages: u64,
    sum_low_wmark_pages: u64,
) -> u64 {
    let mut available = (nr_free_pages as i64).wrapping_sub(totalreserve_pages as i64);
    let pagecache = active_file.wrapping_add(inactive_file);
    let pagecache = pagecache - (pagecache / 2).min(sum_low_wmark_pages);
    available = available.wrapping_add(pagecache as i64);
    let reclaimable = slab_reclaimable_pages.wrapping_add(kernel_misc_reclaimable_pages);
    let reclaimable = reclaimable - (reclaimable / 2).min(sum_low_wmark_pages);
    available = available.wrapping_add(reclaimable as i64);
    available.max(0) as u64
}

/// fs/proc/meminfo.c: Cached is the file pages minus the swap cache and the block-device buffers, clamped at 0
/// (it includes shmem/tmpfs pages).
pub fn meminfo_cached(nr_file_pages: u64, swapcache_pages: u64, buffer_pages: u64) -> u64 {
    let cached = (nr_file_pages as i64).wrapping_sub(swapcache_pages as i64).wrapping_sub(buffer_pages as i64);
    cached.max(0) as u64
}

/// fs/proc/meminfo.c:show_val_kb(): `label` (which includes the colon) padded with spaces to 16 characters, the
/// kB value right-aligned in 8 columns (wider values are printed whole), then " kB".
pub fn show_val_kb(label: &str, kb: u64) -> String {
    format!("{label:<16}{kb:>8} kB")
}

/// How a /proc/meminfo line prints its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineFormat {
    /// show_val_kb(): the common `Label:     1234 kB`.
    ShowValKb,
    /// HardwareCorrupted's own: one space, the value in 5 columns, " kB".
    HardwareCorrupted,
    /// mm/hugetlb.c:hugetlb_report_meminfo(): a count in 5 columns after the label padded to 19.
    HugeCount,
}

impl LineFormat {
    fn line(self, name: &str, v: u64) -> String {
        match self {
            LineFormat::ShowValKb => show_val_kb(&format!("{name}:"), v),
            LineFormat::HardwareCorrupted => format!("{name}: {v:>5} kB"),
            LineFormat::HugeCount => format!("{:<19}{v:>5}", format!("{name}:")),
        }
    }
}

/// One show_val_kb() field kept in pages: (name, kB value, format).
fn kb_field(name: &'static str, pages: u64) -> (&'static str, u64, LineFormat) {
    (name, pages_to_kb(pages), LineFormat::ShowValKb)
}

/// x86-64 (4-level paging) VMALLOC_TOTAL in kB: 32 TiB - 1 byte, shifted right by 10.
pub const X86_64_VMALLOC_TOTAL_KB: u64 = 34359738367;

/// The counters behind /proc/meminfo. Pages unless the name ends in `_kb`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meminfo {
    /// totalram_pages(): managed RAM (MemTotal).
    pub totalram_pages: u64,
    /// NR_FREE_PAGES.
    pub nr_free_pages: u64,
    /// nr_blockdev_pages() (Buffers).
    pub buffer_pages: u64,
    /// NR_FILE_PAGES: page cache including shmem and the swap cache.
    pub nr_file_pages: u64,
    /// total_swapcache_pages() (SwapCached).
    pub swapcache_pages: u64,
    pub inactive_anon: u64,
    pub active_anon: u64,
    pub inactive_file: u64,
    pub active_file: u64,
    pub unevictable: u64,
    /// NR_MLOCK.
    pub mlocked: u64,
    pub total_swap_pages: u64,
    pub free_swap_pages: u64,
    /// zswap_total_pages() (Zswap) and zswap_stored_pages (Zswapped).
    pub zswap_pages: u64,
    pub zswapped_pages: u64,
    /// NR_FILE_DIRTY, NR_WRITEBACK.
    pub dirty: u64,
    pub writeback: u64,
    /// NR_ANON_MAPPED (AnonPages).
    pub anon_mapped: u64,
    /// NR_FILE_MAPPED (Mapped).
    pub file_mapped: u64,
    /// NR_SHMEM (Shmem).
    pub shmem: u64,
    /// NR_SLAB_RECLAIMABLE_B / NR_SLAB_UNRECLAIMABLE_B in pages.
    pub slab_reclaimable: u64,
    pub slab_unreclaimable: u64,
    /// NR_KERNEL_MISC_RECLAIMABLE.
    pub kernel_misc_reclaimable: u64,
    /// NR_KERNEL_STACK_KB (kept in kB by the kernel).
    pub kernel_stack_kb: u64,
    /// NR_PAGETABLE, NR_SECONDARY_PAGETABLE.
    pub pagetables: u64,
    pub sec_pagetables: u64,
    /// NR_WRITEBACK_TEMP.
    pub writeback_tmp: u64,
    /// vm_commit_limit().
    pub commit_limit: u64,
    /// The Committed_AS counter (may be transiently negative in the kernel; printed clamped at 0).
    pub committed_as: i64,
    /// VMALLOC_TOTAL >> 10.
    pub vmalloc_total_kb: u64,
    /// vmalloc_nr_pages().
    pub vmalloc_used: u64,
    /// pcpu_nr_pages().
    pub percpu: u64,
    /// num_poisoned_pages.
    pub hardware_corrupted: u64,
    pub anon_huge_pages: u64,
    pub shmem_huge_pages: u64,
    pub shmem_pmd_mapped: u64,
    pub file_huge_pages: u64,
    pub file_pmd_mapped: u64,
    pub cma_total: u64,
    pub cma_free: u64,
    pub unaccepted: u64,
    pub balloon: u64,
    /// Default hstate: nr_huge_pages, free, resv, surplus (in huge pages) and the huge page size in kB.
    pub hugepages_total: u64,
    pub hugepages_free: u64,
    pub hugepages_rsvd: u64,
    pub hugepages_surp: u64,
    pub hugepagesize_kb: u64,
    /// Σ over all hstates of size × nr_huge_pages, kB (Hugetlb).
    pub hugetlb_kb: u64,
    /// x86 direct map (arch_report_meminfo), kB; DirectMap1G printed only with gbpages.
    pub direct_map_4k_kb: u64,
    pub direct_map_2m_kb: u64,
    pub direct_map_1g_kb: Option<u64>,
    /// Inputs of si_mem_available() that are not meminfo fields.
    pub totalreserve_pages: u64,
    pub sum_low_wmark_pages: u64,
}

impl Meminfo {
    /// A Meminfo with x86-64 constants filled in (VmallocTotal, 2 MiB huge pages) and every counter 0.
    pub fn new() -> Self {
        Meminfo { vmalloc_total_kb: X86_64_VMALLOC_TOTAL_KB, hugepagesize_kb: 2048, ..Default::default() }
    }

    /// si_mem_available() from this snapshot.
    pub fn available(&self) -> u64 {
        si_mem_available(
            self.nr_free_pages,
            self.totalreserve_pages,
            self.active_file,
            self.inactive_file,
            self.slab_reclaimable,
            self.kernel_misc_reclaimable,
            self.sum_low_wmark_pages,
        )
    }

    /// Cached (pages).
    pub fn cached(&self) -> u64 {
        meminfo_cached(self.nr_file_pages, self.swapcache_pages, self.buffer_pages)
    }

    /// The lines of /proc/meminfo in the kernel's order: (field name, value in kB, exact line without newline).
    /// Field names are the labels without the colon (`MemTotal`, `Active(anon)`, `HugePages_Total`, ...); the
    /// HugePages_* counts are in huge pages, not kB.
    pub fn lines(&self) -> Vec<(&'static str, u64, String)> {
        self.fields().into_iter().map(|(n, v, f)| (n, v, f.line(n, v))).collect()
    }

    /// The fields of /proc/meminfo in the kernel's order, (name, value as printed), without formatting the lines
    /// (the engine's meminfo reads take these every tick).
    pub fn values(&self) -> Vec<(&'static str, u64)> {
        self.fields().into_iter().map(|(n, v, _)| (n, v)).collect()
    }

    fn fields(&self) -> Vec<(&'static str, u64, LineFormat)> {
        let mut out: Vec<(&'static str, u64, LineFormat)> = Vec::with_capacity(64);
        out.push(kb_field("MemTotal", self.totalram_pages));
        out.push(kb_field("MemFree", self.nr_free_pages));
        out.push(kb_field("MemAvailable", self.available()));
        out.push(kb_field("Buffers", self.buffer_pages));
        out.push(kb_field("Cached", self.cached()));
        out.push(kb_field("SwapCached", self.swapcache_pages));
        out.push(kb_field("Active", self.active_anon + self.active_file));
        out.push(kb_field("Inactive", self.inactive_anon + self.inactive_file));
        out.push(kb_field("Active(anon)", self.active_anon));
        out.push(kb_field("Inactive(anon)", self.inactive_anon));
        out.push(kb_field("Active(file)", self.active_file));
        out.push(kb_field("Inactive(file)", self.inactive_file));
        out.push(kb_field("Unevictable", self.unevictable));
        out.push(kb_field("Mlocked", self.mlocked));
        out.push(kb_field("SwapTotal", self.total_swap_pages));
        out.push(kb_field("SwapFree", self.free_swap_pages));
        out.push(kb_field("Zswap", self.zswap_pages));
        out.push(kb_field("Zswapped", self.zswapped_pages));
        out.push(kb_field("Dirty", self.dirty));
        out.push(kb_field("Writeback", self.writeback));
        out.push(kb_field("AnonPages", self.anon_mapped));
        out.push(kb_field("Mapped", self.file_mapped));
        out.push(kb_field("Shmem", self.shmem));
        out.push(kb_field("KReclaimable", self.slab_reclaimable + self.kernel_misc_reclaimable));
        out.push(kb_field("Slab", self.slab_reclaimable + self.slab_unreclaimable));
        out.push(kb_field("SReclaimable", self.slab_reclaimable));
        out.push(kb_field("SUnreclaim", self.slab_unreclaimable));
        out.push(("KernelStack", self.kernel_stack_kb, LineFormat::ShowValKb));
        out.push(kb_field("PageTables", self.pagetables));
        out.push(kb_field("SecPageTables", self.sec_pagetables));
        out.push(kb_field("NFS_Unstable", 0));
        out.push(kb_field("Bounce", 0));
        out.push(kb_field("WritebackTmp", self.writeback_tmp));
        out.push(kb_field("CommitLimit", self.commit_limit));
        out.push(kb_field("Committed_AS", self.committed_as.max(0) as u64));
        out.push(("VmallocTotal", self.vmalloc_total_kb, LineFormat::ShowValKb));
        out.push(kb_field("VmallocUsed", self.vmalloc_used));
        out.push(kb_field("VmallocChunk", 0));
        out.push(kb_field("Percpu", self.percpu));
        // HardwareCorrupted has its own format: one space, value in 5 columns.
        out.push(("HardwareCorrupted", pages_to_kb(self.hardware_corrupted), LineFormat::HardwareCorrupted));
        out.push(kb_field("AnonHugePages", self.anon_huge_pages));
        out.push(kb_field("ShmemHugePages", self.shmem_huge_pages));
        out.push(kb_field("ShmemPmdMapped", self.shmem_pmd_mapped));
        out.push(kb_field("FileHugePages", self.file_huge_pages));
        out.push(kb_field("FilePmdMapped", self.file_pmd_mapped));
        out.push(kb_field("CmaTotal", self.cma_total));
        out.push(kb_field("CmaFree", self.cma_free));
        out.push(kb_field("Unaccepted", self.unaccepted));
        out.push(kb_field("Balloon", self.balloon));
        // mm/hugetlb.c:hugetlb_report_meminfo(): counts in 5 columns after the padded label, then sizes in kB.
        for (name, v) in [
            ("HugePages_Total", self.hugepages_total),
            ("HugePages_Free", self.hugepages_free),
            ("HugePages_Rsvd", self.hugepages_rsvd),
            ("HugePages_Surp", self.hugepages_surp),
        ] {
            out.push((name, v, LineFormat::HugeCount));
        }
        out.push(("Hugepagesize", self.hugepagesize_kb, LineFormat::ShowValKb));
        out.push(("Hugetlb", self.hugetlb_kb, LineFormat::ShowValKb));
        // arch/x86/mm/pat/set_memory.c:arch_report_meminfo()
        out.push(("DirectMap4k", self.direct_map_4k_kb, LineFormat::ShowValKb));
        out.push(("DirectMap2M", self.direct_map_2m_kb, LineFormat::ShowValKb));
        if let Some(g) = self.direct_map_1g_kb {
            out.push(("DirectMap1G", g, LineFormat::ShowValKb));
        }
        out
    }

    /// The value of one field as printed (kB, or huge pages for HugePages_*), by name.
    pub fn field_kb(&self, name: &str) -> Option<u64> {
        self.fields().into_iter().find(|(n, _, _)| *n == name).map(|(_, v, _)| v)
    }

    /// The full /proc/meminfo text, one line per field, each ending in a newline.
    pub fn format(&self) -> String {
        let mut s = String::new();
        for (_, _, line) in self.lines() {
            s.push_str(&line);
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        assert_eq!(show_val_kb("CommitLimit:", 10485760), "CommitLimit:    10485760 kB");
        assert_eq!(show_val_kb("MemFree:", 0), "MemFree:               0 kB");
        assert_eq!(show_val_kb("MemTotal:", 123456789012), "MemTotal:       123456789012 kB");
        assert_eq!(show_val_kb("Inactive(anon):", 4), "Inactive(anon):        4 kB");
    }

    #[test]
    fn mem_available() {
        assert_eq!(si_mem_available(500000, 35718, 200000, 300000, 40000, 0, 20000), 964282);
        assert_eq!(si_mem_available(1000, 50000, 100, 100, 0, 0, 20000), 0);
        // half of the cache below the low mark: only half is counted
        assert_eq!(si_mem_available(0, 0, 50, 50, 0, 0, 1000), 50);
        // odd cache: 101 - min(50, x)
        assert_eq!(si_mem_available(0, 0, 101, 0, 7, 0, 1000), 51 + 4);
    }

    #[test]
    fn cached_and_text() {
        assert_eq!(meminfo_cached(500000, 1000, 20000), 479000);
        assert_eq!(meminfo_cached(10, 5, 6), 0);
        let mut m = Meminfo::new();
        m.totalram_pages = 4194304;
        m.nr_file_pages = 500000;
        m.swapcache_pages = 1000;
        m.buffer_pages = 20000;
        m.shmem = 30000;
        m.committed_as = -5;
        m.hugepages_total = 3;
        let text = m.format();
        assert!(text.starts_with("MemTotal:       16777216 kB\nMemFree:               0 kB\n"));
        assert!(text.contains("\nCached:          1916000 kB\n"));
        assert!(text.contains("\nShmem:            120000 kB\n"));
        assert!(text.contains("\nCommitted_AS:          0 kB\n"));
        assert!(text.contains("\nHardwareCorrupted:     0 kB\n"));
        assert!(text.contains("\nHugePages_Total:       3\nHugePages_Free:        0\n"));
        assert!(text.contains("\nHugepagesize:       2048 kB\n"));
        assert!(text.contains("\nVmallocTotal:   34359738367 kB\n"));
        assert!(text.contains("\nKernelStack:           0 kB\nPageTables:"));
        assert_eq!(m.field_kb("Cached"), Some(1916000));
        assert_eq!(m.field_kb("DirectMap1G"), None);
        let names: Vec<_> = m.lines().into_iter().map(|l| l.0).collect();
        let pos = |n| names.iter().position(|x| *x == n).unwrap();
        assert!(
            pos("SwapCached") < pos("Active")
                && pos("SUnreclaim") < pos("KernelStack")
                && pos("CommitLimit") < pos("Committed_AS")
        );
        // the unformatted values (the engine's per-tick read) are the printed lines' values, in the same order
        m.hardware_corrupted = 2;
        m.direct_map_1g_kb = Some(1048576);
        let lines = m.lines();
        let values = m.values();
        assert_eq!(values.len(), lines.len());
        for ((n, v), (ln, lv, line)) in values.iter().zip(&lines) {
            assert_eq!((n, v), (ln, lv));
            assert!(line.starts_with(&format!("{n}:")) && line.contains(&v.to_string()), "{line}");
        }
        assert!(m.format().contains("\nHardwareCorrupted:     8 kB\n"));
        assert!(m.format().ends_with("\nDirectMap1G:     1048576 kB\n"));
    }
}
