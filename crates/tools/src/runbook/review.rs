//! The review queue: versions of a runbook proposed after a failed run wait here until a person
//! approves or rejects them. The admin API (`/api/review/…`) and the CLI
//! (`routeros-mcp runbook review …`) both work the queue through this module, so both check ids
//! and texts the same way, order the queue the same way and refuse the same decisions.
//!
//! A decision is taken by the store in one transaction with its audit event, and only on a
//! proposal still waiting (`pending_review` or `in_review`): a second decision, or one on a
//! version that is not a proposal, is refused and changes nothing. Before approving, the proposal
//! is checked against this server's tool catalog like every runbook file: an approved version
//! that does not validate would never be served, so it is refused and should be rejected instead.

use std::fmt;
use std::str::FromStr;

use store::runbooks::{ReviewDecision, RunRow, VersionRow};
use store::{AuditContext, Store, StoreError};

/// Proposals listed when no limit is given, and the most one list may hold.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// The longest notes or reason accepted, in characters.
pub const MAX_TEXT: usize = 1000;
/// How much of a refused id a message repeats.
const MAX_ECHO: usize = 80;

/// The statuses of a proposal still waiting for a decision.
pub const WAITING: [&str; 2] = ["pending_review", "in_review"];

/// How urgent a proposal is (set when it was proposed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "{} is not a priority; expected high, medium or low",
                    quote(s, MAX_ECHO)
                )
            })
    }
}

/// Text from a caller quoted in a message: control characters escaped, at most `max`
/// characters (then `…`).
fn quote(text: &str, max: usize) -> String {
    let escaped = domain::text::escape(text);
    if escaped.chars().count() <= max {
        format!("\"{escaped}\"")
    } else {
        let cut: String = escaped.chars().take(max).collect();
        format!("\"{cut}…\"")
    }
}

/// A runbook version id as given by a person or a path: a UUID (every version and run is
/// recorded under one). Anything else — a path, a very long or binary string — is refused with
/// the text escaped and cut short.
pub fn version_id(text: &str) -> Result<String, String> {
    match uuid::Uuid::parse_str(text.trim()) {
        Ok(id) if text.trim().len() == 36 => Ok(id.hyphenated().to_string()),
        _ => Err(format!(
            "{} is not a runbook version id; expected a UUID such as \
             0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d (the review queue lists the ids)",
            quote(text, MAX_ECHO)
        )),
    }
}

/// Free text a person writes (notes, a reason): non-blank, at most [`MAX_TEXT`] characters, no
/// control characters. The error names `field`.
pub fn check_text(field: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!(
            "{field}: must not be empty; expected 1 to {MAX_TEXT} characters"
        ));
    }
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(format!(
            "{field}: {length} characters; at most {MAX_TEXT} are allowed"
        ));
    }
    if let Some(c) = domain::text::find_control(text) {
        return Err(format!(
            "{field}: contains {c}; control characters (newlines, terminal escapes, \
             bidirectional overrides) are not allowed"
        ));
    }
    Ok(())
}

/// Why a review request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// A value the caller gave is not allowed (the message names it and what is allowed).
    #[error("{0}")]
    Invalid(String),
    /// No proposal has this id.
    #[error(
        "no runbook proposal \"{0}\"; the review queue (GET /api/review/pending, or \
         `routeros-mcp runbook review list`) shows the proposals waiting"
    )]
    NotFound(String),
    /// The proposal's state does not allow the decision (decided already, or it does not
    /// validate).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReviewError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::RunbookVersionNotFound(id) => ReviewError::NotFound(id),
            e @ StoreError::RunbookReviewState { .. } => ReviewError::Conflict(e.to_string()),
            other => ReviewError::Store(other),
        }
    }
}

/// The rank of a priority in the queue: high first, a proposal without one last.
fn rank(priority: Option<&str>) -> usize {
    priority
        .and_then(|p| p.parse::<Priority>().ok())
        .map_or(Priority::ALL.len(), |p| p as usize)
}

/// The proposals waiting for a decision (of `priority` only, when given): high priority first,
/// then the oldest first; at most `limit`.
pub async fn pending(
    store: &Store,
    priority: Option<Priority>,
    limit: usize,
) -> Result<Vec<VersionRow>, StoreError> {
    let mut waiting: Vec<VersionRow> = store
        .runbook_versions_in(&WAITING)
        .await?
        .into_iter()
        .filter(|v| v.origin == "proposal")
        .filter(|v| priority.is_none_or(|p| v.priority.as_deref() == Some(p.as_str())))
        .collect();
    waiting.sort_by(|a, b| {
        (rank(a.priority.as_deref()), &a.created_at, &a.id).cmp(&(
            rank(b.priority.as_deref()),
            &b.created_at,
            &b.id,
        ))
    });
    waiting.truncate(limit);
    Ok(waiting)
}

