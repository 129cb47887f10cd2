//! The layering the compiler cannot see. Between crates the compiler holds it: kkt-core
//! (`crates/core`: model, licenses, catalog, rollout rules) and kkt-platform
//! (`crates/platform`) cannot name the server (this test also checks that kkt-core's
//! dependencies hold no HTTP framework, database or command-line crate). Inside a crate it
//! does not: a module may name any other. So this test parses every source file (`syn`,
//! not a text scan: every `use` form, `crate::`, `self::`, `super::super::`, groups, paths
//! written inline without a `use`, paths inside macro calls) and holds the code to two
//! rules. docs/design.md draws the same map.
//!
//! - Levels: a wing of the server may use the wings below it, never one above it or a
//!   sibling listener; kkt-core's wings likewise among themselves.
//! - No cycles: inside every wing of every crate, no module uses a module that (through
//!   others) uses it back.
//! - No long functions: outside tests, a function reads in one screen (`LONGEST_FUNCTION`
//!   lines); a longer one is split into named steps.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The server's wings with their levels: a wing may use wings of a lower level only.
/// `reload`, `device_api` and `admin` share a level: none of them may use another.
///
/// A wing whose parts are used from different heights lists each part by its module path
/// (`rollout::gate`): each part then has its own level, may use only lower levels (its own
/// wing's lower parts included), and the wing's `mod.rs` may only name its parts.
///
/// Level 0 are the wings that live in crates of their own (re-exported by `lib.rs`): the
/// compiler keeps them from naming anything above.
const SERVER_LEVELS: &[(&str, u32)] = &[
    ("model", 0),
    ("audit", 0),
    ("platform", 0),
    ("licenses", 0),
    ("groups", 0),
    ("catalog", 0),
    ("rollout::rules", 0),
    ("rollout::stages", 0),
    ("rollout::projection", 0),
    ("words", 0),
    ("json_error", 1),
    ("rollout::admissions", 3),
    ("rollout::forecasts", 3),
    ("config", 4),
    ("observe", 5),
    ("publishing", 5),
    ("rollout::status", 5),
    ("store", 6),
    ("rollout::gate", 7),
    ("app_state", 8),
    ("reload", 9),
    ("device_api", 9),
    ("admin", 9),
    ("rollout::watch", 9),
    ("commands", 10),
    ("server", 10),
];

/// kkt-core's wings: the vocabulary, what reads it, the device groups (on `licenses`: a
/// serial's form), and the catalog on top.
const CORE_LEVELS: &[(&str, u32)] = &[
    ("model", 0),
    ("words", 1),
    ("licenses", 2),
    ("rollout", 2),
    ("audit", 2),
    ("groups", 3),
    ("catalog", 4),
];

/// The workspace's crates: the name other crates use for it, its `src/`, and its levels
/// (none: one flat wing of small modules).
struct Crate {
    extern_name: &'static str,
    src: &'static str,
    levels: &'static [(&'static str, u32)],
    /// Other crates of the workspace whose wings this crate's levels name: a path
    /// `kkt_core::catalog::x` is the wing `catalog` (prefix ""), `kkt_platform::x` the wing
    /// `platform`.
    extern_wings: &'static [(&'static str, &'static str)],
}

const CRATES: &[Crate] = &[
    Crate {
        extern_name: "kkt_update_server",
        src: "src",
        levels: SERVER_LEVELS,
        extern_wings: &[("kkt_core", ""), ("kkt_platform", "platform")],
    },
    Crate {
        extern_name: "kkt_core",
        src: "crates/core/src",
        levels: CORE_LEVELS,
        // kkt-platform is below all of it.
        extern_wings: &[],
    },
    Crate {
        extern_name: "kkt_platform",
        src: "crates/platform/src",
        levels: &[],
        extern_wings: &[],
    },
    // The bench's load client: a binary of small modules, apart from the server.
    Crate {
        extern_name: "fleet_load",
        src: "crates/fleet-load/src",
        levels: &[],
        extern_wings: &[],
    },
];

