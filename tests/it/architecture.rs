//! docs/architecture.md's table of what each module may call, enforced on
//! the source: every `crate::…` and `super::…` path in `src/` (outside
//! `src/cli`, the binary, and unit tests) must lead into the module's own
//! subtree or into a module its row lets it call. A source file whose
//! module has no row fails as well, so the table cannot fall behind the
//! code, and a row naming a module that does not exist fails, so it
//! cannot run ahead of it.

use std::fs;
use std::path::{Path, PathBuf};

/// One row of the table: the modules it covers and the modules they may
/// call (each allowing everything below it).
#[derive(Debug)]
struct Row {
    modules: Vec<Vec<String>>,
    may_call: Vec<Vec<String>>,
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

fn starts_with(path: &[String], prefix: &[String]) -> bool {
    path.len() >= prefix.len() && path[..prefix.len()] == *prefix
}

/// The backticked names of one table cell.
fn names(cell: &str) -> Vec<Vec<String>> {
    cell.split('`').skip(1).step_by(2).map(segments).collect()
}

/// The rows under the heading "What each module may call", except `cli`'s
/// (which may call everything public).
fn table(doc: &str) -> Vec<Row> {
    let section = doc
        .split("## What each module may call")
        .nth(1)
        .expect("docs/architecture.md has the heading \"What each module may call\"");
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            assert!(cells.len() >= 5, "a table row with three cells: {line}");
            let modules = names(cells[1]);
            assert!(!modules.is_empty(), "a row names no module: {line}");
            (modules != [vec!["cli".to_string()]]).then(|| Row {
                modules,
                may_call: names(cells[3]),
            })
        })
        .collect()
}

/// A source file's module path (`src/pipeline/admit.rs` → `pipeline::admit`,
/// `src/seal/mod.rs` → `seal`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file that the rules apply to: comments removed, and unit
/// tests (from `#[cfg(test)]` on) left out.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a use tree at the start of `s` (`a::b`, `a::{b, c::d}`), adding
/// each full path to `out` behind `prefix`.
fn use_tree(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let s = s.trim_start();
    if let Some(group) = s.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    use_tree(&group[start..i], prefix, out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_tree(&group[start..i], prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let ident: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() || ident == "self" || ident == "*" {
        out.push(prefix.to_vec());
        return;
    }
    let mut path = prefix.to_vec();
    path.push(ident.clone());
    match s[ident.len()..].strip_prefix("::") {
        Some(rest) => use_tree(rest, &path, out),
        None => out.push(path),
    }
}

/// Every module path a file's code reaches through `crate::` or `super::`,
/// with the line it stands on (a `use` may span lines).
fn references(module: &[String], code: &str) -> Vec<(usize, Vec<String>)> {
    let line_of = |i: usize| code[..i].matches('\n').count() + 1;
    let ident_before = |i: usize| {
        code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '$')
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if ident_before(i) {
            continue; // `$crate::`, `mycrate::`
        }
        let mut paths = Vec::new();
        use_tree(&code[i + "crate::".len()..], &[], &mut paths);
        out.extend(paths.into_iter().map(|p| (line_of(i), p)));
    }
    for (i, _) in code.match_indices("super::") {
        if ident_before(i) {
            continue; // the second `super` of `super::super::`
        }
        // `super` is the parent of the file's module, whether the file is
        // `a/b.rs` or `a/b/mod.rs` (both module `a::b`).
        let mut base = module.to_vec();
        let mut tail = &code[i..];
        while let Some(t) = tail.strip_prefix("super::") {
            base.pop();
            tail = t;
        }
        let mut paths = Vec::new();
        use_tree(tail, &base, &mut paths);
        out.extend(paths.into_iter().map(|p| (line_of(i), p)));
    }
    out.sort();
    out
}

/// The row a module path belongs to: the one naming its longest prefix.
fn row_of<'a>(rows: &'a [Row], path: &[String]) -> Option<(&'a Row, &'a [String])> {
    rows.iter()
        .flat_map(|r| r.modules.iter().map(move |m| (r, m.as_slice())))
        .filter(|(_, m)| starts_with(path, m))
        .max_by_key(|(_, m)| m.len())
}

