//! Loading the built-ins and an operator's folder: bad files reported while the rest load, no
//! silent shadowing of a built-in, content hashes, and reloading on change.

use std::path::Path;
use std::time::{Duration, SystemTime};

use runbook::{Index, Origin, Reload};
use sha2::{Digest, Sha256};

use crate::{MINIMAL, catalog};

fn named(name: &str) -> String {
    MINIMAL.replace("name: minimal", &format!("name: {name}"))
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Moves a file's modification time, so a rewrite within the same second is seen as a change
/// on any file system.
fn touch(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn a_broken_runbook_is_reported_with_file_line_and_reason_while_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.md", &named("good-one"));
    write(dir.path(), "nested/also-good.md", &named("also-good"));
    write(
        dir.path(),
        "broken.md",
        &named("broken").replace("tier: free", "tier: gold"),
    );
    write(
        dir.path(),
        "bad-tool.md",
        &named("bad-tool").replacen("system.get_overview", "system.reboot", 1),
    );
    write(dir.path(), "README.md", "# not a runbook");
    write(dir.path(), "notes.txt", "ignored");
    write(dir.path(), ".hidden.md", "ignored");
    std::fs::write(dir.path().join("binary.md"), [0xff, 0xfe, 0x00]).unwrap();
    // A FIFO would block a reader forever: only regular files are read.
    #[cfg(unix)]
    {
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe.md"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "mkfifo");
    }
    let index = Index::load(catalog(), Some(dir.path().to_path_buf()));
    assert!(index.get("good-one").is_some());
    assert!(index.get("also-good").is_some());
    assert!(
        index.get("interface-down").is_some(),
        "the built-ins load too"
    );
    assert!(index.get("broken").is_none());
    assert_eq!(index.len(), 15 + 2);
    let problems: Vec<String> = index.problems().iter().map(ToString::to_string).collect();
    let at = |file: &str| dir.path().join(file).display().to_string();
    for expected in [
        format!("{}:8: tier \"gold\" is not a tool tier", at("broken.md")),
        format!("{}:21: unknown tool \"system.reboot\"", at("bad-tool.md")),
        format!("{}: not UTF-8 text", at("binary.md")),
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(&expected)),
            "{expected}\nnot in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 3, "{problems:#?}");
    match &index.get("also-good").unwrap().origin {
        Origin::Operator { path } => assert!(path.ends_with("nested/also-good.md")),
        Origin::BuiltIn | Origin::Reviewed { .. } => panic!("an operator runbook"),
    }
}

#[test]
fn an_approved_proposal_is_served_until_a_person_edits_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let original = named("mine");
    write(dir.path(), "mine.md", &original);
    let mut index = Index::load(catalog(), Some(dir.path().to_path_buf()));
    let base = index.get("mine").unwrap().runbook.hash.clone();
    let improved_text = original.replace("version: 1.0.0", "version: 1.1.0");
    assert_ne!(improved_text, original, "the fixture has a version line");
    let improved = runbook::check("proposal", &improved_text, &catalog()).unwrap();
    let reviewed = runbook::Reviewed {
        version_id: "v2".into(),
        base_hash: base.clone(),
        runbook: improved.clone(),
    };
    assert!(index.set_reviewed(vec![reviewed.clone()]));
    assert_eq!(index.get("mine").unwrap().runbook.meta.version, "1.1.0");
    assert_eq!(
        index.get("mine").unwrap().origin,
        Origin::Reviewed {
            version_id: "v2".into()
        }
    );
    assert_eq!(index.file_version("mine").unwrap().runbook.hash, base);
    assert!(
        !index.set_reviewed(vec![reviewed.clone()]),
        "nothing changed"
    );
    // A proposal based on another file version is not served.
    let stale = runbook::Reviewed {
        base_hash: "0".repeat(64),
        ..reviewed
    };
    assert!(index.set_reviewed(vec![stale]));
    assert_eq!(index.get("mine").unwrap().runbook.meta.version, "1.0.0");
}

#[test]
fn an_operator_runbook_may_not_take_a_built_ins_name_or_another_operator_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mine.md", &named("high-cpu"));
    write(dir.path(), "a.md", &named("twice"));
    write(dir.path(), "b.md", &named("twice"));
    let index = Index::load(catalog(), Some(dir.path().to_path_buf()));
    assert_eq!(index.get("high-cpu").unwrap().origin, Origin::BuiltIn);
    assert_eq!(
        index.get("twice").unwrap().origin,
        Origin::Operator {
            path: dir.path().join("a.md")
        }
    );
    let problems: Vec<String> = index.problems().iter().map(ToString::to_string).collect();
    assert!(
        problems.iter().any(|p| p.contains(
            "mine.md: runbook high-cpu has the name of a built-in runbook, which it may not replace"
        )),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("b.md: runbook twice is already defined in") && p.contains("a.md")),
        "{problems:#?}"
    );
}