/// Crates kkt-core must never depend on, directly or through another: HTTP servers, the
/// databases, the command line, the server itself.
const NOT_IN_CORE: &[&str] = &[
    "actix",
    "rusqlite",
    "postgres",
    "clap",
    "notify",
    "prometheus",
    "askama",
    "kkt-update-server",
];

// ---------------------------------------------------------------------------------------
// Reading the code: which modules a file names.

/// What one file names, as absolute module paths inside its crate (`["catalog", "lines",
/// "LineSet"]`), or inside another crate of the workspace (`extern_name` first).
#[derive(Debug, Default)]
struct Names {
    /// Paths inside this crate.
    local: Vec<Vec<String>>,
    /// Paths starting with another crate's name (`kkt_core`, `kkt_platform`, `syn`...).
    external: Vec<Vec<String>>,
}

/// Walks one file's syntax tree. `module` is where the code being walked sits: the file's
/// module, plus any inline `mod x { … }` it is inside.
struct Walker<'a> {
    module: Vec<String>,
    /// Every module of the crate (to read a bare `lines::x` in `catalog` as
    /// `catalog::lines::x`).
    modules: &'a BTreeSet<Vec<String>>,
    /// What a `use` bound in a module: `(module, name)` to the absolute path, so that a
    /// later `store::writes::x()` after `use crate::store;` is read as `crate::store::…`.
    bindings: BTreeMap<(Vec<String>, String), Vec<String>>,
    names: Names,
}

