//! /proc/vmstat counters (mm/vmstat.c:`vmstat_text`), kept as one flat `u64` array indexed by `Vmstat`.
//! The array crosses the wasm boundary as a typed-array view; `bindings/src/generated/vmstat.ts` holds the same
//! names and indices, generated from `VMSTAT_NAMES` (a test checks that the generated file is current).

macro_rules! vmstat_items {
    ($($name:ident),* $(,)?) => {
        /// Index of a /proc/vmstat counter. The variant name is the kernel's key, verbatim.
        #[allow(non_camel_case_types)]
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Vmstat { $($name),* }

        /// Keys in /proc/vmstat order (a subset of the kernel's; the order is the kernel's).
        pub const VMSTAT_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

vmstat_items!(
    nr_free_pages,
    nr_zspages,
    nr_inactive_anon,
    nr_active_anon,
    nr_inactive_file,
    nr_active_file,
    nr_unevictable,
    nr_slab_reclaimable,
    nr_slab_unreclaimable,
    nr_anon_pages,
    nr_mapped,
    nr_file_pages,
    nr_dirty,
    nr_writeback,
    nr_shmem,
    nr_swapcached,
    nr_page_table_pages,
    pgpgin,
    pgpgout,
    pswpin,
    pswpout,
    pgalloc_normal,
    allocstall_normal,
    pgfree,
    pgactivate,
    pgdeactivate,
    pgfault,
    pgmajfault,
    pgrefill,
    pgsteal_kswapd,
    pgsteal_direct,
    pgscan_kswapd,
    pgscan_direct,
    pgscan_anon,
    pgscan_file,
    pgsteal_anon,
    pgsteal_file,
    workingset_refault_anon,
    workingset_refault_file,
    pageoutrun,
    oom_kill,
);

pub const NR_VMSTAT: usize = VMSTAT_NAMES.len();

/// The counters themselves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VmstatCounters {
    #[serde(with = "crate::snapshot::serde_array::array")]
    pub v: [u64; NR_VMSTAT],
}

impl Default for VmstatCounters {
    fn default() -> Self {
        VmstatCounters { v: [0; NR_VMSTAT] }
    }
}

impl VmstatCounters {
    #[inline]
    pub fn get(&self, i: Vmstat) -> u64 {
        self.v[i as usize]
    }
    #[inline]
    pub fn add(&mut self, i: Vmstat, n: u64) {
        self.v[i as usize] += n;
    }
    #[inline]
    pub fn sub(&mut self, i: Vmstat, n: u64) {
        self.v[i as usize] -= n;
    }
    #[inline]
    pub fn inc(&mut self, i: Vmstat) {
        self.v[i as usize] += 1;
    }
    pub fn by_name(&self, name: &str) -> Option<u64> {
        VMSTAT_NAMES.iter().position(|n| *n == name).map(|i| self.v[i])
    }
    /// /proc/vmstat text: `name value` per line.
    pub fn format(&self) -> String {
        let mut s = String::new();
        for (i, n) in VMSTAT_NAMES.iter().enumerate() {
            s.push_str(n);
            s.push(' ');
            s.push_str(&self.v[i].to_string());
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_indices() {
        assert_eq!(VMSTAT_NAMES[Vmstat::pgfault as usize], "pgfault");
        assert_eq!(VMSTAT_NAMES[Vmstat::oom_kill as usize], "oom_kill");
        let mut c = VmstatCounters::default();
        c.inc(Vmstat::pgmajfault);
        assert_eq!(c.by_name("pgmajfault"), Some(1));
        assert!(c.format().contains("pgmajfault 1\n"));
    }
}