#[test]
fn files_over_the_size_limit_and_missing_folders_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "huge.md",
        &format!("{}{}", named("huge"), "x".repeat(runbook::MAX_FILE_BYTES)),
    );
    let index = Index::load(catalog(), Some(dir.path().to_path_buf()));
    assert!(index.get("huge").is_none());
    assert!(
        index.problems()[0]
            .reason
            .contains("more than 262144 bytes"),
        "{:?}",
        index.problems()
    );
    let missing = Index::load(catalog(), Some(dir.path().join("nope")));
    assert_eq!(missing.len(), 15);
    assert!(
        missing.problems()[0]
            .reason
            .starts_with("cannot read the runbook folder")
    );
}

#[test]
fn the_hash_is_the_sha256_of_the_file_bytes() {
    let (file, text) = Index::built_in_files()[0];
    let index = Index::load(catalog(), None);
    let entry = index.get(file.trim_end_matches(".md")).unwrap();
    assert_eq!(
        entry.runbook.hash,
        hex::encode(Sha256::digest(text.as_bytes()))
    );
}

#[test]
fn reload_reads_the_folder_again_only_when_files_changed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "one.md", &named("one"));
    write(dir.path(), "two.md", &named("two"));
    let mut index = Index::load(catalog(), Some(dir.path().to_path_buf()));
    assert_eq!(index.reload_if_changed(), Reload::Unchanged);
    let before = index.get("one").unwrap().runbook.hash.clone();

    // Modified (same size: only the time tells), added, removed.
    write(
        dir.path(),
        "one.md",
        &named("one").replace("Something is wrong.", "Something is right."),
    );
    touch(&dir.path().join("one.md"), 5);
    write(dir.path(), "three.md", &named("three"));
    std::fs::remove_file(dir.path().join("two.md")).unwrap();
    assert_eq!(
        index.reload_if_changed(),
        Reload::Reloaded {
            added: vec!["three".into()],
            removed: vec!["two".into()],
            changed: vec!["one".into()],
        }
    );
    assert_ne!(index.get("one").unwrap().runbook.hash, before);
    assert_eq!(index.reload_if_changed(), Reload::Unchanged);

    // A file that breaks is reported and leaves the index; fixing it brings it back.
    write(
        dir.path(),
        "three.md",
        &named("three").replace("status: draft", "status: ?"),
    );
    touch(&dir.path().join("three.md"), 10);
    assert!(
        matches!(index.reload_if_changed(), Reload::Reloaded { removed, .. } if removed == ["three"])
    );
    assert!(
        index
            .problems()
            .iter()
            .any(|p| p.file.ends_with("three.md") && p.line == 6)
    );
    write(dir.path(), "three.md", &named("three"));
    touch(&dir.path().join("three.md"), 15);
    assert!(
        matches!(index.reload_if_changed(), Reload::Reloaded { added, .. } if added == ["three"])
    );
    assert!(index.problems().is_empty());
}
