//! Hierarchical page counters (mm/page_counter.c, include/linux/page_counter.h), and the limit parser
//! `page_counter_memparse` with the `memparse` rules it relies on (lib/cmdline.c:memparse, lib/vsprintf.c:
//! simple_strtoull).
//!
//! Counters live in an arena (`PageCounterArena`) and point at their parent by index, so charging a short
//! hierarchy is a loop over a few indices with no allocation (the per-page hot path of the engine).

use crate::errno::Errno;
use crate::PAGE_SIZE;

/// `PAGE_COUNTER_MAX` = LONG_MAX / PAGE_SIZE on 64-bit (include/linux/page_counter.h).
pub const PAGE_COUNTER_MAX: u64 = (i64::MAX as u64) / PAGE_SIZE;

/// Index of a counter in its arena.
pub type CounterId = u32;

/// One `struct page_counter`. All amounts are in pages.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageCounter {
    pub usage: u64,
    pub max: u64,
    pub min: u64,
    pub low: u64,
    pub high: u64,
    /// Global peak of `usage` (v1 `max_usage_in_bytes`, v2 `memory.peak` of a fresh open).
    pub watermark: u64,
    /// Peak since the last fd-local reset (`memory.peak` writes) or v1 watermark reset.
    pub local_watermark: u64,
    pub failcnt: u64,
    /// Whether a failed try_charge counts in `failcnt` (v6.19: only the v1 `memory` counter).
    pub track_failcnt: bool,
    /// Whether min/low protection is tracked (the memory counter of a memcg).
    pub protection_support: bool,
    /// `min(usage, min)` as last propagated into the parent's `children_min_usage`.
    pub min_usage: u64,
    pub low_usage: u64,
    pub children_min_usage: u64,
    pub children_low_usage: u64,
    /// Effective protection, computed by `calculate_protection` during reclaim.
    pub emin: u64,
    pub elow: u64,
    pub parent: Option<CounterId>,
}

impl PageCounter {
    fn new(parent: Option<CounterId>, track_failcnt: bool, protection_support: bool) -> Self {
        PageCounter {
            usage: 0,
            max: PAGE_COUNTER_MAX,
            min: 0,
            low: 0,
            high: PAGE_COUNTER_MAX,
            watermark: 0,
            local_watermark: 0,
            failcnt: 0,
            track_failcnt,
            protection_support,
            min_usage: 0,
            low_usage: 0,
            children_min_usage: 0,
            children_low_usage: 0,
            emin: 0,
            elow: 0,
            parent,
        }
    }
}

/// All page counters of a hierarchy. Counters are never freed (a removed cgroup keeps its slot).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PageCounterArena {
    counters: Vec<PageCounter>,
}

impl PageCounterArena {
    pub fn new() -> Self {
        PageCounterArena { counters: Vec::new() }
    }

    /// `page_counter_init`: a new counter below `parent`, usage 0, unlimited.
    pub fn alloc(&mut self, parent: Option<CounterId>, track_failcnt: bool, protection_support: bool) -> CounterId {
        let id = self.counters.len() as CounterId;
        self.counters.push(PageCounter::new(parent, track_failcnt, protection_support));
        id
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }

    /// Every parent precedes its child, and a parent's usage is at least its children's together (charges
    /// propagate up the hierarchy: mm/page_counter.c:`page_counter_charge`) (snapshot/check.rs).
    pub(crate) fn check_parents(&self) -> Result<(), String> {
        let mut children = vec![0u128; self.counters.len()];
        for (i, c) in self.counters.iter().enumerate() {
            if let Some(p) = c.parent {
                if p as usize >= i {
                    return Err(format!("page_counter {i}: parent {p} does not precede it"));
                }
                children[p as usize] += c.usage as u128;
            }
        }
        for (i, c) in self.counters.iter().enumerate() {
            if (c.usage as u128) < children[i] {
                return Err(format!("page_counter {i}: usage {} below its children's {}", c.usage, children[i]));
            }
        }
        Ok(())
    }