impl Walker<'_> {
    /// Records `segments` as written in the current module; the absolute path when it is
    /// one of this crate's.
    fn record(&mut self, leading_colon: bool, segments: Vec<String>) -> Option<Vec<String>> {
        let first = segments.first()?;
        if leading_colon {
            self.names.external.push(segments);
            return None;
        }
        let bound = self
            .bindings
            .get(&(self.module.clone(), first.clone()))
            .cloned();
        let mut absolute = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.module.clone(),
            "super" => self.module.clone(),
            _ if bound.is_some() => {
                let mut absolute = bound.unwrap_or_default();
                absolute.extend(segments[1..].iter().cloned());
                self.names.local.push(absolute.clone());
                return Some(absolute);
            }
            _ => {
                let mut child = self.module.clone();
                child.push(first.clone());
                if self.modules.contains(&child) {
                    self.module.clone()
                } else {
                    // An extern crate, a std path, or an item named by an earlier `use`
                    // (whose `use` was recorded itself).
                    self.names.external.push(segments);
                    return None;
                }
            }
        };
        let mut rest = segments.iter().peekable();
        if matches!(first.as_str(), "crate" | "self") {
            rest.next();
        }
        while rest.peek().is_some_and(|s| *s == "super") {
            rest.next();
            // `super` above the crate root: the compiler refuses it anyway.
            absolute.pop()?;
        }
        absolute.extend(rest.cloned());
        self.names.local.push(absolute.clone());
        Some(absolute)
    }

    /// Records a path a `use` names and, when it is this crate's, the name it binds.
    fn bind(&mut self, leading_colon: bool, full: Vec<String>, name: String) {
        if let Some(absolute) = self.record(leading_colon, full) {
            self.bindings.insert((self.module.clone(), name), absolute);
        }
    }

    /// Records every path a `use` tree names: `use a::{b, c::{d, e as f}, g::*}`.
    fn use_tree(&mut self, leading_colon: bool, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(leading_colon, prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let mut full = prefix.clone();
                if name.ident != "self" {
                    full.push(name.ident.to_string());
                }
                let bound = full.last().cloned().unwrap_or_default();
                self.bind(leading_colon, full, bound);
            }
            syn::UseTree::Rename(rename) => {
                let mut full = prefix.clone();
                if rename.ident != "self" {
                    full.push(rename.ident.to_string());
                }
                self.bind(leading_colon, full, rename.rename.to_string());
            }
            syn::UseTree::Glob(_) => {
                self.record(leading_colon, prefix.clone());
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(leading_colon, prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(item.leading_colon.is_some(), &mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let _ = self.record(path.leading_colon.is_some(), segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    /// A macro's arguments are tokens, not syntax: read paths out of them as written
    /// (`format!("{}", crate::x::y())`, `matches!(v, crate::x::Y)`).
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

impl Walker<'_> {
    /// Every `a::b::c` run of identifiers in `tokens`, groups included, starting at
    /// `crate`, `self` or `super` (other runs are local names or other crates).
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut after_colons = false;
        let mut colons = 0;
        let flush = |walker: &mut Self, run: &mut Vec<String>| {
            if run
                .first()
                .is_some_and(|s| matches!(s.as_str(), "crate" | "self" | "super"))
                && run.len() > 1
            {
                let _ = walker.record(false, std::mem::take(run));
            }
            run.clear();
        };
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Ident(ident) => {
                    if !run.is_empty() && !after_colons {
                        flush(self, &mut run);
                    }
                    run.push(ident.to_string());
                    after_colons = false;
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(punct) if punct.as_char() == ':' => {
                    colons += 1;
                    if colons == 2 {
                        after_colons = true;
                        colons = 0;
                    }
                }
                proc_macro2::TokenTree::Group(group) => {
                    flush(self, &mut run);
                    after_colons = false;
                    self.tokens(group.stream());
                }
                proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {
                    flush(self, &mut run);
                    after_colons = false;
                    colons = 0;
                }
            }
        }
        flush(self, &mut run);
    }
}

/// What `source`, the file of module `module`, names. Panics on a file that does not parse
/// (the compiler would refuse it too).
fn names_in(source: &str, module: &[String], modules: &BTreeSet<Vec<String>>) -> Names {
    let file = syn::parse_file(source).expect("a source file parses");
    let mut walker = Walker {
        module: module.to_vec(),
        modules,
        bindings: BTreeMap::new(),
        names: Names::default(),
    };
    walker.visit_file(&file);
    walker.names
}

// ---------------------------------------------------------------------------------------
// The files of a crate.

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file of a crate's `src/`: `catalog/snapshot.rs` is
/// `["catalog", "snapshot"]`, `rollout/mod.rs` is `["rollout"]`, `lib.rs` is `[]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

/// One parsed crate: each file's module, relative path and what it names.
struct Parsed {
    files: Vec<(Vec<String>, PathBuf, Names)>,
    modules: BTreeSet<Vec<String>>,
}

fn parse_crate(krate: &Crate) -> Parsed {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate.src);
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let relative: Vec<PathBuf> = paths
        .iter()
        .map(|p| p.strip_prefix(&src).expect("below src/").to_path_buf())
        .collect();
    let modules: BTreeSet<Vec<String>> = relative.iter().map(|r| module_of(r)).collect();
    let files = paths
        .iter()
        .zip(relative)
        .map(|(path, relative)| {
            let module = module_of(&relative);
            let source = fs::read_to_string(path).expect("source file is readable");
            let names = names_in(&source, &module, &modules);
            (module, relative, names)
        })
        .collect();
    Parsed { files, modules }
}

/// The file module a path names: its longest prefix that is a module of the crate.
fn file_module<'a>(path: &[String], modules: &'a BTreeSet<Vec<String>>) -> Option<&'a [String]> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]))
        .map(Vec::as_slice)
}

// ---------------------------------------------------------------------------------------
// Levels.