/// A proposal as a reviewer reads it: the version, the one it would replace, what changed and
/// the failed run it was generated from.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub version: VersionRow,
    pub parent: Option<VersionRow>,
    /// From the parent's content (or nothing, without a parent) to the proposal's.
    pub diff: ::runbook::Diff,
    /// The run it came from, if it was generated from one that is still recorded.
    pub source_run: Option<RunRow>,
}

/// The proposal `id` (already checked with [`version_id`]) with its parent, diff and run; a
/// version that is not a proposal is not found.
pub async fn proposal(store: &Store, id: &str) -> Result<Proposal, ReviewError> {
    let version = store
        .runbook_version(id)
        .await?
        .filter(|v| v.origin == "proposal")
        .ok_or_else(|| ReviewError::NotFound(id.to_owned()))?;
    let parent = match &version.parent_id {
        Some(parent) => store.runbook_version(parent).await?,
        None => None,
    };
    let (old_name, old) = match &parent {
        Some(p) => (format!("{} {}", p.name, p.version), p.content.as_str()),
        None => (format!("{} (nothing)", version.name), ""),
    };
    let diff = ::runbook::unified_diff(
        &old_name,
        old,
        &format!("{} {} (proposed)", version.name, version.version),
        &version.content,
    );
    let source_run = match &version.generated_from_run {
        Some(run) => store.runbook_run(run).await?,
        None => None,
    };
    Ok(Proposal {
        version,
        parent,
        diff,
        source_run,
    })
}

/// The queue's counts, with the approval ratio and the age of the oldest waiting high-priority
/// proposal worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub pending_review: i64,
    pub in_review: i64,
    /// Approved proposals, including those since replaced by a newer version.
    pub approved: i64,
    pub rejected: i64,
    /// `approved / (approved + rejected)`; 0 when nothing was decided.
    pub approval_ratio: f64,
    /// When the oldest high-priority proposal still waiting was proposed.
    pub oldest_high_priority: Option<String>,
    /// How long it has waited, in seconds; 0 when none waits.
    pub oldest_high_priority_age_seconds: i64,
}

impl Stats {
    /// Proposals waiting for a decision.
    pub fn backlog(&self) -> i64 {
        self.pending_review + self.in_review
    }
}

pub async fn stats(store: &Store) -> Result<Stats, StoreError> {
    let s = store.runbook_review_stats().await?;
    let decided = s.approved + s.rejected;
    let approval_ratio = if decided == 0 {
        0.0
    } else {
        s.approved as f64 / decided as f64
    };
    let age = s
        .oldest_high_priority
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0)
        });
    Ok(Stats {
        pending_review: s.pending_review,
        in_review: s.in_review,
        approved: s.approved,
        rejected: s.rejected,
        approval_ratio,
        oldest_high_priority: s.oldest_high_priority,
        oldest_high_priority_age_seconds: age,
    })
}

/// What a reviewer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Publish the proposal in place of its parent; notes are optional.
    Approve { notes: Option<String> },
    /// Refuse it; the reason is required.
    Reject { reason: String },
}

/// Takes `decision` on proposal `id` (already checked with [`version_id`]) as `reviewer` (who
/// is recorded: the authenticated principal or the local user, never a name the request
/// carried). Refuses blank or malformed text, an unknown id, a proposal not waiting, and —
/// approving — a proposal that does not validate against `catalog`. Nothing changes on a
/// refusal.
pub async fn decide(
    store: &Store,
    catalog: &catalog::Catalog,
    id: &str,
    decision: &Decision,
    reviewer: &str,
    ctx: &AuditContext,
) -> Result<VersionRow, ReviewError> {
    let (kind, text) = match decision {
        Decision::Approve { notes } => {
            if let Some(notes) = notes {
                check_text("notes", notes).map_err(ReviewError::Invalid)?;
            }
            (ReviewDecision::Approve, notes.as_deref())
        }
        Decision::Reject { reason } => {
            check_text("reason", reason).map_err(ReviewError::Invalid)?;
            (ReviewDecision::Reject, Some(reason.as_str()))
        }
    };
    let version = store
        .runbook_version(id)
        .await?
        .filter(|v| v.origin == "proposal")
        .ok_or_else(|| ReviewError::NotFound(id.to_owned()))?;
    if kind == ReviewDecision::Approve && WAITING.contains(&version.status.as_str()) {
        check_proposal(&version, catalog)?;
    }
    Ok(store
        .runbook_review(id, kind, reviewer, text.map(str::trim), ctx)
        .await?)
}

