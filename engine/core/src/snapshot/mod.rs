//! Engine snapshots: the whole simulated machine as bytes, and back (docs/decisions/0015-robustness.md, "Snapshot
//! and restore"). Not a kernel file: the kernel's nearest relative is CRIU, which lives in user space.
//!
//! Layout (integers little-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `OOMSIMSS` |
//! | 2 | format version ([`FORMAT_VERSION`]) |
//! | 1 + n | build identity: the crate version (length byte, then UTF-8) ... |
//! | 8 + 8 | ... a hash of the op/event/errno/vmstat tables and a hash of the state layout ([`BuildId`]) |
//! | 8 | payload length |
//! | n | payload: the `Kernel` in postcard (serde derives on the state types) |
//! | 4 | CRC-32C (Castagnoli, the `crc` crate's `CRC_32_ISCSI`) of every byte before it |
//!
//! [`restore`] checks in that order and says which check failed; then decodes, checks the state's consistency
//! (check.rs) and rebuilds the derived indexes (pid index, swap-cache reverse map, memcg path index, the OOM scan
//! index), so what it hands out behaves as the engine that was saved.

mod check;
pub mod serde_array;
#[cfg(test)]
mod tests;

use crate::errno::ApiError;
use crate::kernel::{Kernel, MachineConfig};

pub const MAGIC: &[u8; 8] = b"OOMSIMSS";
/// The version of the layout above and of the payload's encoding rules.
pub const FORMAT_VERSION: u16 = 1;
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// What makes two engines' snapshots interchangeable: the crate version, a hash of the boundary tables (ops and
/// their arguments, event kinds, errnos, vmstat names, the enumerated command words) and a hash of the state
/// layout (the payload of a fixed small machine: a field added, removed or reordered changes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildId {
    pub version: String,
    pub tables: u64,
    pub layout: u64,
}

impl std::fmt::Display for BuildId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "oomsim-core {}, tables {:016x}, layout {:016x}", self.version, self.tables, self.layout)
    }
}

/// FNV-1a 64.
fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

fn tables_hash() -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut put = |name: &str, code: u32| {
        fnv1a(&mut h, name.as_bytes());
        fnv1a(&mut h, &[0]);
        fnv1a(&mut h, &code.to_le_bytes());
    };
    for (name, op, args) in crate::cmd::OP_TABLE {
        put(name, *op as u32);
        for a in *args {
            put(a, u32::MAX);
        }
    }
    for (name, k) in crate::event::EVENT_KIND_TABLE {
        put(name, *k as u32);
    }
    for e in crate::errno::Errno::ALL {
        put(e.name(), *e as u32);
    }
    for (i, name) in crate::vmstat::VMSTAT_NAMES.iter().enumerate() {
        put(name, i as u32);
    }
    use crate::cmd::{ACCESS_CODES, ADVICE_CODES, FS_CODES, MAP_FLAG_BITS, PATTERN_CODES, PROT_CODES};
    for t in [PROT_CODES, ACCESS_CODES, ADVICE_CODES, PATTERN_CODES, FS_CODES, MAP_FLAG_BITS] {
        for (name, code) in t {
            put(name, *code);
        }
    }
    h
}

fn layout_hash() -> u64 {
    let cfg = MachineConfig { totalram_pages: 64, total_swap_pages: 8, cgroup_mode: crate::memcontrol::CgroupMode::V1, ..Default::default() };
    let k = Kernel::new(cfg).expect("the reference machine boots");
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    fnv1a(&mut h, &postcard::to_allocvec(&k).expect("a kernel encodes"));
    h
}

/// This engine's build identity (computed once).
pub fn build_id() -> &'static BuildId {
    static ID: std::sync::OnceLock<BuildId> = std::sync::OnceLock::new();
    ID.get_or_init(|| BuildId { version: env!("CARGO_PKG_VERSION").to_string(), tables: tables_hash(), layout: layout_hash() })
}

