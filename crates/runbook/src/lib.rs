//! Runbooks: markdown procedures for one incident — Symptom, Diagnosis, Remediation, Verify —
//! with YAML front matter, typed variables and steps that call catalog tools.
//!
//! This crate is pure: it reads runbook files and `env.yaml`, and nothing else (no database, no
//! MCP, no network). The server's runbook tools, prompts and resources are built on it:
//!
//! - [`format`](mod@format) parses a file into a [`Runbook`] (front matter, sections, prose and
//!   tool steps, `expect` gates, the source line of every step);
//! - [`validate`](mod@validate) checks a runbook against the tool catalog and reports [`Problem`]s;
//! - [`substitute`] fills `{var.name}`, `{env[key]}` and `{step.N./pointer}` placeholders, and
//!   keeps the [`Redactor`] that strips secrets from what is logged or shown;
//! - [`expect`] evaluates a step's conditions on a tool result;
//! - [`index`] loads the built-in runbooks and the operator's folder, and reloads on change;
//! - [`search`] ranks runbooks for a symptom sentence and says why each matched;
//! - [`diff`] shows what changed between two versions;
//! - [`plan`] is the dry run: every step in order, what it reads or writes, and which writes can
//!   be gathered into one plan up front;
//! - [`transcript`] drafts a runbook from the tool calls that solved a problem.

pub mod diff;
pub mod expect;
pub mod format;
pub mod index;
pub mod plan;
pub mod search;
pub mod substitute;
pub mod transcript;
pub mod validate;
mod yaml;

use std::fmt;

use serde::Serialize;

pub use diff::{Diff, unified_diff};
pub use expect::{Check, Condition, Op, Outcome};
pub use format::{
    Meta, Risk, Runbook, Section, Status, Step, StepKind, ToolStep, VarType, Variable,
};
pub use index::{Entry, Index, Origin, Reload, Reviewed};
pub use plan::{Access, DryRun, PlanError, PlannedStep, dry_run};
pub use search::{Field, Hit, Match};
pub use substitute::{Env, EnvEntry, InputError, Inputs, Placeholder, Redactor, SubstituteError};
pub use validate::{check, validate};

/// The largest runbook (or `env.yaml`) accepted, in bytes. Anything larger is refused before it
/// is parsed: a runbook is a page a person reads during an incident, never a data dump.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// Something wrong with a runbook or `env.yaml`: where, and what is wrong and what is allowed.
///
/// `line` counts from 1; 0 means the file as a whole (too large, unreadable, a section missing).
/// Text quoted from the file is escaped, so a reason can be printed to a terminal as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl Problem {
    pub(crate) fn new(file: &str, line: usize, reason: impl Into<String>) -> Self {
        Self {
            file: domain::text::escape(file).into_owned(),
            line,
            reason: reason.into(),
        }
    }
}

impl std::error::Error for Problem {}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.reason)
        }
    }
}

/// Text from a file or a caller, quoted in a message: control characters escaped, cut to
/// `max` characters (with `…`).
pub(crate) fn quote(text: &str, max: usize) -> String {
    let escaped = domain::text::escape(text);
    if escaped.chars().count() <= max {
        format!("\"{escaped}\"")
    } else {
        let cut: String = escaped.chars().take(max).collect();
        format!("\"{cut}…\"")
    }
}
