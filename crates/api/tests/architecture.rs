//! ARCHITECTURE.md's dependency graph is the truth: this test reads every workspace member's
//! `Cargo.toml` and fails when a crate depends on one of ours that the graph does not name,
//! or the graph names a dependency the crate does not have. (It lives here because
//! `tokensim-api` is the crate the CLI and the app both sit on; it needs no build of theirs.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The short name the graph uses for a member folder: `crates/device` → `device`.
fn short(member: &str) -> String {
    member.rsplit('/').next().unwrap_or(member).to_owned()
}

/// Every member's short name → the short names of the members it depends on (normal
/// dependencies only: dev-dependencies may reach further, e.g. a test starting a sandbox).
fn manifests() -> BTreeMap<String, BTreeSet<String>> {
    let workspace = read_toml(&root().join("Cargo.toml"));
    let members: Vec<String> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| m.as_str().expect("a member path").to_owned())
        .collect();
    let mut package_to_short = BTreeMap::new();
    let mut tables = Vec::new();
    for member in &members {
        let manifest = read_toml(&root().join(member).join("Cargo.toml"));
        let name = manifest["package"]["name"].as_str().expect("package.name");
        package_to_short.insert(name.to_owned(), short(member));
        tables.push((short(member), manifest));
    }
    tables
        .into_iter()
        .map(|(member, manifest)| {
            let deps = manifest
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|deps| {
                    deps.keys()
                        .filter_map(|k| package_to_short.get(k).cloned())
                        .collect()
                })
                .unwrap_or_default();
            (member, deps)
        })
        .collect()
}

/// The graph in ARCHITECTURE.md's "Dependency direction" block: `a, b -> c, d (why)`.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let section = text
        .split("## Dependency direction")
        .nth(1)
        .expect("a \"Dependency direction\" section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the graph in a code block");
    let mut graph = BTreeMap::new();
    for line in block.lines().filter(|l| l.contains("->")) {
        let (from, to) = line.split_once("->").unwrap();
        // Parenthesised words say why; they name no crate.
        let mut targets = String::new();
        let mut depth = 0;
        for c in to.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => targets.push(c),
                _ => {}
            }
        }
        let targets: BTreeSet<String> = if targets.trim() == "nothing of ours" {
            BTreeSet::new()
        } else {
            targets
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        };
        for from in from.split(',') {
            graph.insert(from.trim().to_owned(), targets.clone());
        }
    }
    graph
}

#[test]
fn architecture_md_names_every_dependency_between_our_crates() {
    let actual = manifests();
    let mut documented = documented();
    // The UI is not a Cargo package: it reaches src-tauri over IPC.
    assert!(documented.remove("ui").is_some(), "the graph names the ui");
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "ARCHITECTURE.md's graph and the workspace members differ"
    );
    for (member, deps) in &actual {
        assert_eq!(
            &documented[member], deps,
            "ARCHITECTURE.md says what `{member}` depends on, but its Cargo.toml says otherwise"
        );
    }
}

#[test]
fn no_engine_crate_depends_on_tauri() {
    for (member, _) in manifests() {
        if member == "src-tauri" {
            continue;
        }
        let dir = if root().join("crates").join(&member).is_dir() {
            root().join("crates").join(&member)
        } else {
            root().join(&member)
        };
        let manifest = read_toml(&dir.join("Cargo.toml"));
        let deps = manifest.get("dependencies").and_then(|d| d.as_table());
        assert!(
            deps.is_none_or(|d| !d.keys().any(|k| k.starts_with("tauri"))),
            "{member} depends on Tauri"
        );
    }
}

/// `powerauth`'s raw primitives (`hazmat`) stay private: only its own vector tests and
/// benchmarks turn the `hazmat` feature on (through its dev-dependency on itself).
#[test]
fn only_powerauth_itself_opens_its_hazmat() {
    let workspace = read_toml(&root().join("Cargo.toml"));
    let members: Vec<String> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| m.as_str().expect("a member path").to_owned())
        .collect();
    let opens = |table: Option<&toml::Value>| {
        table.and_then(|t| t.as_table()).is_some_and(|deps| {
            deps.get("powerauth")
                .and_then(|d| d.get("features"))
                .and_then(|f| f.as_array())
                .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("hazmat")))
        })
    };
    assert!(
        !opens(workspace["workspace"].get("dependencies")),
        "the workspace's powerauth dependency enables hazmat"
    );
    for member in members.iter().filter(|m| short(m) != "powerauth") {
        let manifest = read_toml(&root().join(member).join("Cargo.toml"));
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            assert!(
                !opens(manifest.get(section)),
                "{member} enables powerauth's hazmat in [{section}]"
            );
        }
    }
}
