//! The module graph of src/ has no cycle between files.
//!
//! A file depends on another when it names it: a `crate::a::b` path, a
//! `super::x` path, or a child module's name (`listen::serve`). A path is
//! resolved to the deepest module that is a file (`src/a/b.rs` or
//! `src/a/b/mod.rs`). Files that depend on each other form a knot; a knot is
//! allowed only inside one directory module (a `mod.rs` and its own child
//! modules may share types). Any other knot fails the test with a cycle's
//! files in order, so layers stay layers: the vocabulary at the bottom, the
//! engine above it, the views and the front on top. `LAYERS_DUMP=1` prints
//! every dependency the check found.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path from the crate root, e.g. `["server", "listen"]`.
type ModPath = Vec<String>;

struct Crate {
    /// Every module that is a file, by its path, with its file name
    /// relative to the crate (`src/server/listen.rs`).
    files: BTreeMap<ModPath, String>,
}

impl Crate {
    fn load(src: &Path) -> Crate {
        let mut files = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(src).unwrap();
                    let mut parts: Vec<String> = rel
                        .iter()
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect();
                    let last = parts.pop().unwrap();
                    let stem = last.trim_end_matches(".rs");
                    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
                        parts.push(stem.to_owned());
                    }
                    if parts.is_empty() && stem == "main" {
                        continue; // the binary is not part of the library's graph
                    }
                    files.insert(parts, format!("src/{}", rel.display()));
                }
            }
        }
        Crate { files }
    }

    /// The deepest module file along `path`.
    fn resolve(&self, path: &[String]) -> ModPath {
        let mut best = Vec::new();
        for n in 1..=path.len() {
            if self.files.contains_key(&path[..n]) {
                best = path[..n].to_vec();
            } else {
                break;
            }
        }
        best
    }

    /// The modules a file names, resolved to files.
    fn dependencies(&self, module: &ModPath, text: &str) -> BTreeSet<ModPath> {
        let code = strip_comments_and_strings(text);
        let children: Vec<&ModPath> = self
            .files
            .keys()
            .filter(|k| k.len() == module.len() + 1 && k.starts_with(module))
            .collect();
        let mut deps = BTreeSet::new();
        for path in paths(&code) {
            let absolute = match path.first().map(String::as_str) {
                Some("crate") => path[1..].to_vec(),
                Some("super") => {
                    let mut base = module.clone();
                    let mut rest = &path[..];
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend(rest.iter().cloned());
                    base
                }
                Some("self") => {
                    let mut base = module.clone();
                    base.extend(path[1..].iter().cloned());
                    base
                }
                Some(first) => match children.iter().find(|c| c.last().unwrap() == first) {
                    Some(child) => {
                        let mut base = (*child).clone();
                        base.extend(path[1..].iter().cloned());
                        base
                    }
                    None => continue,
                },
                None => continue,
            };
            let target = self.resolve(&absolute);
            if !target.is_empty() && &target != module {
                deps.insert(target);
            }
        }
        deps
    }
}

