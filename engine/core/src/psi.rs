//! kernel/sched/psi.c (with include/linux/sched/loadavg.h, kernel/sched/loadavg.c): pressure stall information
//! for memory, as /proc/pressure/memory and memory.pressure show it.
//!
//! [`PsiGroup`] is the per-group state machine: the engine reports when the group's memory state (some / full)
//! changes at simulated time `now` (ns), the group accumulates stall time, and `update_averages(now)` folds the
//! stall time of each ~2 s period into the exponentially decaying avg10/avg60/avg300 exactly as the kernel does
//! (fixed point, 11 fractional bits). `show(now)` prints the file.

/// FSHIFT / FIXED_1 (include/linux/sched/loadavg.h): 11 fractional bits; 2048 is "1" (here: 1 %).
pub const FSHIFT: u32 = 11;
pub const FIXED_1: u64 = 1 << FSHIFT;
/// 1/exp(2s/10s), 1/exp(2s/60s), 1/exp(2s/300s) in fixed point (kernel/sched/psi.c EXP_10s, EXP_60s, EXP_300s).
pub const EXP_10S: u64 = 1677;
pub const EXP_60S: u64 = 1981;
pub const EXP_300S: u64 = 2034;
pub const EXPS: [u64; 3] = [EXP_10S, EXP_60S, EXP_300S];

/// psi_period: PSI_FREQ = 2*HZ+1 jiffies, in ns (2.001 s at HZ=1000, 2.004 s at HZ=250).
pub const fn psi_period_ns(hz: u64) -> u64 {
    (2 * hz + 1) * (1_000_000_000 / hz)
}

/// include/linux/sched/loadavg.h:calc_load(): one step of the exponential average, rounding up while the load
/// is rising (`active >= load`), truncating otherwise. Unsigned long arithmetic.
pub const fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut newload = load.wrapping_mul(exp).wrapping_add(active.wrapping_mul(FIXED_1 - exp));
    if active >= load {
        newload = newload.wrapping_add(FIXED_1 - 1);
    }
    newload / FIXED_1
}

/// include/linux/math.h:fixed_power_int(): x^n in fixed point with `frac_bits` fractional bits, rounding each
/// multiplication to nearest (square-and-multiply).
pub const fn fixed_power_int(mut x: u64, frac_bits: u32, mut n: u32) -> u64 {
    let mut result = 1u64 << frac_bits;
    if n != 0 {
        loop {
            if n & 1 != 0 {
                result = result.wrapping_mul(x).wrapping_add(1 << (frac_bits - 1)) >> frac_bits;
            }
            n >>= 1;
            if n == 0 {
                break;
            }
            x = x.wrapping_mul(x).wrapping_add(1 << (frac_bits - 1)) >> frac_bits;
        }
    }
    result
}

/// kernel/sched/loadavg.c:calc_load_n(): `n` steps of calc_load with a constant `active`, done in one step with
/// exp^n.
pub const fn calc_load_n(load: u64, exp: u64, active: u64, n: u32) -> u64 {
    calc_load(load, fixed_power_int(exp, FSHIFT, n), active)
}

/// The integer percent of a period spent stalled: `time * 100 / period`, truncated (kernel/sched/psi.c:calc_avgs).
pub fn psi_pct(time_ns: u64, period_ns: u64) -> u64 {
    time_ns.wrapping_mul(100).checked_div(period_ns).unwrap_or(0)
}

/// kernel/sched/psi.c:calc_avgs(): first decay the three averages through `missed_periods` idle periods
/// (calc_load_n with active 0), then fold in the most recent period's integer percent (times FIXED_1).
pub fn calc_avgs(avg: &mut [u64; 3], missed_periods: u32, time_ns: u64, period_ns: u64) {
    if missed_periods != 0 {
        for (a, e) in avg.iter_mut().zip(EXPS) {
            *a = calc_load_n(*a, e, 0, missed_periods);
        }
    }
    let active = psi_pct(time_ns, period_ns) * FIXED_1;
    for (a, e) in avg.iter_mut().zip(EXPS) {
        *a = calc_load(*a, e, active);
    }
}