fn err(message: impl Into<String>) -> ApiError {
    ApiError::new("E_SNAPSHOT", message)
}

/// The snapshot of `k`. Deterministic: equal states give equal bytes.
pub fn snapshot(k: &Kernel) -> Vec<u8> {
    let payload = postcard::to_allocvec(k).expect("the kernel state encodes (no map with non-string keys, no unsized data)");
    let id = build_id();
    let mut out = Vec::with_capacity(payload.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(id.version.len() as u8);
    out.extend_from_slice(id.version.as_bytes());
    out.extend_from_slice(&id.tables.to_le_bytes());
    out.extend_from_slice(&id.layout.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    let crc = CRC32C.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads the header fields in order; each `take` past the end is "truncated".
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ApiError> {
        match self.at.checked_add(n).filter(|&end| end <= self.b.len()) {
            Some(end) => {
                let s = &self.b[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => Err(err(format!("truncated: {} bytes end inside the {what} (byte {} of the snapshot)", self.b.len(), self.at))),
        }
    }
    fn u64(&mut self, what: &str) -> Result<u64, ApiError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
}

/// A new kernel in the state `bytes` saved, or `E_SNAPSHOT` saying what is wrong with them: in this order,
/// "not an oomsim snapshot", "snapshot format vN; this engine reads v1", "snapshot from another engine build (…)",
/// "truncated: …", "corrupted (checksum mismatch)", "corrupted (N extra bytes after the checksum)", "corrupted (the
/// payload does not decode: …)", "inconsistent state: …".
pub fn restore(bytes: &[u8]) -> Result<Kernel, ApiError> {
    let mut r = Reader { b: bytes, at: 0 };
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(err("not an oomsim snapshot (it does not start with \"OOMSIMSS\")"));
    }
    r.take(MAGIC.len(), "magic")?;
    let version = u16::from_le_bytes(r.take(2, "format version")?.try_into().unwrap());
    if version != FORMAT_VERSION {
        return Err(err(format!("snapshot format v{version}; this engine reads v{FORMAT_VERSION}")));
    }
    let vlen = r.take(1, "build identity")?[0] as usize;
    let vbytes = r.take(vlen, "build identity")?;
    let tables = r.u64("build identity")?;
    let layout = r.u64("build identity")?;
    let theirs = BuildId { version: String::from_utf8_lossy(vbytes).into_owned(), tables, layout };
    let ours = build_id();
    if &theirs != ours {
        return Err(err(format!("snapshot from another engine build ({theirs}; this engine is {ours})")));
    }
    let len = r.u64("payload length")?;
    let payload_at = r.at;
    let payload = r.take(usize::try_from(len).unwrap_or(usize::MAX), "payload")?;
    let crc_at = r.at;
    let stored = u32::from_le_bytes(r.take(4, "checksum")?.try_into().unwrap());
    if CRC32C.checksum(&bytes[..crc_at]) != stored {
        return Err(err("corrupted (checksum mismatch)"));
    }
    if r.at != bytes.len() {
        return Err(err(format!("corrupted ({} extra bytes after the checksum)", bytes.len() - r.at)));
    }
    let (mut k, rest): (Kernel, _) = postcard::take_from_bytes(payload).map_err(|e| err(format!("corrupted (the payload does not decode: {e})")))?;
    if !rest.is_empty() {
        return Err(err(format!("corrupted (the payload does not decode: {} bytes left over at byte {})", rest.len(), payload_at + payload.len() - rest.len())));
    }
    check::check_and_rebuild(&mut k).map_err(|what| err(format!("inconsistent state: {what}")))?;
    Ok(k)
}

impl Kernel {
    /// [`snapshot`] of this kernel.
    pub fn snapshot(&self) -> Vec<u8> {
        snapshot(self)
    }

    /// [`restore`].
    pub fn restore(bytes: &[u8]) -> Result<Kernel, ApiError> {
        restore(bytes)
    }
}
