//! The runbooks a server offers: the built-ins (the repository's `runbooks/`, embedded at build
//! time like the tool catalog, so a binary always serves the runbooks it was built and tested
//! with) and the operator's folder, read at start and again when its files change.
//!
//! Every file is parsed and validated against the catalog; a bad file is reported as
//! [`Problem`]s and the others still load. An operator's runbook may not take a built-in's name:
//! it is refused and reported, never silently shadowing the built-in. Each runbook version is
//! identified by the SHA-256 of its file's bytes. [`Index::reload_if_changed`] compares each
//! file's size and modification time with the last load (no background thread; the folder walk
//! is bounded in depth and file count) and re-reads the folder only when something changed.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use catalog::Catalog;
use serde::Serialize;

use crate::format::Runbook;
use crate::search::{self, Hit};
use crate::{MAX_FILE_BYTES, Problem, validate};

include!(concat!(env!("OUT_DIR"), "/built_in.rs"));

/// Most runbook files read from the operator's folder.
pub const MAX_FILES: usize = 1000;
/// Deepest subfolder of the operator's folder that is read (the folder itself is depth 0).
pub const MAX_DEPTH: usize = 4;

/// Where a runbook came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// Embedded from the repository's `runbooks/` folder.
    BuiltIn,
    /// A file in the operator's folder.
    Operator { path: PathBuf },
    /// A version proposed after a failed run and approved by a person; it is served in place of
    /// the file it improves for as long as that file is unchanged.
    Reviewed { version_id: String },
}

/// An approved proposal, for [`Index::set_reviewed`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    pub version_id: String,
    /// The hash of the file version its lineage started from.
    pub base_hash: String,
    pub runbook: Runbook,
}

/// A loaded, valid runbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub runbook: Runbook,
    pub origin: Origin,
}

/// What [`Index::reload_if_changed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// No file was added, removed or modified.
    Unchanged,
    /// The folder was read again; names of runbooks added, removed and changed (new hash).
    Reloaded {
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
    },
}

/// A file as last seen: a change of size or modification time means it is read again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

/// The runbooks on offer.
#[derive(Debug)]
pub struct Index {
    catalog: Arc<Catalog>,
    operator_dir: Option<PathBuf>,
    built_in: Vec<Entry>,
    built_in_problems: Vec<Problem>,
    /// What the files hold.
    files: BTreeMap<String, Entry>,
    /// What is served: the files, with approved proposals in place of the files they improve.
    entries: BTreeMap<String, Entry>,
    reviewed: Vec<Reviewed>,
    problems: Vec<Problem>,
    stamps: Vec<Stamp>,
}