/// LOAD_INT / LOAD_FRAC as psi_show prints an average: "%lu.%02lu" of the integer part and the hundredths
/// (truncated).
pub fn psi_avg_text(x: u64) -> String {
    format!("{}.{:02}", x >> FSHIFT, ((x & (FIXED_1 - 1)) * 100) >> FSHIFT)
}

/// One line of kernel/sched/psi.c:psi_show(), without the newline:
/// `<some|full> avg10=X.XX avg60=X.XX avg300=X.XX total=<µs>`.
pub fn psi_line(label: &str, avg: &[u64; 3], total_us: u64) -> String {
    format!(
        "{label} avg10={} avg60={} avg300={} total={total_us}",
        psi_avg_text(avg[0]),
        psi_avg_text(avg[1]),
        psi_avg_text(avg[2])
    )
}

/// The text of a pressure file: the `some` line and, when given, the `full` line, each ending in a newline.
pub fn psi_show_text(some: (&[u64; 3], u64), full: Option<(&[u64; 3], u64)>) -> String {
    let mut s = psi_line("some", some.0, some.1);
    s.push('\n');
    if let Some((avg, total)) = full {
        s.push_str(&psi_line("full", avg, total));
        s.push('\n');
    }
    s
}

/// kernel/sched/psi.c:test_states() for memory on one CPU: SOME when any task is in a memory stall; FULL when
/// additionally no running task is outside a memory stall (every running task is stalled, or nothing runs).
pub fn psi_test_states(memstall: u64, running_not_memstall: u64) -> (bool, bool) {
    let some = memstall > 0;
    (some, some && running_not_memstall == 0)
}

/// The idealised multi-CPU model of the kernel/sched/psi.c header comment, in integer percent:
/// threads = min(nonidle tasks, CPUs); SOME = min(delayed / threads, 1); FULL = (threads - min(productive,
/// threads)) / threads. With no non-idle thread there is no time to be stalled in: both are 0.
pub fn psi_aggregate_model(
    nr_cpus: u64,
    nonidle_tasks: u64,
    memory_delayed_tasks: u64,
    productive_tasks: u64,
) -> (u64, u64) {
    let threads = nonidle_tasks.min(nr_cpus);
    if threads == 0 {
        return (0, 0);
    }
    let some = (memory_delayed_tasks.saturating_mul(100) / threads).min(100);
    let full = (threads - productive_tasks.min(threads)) * 100 / threads;
    (some, full)
}

/// Result of [`psi_avgs_model`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsiAvgsTrace {
    pub pcts: Vec<u64>,
    pub avg: [u64; 3],
    pub total_ns: u64,
}

/// Successive averaging periods of one state, each given as (new stall ns, period ns): each period's stall is
/// clamped to the period before its percent is folded in with [`calc_avgs`] (no missed periods); the cumulative
/// total counts the unclamped stall time. (Each sample stands alone: the overage carry of [`PsiGroup`] is not
/// applied, see vectors-format §5.5 `psi_avgs`.)
pub fn psi_avgs_model(initial: [u64; 3], samples: &[(u64, u64)]) -> PsiAvgsTrace {
    let mut t = PsiAvgsTrace { pcts: Vec::new(), avg: initial, total_ns: 0 };
    for &(stall, period) in samples {
        let sample = stall.min(period);
        t.pcts.push(psi_pct(sample, period));
        calc_avgs(&mut t.avg, 0, sample, period);
        t.total_ns = t.total_ns.wrapping_add(stall);
    }
    t
}

/// The memory PSI states of a group.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PsiState {
    Some = 0,
    Full = 1,
}

/// Pressure of one group (system-wide or a cgroup) for memory: cumulative stall time per state and the running
/// averages (kernel/sched/psi.c `struct psi_group`, PSI_AVGS aggregator). Times are simulated ns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PsiGroup {
    /// Cumulative stall time per state (some, full), ns: `total[PSI_AVGS]`.
    pub total_ns: [u64; 2],
    /// The part of `total_ns` already folded into the averages (`avg_total`).
    pub avg_total_ns: [u64; 2],
    /// avg10/avg60/avg300 per state, fixed point.
    pub avg: [[u64; 3]; 2],
    pub avg_last_update: u64,
    pub avg_next_update: u64,
    /// psi_period in ns.
    pub period_ns: u64,
    /// Current state (some, full) and since when it holds.
    state: (bool, bool),
    state_since: u64,
}