    pub fn get(&self, id: CounterId) -> &PageCounter {
        &self.counters[id as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, id: CounterId) -> &mut PageCounter {
        &mut self.counters[id as usize]
    }

    /// `page_counter_read`.
    #[inline]
    pub fn read(&self, id: CounterId) -> u64 {
        self.get(id).usage
    }

    /// `propagate_protected_usage`: keep the parent's sums of the children's protected usage current.
    fn propagate_protected_usage(&mut self, id: CounterId, usage: u64) {
        let c = self.get(id);
        let Some(parent) = c.parent else { return };
        if !c.protection_support {
            return;
        }
        let prot_min = usage.min(c.min);
        let old_min = c.min_usage;
        let prot_low = usage.min(c.low);
        let old_low = c.low_usage;
        if prot_min != old_min {
            self.get_mut(id).min_usage = prot_min;
            let p = self.get_mut(parent);
            p.children_min_usage = p.children_min_usage.wrapping_add(prot_min).wrapping_sub(old_min);
        }
        if prot_low != old_low {
            self.get_mut(id).low_usage = prot_low;
            let p = self.get_mut(parent);
            p.children_low_usage = p.children_low_usage.wrapping_add(prot_low).wrapping_sub(old_low);
        }
    }

    /// `page_counter_cancel`: take `n` back out of one level; usage below zero warns and clamps at 0.
    /// Returns true when it had to clamp (the kernel's WARN_ONCE).
    fn cancel(&mut self, id: CounterId, n: u64) -> bool {
        let c = self.get_mut(id);
        let (new, warned) = if n > c.usage { (0, true) } else { (c.usage - n, false) };
        c.usage = new;
        self.propagate_protected_usage(id, new);
        warned
    }

    fn bump_watermarks(&mut self, id: CounterId, new: u64) {
        let c = self.get_mut(id);
        // The global peak follows the local one: it is only compared when the local peak rises
        // (mm/page_counter.c:page_counter_charge / page_counter_try_charge).
        if new > c.local_watermark {
            c.local_watermark = new;
            if new > c.watermark {
                c.watermark = new;
            }
        }
    }

    /// `page_counter_charge`: add `n` at every level from `id` to the root, ignoring the limits
    /// (forced charges: __GFP_NOFAIL, __GFP_HIGH, PF_MEMALLOC).
    pub fn charge(&mut self, id: CounterId, n: u64) {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let new = self.get(c).usage.wrapping_add(n);
            self.get_mut(c).usage = new;
            self.propagate_protected_usage(c, new);
            self.bump_watermarks(c, new);
            cur = self.get(c).parent;
        }
    }

    /// `page_counter_try_charge`: add `n` level by level from `id` up. The first level whose new usage exceeds
    /// its max takes `n` back, counts a failure there (when it tracks failcnt), the levels already charged are
    /// cancelled, and the failing counter is returned as the error.
    pub fn try_charge(&mut self, id: CounterId, n: u64) -> Result<(), CounterId> {
        // Hot path (every charged page): one indexed access per level; the protected-usage propagation only runs
        // when it can change something (a min/low setting or a protected usage to take back).
        let mut cur = id;
        loop {
            let c = &mut self.counters[cur as usize];
            let new = c.usage.wrapping_add(n);
            if new > c.max {
                return Err(self.try_charge_failed(id, cur, n));
            }
            c.usage = new;
            if new > c.local_watermark {
                c.local_watermark = new;
                if new > c.watermark {
                    c.watermark = new;
                }
            }
            let parent = c.parent;
            if c.protection_support && (c.min | c.low | c.min_usage | c.low_usage) != 0 {
                self.propagate_protected_usage(cur, new);
            }
            match parent {
                Some(p) => cur = p,
                None => return Ok(()),
            }
        }
    }

    /// The most pages `try_charge(id, n)` accepts: the smallest `max - usage` from `id` up to the root.
    pub fn headroom(&self, id: CounterId) -> u64 {
        let mut cur = id;
        let mut room = u64::MAX;
        loop {
            let c = &self.counters[cur as usize];
            room = room.min(c.max.saturating_sub(c.usage));
            match c.parent {
                Some(p) => cur = p,
                None => return room,
            }
        }
    }

    /// The failure of `try_charge` at level `failed`: failcnt there (when tracked), the levels below undone.
    #[cold]
    fn try_charge_failed(&mut self, id: CounterId, failed: CounterId, n: u64) -> CounterId {
        let counter = self.get_mut(failed);
        if counter.track_failcnt {
            counter.failcnt += 1;
        }
        let mut undo = id;
        while undo != failed {
            self.cancel(undo, n);
            undo = self.get(undo).parent.expect("failing counter is an ancestor");
        }
        failed
    }

    /// `page_counter_uncharge`: subtract `n` at every level; returns true if any level had to clamp at 0
    /// (the kernel warns "page_counter underflow").
    pub fn uncharge(&mut self, id: CounterId, n: u64) -> bool {
        let mut warned = false;
        let mut cur = Some(id);
        while let Some(c) = cur {
            warned |= self.cancel(c, n);
            cur = self.get(c).parent;
        }
        warned
    }