/// Reads a file of at most [`MAX_FILE_BYTES`] as UTF-8 text; the reason says what was wrong.
pub(crate) fn read_bounded(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file has more than {MAX_FILE_BYTES} bytes (256 KiB), the most a runbook may have"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

impl Index {
    /// The built-in runbooks embedded in this binary, as `(file name, text)`.
    pub fn built_in_files() -> &'static [(&'static str, &'static str)] {
        BUILT_IN
    }

    /// The built-ins of this binary and, if given, the operator's folder.
    pub fn load(catalog: Arc<Catalog>, operator_dir: Option<PathBuf>) -> Index {
        Self::with_built_ins(catalog, BUILT_IN, operator_dir)
    }

    /// Like [`Index::load`] with another set of built-ins (`(file name, text)`).
    pub fn with_built_ins(
        catalog: Arc<Catalog>,
        built_ins: &[(&str, &str)],
        operator_dir: Option<PathBuf>,
    ) -> Index {
        let mut built_in: Vec<Entry> = Vec::new();
        let mut built_in_problems = Vec::new();
        for (name, text) in built_ins {
            let file = format!("runbooks/{name}");
            match validate::check(&file, text, &catalog) {
                Ok(runbook) => {
                    if built_in
                        .iter()
                        .any(|e| e.runbook.meta.name == runbook.meta.name)
                    {
                        built_in_problems.push(Problem::new(
                            &file,
                            0,
                            format!("another built-in runbook is named {}", runbook.meta.name),
                        ));
                    } else {
                        built_in.push(Entry {
                            runbook,
                            origin: Origin::BuiltIn,
                        });
                    }
                }
                Err(mut p) => built_in_problems.append(&mut p),
            }
        }
        let mut index = Index {
            catalog,
            operator_dir,
            built_in,
            built_in_problems,
            files: BTreeMap::new(),
            entries: BTreeMap::new(),
            reviewed: Vec::new(),
            problems: Vec::new(),
            stamps: Vec::new(),
        };
        let (stamps, problems) = index.scan();
        index.rebuild(stamps, problems);
        index
    }

    /// A runbook by name.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every runbook, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What was wrong with the files of the last load (built-ins first).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The operator's folder, if one is read.
    pub fn operator_dir(&self) -> Option<&Path> {
        self.operator_dir.as_deref()
    }

    /// Ranked runbooks for a symptom sentence (see [`crate::search`]).
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        search::search(self.entries.values().map(|e| &e.runbook), query, limit)
    }

    /// Reads the operator's folder again if any file was added, removed or modified since the
    /// last load.
    pub fn reload_if_changed(&mut self) -> Reload {
        let (stamps, problems) = self.scan();
        if stamps == self.stamps {
            return Reload::Unchanged;
        }
        let before: BTreeMap<String, String> = self
            .entries
            .iter()
            .map(|(n, e)| (n.clone(), e.runbook.hash.clone()))
            .collect();
        self.rebuild(stamps, problems);
        let (mut added, mut removed, mut changed) = (Vec::new(), Vec::new(), Vec::new());
        for (name, entry) in &self.entries {
            match before.get(name) {
                None => added.push(name.clone()),
                Some(h) if *h != entry.runbook.hash => changed.push(name.clone()),
                Some(_) => {}
            }
        }
        for name in before.keys() {
            if !self.entries.contains_key(name) {
                removed.push(name.clone());
            }
        }
        Reload::Reloaded {
            added,
            removed,
            changed,
        }
    }

    /// Lists the operator's runbook files (`*.md` except README.md, hidden entries skipped,
    /// symlinked folders not followed), bounded by [`MAX_DEPTH`] and [`MAX_FILES`].
    fn scan(&self) -> (Vec<Stamp>, Vec<Problem>) {
        let mut stamps = Vec::new();
        let mut problems = Vec::new();
        let Some(dir) = &self.operator_dir else {
            return (stamps, problems);
        };
        let mut pending = vec![(dir.clone(), 0usize)];
        while let Some((folder, depth)) = pending.pop() {
            let entries = match std::fs::read_dir(&folder) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(Problem::new(
                        &folder.display().to_string(),
                        0,
                        format!("cannot read the runbook folder: {e}"),
                    ));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    if depth < MAX_DEPTH {
                        pending.push((path, depth + 1));
                    }
                    continue;
                }
                let is_runbook = path.extension().is_some_and(|e| e == "md")
                    && !name.eq_ignore_ascii_case("README.md");
                if !is_runbook {
                    continue;
                }
                // A symlink to a file counts with its target's size and time; anything but a
                // regular file (a FIFO, a device) is skipped, since reading it could block.
                let meta = if meta.file_type().is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(m) => m,
                        Err(_) => continue,
                    }
                } else {
                    meta
                };
                if !meta.is_file() {
                    continue;
                }
                if stamps.len() >= MAX_FILES {
                    problems.push(Problem::new(
                        &dir.display().to_string(),
                        0,
                        format!("more than {MAX_FILES} runbook files; the rest are not read"),
                    ));
                    pending.clear();
                    break;
                }
                stamps.push(Stamp {
                    path,
                    len: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
        }
        stamps.sort_by(|a, b| a.path.cmp(&b.path));
        (stamps, problems)
    }

    /// Rebuilds the entries from the built-ins and the listed operator files.
    fn rebuild(&mut self, stamps: Vec<Stamp>, mut scan_problems: Vec<Problem>) {
        let mut entries: BTreeMap<String, Entry> = self
            .built_in
            .iter()
            .map(|e| (e.runbook.meta.name.clone(), e.clone()))
            .collect();
        let mut problems = self.built_in_problems.clone();
        problems.append(&mut scan_problems);
        for stamp in &stamps {
            let file = stamp.path.display().to_string();
            let text = match read_bounded(&stamp.path) {
                Ok(t) => t,
                Err(reason) => {
                    problems.push(Problem::new(&file, 0, reason));
                    continue;
                }
            };
            let runbook = match validate::check(&file, &text, &self.catalog) {
                Ok(r) => r,
                Err(mut p) => {
                    problems.append(&mut p);
                    continue;
                }
            };
            let name = runbook.meta.name.clone();
            match entries.get(&name).map(|e| &e.origin) {
                Some(Origin::BuiltIn) => problems.push(Problem::new(
                    &file,
                    0,
                    format!(
                        "runbook {name} has the name of a built-in runbook, which it may not replace; give it another name (the built-in stays in use)"
                    ),
                )),
                // The file list holds no reviewed versions; a name is taken once.
                Some(Origin::Operator { path }) => problems.push(Problem::new(
                    &file,
                    0,
                    format!(
                        "runbook {name} is already defined in {}; names are unique (this file is not loaded)",
                        domain::text::escape(&path.display().to_string())
                    ),
                )),
                Some(Origin::Reviewed { version_id }) => problems.push(Problem::new(
                    &file,
                    0,
                    format!("runbook {name} is already served as version {version_id}"),
                )),
                None => {
                    entries.insert(
                        name,
                        Entry {
                            runbook,
                            origin: Origin::Operator {
                                path: stamp.path.clone(),
                            },
                        },
                    );
                }
            }
        }
        self.files = entries;
        self.problems = problems;
        self.stamps = stamps;
        self.overlay();
    }

    /// Sets the approved proposals (in the order they were approved) and serves each in place
    /// of its runbook's file while that file is the version the proposal's lineage started
    /// from: a person's later edit of the file wins. Returns whether what is served changed.
    pub fn set_reviewed(&mut self, reviewed: Vec<Reviewed>) -> bool {
        if reviewed == self.reviewed {
            return false;
        }
        self.reviewed = reviewed;
        let before: Vec<String> = self
            .entries
            .values()
            .map(|e| e.runbook.hash.clone())
            .collect();
        self.overlay();
        let after: Vec<String> = self
            .entries
            .values()
            .map(|e| e.runbook.hash.clone())
            .collect();
        before != after
    }

    /// The file a runbook's served version came from (itself unless a reviewed version is
    /// served in its place).
    pub fn file_version(&self, name: &str) -> Option<&Entry> {
        self.files.get(name)
    }

    fn overlay(&mut self) {
        let mut entries = self.files.clone();
        for r in &self.reviewed {
            let name = r.runbook.meta.name.clone();
            let applies = self
                .files
                .get(&name)
                .is_some_and(|file| file.runbook.hash == r.base_hash);
            if applies {
                entries.insert(
                    name,
                    Entry {
                        runbook: r.runbook.clone(),
                        origin: Origin::Reviewed {
                            version_id: r.version_id.clone(),
                        },
                    },
                );
            }
        }
        self.entries = entries;
    }
}