/// A proposal about to be approved must be a runbook this server would serve under its name.
fn check_proposal(version: &VersionRow, catalog: &catalog::Catalog) -> Result<(), ReviewError> {
    let label = format!("{} {} (proposed)", version.name, version.version);
    match ::runbook::check(&label, &version.content, catalog) {
        Ok(runbook) if runbook.meta.name == version.name => Ok(()),
        Ok(runbook) => Err(ReviewError::Conflict(format!(
            "proposal {} names runbook {} in its front matter, not {}: it could not be served \
             in place of {}; reject it",
            version.id,
            quote(&runbook.meta.name, MAX_ECHO),
            version.name,
            version.name
        ))),
        Err(problems) => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            let more = match problems.len() {
                0 | 1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            Err(ReviewError::Conflict(format!(
                "proposal {} does not validate against this server's tool catalog: {first}{more}; \
                 an approved version that does not validate is never served, so reject it",
                version.id
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use store::testing::TestDatabase;

    use super::*;

    /// The built-in `interface-down`, with another version number (and a line added).
    fn improved(version: &str) -> String {
        let (_, text) = ::runbook::Index::built_in_files()
            .iter()
            .find(|(f, _)| *f == "interface-down.md")
            .expect("the built-in");
        text.replacen("version: 1.0.0", &format!("version: {version}"), 1)
            .replacen("## Verify\n", "## Verify\nCheck the neighbour too.\n", 1)
    }

    fn row(id: &str, version: &str, content: &str, parent: Option<&str>) -> VersionRow {
        VersionRow {
            id: id.into(),
            name: "interface-down".into(),
            version: version.into(),
            content_hash: format!("hash-{id}"),
            content: content.into(),
            origin: "built-in".into(),
            status: "published".into(),
            parent_id: parent.map(Into::into),
            base_hash: None,
            generated_from_run: None,
            proposed_by: None,
            failure_type: None,
            priority: None,
            rationale: None,
            created_at: store::time::now(),
            review_started_at: None,
            reviewer: None,
            review_notes: None,
            reviewed_at: None,
        }
    }

    fn proposal_row(id: &str, version: &str, content: &str, priority: &str) -> VersionRow {
        VersionRow {
            origin: "proposal".into(),
            status: "pending_review".into(),
            priority: Some(priority.into()),
            failure_type: Some("runbook_insufficient".into()),
            ..row(
                id,
                version,
                content,
                Some("00000000-0000-7000-8000-000000000001"),
            )
        }
    }

    const PARENT: &str = "00000000-0000-7000-8000-000000000001";
    const LOW: &str = "00000000-0000-7000-8000-0000000000a1";
    const HIGH: &str = "00000000-0000-7000-8000-0000000000a2";
    const BROKEN: &str = "00000000-0000-7000-8000-0000000000a3";

    async fn queue_is_worked_in_order_and_decided_once(store: Store) {
        let catalog = catalog::Catalog::embedded().expect("the catalog");
        let ctx = AuditContext::new("test:review");
        let (_, original) = ::runbook::Index::built_in_files()
            .iter()
            .find(|(f, _)| *f == "interface-down.md")
            .expect("the built-in");
        store
            .runbook_version_record(&row(PARENT, "1.0.0", original, None))
            .await
            .expect("the parent");
        // The low-priority one is older; the high one still comes first.
        store
            .runbook_propose(&proposal_row(LOW, "1.0.1", &improved("1.0.1"), "low"), &ctx)
            .await
            .expect("proposed");
        store
            .runbook_propose(
                &proposal_row(HIGH, "1.1.0", &improved("1.1.0"), "high"),
                &ctx,
            )
            .await
            .expect("proposed");
        store
            .runbook_propose(
                &proposal_row(BROKEN, "1.2.0", "not a runbook at all", "medium"),
                &ctx,
            )
            .await
            .expect("proposed");
        let ids = |rows: Vec<VersionRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let all = pending(&store, None, DEFAULT_LIMIT).await.expect("pending");
        assert_eq!(ids(all), [HIGH, BROKEN, LOW]);
        let low = pending(&store, Some(Priority::Low), DEFAULT_LIMIT)
            .await
            .expect("pending");
        assert_eq!(ids(low), [LOW]);
        assert_eq!(pending(&store, None, 1).await.expect("pending").len(), 1);

        let p = proposal(&store, HIGH).await.expect("the proposal");
        assert_eq!(p.parent.as_ref().map(|v| v.id.as_str()), Some(PARENT));
        assert_eq!((p.diff.added, p.diff.removed), (2, 1), "{}", p.diff.unified);
        assert!(p.diff.unified.contains("+Check the neighbour too."));
        assert!(matches!(
            proposal(&store, PARENT).await,
            Err(ReviewError::NotFound(_))
        ));

        // Refusals change nothing.
        let reject_blank = Decision::Reject { reason: " ".into() };
        let e = decide(&store, &catalog, HIGH, &reject_blank, "cli:bob", &ctx).await;
        assert!(matches!(e, Err(ReviewError::Invalid(ref m)) if m.starts_with("reason:")));
        let approve = Decision::Approve { notes: None };
        let e = decide(&store, &catalog, BROKEN, &approve, "cli:bob", &ctx)
            .await
            .expect_err("does not validate");
        assert!(
            matches!(&e, ReviewError::Conflict(m) if m.contains("does not validate")),
            "{e}"
        );
        let e = decide(&store, &catalog, PARENT, &approve, "cli:bob", &ctx).await;
        assert!(matches!(e, Err(ReviewError::NotFound(_))));
        assert_eq!(stats(&store).await.expect("stats").pending_review, 3);

        let approved = decide(&store, &catalog, HIGH, &approve, "cli:bob", &ctx)
            .await
            .expect("approved");
        assert_eq!(approved.status, "published");
        assert_eq!(approved.reviewer.as_deref(), Some("cli:bob"));
        let twice = decide(&store, &catalog, HIGH, &approve, "cli:carol", &ctx)
            .await
            .expect_err("decided already");
        assert!(
            matches!(&twice, ReviewError::Conflict(m) if m.contains("is published")),
            "{twice}"
        );
        let reject = Decision::Reject {
            reason: "does not validate".into(),
        };
        decide(&store, &catalog, BROKEN, &reject, "cli:bob", &ctx)
            .await
            .expect("rejected");
        let s = stats(&store).await.expect("stats");
        assert_eq!((s.pending_review, s.approved, s.rejected), (1, 1, 1));
        assert!((s.approval_ratio - 0.5).abs() < f64::EPSILON);
        assert_eq!(s.oldest_high_priority, None);
        assert_eq!(s.oldest_high_priority_age_seconds, 0);
        assert_eq!(s.backlog(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_queue_on_sqlite_and_postgres() {
        let db = TestDatabase::sqlite();
        queue_is_worked_in_order_and_decided_once(db.store().await).await;
        if let Some(pg) = TestDatabase::postgres("review::the_queue::postgres").await {
            queue_is_worked_in_order_and_decided_once(pg.store().await).await;
            pg.cleanup().await;
        }
    }

    #[test]
    fn ids_are_uuids_and_hostile_text_is_escaped_and_cut() {
        let id = "0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d";
        assert_eq!(version_id(id).unwrap(), id);
        assert_eq!(version_id(&id.to_uppercase()).unwrap(), id);
        for bad in [
            "../../etc/passwd",
            "p1",
            "",
            "{0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d}",
            "0193c1f27a4e7d219a0b3c5e1f2a4b6d",
        ] {
            let e = version_id(bad).unwrap_err();
            assert!(e.contains("not a runbook version id"), "{bad}: {e}");
        }
        let e = version_id("x\u{1b}[2Jy").unwrap_err();
        assert!(!e.contains('\u{1b}') && e.contains("x\\e[2Jy"), "{e}");
        let e = version_id(&"a".repeat(10_000)).unwrap_err();
        assert!(e.chars().count() < 300 && e.contains('…'), "{e}");
    }

    #[test]
    fn priorities_and_texts_say_what_is_allowed() {
        assert_eq!("high".parse::<Priority>(), Ok(Priority::High));
        let e = "urgent".parse::<Priority>().unwrap_err();
        assert!(e.contains("high, medium or low"), "{e}");
        assert!(check_text("reason", "fine").is_ok());
        for (text, says) in [
            ("  ", "must not be empty"),
            ("a\nb", "control characters"),
            (&"x".repeat(MAX_TEXT + 1), "at most 1000"),
        ] {
            let e = check_text("reason", text).unwrap_err();
            assert!(e.starts_with("reason: ") && e.contains(says), "{e}");
        }
        assert!(rank(Some("high")) < rank(Some("low")));
        assert!(rank(Some("low")) < rank(None));
    }
}
