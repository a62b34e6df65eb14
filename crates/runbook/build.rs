//! Embeds the built-in runbooks (every `*.md` under `runbooks/` except its README) so the binary
//! serves exactly the runbooks it was built with, the same way the tool catalog embeds its
//! schemas. Cargo reruns this when anything in the folder changes.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../../runbooks");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
                .filter_map(|p| {
                    let name = p.file_name()?.to_string_lossy().into_owned();
                    (!name.eq_ignore_ascii_case("README.md")).then_some((name, p))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from(
        "/// Every built-in runbook, as `(file name under runbooks/, contents)`.\npub(crate) static BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("built_in.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
