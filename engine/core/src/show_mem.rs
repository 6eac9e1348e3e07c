//! mm/show_mem.c: the `show_mem()` report dump_header prints for a global OOM (`Mem-Info:`, `__show_free_areas`,
//! the page totals), built from the engine's real counters for its one node with one Normal zone. Lines whose
//! numbers the model has no source for (buddy free lists, hugepage pool lines) are left out; counters the model does
//! not keep (isolated pages, bounce, pcp lists, CMA, highatomic) print 0 as on a machine where they are empty.

use crate::kernel::Kernel;
use crate::vmstat::Vmstat;

fn k(pages: u64) -> u64 {
    crate::pages_to_kb(pages)
}

/// The show_mem lines for the current state, in the kernel's order.
pub fn show_mem_lines(kern: &Kernel) -> Vec<String> {
    let v = |i: Vmstat| kern.vmstat.get(i);
    let m = kern.meminfo();
    let free = kern.nr_free_pages();
    let w = kern.wmark;
    let mut out = vec!["Mem-Info:".to_string()];
    out.push(format!(
        "active_anon:{} inactive_anon:{} isolated_anon:0\n active_file:{} inactive_file:{} isolated_file:0\n unevictable:{} dirty:{} writeback:{}\n slab_reclaimable:{} slab_unreclaimable:{}\n mapped:{} shmem:{} pagetables:{}\n sec_pagetables:0 bounce:0\n kernel_misc_reclaimable:0\n free:{} free_pcp:0 free_cma:0",
        v(Vmstat::nr_active_anon),
        v(Vmstat::nr_inactive_anon),
        v(Vmstat::nr_active_file),
        v(Vmstat::nr_inactive_file),
        v(Vmstat::nr_unevictable),
        v(Vmstat::nr_dirty),
        v(Vmstat::nr_writeback),
        v(Vmstat::nr_slab_reclaimable),
        v(Vmstat::nr_slab_unreclaimable),
        v(Vmstat::nr_mapped),
        v(Vmstat::nr_shmem),
        m.pagetables,
        free
    ));
    let lines: Vec<String> = out.pop().unwrap().split('\n').map(str::to_string).collect();
    out.extend(lines);
    out.push(format!(
        "Node 0 Normal free:{}kB boost:0kB min:{}kB low:{}kB high:{}kB reserved_highatomic:0KB free_highatomic:0KB active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB unevictable:{}kB writepending:{}kB present:{}kB managed:{}kB mlocked:0kB bounce:0kB free_pcp:0kB local_pcp:0kB free_cma:0kB",
        k(free),
        k(w.min),
        k(w.low),
        k(w.high),
        k(v(Vmstat::nr_active_anon)),
        k(v(Vmstat::nr_inactive_anon)),
        k(v(Vmstat::nr_active_file)),
        k(v(Vmstat::nr_inactive_file)),
        k(v(Vmstat::nr_unevictable)),
        k(v(Vmstat::nr_dirty) + v(Vmstat::nr_writeback)),
        k(kern.totalram_pages()),
        k(kern.totalram_pages()),
    ));
    out.push("lowmem_reserve[]: 0 0 0 0 0".to_string());
    out.push(format!("{} total pagecache pages", v(Vmstat::nr_file_pages)));
    out.push(format!("{} pages in swap cache", v(Vmstat::nr_swapcached)));
    out.push(format!("Free swap  = {}kB", k(kern.swap.nr_free as u64)));
    out.push(format!("Total swap = {}kB", k(kern.swap.total as u64)));
    out.push(format!("{} pages RAM", kern.totalram_pages()));
    out.push("0 pages HighMem/MovableOnly".to_string());
    out.push("0 pages reserved".to_string());
    out
}
