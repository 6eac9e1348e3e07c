//! fs/proc/task_mmu.c:`task_mem`: the memory lines of /proc/<pid>/status.
//!
//! Each line is `Name:\t` followed by the value in kB right-aligned in 8 columns and ` kB`
//! (`seq_put_decimal_ull_width(m, "VmSize:\t", total_vm << 2, 8)`). VmHWM/VmPeak are the high-water marks the
//! kernel keeps (updated before unmapping), at least the current value.

use crate::errno::ApiError;
use crate::kernel::Kernel;
use crate::mm_types::{MmCounter, VM_SHARED, VM_WRITE};

/// The values of the memory lines, kB.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TaskMem {
    pub vm_peak: u64,
    pub vm_size: u64,
    pub vm_hwm: u64,
    pub vm_rss: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub rss_shmem: u64,
    pub vm_data: u64,
    pub vm_pte: u64,
    pub vm_swap: u64,
}

impl Kernel {
    pub fn task_mem(&self, pid: u32) -> Result<TaskMem, ApiError> {
        let mm = self.task_mm(pid)?;
        let k = crate::pages_to_kb;
        let anon = mm.counter(MmCounter::MM_ANONPAGES);
        let file = mm.counter(MmCounter::MM_FILEPAGES);
        let shmem = mm.counter(MmCounter::MM_SHMEMPAGES);
        let rss = anon + file + shmem;
        let data: u64 = mm.vmas.iter().filter(|v| v.flags & (VM_WRITE | VM_SHARED) == VM_WRITE).map(|v| v.pages()).sum();
        let pte = if self.config.model_page_tables { mm.pgtables_bytes() >> 10 } else { 0 };
        Ok(TaskMem {
            vm_peak: k(mm.hiwater_vm.max(mm.total_vm)),
            vm_size: k(mm.total_vm),
            vm_hwm: k(mm.hiwater_rss.max(rss)),
            vm_rss: k(rss),
            rss_anon: k(anon),
            rss_file: k(file),
            rss_shmem: k(shmem),
            vm_data: k(data),
            vm_pte: pte,
            vm_swap: k(mm.counter(MmCounter::MM_SWAPENTS)),
        })
    }

    /// The memory lines of /proc/<pid>/status, in the kernel's order and format.
    pub fn proc_status_mem(&self, pid: u32) -> Result<String, ApiError> {
        let m = self.task_mem(pid)?;
        let lines: [(&str, u64); 15] = [
            ("VmPeak", m.vm_peak),
            ("VmSize", m.vm_size),
            ("VmLck", 0),
            ("VmPin", 0),
            ("VmHWM", m.vm_hwm),
            ("VmRSS", m.vm_rss),
            ("RssAnon", m.rss_anon),
            ("RssFile", m.rss_file),
            ("RssShmem", m.rss_shmem),
            ("VmData", m.vm_data),
            ("VmStk", 0),
            ("VmExe", 0),
            ("VmLib", 0),
            ("VmPTE", m.vm_pte),
            ("VmSwap", m.vm_swap),
        ];
        Ok(lines.iter().map(|(n, v)| format!("{n}:\t{v:>8} kB\n")).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::{Kernel, MachineConfig};
    use crate::memory::Access;
    use crate::mmap::{MapFlags, PROT_RW};

    #[test]
    fn status_lines_in_kernel_format() {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 65536, model_page_tables: false, ..Default::default() }).unwrap();
        k.spawn(1, "a").unwrap();
        let v = k.mmap(1, 256, PROT_RW, MapFlags { anonymous: true, ..Default::default() }, None).unwrap().unwrap();
        k.touch(1, v, 100, Access::Write).unwrap();
        let s = k.proc_status_mem(1).unwrap();
        assert!(s.starts_with("VmPeak:\t    1024 kB\nVmSize:\t    1024 kB\n"), "{s}");
        assert!(s.contains("VmRSS:\t     400 kB\nRssAnon:\t     400 kB\nRssFile:\t       0 kB\nRssShmem:\t       0 kB\n"), "{s}");
        assert!(s.contains("VmPTE:\t       0 kB\nVmSwap:\t       0 kB\n"), "{s}");
        assert!(k.proc_status_mem(2).is_err());
    }
}