impl PsiGroup {
    /// kernel/sched/psi.c:group_init(): averages start at `now`, the first update is due one period later.
    pub fn new(now: u64, period_ns: u64) -> Self {
        PsiGroup {
            total_ns: [0; 2],
            avg_total_ns: [0; 2],
            avg: [[0; 3]; 2],
            avg_last_update: now,
            avg_next_update: now.wrapping_add(period_ns),
            period_ns,
            state: (false, false),
            state_since: now,
        }
    }

    /// Accounts the time since the last change to the states that held, up to `now`.
    fn accumulate(&mut self, now: u64) {
        let delta = now.saturating_sub(self.state_since);
        if self.state.0 {
            self.total_ns[PsiState::Some as usize] += delta;
        }
        if self.state.1 {
            self.total_ns[PsiState::Full as usize] += delta;
        }
        self.state_since = now.max(self.state_since);
    }

    /// The group's memory state changes at `now` (as psi_group_change() sees it after test_states()): the time
    /// since the previous change is charged to the states that held. `full` implies `some`.
    pub fn set_state(&mut self, now: u64, some: bool, full: bool) {
        self.accumulate(now);
        self.state = (some || full, full);
    }

    /// Adds a stall of `ns` nanoseconds directly (for engine paths that know a stall's length up front).
    pub fn add_stall(&mut self, some_ns: u64, full_ns: u64) {
        self.total_ns[PsiState::Some as usize] += some_ns;
        self.total_ns[PsiState::Full as usize] += full_ns;
    }

    /// kernel/sched/psi.c:update_averages(), run when `now >= avg_next_update` (psi_avgs_work / psi_show).
    /// Periods that passed without an update are "missed" and decay the averages toward 0 (calc_load_n); the
    /// stall of the elapsed period is the growth of the total since the last update, truncated to 32 bits as the
    /// kernel's `u32 sample`, clamped to the period length with the overage kept for the next period. The next
    /// update stays on the fixed period grid. Returns whether an update ran.
    pub fn update_averages(&mut self, now: u64) -> bool {
        self.accumulate(now);
        if now < self.avg_next_update || self.period_ns == 0 {
            return false;
        }
        let expires = self.avg_next_update;
        let mut missed = 0u64;
        if now - expires >= self.period_ns {
            missed = (now - expires) / self.period_ns;
        }
        self.avg_next_update = expires + (1 + missed) * self.period_ns;
        let period = now.wrapping_sub(self.avg_last_update.wrapping_add(missed * self.period_ns));
        self.avg_last_update = now;
        for s in 0..2 {
            let mut sample = u64::from(self.total_ns[s].wrapping_sub(self.avg_total_ns[s]) as u32);
            if sample > period {
                sample = period;
            }
            self.avg_total_ns[s] += sample;
            calc_avgs(&mut self.avg[s], u32::try_from(missed).unwrap_or(u32::MAX), sample, period);
        }
        true
    }

    /// Cumulative stall time of a state in µs (the `total=` field).
    pub fn total_us(&self, s: PsiState) -> u64 {
        self.total_ns[s as usize] / 1000
    }

