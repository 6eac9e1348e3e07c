//! The layering of docs/architecture.md ("Layers of engine/core"), checked: the file-level import graph of
//! engine/core/src has no cycle. Each source file is a node (`x.rs`, `x/mod.rs` and `x/engine.rs` are `x`, `x`
//! and `x/engine`); an edge is a `crate::a::b` path (in a `use` or inline) outside `#[cfg(test)]` modules, to the
//! deepest module of that path that is a file. conformance/ (the vector runner, an entry point) and bin/ are
//! left out. docs/decisions/0009-core-architecture.md says why the graph has to stay acyclic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `memory/engine.rs` → `memory/engine`, `memory/mod.rs` → `memory`.
fn node_of(rel: &Path) -> String {
    let s = rel.with_extension("").to_string_lossy().replace('\\', "/");
    s.strip_suffix("/mod").map(str::to_string).unwrap_or(s)
}

/// The source without its `#[cfg(test)] mod name { ... }` blocks (braces counted outside strings and chars).
fn strip_test_modules(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let is_inline_mod = (after.starts_with("mod ") || after.starts_with("pub(crate) mod ")) && {
            let head = &after[..after.find(['{', ';']).unwrap_or(after.len())];
            after[head.len()..].starts_with('{')
        };
        out.push_str(&rest[..at]);
        if !is_inline_mod {
            out.push_str("#[cfg(test)]");
            rest = &rest[at + "#[cfg(test)]".len()..];
            continue;
        }
        let start = rest.len() - after.len() + after.find('{').unwrap();
        let b = rest.as_bytes();
        let (mut i, mut depth) = (start + 1, 1);
        while depth > 0 {
            match b[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b'"' => {
                    i += 1;
                    while b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'\'' if i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') => {
                    // a char literal ('{', '\n'); a lifetime ('a) is left alone
                    i += if b[i + 1] == b'\\' { 3 } else { 2 };
                    while b[i] != b'\'' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while b[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        rest = &rest[i..];
    }
    out.push_str(rest);
    out
}

/// `crate::` paths of a source: `crate::a::b::C` and each branch of `crate::{a::X, b}` give a path of segments.
fn crate_paths(src: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for branch in group[..end].split(',') {
                paths.push(segments(branch.trim()));
            }
        } else {
            paths.push(segments(rest));
        }
    }
    paths
}

fn segments(s: &str) -> Vec<String> {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(s.len());
    s[..end].split("::").filter(|x| !x.is_empty()).map(str::to_string).collect()
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let nodes: BTreeSet<String> = files.iter().map(|p| node_of(p.strip_prefix(&root).unwrap())).collect();
    let mut g = BTreeMap::new();
    for p in &files {
        let n = node_of(p.strip_prefix(&root).unwrap());
        if n == "lib" || n.starts_with("bin/") || n.starts_with("conformance") || n.ends_with("tests") {
            continue;
        }
        let src = strip_test_modules(&std::fs::read_to_string(p).unwrap());
        let mut out = BTreeSet::new();
        for path in crate_paths(&src) {
            // the deepest prefix of the path that is a file of the crate
            let target = (1..=path.len()).rev().map(|k| path[..k].join("/")).find(|m| nodes.contains(m));
            if let Some(t) = target.filter(|t| *t != n && !t.starts_with("conformance")) {
                out.insert(t);
            }
        }
        g.insert(n, out);
    }
    g
}

/// Strongly connected components with more than one node (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                t.out.push(c);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on: BTreeSet::new(), out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn the_import_graph_of_engine_core_has_no_cycle() {
    let g = import_graph();
    // the graph is really read: the engine drivers import the machine, the machine imports the state
    assert!(g["memory/engine"].contains("kernel"), "{:?}", g["memory/engine"]);
    assert!(g["kernel"].contains("filemap") && g["kernel"].contains("swapfile"), "{:?}", g["kernel"]);
    assert!(!g["filemap"].contains("kernel"), "filemap/mod.rs must not import kernel.rs");
    let c = cycles(&g);
    assert!(c.is_empty(), "import cycles in engine/core/src (docs/architecture.md, layers): {c:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_test_modules_are_skipped() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().insert(b.into());
    }
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    let src = "use crate::x::Y;\n#[cfg(test)]\nmod tests {\n    use crate::z;\n    fn f() { let c = '}'; let s = \"}\"; }\n}\nuse crate::{w::V, v};\n";
    let paths = crate_paths(&strip_test_modules(src));
    assert_eq!(paths, vec![vec!["x".to_string(), "Y".into()], vec!["w".into(), "V".into()], vec!["v".into()]]);
}