/// Blanks comments, string and char literals (keeping line structure), so
/// only code is read.
fn strip_comments_and_strings(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == '*' && bytes[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && is_raw_start(&bytes, i) {
            // r"…", r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1; // the opening quote
            loop {
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == '"' && (0..hashes).all(|h| bytes.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && is_char_literal(&bytes, i) {
            i += 1;
            while i < bytes.len() && bytes[i] != '\'' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_start(bytes: &[char], i: usize) -> bool {
    let before_ok = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
    let mut j = i + 1;
    while bytes.get(j) == Some(&'#') {
        j += 1;
    }
    before_ok && bytes.get(j) == Some(&'"')
}

/// `'a'`, `'\n'`, `'\''` are characters; `'a` alone is a lifetime.
fn is_char_literal(bytes: &[char], i: usize) -> bool {
    match bytes.get(i + 1) {
        Some('\\') => true,
        Some(_) => bytes.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// Every path written in the code, with `{a, b::c}` groups expanded. A path
/// starts at an identifier not preceded by `::` and runs over `::`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_ident = is_ident_start(chars[i])
            && (i == 0 || !is_ident(chars[i - 1]))
            && !preceded_by_colons(&chars, i);
        if starts_ident {
            let (mut group, end) = parse_path(&chars, i);
            group.retain(|p| p.len() > 1);
            found.append(&mut group);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    found
}

fn preceded_by_colons(chars: &[char], i: usize) -> bool {
    let mut j = i;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    j >= 2 && chars[j - 1] == ':' && chars[j - 2] == ':'
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Parses `a::b::{c, d::e}` from `i`: the paths it names and where it ends.
fn parse_path(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        i = skip_ws(chars, i);
        if i < chars.len() && chars[i] == '{' {
            let mut out = Vec::new();
            i += 1;
            loop {
                i = skip_ws(chars, i);
                if i >= chars.len() {
                    return (out, i);
                }
                if chars[i] == '}' {
                    return (out, i + 1);
                }
                if chars[i] == ',' {
                    i += 1;
                    continue;
                }
                if is_ident_start(chars[i]) || chars[i] == '{' {
                    let (inner, end) = parse_path(chars, i);
                    for p in inner {
                        let mut full = prefix.clone();
                        full.extend(p);
                        out.push(full);
                    }
                    i = end;
                    // `as name`
                    i = skip_ws(chars, i);
                } else {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        if start == i {
            return (vec![prefix], i);
        }
        prefix.push(chars[start..i].iter().collect());
        let j = skip_ws(chars, i);
        if j + 1 < chars.len() && chars[j] == ':' && chars[j + 1] == ':' {
            i = j + 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// Strongly connected components (Tarjan), each as its members.
fn knots(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        graph: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut members = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                members.push(w.clone());
                if w == v {
                    break;
                }
            }
            if members.len() > 1 {
                s.out.push(members);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// One cycle through `from` inside `knot` (breadth-first, so the shortest).
fn cycle_through(
    graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
    knot: &BTreeSet<ModPath>,
    from: &ModPath,
) -> Vec<ModPath> {
    let mut came_from: BTreeMap<ModPath, ModPath> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.clone()]);
    while let Some(v) = queue.pop_front() {
        for w in &graph[&v] {
            if !knot.contains(w) {
                continue;
            }
            if w == from {
                let mut path = vec![v.clone()];
                while let Some(prev) = came_from.get(path.last().unwrap()) {
                    path.push(prev.clone());
                }
                path.reverse();
                path.push(from.clone());
                return path;
            }
            if !came_from.contains_key(w) && w != from {
                came_from.insert(w.clone(), v.clone());
                queue.push_back(w.clone());
            }
        }
    }
    vec![from.clone()]
}

/// The directory module every member lies in, if one does: the longest
/// common prefix, when it is a directory module (`a/mod.rs`).
fn shared_directory(c: &Crate, knot: &[ModPath]) -> Option<ModPath> {
    let mut prefix = knot[0].clone();
    for m in knot {
        let n = prefix.iter().zip(m).take_while(|(a, b)| a == b).count();
        prefix.truncate(n);
    }
    (!prefix.is_empty() && c.files.get(&prefix)?.ends_with("mod.rs")).then_some(prefix)
}

/// The knots no directory module excuses. A knot inside one directory
/// module is fine when it goes through that module's `mod.rs`; its files
/// without the `mod.rs` must knot no further (two siblings may not need
/// each other).
fn disallowed_knots(c: &Crate, graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    let mut out = Vec::new();
    for knot in knots(graph) {
        match shared_directory(c, &knot) {
            Some(dir) if knot.contains(&dir) => {
                let inner: BTreeMap<ModPath, BTreeSet<ModPath>> = knot
                    .iter()
                    .filter(|m| **m != dir)
                    .map(|m| {
                        let deps = graph[m]
                            .iter()
                            .filter(|d| **d != dir && knot.contains(d))
                            .cloned()
                            .collect();
                        (m.clone(), deps)
                    })
                    .collect();
                out.extend(disallowed_knots(c, &inner));
            }
            _ => out.push(knot),
        }
    }
    out
}

#[test]
fn the_module_graph_of_src_has_no_cycle_between_files() {
    let src = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let krate = Crate::load(&src);
    assert!(krate.files.len() > 20, "src/ was not read");
    let mut graph = BTreeMap::new();
    for (module, file) in &krate.files {
        let text = fs::read_to_string(src.parent().unwrap().join(file)).unwrap();
        let mut deps = krate.dependencies(module, &text);
        deps.remove(&Vec::new()); // the crate root only declares modules
        graph.insert(module.clone(), deps);
    }
    graph.remove(&Vec::new());
    if std::env::var_os("LAYERS_DUMP").is_some() {
        for (m, deps) in &graph {
            for d in deps {
                println!("EDGE {} {}", krate.files[m], krate.files[d]);
            }
        }
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    let mut report = Vec::new();
    for knot in disallowed_knots(&krate, &graph) {
        let members: BTreeSet<ModPath> = knot.iter().cloned().collect();
        let start = members.iter().next().unwrap();
        let cycle = cycle_through(&graph, &members, start);
        let names: Vec<&str> = cycle.iter().map(|m| krate.files[m].as_str()).collect();
        let all: Vec<&str> = members.iter().map(|m| krate.files[m].as_str()).collect();
        report.push(format!(
            "a knot of {} files: {}\n  e.g. {}",
            members.len(),
            all.join(", "),
            names.join(" -> ")
        ));
    }
    println!(
        "{} files, {} dependencies between them, {} knots across modules",
        graph.len(),
        edges,
        report.len()
    );
    assert!(
        report.is_empty(),
        "src/ has import cycles between files (a module may only use the layers below it):\n{}",
        report.join("\n")
    );
}

/// The checker itself finds what it must: grouped and nested paths, `super`,
/// a child's bare name, and nothing in comments or strings.
#[test]
fn the_path_reader_reads_groups_super_and_children_but_not_comments() {
    let code = strip_comments_and_strings(
        "use crate::{a::{B, c::D}, e};\n// crate::hidden::X\nlet s = \"crate::nope::Y\";\nsuper::f::g();\nlisten::serve();\n",
    );
    let found: BTreeSet<String> = paths(&code).iter().map(|p| p.join("::")).collect();
    for expected in [
        "crate::a::B",
        "crate::a::c::D",
        "crate::e",
        "super::f::g",
        "listen::serve",
    ] {
        assert!(
            found.contains(expected),
            "{expected} missing from {found:?}"
        );
    }
    assert!(!found
        .iter()
        .any(|p| p.contains("hidden") || p.contains("nope")));
}
