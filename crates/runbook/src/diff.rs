//! What changed between two versions of a runbook, as a unified line diff (what a reviewer reads
//! before approving a proposed version).
//!
//! Lines are compared with `similar`'s Myers diff under a time limit, so two large, very different
//! texts still give an answer quickly (a coarser one). Control characters in either text are
//! escaped, so the diff can be printed to a terminal as is.

use std::time::Duration;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// How long the diff may search for the smallest edit before settling for a larger one.
const TIME_LIMIT: Duration = Duration::from_millis(500);

/// A unified diff and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// `--- old` / `+++ new` headers and `@@` hunks; empty when the texts are equal.
    pub unified: String,
    pub added: usize,
    pub removed: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0
    }
}

/// The unified diff from `old` to `new`; the names label the two sides (`dhcp-pool-exhausted
/// 1.2.0`).
pub fn unified_diff(old_name: &str, old: &str, new_name: &str, new: &str) -> Diff {
    let diff = TextDiff::configure()
        .timeout(TIME_LIMIT)
        .diff_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let unified = if added == 0 && removed == 0 {
        String::new()
    } else {
        let text = diff
            .unified_diff()
            .context_radius(CONTEXT)
            .header(old_name, new_name)
            .to_string();
        domain::text::escape_lines(text.strip_suffix('\n').unwrap_or(&text)) + "\n"
    };
    Diff {
        unified,
        added,
        removed,
    }
}