    /// `page_counter_set_max`: refuses with EBUSY when usage is above the new limit; never sets it below usage.
    pub fn set_max(&mut self, id: CounterId, nr_pages: u64) -> Result<(), Errno> {
        let c = self.get_mut(id);
        if c.usage > nr_pages {
            return Err(Errno::EBUSY);
        }
        c.max = nr_pages;
        Ok(())
    }

    /// `page_counter_set_min`: the setting, then the protected usage is re-propagated.
    pub fn set_min(&mut self, id: CounterId, nr_pages: u64) {
        self.get_mut(id).min = nr_pages;
        let u = self.read(id);
        self.propagate_protected_usage(id, u);
    }

    /// `page_counter_set_low`.
    pub fn set_low(&mut self, id: CounterId, nr_pages: u64) {
        self.get_mut(id).low = nr_pages;
        let u = self.read(id);
        self.propagate_protected_usage(id, u);
    }

    /// `page_counter_set_high`.
    pub fn set_high(&mut self, id: CounterId, nr_pages: u64) {
        self.get_mut(id).high = nr_pages;
    }

    /// `page_counter_reset_watermark`: both peaks restart at the current usage (v1 max_usage_in_bytes write).
    pub fn reset_watermark(&mut self, id: CounterId) {
        let c = self.get_mut(id);
        c.local_watermark = c.usage;
        c.watermark = c.usage;
    }

    /// `page_counter_calculate_protection(root, counter, recursive)`: compute `emin`/`elow` of `id` for a
    /// reclaim rooted at `root`. Must be called top-down (parents first). The reclaim root itself is skipped,
    /// an empty counter keeps its stale values, and children of the reclaim root get their raw settings.
    pub fn calculate_protection(&mut self, root: CounterId, id: CounterId, recursive_protection: bool) {
        if root == id {
            return;
        }
        let c = self.get(id);
        let usage = c.usage;
        if usage == 0 {
            return;
        }
        let Some(parent) = c.parent else { return };
        let (min, low) = (c.min, c.low);
        if parent == root {
            let c = self.get_mut(id);
            c.emin = min;
            c.elow = low;
            return;
        }
        let p = self.get(parent);
        let emin = effective_protection(usage, p.usage, min, p.emin, p.children_min_usage, recursive_protection);
        let elow = effective_protection(usage, p.usage, low, p.elow, p.children_low_usage, recursive_protection);
        let c = self.get_mut(id);
        c.emin = emin;
        c.elow = elow;
    }
}

/// `effective_protection` (mm/page_counter.c): the share of the parent's effective protection a child gets.
/// With the siblings' protected usage over-committing the parent, each gets a proportional share
/// (`protected * parent_effective / siblings_protected`, truncating). Otherwise it keeps its own protected
/// usage, and with `memory_recursiveprot` also a share of the unclaimed parent protection proportional to its
/// unprotected usage. Unsigned long arithmetic (wrapping, as in C).
pub fn effective_protection(
    usage: u64,
    parent_usage: u64,
    setting: u64,
    parent_effective: u64,
    siblings_protected: u64,
    recursive_protection: bool,
) -> u64 {
    let protected = usage.min(setting);
    if siblings_protected > parent_effective {
        return protected.wrapping_mul(parent_effective) / siblings_protected;
    }
    let mut ep = protected;
    if recursive_protection
        && parent_effective > siblings_protected
        && parent_usage > siblings_protected
        && usage > protected
    {
        let unclaimed = (parent_effective - siblings_protected).wrapping_mul(usage - protected)
            / (parent_usage - siblings_protected);
        ep = ep.wrapping_add(unclaimed);
    }
    ep
}

/// The part of a counter's usage its own setting protects (`min(usage, setting)`), as summed into the parent's
/// `children_min_usage` / `children_low_usage` by `propagate_protected_usage`.
pub fn protected_usage(usage: u64, setting: u64) -> u64 {
    usage.min(setting)
}

/// The effective protection `page_counter_calculate_protection` gives a non-empty counter: its raw setting when
/// its parent is the reclaim root, else `effective_protection` against the parent's effective value.
pub fn child_effective_protection(
    parent_is_reclaim_root: bool,
    usage: u64,
    parent_usage: u64,
    setting: u64,
    parent_effective: u64,
    siblings_protected: u64,
    recursive_protection: bool,
) -> u64 {
    if parent_is_reclaim_root {
        setting
    } else {
        effective_protection(usage, parent_usage, setting, parent_effective, siblings_protected, recursive_protection)
    }
}