/// A circle among the rows, if there is one. Row A calls row B when B's
/// module lies below A's own module or below one of A's names, or when B
/// is the row one of A's names belongs to.
fn circle(rows: &[Row]) -> Option<String> {
    let calls = |a: usize, b: usize| {
        let (ra, rb) = (&rows[a], &rows[b]);
        a != b
            && (rb.modules.iter().any(|m| {
                ra.modules
                    .iter()
                    .chain(&ra.may_call)
                    .any(|x| starts_with(m, x))
            }) || ra
                .may_call
                .iter()
                .any(|x| row_of(rows, x).is_some_and(|(r, _)| std::ptr::eq(r, rb))))
    };
    // Depth-first search from each row; `path` is the chain being followed.
    fn visit(
        i: usize,
        n: usize,
        calls: &dyn Fn(usize, usize) -> bool,
        done: &mut [bool],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        if let Some(k) = path.iter().position(|&p| p == i) {
            let mut circle = path[k..].to_vec();
            circle.push(i);
            return Some(circle);
        }
        if done[i] {
            return None;
        }
        path.push(i);
        for j in 0..n {
            if calls(i, j)
                && let Some(c) = visit(j, n, calls, done, path)
            {
                return Some(c);
            }
        }
        path.pop();
        done[i] = true;
        None
    }
    let mut done = vec![false; rows.len()];
    (0..rows.len()).find_map(|i| {
        let c = visit(i, rows.len(), &calls, &mut done, &mut Vec::new())?;
        let names: Vec<String> = c.iter().map(|&k| rows[k].modules[0].join("::")).collect();
        Some(names.join(" → "))
    })
}

#[test]
fn every_module_calls_only_what_docs_architecture_md_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let rows = table(&doc);
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let modules: Vec<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();

    let mut wrong = Vec::new();
    for row in &rows {
        for m in row.modules.iter().chain(&row.may_call) {
            if !modules.iter().any(|have| starts_with(have, m)) {
                wrong.push(format!(
                    "the table names `{}`, which is no module",
                    m.join("::")
                ));
            }
        }
    }
    if let Some(circle) = circle(&rows) {
        wrong.push(format!("the table's rows call in a circle: {circle}"));
    }
    for (file, module) in files.iter().zip(&modules) {
        let name = file.strip_prefix(root).unwrap().display().to_string();
        let top = module.first().map(String::as_str).unwrap_or("");
        if matches!(top, "cli" | "lib" | "main")
            || file.file_name().is_some_and(|n| n == "tests.rs")
        {
            continue;
        }
        let Some((row, own)) = row_of(&rows, module) else {
            wrong.push(format!(
                "{name}: module `{}` has no row in the table",
                module.join("::")
            ));
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        for (line, path) in references(module, &code(&text)) {
            let Some((target, target_module)) = row_of(&rows, &path) else {
                continue; // an item of the crate root, or a dependency's
            };
            let allowed = std::ptr::eq(target, row)
                || starts_with(target_module, own)
                || row.may_call.iter().any(|m| starts_with(target_module, m));
            if !allowed {
                wrong.push(format!(
                    "{name}:{line}: `{}` calls `{}`, which its row does not allow",
                    module.join("::"),
                    path.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/architecture.md and the code disagree:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn use_trees_and_super_paths_are_resolved() {
    let module = segments("pipeline::admit");
    let code = "use crate::{a::b, c::{d,\n e::f}};\nlet x = super::types::T;\nuse super::super::z;";
    let got: Vec<String> = references(&module, code)
        .into_iter()
        .map(|(n, p)| format!("{n}:{}", p.join("::")))
        .collect();
    assert_eq!(
        got,
        [
            "1:a::b",
            "1:c::d",
            "1:c::e::f",
            "3:pipeline::types::T",
            "4:z"
        ]
    );
}

#[test]
fn a_circle_in_the_table_is_found() {
    let doc = "## What each module may call\n\n| module | job | may call |\n|---|---|---|\n| `a` | x | `b` |\n| `b` | x | `c::d` |\n| `c` | x | `a` |\n";
    let rows = table(doc);
    assert_eq!(circle(&rows).as_deref(), Some("a → b → c → a"));
    let doc = doc.replace("| `c` | x | `a` |", "| `c` | x | nothing |");
    assert_eq!(circle(&table(&doc)), None);
}