    /// kernel/sched/psi.c:psi_show() for memory: brings the averages up to date if an update is due, then prints
    /// the `some` and `full` lines.
    pub fn show(&mut self, now: u64) -> String {
        self.update_averages(now);
        psi_show_text(
            (&self.avg[0], self.total_us(PsiState::Some)),
            Some((&self.avg[1], self.total_us(PsiState::Full))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_period() {
        let t = psi_avgs_model([0; 3], &[(1_000_000_000, 2_000_000_000)]);
        assert_eq!(t.pcts, vec![50]);
        assert_eq!(t.avg, [18550, 3350, 700]);
        assert_eq!(psi_line("some", &t.avg, t.total_ns / 1000), "some avg10=9.05 avg60=1.63 avg300=0.34 total=1000000");
        let t = psi_avgs_model([0; 3], &[(2_000_000_000, 2_000_000_000)]);
        assert_eq!(t.avg, [37100, 6700, 1400]);
        assert_eq!(psi_avg_text(37100), "18.11");
        // truncation of the percent, and the clamp to the period (total keeps the raw value)
        assert_eq!(psi_avgs_model([0; 3], &[(1_999_999, 2_000_000_000)]).pcts, vec![0]);
        let t = psi_avgs_model([0; 3], &[(3_000_000_000, 2_000_000_000)]);
        assert_eq!((t.pcts[0], t.total_ns), (100, 3_000_000_000));
    }

    #[test]
    fn calc_load_rounding() {
        // rising: rounds up; falling: truncates
        assert_eq!(calc_load(0, EXP_10S, 2048), 371); // (2048*371 + 2047) / 2048
        assert_eq!(calc_load(0, EXP_10S, 6), 2); // 6*371 = 2226, +2047 rounds up to 2
        assert_eq!(calc_load(2048, EXP_10S, 0), 2048 * 1677 / 2048);
        assert_eq!(calc_load(100, EXP_10S, 100), 100);
        assert_eq!(fixed_power_int(EXP_10S, FSHIFT, 0), 2048);
        assert_eq!(fixed_power_int(EXP_10S, FSHIFT, 1), EXP_10S);
        // exp^2 rounded: (1677*1677 + 1024) >> 11
        assert_eq!(fixed_power_int(EXP_10S, FSHIFT, 2), (1677 * 1677 + 1024) >> 11);
        assert_eq!(calc_load_n(1000, EXP_10S, 0, 1), calc_load(1000, EXP_10S, 0));
    }

    #[test]
    fn show_format() {
        assert_eq!(
            psi_show_text((&[0; 3], 0), Some((&[0; 3], 0))),
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        );
        assert_eq!(psi_avg_text(2047), "0.99");
        assert_eq!(psi_avg_text(100 << 11), "100.00");
    }

    #[test]
    fn states_and_model() {
        assert_eq!(psi_test_states(1, 1), (true, false));
        assert_eq!(psi_test_states(1, 0), (true, true));
        assert_eq!(psi_test_states(0, 0), (false, false));
        assert_eq!(psi_aggregate_model(2, 3, 1, 1), (50, 50));
        assert_eq!(psi_aggregate_model(4, 1, 3, 0), (100, 100));
        assert_eq!(psi_aggregate_model(4, 0, 0, 0), (0, 0));
        assert_eq!(psi_aggregate_model(3, 3, 1, 3), (33, 0));
    }

    #[test]
    fn group_state_machine() {
        let p = psi_period_ns(1000);
        assert_eq!(p, 2_001_000_000);
        let mut g = PsiGroup::new(0, p);
        g.set_state(0, true, false);
        g.set_state(p / 2, false, false);
        assert!(!g.update_averages(p - 1));
        assert!(g.update_averages(p));
        assert_eq!(g.total_ns[0], p / 2);
        assert_eq!(g.avg[0][0], calc_load(0, EXP_10S, 50 * FIXED_1));
        assert_eq!(psi_pct(p / 2, p), 50);
        // three idle periods later: missed periods decay first
        let before = g.avg[0];
        assert!(g.update_averages(4 * p));
        let mut expect = before;
        calc_avgs(&mut expect, 2, 0, p);
        assert_eq!(g.avg[0], expect);
        assert_eq!(g.avg_next_update, 5 * p);
        // overage carries into the next period
        let mut g = PsiGroup::new(0, 1000);
        g.add_stall(1500, 0);
        g.update_averages(1000);
        assert_eq!(g.avg_total_ns[0], 1000);
        g.update_averages(2000);
        assert_eq!(g.avg_total_ns[0], 1500);
        assert!(g.show(2000).starts_with("some avg10="));
    }
}