/// A limit written to a file parsed by `page_counter_memparse`, and whether the literal "unlimited" word was
/// used.
///
/// `page_counter_memparse(buf, max_word)`: the (already whitespace-stripped) text equal to `max_word` (`"max"`
/// in v2, `"-1"` in v1) is PAGE_COUNTER_MAX; otherwise `memparse` must consume the whole text, and the byte
/// count is floored to pages and clamped at PAGE_COUNTER_MAX. Anything left over is EINVAL.
pub fn page_counter_memparse(buf: &str, max_word: &str) -> Result<u64, Errno> {
    let buf = strstrip(buf);
    if buf == max_word {
        return Ok(PAGE_COUNTER_MAX);
    }
    let (bytes, rest) = memparse(buf);
    if !rest.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok((bytes / PAGE_SIZE).min(PAGE_COUNTER_MAX))
}

/// The kernel's `strstrip`: leading and trailing whitespace (isspace: space, \t, \n, \v, \f, \r) removed.
pub fn strstrip(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'))
}

/// `simple_strtoull(s, &end, 0)`: base from the prefix (`0x` followed by a hex digit: 16; a leading `0`: 8;
/// else 10), digits as far as they are valid, no sign, overflow wraps. Returns the value and the unparsed rest.
pub fn simple_strtoull(s: &str) -> (u64, &str) {
    let b = s.as_bytes();
    let (base, start) = if b.first() == Some(&b'0') {
        if b.len() >= 3 && (b[1] == b'x' || b[1] == b'X') && b[2].is_ascii_hexdigit() {
            (16u64, 2usize)
        } else {
            (8, 0)
        }
    } else {
        (10, 0)
    };
    let mut v: u64 = 0;
    let mut i = start;
    while i < b.len() {
        let d = match b[i] {
            c @ b'0'..=b'9' => (c - b'0') as u64,
            c @ b'a'..=b'f' => (c - b'a' + 10) as u64,
            c @ b'A'..=b'F' => (c - b'A' + 10) as u64,
            _ => break,
        };
        if d >= base {
            break;
        }
        v = v.wrapping_mul(base).wrapping_add(d);
        i += 1;
    }
    (v, &s[i..])
}