/// The entry of `levels` a module path belongs to: the longest one it starts with.
fn part_of(levels: &[(&'static str, u32)], module: &str) -> Option<(&'static str, u32)> {
    levels
        .iter()
        .filter(|(part, _)| {
            module == *part
                || module
                    .strip_prefix(part)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
        .max_by_key(|(part, _)| part.len())
        .copied()
}

/// Every arrow of `parsed` that does not point down `levels`, in words.
fn wrong_arrows(krate: &Crate, parsed: &Parsed) -> Vec<String> {
    let levels = krate.levels;
    let mut wrong = Vec::new();
    for (module, relative, names) in &parsed.files {
        if module.is_empty() {
            continue; // lib.rs / main.rs: the crate root names every wing.
        }
        let here = module.join("::");
        let used: Vec<String> = names
            .local
            .iter()
            .map(|p| p.join("::"))
            .chain(names.external.iter().filter_map(|p| {
                // The server names kkt-core's wings by their crate's name too.
                let (first, rest) = p.split_first()?;
                let (_, wing) = krate.extern_wings.iter().find(|(name, _)| name == first)?;
                let rest = rest.join("::");
                Some(match (wing.is_empty(), rest.is_empty()) {
                    (true, _) => rest,
                    (false, true) => wing.to_string(),
                    (false, false) => format!("{wing}::{rest}"),
                })
            }))
            .filter(|p| !p.is_empty())
            .collect();
        let Some((wing, own)) = part_of(levels, &here) else {
            let split = levels
                .iter()
                .any(|(part, _)| part.starts_with(&format!("{here}::")));
            if !split {
                wrong.push(format!(
                    "{} is in no wing of the map (add it to the levels and README)",
                    relative.display()
                ));
            } else if let Some(used) = used.iter().find(|u| !u.starts_with(&format!("{here}::"))) {
                wrong.push(format!(
                    "{} only names the parts of its wing, yet uses {used}",
                    relative.display()
                ));
            }
            continue;
        };
        for used in used {
            match part_of(levels, &used) {
                Some((part, _)) if part == wing => {}
                Some((_, level)) if level < own => {}
                Some((part, _)) => wrong.push(format!(
                    "{} ({wing}) uses {used} ({part}), which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{} uses {used}, which is no wing (or names a split wing, not its part)",
                    relative.display()
                )),
            }
        }
    }
    wrong
}

// ---------------------------------------------------------------------------------------
// Cycles.

/// The cycles among the modules of each wing: every group of two or more modules of one
/// wing that use each other (through others of the wing), as `a -> b -> a`.
///
/// A part naming what its own `mod.rs` (or a `mod.rs` further up) defines, `super::Entry`,
/// is no arrow here: a folder's `mod.rs` is the front of its parts, above them in the tree
/// (it must declare them), so a part using the types it shares with its siblings there is
/// the tree's order, not a tangle. Every other arrow counts: between siblings, cousins, and
/// from a `mod.rs` down to its parts.
fn cycles(parsed: &Parsed) -> Vec<String> {
    // Edges between file modules of the same wing.
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, _, names) in &parsed.files {
        let Some(wing) = module.first() else {
            continue;
        };
        for path in &names.local {
            let Some(target) = file_module(path, &parsed.modules) else {
                continue;
            };
            let to_its_front = module.starts_with(target);
            if !to_its_front && target.first() == Some(wing) {
                edges
                    .entry(module.clone())
                    .or_default()
                    .insert(target.to_vec());
            }
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|group| group.len() > 1)
        .map(|group| describe_cycle(&group, &edges))
        .collect()
}

/// Tarjan's strongly connected components of `edges`.
fn strongly_connected(
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a [String], usize>,
        low: BTreeMap<&'a [String], usize>,
        stack: Vec<&'a [String]>,
        on_stack: BTreeSet<&'a [String]>,
        groups: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a [String]) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        let edges = state.edges;
        for next in edges.get(node).into_iter().flatten() {
            let next = next.as_slice();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut group = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(top);
                group.push(top.to_vec());
                if top == node {
                    break;
                }
            }
            group.sort();
            state.groups.push(group);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node.as_slice()) {
            visit(&mut state, node);
        }
    }
    state.groups
}

/// One cycle through `group`, as `a -> b -> a`, for the error.
fn describe_cycle(
    group: &[Vec<String>],
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> String {
    let start = &group[0];
    // Breadth-first from `start` back to it, inside the group.
    let mut came_from: BTreeMap<&Vec<String>, &Vec<String>> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in edges.get(node).into_iter().flatten() {
            if !group.contains(next) || came_from.contains_key(next) {
                continue;
            }
            came_from.insert(next, node);
            if next == start {
                queue.clear();
                break;
            }
            queue.push_back(next);
        }
    }
    let mut path = vec![start.join("::")];
    let mut at = start;
    while let Some(previous) = came_from.get(at) {
        path.push(previous.join("::"));
        at = previous;
        if at == start {
            break;
        }
    }
    path.reverse();
    path.join(" -> ")
}

// ---------------------------------------------------------------------------------------
// The tests over the real code.

#[test]
fn nothing_imports_upward_or_across_listeners() {
    let mut wrong = Vec::new();
    for krate in CRATES.iter().filter(|k| !k.levels.is_empty()) {
        let parsed = parse_crate(krate);
        wrong.extend(wrong_arrows(krate, &parsed));
        // A wing of the map that is no module of this crate: a stale entry, unless it is
        // one of the server's level-0 wings, which live in the crates below.
        for (part, level) in krate.levels {
            let module: Vec<String> = part.split("::").map(str::to_string).collect();
            let below = krate.src == "src" && *level == 0;
            if !below && !parsed.modules.contains(&module) {
                wrong.push(format!("{part} is in the map but not in {}", krate.src));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows must point down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_wing_of_any_crate_has_a_cycle() {
    let mut found = Vec::new();
    for krate in CRATES {
        for cycle in cycles(&parse_crate(krate)) {
            found.push(format!("{}: {cycle}", krate.extern_name));
        }
    }
    assert!(
        found.is_empty(),
        "modules that use each other (move the shared piece down):\n{}",
        found.join("\n")
    );
}

#[test]
fn every_wing_says_what_it_is_for() {
    let mut missing = Vec::new();
    for krate in CRATES {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate.src);
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap_or_default();
            if !text.starts_with("//! ") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "no `//!` purpose line: {missing:?}");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // 12 wings (each a folder, or `app_state.rs`, `json_error.rs`), `lib.rs` and `main.rs`.
    let root_entries = fs::read_dir(&src).expect("src/").count();
    assert!(
        root_entries <= 14,
        "src/ has {root_entries} entries at its root: give the new ones a wing"
    );
}

/// The most lines a function outside tests may span, its signature and closing brace
/// included: what reads in one screen. Longer ones are split into named steps.
const LONGEST_FUNCTION: usize = 80;

/// Each function of `source` outside tests (not under `#[cfg(test)]`, not `#[test]`) longer
/// than `limit` lines, as `name (lines)`.
fn long_functions(source: &str, limit: usize) -> Vec<String> {
    struct Finder {
        limit: usize,
        found: Vec<String>,
    }
    fn is_test(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|a| {
            a.path().is_ident("test")
                || (a.path().is_ident("cfg")
                    && a.parse_args::<syn::Meta>()
                        .is_ok_and(|m| m.path().is_ident("test")))
        })
    }
    impl Finder {
        fn measure(&mut self, name: &syn::Ident, span: proc_macro2::Span) {
            let lines = span.end().line.saturating_sub(span.start().line) + 1;
            if lines > self.limit {
                self.found.push(format!("{name} ({lines} lines)"));
            }
        }
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
            if !is_test(&item.attrs) {
                syn::visit::visit_item_mod(self, item);
            }
        }
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            if !is_test(&item.attrs) {
                self.measure(&item.sig.ident, syn::spanned::Spanned::span(item));
                syn::visit::visit_item_fn(self, item);
            }
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            if !is_test(&item.attrs) {
                self.measure(&item.sig.ident, syn::spanned::Spanned::span(item));
                syn::visit::visit_impl_item_fn(self, item);
            }
        }
    }
    let Ok(file) = syn::parse_file(source) else {
        return vec!["(does not parse)".into()];
    };
    let mut finder = Finder {
        limit,
        found: Vec::new(),
    };
    finder.visit_file(&file);
    finder.found
}

#[test]
fn no_function_outside_tests_is_longer_than_a_screen() {
    let mut long = Vec::new();
    for krate in CRATES {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate.src);
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            let source = fs::read_to_string(&file).unwrap_or_default();
            for found in long_functions(&source, LONGEST_FUNCTION) {
                long.push(format!("{}: {found}", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {LONGEST_FUNCTION} lines (split them into named steps):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_checker_measures_functions_and_skips_tests() {
    let body = "    let x = 1;\n".repeat(5);
    let source = format!(
        "fn short() {{\n{body}}}\nstruct S;\nimpl S {{\n    fn method() {{\n{body}    }}\n}}\n\
         #[cfg(test)]\nmod tests {{\n    fn helper() {{\n{body}    }}\n}}\n#[test]\nfn case() {{\n{body}}}\n"
    );
    assert_eq!(long_functions(&source, 7), Vec::<String>::new());
    assert_eq!(
        long_functions(&source, 6),
        vec![
            "short (7 lines)".to_string(),
            "method (7 lines)".to_string()
        ]
    );
}

/// Belt and braces: the compiler refuses an import of a crate kkt-core does not depend on,
/// so what keeps the core pure is its dependency list. Read from `Cargo.lock`, which names
/// every package's dependencies for every target (Windows' included), followed through
/// kkt-platform and every other crate the core pulls in.
#[test]
fn the_core_depends_on_no_server_crate() {
    let lock = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock is readable");
    let names = dependencies_in_lock(&lock, "kkt-core");
    let refused: Vec<&String> = names
        .iter()
        .filter(|name| NOT_IN_CORE.iter().any(|no| name.starts_with(no)))
        .collect();
    assert!(
        refused.is_empty(),
        "kkt-core depends on {refused:?}; it must stay free of the server's crates"
    );
    assert!(names.contains("kkt-platform"), "{names:?}");
    assert!(names.contains("serde"), "{names:?}");
}

/// The names of every package `root` depends on in `lock` (a `Cargo.lock`), directly or
/// not. Versions are not told apart: two versions of a crate count as one name.
fn dependencies_in_lock(lock: &str, root: &str) -> BTreeSet<String> {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let Some(name) = block
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|n| n.trim_end_matches('"').to_string())
        else {
            continue;
        };
        let listed = block
            .split_once("dependencies = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list)
            .unwrap_or("");
        let entry = deps.entry(name).or_default();
        for item in listed.split(',') {
            // `"serde"`, `"serde 1.0.229"`, `"syn 2.0.119 (registry+…)"`.
            let item = item.trim().trim_matches('"');
            if let Some(dep) = item.split_whitespace().next() {
                entry.insert(dep.to_string());
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(name) = todo.pop() {
        for dep in deps.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_lock_reader_follows_dependencies_through_other_crates() {
    let lock = r#"
[[package]]
name = "kkt-core"
version = "0.1.0"
dependencies = [
 "kkt-platform",
 "serde 1.0.1",
]

[[package]]
name = "kkt-platform"
version = "0.1.0"
dependencies = [
 "actix-rt 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "serde"
version = "1.0.1"
"#;
    let names = dependencies_in_lock(lock, "kkt-core");
    assert_eq!(
        names,
        BTreeSet::from(["actix-rt", "kkt-platform", "serde"].map(String::from))
    );
}

// ---------------------------------------------------------------------------------------
// The checker catches every form (small sources, not the real code).

/// The modules of a small made-up crate.
fn toy_modules() -> BTreeSet<Vec<String>> {
    [
        "",
        "config",
        "store",
        "store::writes",
        "store::reads",
        "catalog",
        "catalog::lines",
        "catalog::device_line",
        "server",
    ]
    .iter()
    .map(|m| {
        m.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .collect()
}

fn module(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

/// The file modules `source`, the file of `at`, names.
fn named_modules(at: &str, source: &str) -> BTreeSet<String> {
    let modules = toy_modules();
    names_in(source, &module(at), &modules)
        .local
        .iter()
        .filter_map(|p| file_module(p, &modules))
        .map(|m| m.join("::"))
        .collect()
}

#[test]
fn the_checker_sees_grouped_and_nested_uses() {
    let named = named_modules(
        "config",
        "//! x\nuse crate::{catalog::lines::LineSet, store::{writes, reads::Row as R}};",
    );
    assert!(named.contains("catalog::lines"), "{named:?}");
    assert!(named.contains("store::writes"), "{named:?}");
    assert!(named.contains("store::reads"), "{named:?}");
}

#[test]
fn the_checker_sees_super_super_and_self() {
    let named = named_modules("store::writes", "use super::super::server::serve;");
    assert_eq!(named, BTreeSet::from(["server".to_string()]));
    let named = named_modules("store", "use self::reads::Row;");
    assert_eq!(named, BTreeSet::from(["store::reads".to_string()]));
    let named = named_modules("store::writes", "use super::reads;");
    assert_eq!(named, BTreeSet::from(["store::reads".to_string()]));
    // `use super::*` in a test module inside a file names the file itself.
    let named = named_modules("store::writes", "mod tests { use super::*; }");
    assert_eq!(named, BTreeSet::from(["store::writes".to_string()]));
}

#[test]
fn the_checker_sees_paths_written_inline_and_in_macros() {
    let named = named_modules(
        "config",
        "fn f() -> crate::store::Store { crate::server::serve(); todo!() }",
    );
    assert!(named.contains("store"), "{named:?}");
    assert!(named.contains("server"), "{named:?}");
    let named = named_modules(
        "config",
        r#"fn f() { println!("{}", crate::catalog::lines::count()); }"#,
    );
    assert_eq!(named, BTreeSet::from(["catalog::lines".to_string()]));
    // A bare name of a child module, in the module that declares it.
    let named = named_modules("catalog", "fn f() { lines::count(); }");
    assert_eq!(named, BTreeSet::from(["catalog::lines".to_string()]));
    // A module brought in by a `use`, then named inline, renamed or not.
    let named = named_modules(
        "config",
        "use crate::store; use crate::catalog as cat; fn f() { store::writes::flush(); cat::lines::count(); }",
    );
    assert!(named.contains("store::writes"), "{named:?}");
    assert!(named.contains("catalog::lines"), "{named:?}");
    // Other crates and std are not modules of this crate.
    let named = named_modules("config", "use std::fs; use serde::Deserialize;");
    assert!(named.is_empty(), "{named:?}");
}

#[test]
fn the_checker_refuses_an_arrow_up_in_any_form() {
    let krate = Crate {
        extern_name: "toy",
        src: "",
        levels: &[("config", 1), ("store", 2), ("catalog", 0), ("server", 3)],
        extern_wings: &[],
    };
    let modules = toy_modules();
    for source in [
        "use crate::server::serve;",
        "use crate::{catalog, server::serve};",
        "use super::super::server;",
        "fn f() { crate::server::serve() }",
        "fn f() { format!(\"{}\", crate::server::NAME); }",
    ] {
        let at = module("store::writes");
        let parsed = Parsed {
            files: vec![(
                at.clone(),
                PathBuf::from("store/writes.rs"),
                names_in(source, &at, &modules),
            )],
            modules: modules.clone(),
        };
        let wrong = wrong_arrows(&krate, &parsed);
        assert_eq!(wrong.len(), 1, "{source}: {wrong:?}");
        assert!(wrong[0].contains("not below it"), "{source}: {wrong:?}");
    }
}

#[test]
fn the_checker_finds_a_cycle_inside_a_wing() {
    let modules = toy_modules();
    let file = |at: &str, source: &str| {
        let at = module(at);
        let names = names_in(source, &at, &modules);
        (at, PathBuf::new(), names)
    };
    let parsed = Parsed {
        files: vec![
            file(
                "catalog::device_line",
                "use crate::catalog::lines::LineSet;",
            ),
            file(
                "catalog::lines",
                "fn f() { if x == crate::catalog::device_line::DEFAULT_LINE {} }",
            ),
            file("store::writes", "use super::reads::Row;"),
            file("store::reads", "use crate::catalog::lines;"),
        ],
        modules: modules.clone(),
    };
    let found = cycles(&parsed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("catalog::device_line") && found[0].contains("catalog::lines"),
        "{found:?}"
    );
    // Through a third module: the front (`mod.rs`) down to one part, that part to its
    // sibling, the sibling back through the front's path to the first part.
    let parsed = Parsed {
        files: vec![
            file("store", "use crate::store::writes::Batch;"),
            file("store::writes", "use super::reads::Row;"),
            file("store::reads", "fn f() { self::super::writes::flush() }"),
        ],
        modules: modules.clone(),
    };
    let found = cycles(&parsed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("store::writes") && found[0].contains("store::reads"),
        "{found:?}"
    );
    // A part using what its front defines, while the front uses the part: the tree's order.
    let parsed = Parsed {
        files: vec![
            file("store", "use self::writes::Batch;"),
            file("store::writes", "use super::Store;"),
        ],
        modules,
    };
    assert_eq!(cycles(&parsed), Vec::<String>::new());
}
