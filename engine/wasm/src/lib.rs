//! oomsim-wasm: wasm-bindgen glue over oomsim-core, and nothing else.
//!
//! Boundary design (docs/decisions/0002-wasm-boundary.md):
//! - one opaque `Engine` handle owning the whole simulation;
//! - input as a command buffer the engine allocates and JS fills through a `Uint32Array` view, executed by one call;
//! - counters, results and events read through typed-array views over wasm memory (pointers + lengths exported
//!   here; JS rebuilds its views when `memory.buffer` changes);
//! - typed errors: every fallible call returns `Result<_, JsError>` whose message starts with a stable code
//!   (`E_NOPID (ESRCH): ...`); nothing traps on bad input. A trap (a bug) is caught by the TS wrapper, which poisons
//!   the handle.

use oomsim_core::cmd;
use oomsim_core::memory::Access;
use oomsim_core::{ApiError, Kernel, MachineConfig};
use wasm_bindgen::prelude::*;

fn js_err(e: ApiError) -> JsError {
    JsError::new(&e.to_string())
}

/// Why `run` returned.
#[wasm_bindgen]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    Done = 0,
    PolicyTick = 1,
    OomDecision = 2,
    Limit = 3,
    Panic = 4,
}

#[wasm_bindgen]
pub struct Engine {
    k: Kernel,
    cmd: Vec<u32>,
    results: Vec<i64>,
    events: Vec<u32>,
    meminfo: Vec<u64>,
}

#[wasm_bindgen]
impl Engine {
    /// A machine of `totalram_pages` frames. `cmd_capacity` is the command-buffer size in u32 words.
    #[wasm_bindgen(constructor)]
    pub fn new(totalram_pages: u32, seed: u64, cmd_capacity: u32) -> Result<Engine, JsError> {
        if cmd_capacity < 16 {
            return Err(JsError::new("E_ARG: cmd_capacity: expected at least 16 words"));
        }
        let k = Kernel::new(MachineConfig { totalram_pages, seed, ..MachineConfig::default() }).map_err(js_err)?;
        Ok(Engine { k, cmd: vec![0; cmd_capacity as usize], results: Vec::new(), events: Vec::new(), meminfo: vec![0; 2] })
    }

    // --- command buffer -------------------------------------------------------------------------------------
    pub fn cmd_ptr(&self) -> *const u32 {
        self.cmd.as_ptr()
    }
    pub fn cmd_capacity(&self) -> u32 {
        self.cmd.len() as u32
    }
    /// Execute the first `len` words of the command buffer. Returns the number of commands executed; their results
    /// are at `results_ptr()` (i64 each).
    pub fn exec(&mut self, len: u32) -> Result<u32, JsError> {
        if len as usize > self.cmd.len() {
            return Err(JsError::new(&format!("E_ARG: exec.len: {len} exceeds the command buffer ({} words)", self.cmd.len())));
        }
        self.results.clear();
        let words = &self.cmd[..len as usize];
        cmd::execute(&mut self.k, words, &mut self.results).map_err(js_err)
    }
    pub fn results_ptr(&self) -> *const i64 {
        self.results.as_ptr()
    }
    pub fn results_len(&self) -> u32 {
        self.results.len() as u32
    }

    // --- single calls (the per-call path the batching benchmark compares against) ------------------------------
    pub fn spawn(&mut self, pid: u32) -> Result<(), JsError> {
        self.k.spawn(pid, "task").map_err(js_err)
    }
    /// mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE): the first virtual page, or a negated errno.
    pub fn mmap_anon(&mut self, pid: u32, pages: u32) -> Result<i64, JsError> {
        let flags = oomsim_core::mmap::MapFlags { anonymous: true, ..Default::default() };
        Ok(match self.k.mmap(pid, pages as u64, oomsim_core::mmap::PROT_RW, flags, None).map_err(js_err)? {
            Ok(vpn) => vpn as i64,
            Err(e) => -(e as i64),
        })
    }
    /// Access `count` pages from virtual page `vpn`; returns the pages accessed (signals are events).
    pub fn touch(&mut self, pid: u32, vpn: u64, count: u32, write: bool) -> Result<u32, JsError> {
        let access = if write { Access::Write } else { Access::Read };
        self.k.touch(pid, vpn, count as u64, access).map(|o| o.done as u32).map_err(js_err)
    }
    pub fn exit(&mut self, pid: u32) -> Result<(), JsError> {
        self.k.exit(pid).map_err(js_err)
    }

    /// Advance simulated time to `until_ns`. The foundation engine has no timed work yet, so it always stops with
    /// `Done`.
    pub fn run(&mut self, _until_ns: u64) -> StopReason {
        StopReason::Done
    }

    // --- views ----------------------------------------------------------------------------------------------
    pub fn vmstat_ptr(&self) -> *const u64 {
        self.k.vmstat.v.as_ptr()
    }
    pub fn vmstat_len(&self) -> u32 {
        self.k.vmstat.v.len() as u32
    }
    /// Recompute the meminfo array (kB values in `MEMINFO_NAMES` order) and return its pointer.
    pub fn meminfo_ptr(&mut self) -> *const u64 {
        self.meminfo[0] = oomsim_core::pages_to_kb(self.k.totalram_pages());
        self.meminfo[1] = oomsim_core::pages_to_kb(self.k.nr_free_pages());
        self.meminfo.as_ptr()
    }
    pub fn meminfo_len(&self) -> u32 {
        self.meminfo.len() as u32
    }
    /// Move queued events into the event buffer; returns how many records (8 u32 words each) it now holds.
    pub fn drain_events(&mut self) -> u32 {
        self.events.clear();
        self.k.drain_events(&mut self.events);
        (self.events.len() / oomsim_core::event::EVENT_WORDS) as u32
    }
    pub fn events_ptr(&self) -> *const u32 {
        self.events.as_ptr()
    }

    /// Deliberately trap (for tests of handle poisoning). Never called by the library itself.
    pub fn debug_trap(&mut self) {
        panic!("debug_trap called");
    }
}