/// `memparse`: a number as `simple_strtoull` reads it, then an optional suffix K, M, G, T, P or E (either
/// case) shifting it left by 10, 20, ... 60 bits (wrapping). Returns the value and the unparsed rest.
pub fn memparse(s: &str) -> (u64, &str) {
    let (v, rest) = simple_strtoull(s);
    let shift = match rest.as_bytes().first() {
        Some(b'K' | b'k') => 10,
        Some(b'M' | b'm') => 20,
        Some(b'G' | b'g') => 30,
        Some(b'T' | b't') => 40,
        Some(b'P' | b'p') => 50,
        Some(b'E' | b'e') => 60,
        _ => return (v, rest),
    };
    (v.wrapping_shl(shift), &rest[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree3() -> (PageCounterArena, CounterId, CounterId, CounterId) {
        let mut a = PageCounterArena::new();
        let r = a.alloc(None, true, true);
        let p = a.alloc(Some(r), true, true);
        let c = a.alloc(Some(p), true, true);
        (a, r, p, c)
    }

    #[test]
    fn page_counter_max_value() {
        assert_eq!(PAGE_COUNTER_MAX, 2251799813685247);
        assert_eq!(PAGE_COUNTER_MAX * PAGE_SIZE, 9223372036854771712);
    }

    #[test]
    fn try_charge_fails_on_ancestor_and_undoes() {
        let (mut a, r, p, c) = tree3();
        a.set_max(p, 100).unwrap();
        a.try_charge(p, 60).unwrap();
        a.try_charge(c, 40).unwrap();
        assert_eq!(a.try_charge(c, 1), Err(p));
        assert_eq!(a.read(c), 40);
        assert_eq!(a.read(p), 100);
        assert_eq!(a.read(r), 100);
        assert_eq!(a.get(p).failcnt, 1);
        assert_eq!(a.get(c).failcnt, 0);
        // exactly at the limit succeeds: strict >
        a.uncharge(c, 1);
        assert!(a.try_charge(c, 1).is_ok());
        assert_eq!(a.get(p).watermark, 100);
    }

    #[test]
    fn failcnt_only_when_tracked() {
        let mut a = PageCounterArena::new();
        let r = a.alloc(None, false, false);
        a.set_max(r, 0).unwrap();
        assert_eq!(a.try_charge(r, 1), Err(r));
        assert_eq!(a.get(r).failcnt, 0);
    }

    #[test]
    fn forced_charge_ignores_max_and_uncharge_clamps() {
        let (mut a, _r, p, c) = tree3();
        a.set_max(p, 10).unwrap();
        a.charge(c, 20);
        assert_eq!(a.read(p), 20);
        assert_eq!(a.get(p).watermark, 20);
        assert!(!a.uncharge(c, 20));
        assert!(a.uncharge(c, 1), "underflow warns");
        assert_eq!(a.read(c), 0);
    }

    #[test]
    fn set_max_ebusy_and_watermark_reset() {
        let (mut a, _r, p, _c) = tree3();
        a.charge(p, 50);
        assert_eq!(a.set_max(p, 49), Err(Errno::EBUSY));
        assert_eq!(a.get(p).max, PAGE_COUNTER_MAX);
        assert!(a.set_max(p, 50).is_ok());
        a.uncharge(p, 20);
        a.reset_watermark(p);
        assert_eq!(a.get(p).watermark, 30);
        a.charge(p, 10);
        assert_eq!(a.get(p).watermark, 40);
    }

    #[test]
    fn protected_usage_sums() {
        let (mut a, _r, p, c) = tree3();
        a.set_low(c, 30);
        a.charge(c, 50);
        assert_eq!(a.get(p).children_low_usage, 30);
        a.uncharge(c, 40);
        assert_eq!(a.get(p).children_low_usage, 10);
        a.set_min(c, 5);
        assert_eq!(a.get(p).children_min_usage, 5);
    }

    #[test]
    fn effective_protection_rules() {
        // overcommitted: proportional, truncating
        assert_eq!(effective_protection(100, 300, 100, 100, 300, false), 33);
        // recursive: unclaimed share
        assert_eq!(effective_protection(100, 200, 50, 150, 100, true), 50 + 50 * 50 / 100);
        assert_eq!(effective_protection(100, 200, 50, 150, 100, false), 50);
        // protected clamps to usage
        assert_eq!(effective_protection(10, 200, 50, 150, 10, false), 10);
    }

    #[test]
    fn calculate_protection_top_down() {
        let (mut a, r, p, c) = tree3();
        a.set_low(p, 1000);
        a.set_low(c, 50000);
        a.charge(c, 10);
        a.calculate_protection(r, p, false);
        assert_eq!(a.get(p).elow, 1000); // child of root: raw
        a.calculate_protection(r, c, false);
        assert_eq!(a.get(c).elow, 10); // min(usage, low) vs parent's 1000
        a.calculate_protection(p, c, false);
        assert_eq!(a.get(c).elow, 50000); // parent is the reclaim root: raw, not clamped
    }

    #[test]
    fn memparse_rules() {
        assert_eq!(page_counter_memparse("4097", "-1"), Ok(1));
        assert_eq!(page_counter_memparse("1", "-1"), Ok(0));
        assert_eq!(page_counter_memparse("1k", "-1"), Ok(0));
        assert_eq!(page_counter_memparse("1G", "-1"), Ok(262144));
        assert_eq!(page_counter_memparse(" 1m\n", "-1"), Ok(256));
        assert_eq!(page_counter_memparse("0x1000", "-1"), Ok(1));
        assert_eq!(page_counter_memparse("010000", "-1"), Ok(1)); // octal 4096
        assert_eq!(page_counter_memparse("-1", "-1"), Ok(PAGE_COUNTER_MAX));
        assert_eq!(page_counter_memparse("9223372036854775807", "-1"), Ok(PAGE_COUNTER_MAX));
        for bad in ["max", "-2", "1.5M", "abc", "0x", "1KB", "+1"] {
            assert_eq!(page_counter_memparse(bad, "-1"), Err(Errno::EINVAL), "{bad}");
        }
        assert_eq!(page_counter_memparse("max", "max"), Ok(PAGE_COUNTER_MAX));
        assert_eq!(page_counter_memparse("-1", "max"), Err(Errno::EINVAL));
        assert_eq!(page_counter_memparse("", "max"), Ok(0));
        assert_eq!(page_counter_memparse("104857601", "max"), Ok(25600));
    }
}
