//! The TS bindings' index constants are generated from the Rust tables, so the two sides cannot drift.
//! `OOMSIM_BLESS=1 cargo test -p oomsim-core --test generated_ts` rewrites the files; otherwise they must match.

use oomsim_core::cmd::OP_TABLE;
use oomsim_core::kernel::SYSCTL_NAMES;
use oomsim_core::meminfo::Meminfo;
use oomsim_core::vmstat::VMSTAT_NAMES;
use std::path::PathBuf;

fn render_vmstat() -> String {
    let mut s = String::from("// Generated from engine/core/src/vmstat.rs by engine/core/tests/generated_ts.rs. Do not edit.\n");
    s.push_str("/** /proc/vmstat keys in the engine's counter-array order. */\nexport const VMSTAT_NAMES = [\n");
    for n in VMSTAT_NAMES {
        s.push_str(&format!("  '{n}',\n"));
    }
    s.push_str("] as const;\nexport type VmstatName = (typeof VMSTAT_NAMES)[number];\n");
    s
}

fn render_ops() -> String {
    let mut s = String::from("// Generated from engine/core/src/cmd.rs by engine/core/tests/generated_ts.rs. Do not edit.\n");
    s.push_str("/** Command-buffer opcodes and their argument counts. */\nexport const OPS = {\n");
    for (name, op, args) in OP_TABLE {
        let names: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        s.push_str(&format!("  {name}: {{ code: {}, nargs: {}, args: [{}] }},\n", *op as u32, args.len(), names.join(", ")));
    }
    s.push_str("} as const;\nexport type OpName = keyof typeof OPS;\n");
    s
}

fn render_list(src: &str, doc: &str, konst: &str, ty: &str, names: &[String]) -> String {
    let mut s = format!("// Generated from {src} by engine/core/tests/generated_ts.rs. Do not edit.\n/** {doc} */\nexport const {konst} = [\n");
    for n in names {
        s.push_str(&format!("  '{n}',\n"));
    }
    s.push_str(&format!("] as const;\nexport type {ty} = (typeof {konst})[number];\n"));
    s
}

#[test]
fn sysctl_constants_are_current() {
    let names: Vec<String> = SYSCTL_NAMES.iter().map(|s| s.to_string()).collect();
    check("sysctl.ts", render_list("engine/core/src/kernel.rs", "Sysctls the engine models, by their real names; the index is the command buffer's name_index.", "SYSCTL_NAMES", "SysctlName", &names));
}

#[test]
fn meminfo_constants_are_current() {
    let names: Vec<String> = Meminfo::new().lines().into_iter().map(|(n, _, _)| n.to_string()).collect();
    check("meminfo.ts", render_list("engine/core/src/meminfo.rs", "/proc/meminfo fields in the kernel's order (the engine's meminfo array order).", "MEMINFO_NAMES", "MeminfoName", &names));
}

fn check(file: &str, want: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bindings/src/generated").join(file);
    if std::env::var("OOMSIM_BLESS").is_ok() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "{} is stale: run `OOMSIM_BLESS=1 cargo test -p oomsim-core --test generated_ts`", path.display());
}

#[test]
fn vmstat_constants_are_current() {
    check("vmstat.ts", render_vmstat());
}

#[test]
fn op_constants_are_current() {
    check("ops.ts", render_ops());
}
