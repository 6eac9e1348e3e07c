//! The command-buffer protocol. The caller writes commands as little-endian `u32` words into a buffer the engine
//! owns (in wasm, a typed-array view over wasm memory), then asks the engine to execute `len` words at once: one
//! boundary crossing for a whole batch. Each command is `[op, nargs, arg0, .., arg{nargs-1}]`; every command
//! appends one `i64` result (`>= 0` a value, `< 0` a negated errno returned to the simulated caller).
//!
//! An *invalid* command (unknown op, wrong argument count, unknown pid) stops the batch with an `ApiError` naming the
//! command index and word offset; commands before it have taken effect, as with a sequence of syscalls.

use crate::errno::ApiError;
use crate::kernel::{Access, Kernel};

/// Command opcodes. Stable numbers: they are part of the boundary (bindings/src/generated/ops.ts).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    Spawn = 1,
    MmapAnon = 2,
    Touch = 3,
    Exit = 4,
}

pub const OP_NAMES: &[(&str, u32, u32)] = &[
    // (name, opcode, nargs)
    ("spawn", Op::Spawn as u32, 1),
    ("mmap_anon", Op::MmapAnon as u32, 2),
    ("touch", Op::Touch as u32, 5),
    ("exit", Op::Exit as u32, 1),
];

fn nargs_of(op: u32) -> Option<u32> {
    OP_NAMES.iter().find(|(_, o, _)| *o == op).map(|(_, _, n)| *n)
}

/// Execute the commands in `words`, appending one result per command to `results`.
pub fn execute(k: &mut Kernel, words: &[u32], results: &mut Vec<i64>) -> Result<u32, ApiError> {
    let mut i = 0usize;
    let mut n = 0u32;
    while i < words.len() {
        let at = |msg: String| ApiError::new("E_CMD", format!("command #{n} at word {i}: {msg}"));
        if i + 2 > words.len() {
            return Err(at("truncated header; expected [op, nargs, args...]".into()));
        }
        let (op, nargs) = (words[i], words[i + 1]);
        let want = nargs_of(op).ok_or_else(|| at(format!("unknown op {op}; allowed: {}", allowed_ops())))?;
        if nargs != want {
            return Err(at(format!("op {op} takes {want} arguments, got {nargs}")));
        }
        let end = i + 2 + nargs as usize;
        if end > words.len() {
            return Err(at(format!("truncated: needs {nargs} argument words")));
        }
        let a = &words[i + 2..end];
        let r: i64 = match op {
            x if x == Op::Spawn as u32 => k.spawn(a[0], "task").map(|_| 0),
            x if x == Op::MmapAnon as u32 => k.mmap_anon(a[0], a[1]).map(|r| r as i64),
            x if x == Op::Touch as u32 => {
                let access = match a[4] {
                    0 => Access::Read,
                    1 => Access::Write,
                    v => return Err(at(format!("touch.access: {v} is not allowed; expected 0 (read) or 1 (write)"))),
                };
                k.touch(a[0], a[1], a[2], a[3], access).map(|d| d as i64)
            }
            x if x == Op::Exit as u32 => k.exit(a[0]).map(|_| 0),
            _ => unreachable!("nargs_of accepted op"),
        }
        .map_err(|e| ApiError { message: format!("command #{n} at word {i}: {}", e.message), ..e })?;
        results.push(r);
        n += 1;
        i = end;
    }
    Ok(n)
}

fn allowed_ops() -> String {
    OP_NAMES.iter().map(|(name, o, _)| format!("{o} ({name})")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::MachineConfig;

    #[test]
    fn batch_executes_in_order() {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 256, seed: 0 }).unwrap();
        let words = [1, 1, 7, 2, 2, 7, 64, 3, 5, 7, 0, 0, 64, 1];
        let mut res = Vec::new();
        assert_eq!(execute(&mut k, &words, &mut res).unwrap(), 3);
        assert_eq!(res, vec![0, 0, 64]);
        assert_eq!(k.nr_free_pages(), 192);
    }

    #[test]
    fn invalid_command_names_index_and_allowed_values() {
        let mut k = Kernel::new(MachineConfig { totalram_pages: 16, seed: 0 }).unwrap();
        let mut res = Vec::new();
        let e = execute(&mut k, &[1, 1, 3, 99, 0], &mut res).unwrap_err();
        assert_eq!(e.code, "E_CMD");
        assert!(e.message.contains("command #1") && e.message.contains("unknown op 99") && e.message.contains("(spawn)"), "{e}");
        assert_eq!(res.len(), 1, "the command before the bad one took effect");
        let e = execute(&mut k, &[3, 5, 3, 0, 0, 1, 1], &mut res).unwrap_err();
        assert!(e.message.contains("no region 0"), "{e}");
    }
}
