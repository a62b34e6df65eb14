//! The append-only, hash-chained audit log.
//!
//! Each event records who did what to which target, under which correlation id, and carries the
//! hash of the event before it; its own hash covers every stored field. Editing a row breaks its
//! hash, deleting one leaves a gap in the sequence, reordering breaks the links — `verify` walks
//! the chain and names the first broken link. (Removing the newest events leaves a shorter but
//! valid chain; operators who need that guarantee record the head hash `verify` prints elsewhere.)
//!
//! Events never contain secrets: callers pass only names, addresses and changed field names.

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use domain::CorrelationId;

use crate::{Store, StoreError, time};

/// Hash that the first event links to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who is acting and under which correlation id; passed to every mutation.
#[derive(Debug, Clone)]
pub struct AuditContext {
    /// `cli:<os user>`, `mcp:<subject>`, `system:recovery`, …
    pub actor: String,
    pub correlation_id: CorrelationId,
}

impl AuditContext {
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            correlation_id: CorrelationId::new(),
        }
    }
}

/// One stored event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub correlation_id: String,
    pub details: Value,
    pub prev_hash: String,
    pub hash: String,
}

type EventRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

const COLUMNS: &str =
    "seq, occurred_at, actor, action, target, correlation_id, details, prev_hash, hash";

/// The stored fields of an event that its hash covers, in hashing order.
struct Hashed<'a> {
    seq: i64,
    occurred_at: &'a str,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    correlation_id: &'a str,
    details: &'a str,
    prev_hash: &'a str,
}

/// The hash of an event: SHA-256 over length-prefixed fields, so no two different events can
/// encode to the same bytes.
fn event_hash(e: &Hashed<'_>) -> String {
    let mut h = Sha256::new();
    let seq = e.seq.to_string();
    for field in [
        seq.as_str(),
        e.occurred_at,
        e.actor,
        e.action,
        e.target,
        e.correlation_id,
        e.details,
        e.prev_hash,
    ] {
        h.update(field.len().to_string().as_bytes());
        h.update(b":");
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// An event ready to insert: its place in the chain and its hash are computed.
pub(crate) struct NewEvent<'a> {
    pub seq: i64,
    pub occurred_at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub correlation_id: &'a str,
    pub details: &'a str,
    pub prev_hash: String,
    pub hash: String,
}

impl<'a> NewEvent<'a> {
    /// The event that follows `(seq - 1, prev_hash)` in the chain.
    #[allow(clippy::too_many_arguments)]
    pub fn chained(
        seq: i64,
        prev_hash: String,
        occurred_at: &'a str,
        actor: &'a str,
        action: &'a str,
        target: &'a str,
        correlation_id: &'a str,
        details: &'a str,
    ) -> Self {
        let hash = event_hash(&Hashed {
            seq,
            occurred_at,
            actor,
            action,
            target,
            correlation_id,
            details,
            prev_hash: &prev_hash,
        });
        Self {
            seq,
            occurred_at,
            actor,
            action,
            target,
            correlation_id,
            details,
            prev_hash,
            hash,
        }
    }
}

/// The sequence number and previous hash the next event takes. Read inside a write transaction
/// (which holds the write lock), so the chain has a single tail.
pub(crate) async fn chain_head(
    tx: &mut Transaction<'static, Any>,
) -> Result<(i64, String), StoreError> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    })
}

/// Rows per `INSERT` statement when writing several events (9 bound values each, far below
/// either dialect's limit on bound values).
const ROWS_PER_INSERT: usize = 64;

/// Inserts events already chained onto the head, in order, with as few statements as possible.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Any>,
    events: &[NewEvent<'_>],
) -> Result<(), StoreError> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let p: Vec<String> = (1..=9).map(|col| format!("${}", row * 9 + col)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(e.seq)
                .bind(e.occurred_at)
                .bind(e.actor)
                .bind(e.action)
                .bind(e.target)
                .bind(e.correlation_id)
                .bind(e.details)
                .bind(e.prev_hash.as_str())
                .bind(e.hash.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Appends an event inside the caller's write transaction (which holds the write lock, so the
/// chain has a single tail).
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    ctx: &AuditContext,
    action: &str,
    target: &str,
    details: Value,
) -> Result<i64, StoreError> {
    let (seq, prev_hash) = chain_head(tx).await?;
    let occurred_at = time::now();
    let correlation_id = ctx.correlation_id.to_string();
    let details = details.to_string();
    let event = NewEvent::chained(
        seq,
        prev_hash,
        &occurred_at,
        &ctx.actor,
        action,
        target,
        &correlation_id,
        &details,
    );
    insert(tx, std::slice::from_ref(&event)).await?;
    Ok(seq)
}

/// Which events to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact target, e.g. `device:core-1`.
    pub target: Option<String>,
    /// Action or action prefix, e.g. `device.` or `device.add`.
    pub action: Option<String>,
    pub correlation_id: Option<String>,
    /// Only events with `seq` below this (for paging).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// Which events of one project to list (newest first): those whose target is one of the
/// project's devices (`device:<id>`), one of its plans (`plan:<id>`) or the project itself
/// (`project:<org>/<name>`). Tool calls (`tool:<name>`), organizations and the master key are
/// not any one project's records.
#[derive(Debug, Clone, Default)]
pub struct ProjectAuditFilter {
    /// The project's id (`projects.id`).
    pub project_id: String,
    /// The project as `ORG/PROJECT` (its own events' target).
    pub project: String,
    /// Only events at or after this time (storage form, see [`crate::time::format`]).
    pub since: Option<String>,
    /// Only events at or before this time (storage form).
    pub until: Option<String>,
    /// Exact actor, e.g. `api:oidc:alice`.
    pub actor: Option<String>,
    /// Only events whose target is one of these (`None`: any of the project's targets).
    pub targets: Option<Vec<String>>,
    /// Action or action prefix, e.g. `device.` or `device.add`.
    pub action: Option<String>,
    /// Only events with `seq` below this (for paging).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Outcome of walking the whole chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainReport {
    /// Events checked (up to the first break).
    pub events_checked: u64,
    /// Hash of the newest event when intact; record it elsewhere to detect truncation later.
    pub head_hash: Option<String>,
    pub first_break: Option<ChainBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

fn to_event(row: EventRow) -> AuditEvent {
    let (seq, occurred_at, actor, action, target, correlation_id, details, prev_hash, hash) = row;
    AuditEvent {
        seq,
        occurred_at,
        actor,
        action,
        target,
        correlation_id,
        // Unparseable details are shown as text rather than hiding the event.
        details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
        prev_hash,
        hash,
    }
}

impl Store {
    /// Appends an event that is not part of a registry change (an action taken on a device, a
    /// tool call, …) in its own transaction.
    pub async fn append_audit(
        &self,
        ctx: &AuditContext,
        action: &str,
        target: &str,
        details: Value,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let seq = append(&mut tx, ctx, action, target, details).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Events matching `filter`, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let action_prefix = filter.action.as_ref().map(|a| format!("{a}%"));
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_events \
             WHERE ($1 IS NULL OR target = $1) \
               AND ($2 IS NULL OR action LIKE $2) \
               AND ($3 IS NULL OR correlation_id = $3) \
               AND ($4 IS NULL OR seq < $4) \
             ORDER BY seq DESC LIMIT $5"
        )))
        .bind(filter.target.as_deref())
        .bind(action_prefix.as_deref())
        .bind(filter.correlation_id.as_deref())
        .bind(filter.before_seq)
        .bind(i64::from(filter.limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(to_event).collect())
    }

    /// Events of one project matching `filter`, newest first (see [`ProjectAuditFilter`]).
    pub async fn project_audit_events(
        &self,
        filter: &ProjectAuditFilter,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let targets = filter.targets.as_deref().unwrap_or_default();
        if filter.targets.is_some() && targets.is_empty() {
            return Ok(Vec::new());
        }
        let action_prefix = filter.action.as_ref().map(|a| format!("{a}%"));
        // The project's targets are computed once by the subquery; the fixed parameters come
        // first, the optional target list after them.
        let target_list = (0..targets.len())
            .map(|i| format!("${}", i + 9))
            .collect::<Vec<_>>()
            .join(", ");
        let only_targets = if targets.is_empty() {
            String::new()
        } else {
            format!("AND target IN ({target_list})")
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events \
             WHERE (target = $1 OR target IN ( \
                    SELECT 'device:' || d.id FROM devices d WHERE d.project_id = $2 \
                    UNION ALL SELECT 'plan:' || p.id FROM plans p WHERE p.project_id = $2)) \
               AND ($3 IS NULL OR occurred_at >= $3) \
               AND ($4 IS NULL OR occurred_at <= $4) \
               AND ($5 IS NULL OR actor = $5) \
               AND ($6 IS NULL OR action LIKE $6) \
               AND ($7 IS NULL OR seq < $7) \
               {only_targets} \
             ORDER BY seq DESC LIMIT $8"
        );
        let mut query = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(format!("project:{}", filter.project))
            .bind(&filter.project_id)
            .bind(filter.since.as_deref())
            .bind(filter.until.as_deref())
            .bind(filter.actor.as_deref())
            .bind(action_prefix.as_deref())
            .bind(filter.before_seq)
            .bind(i64::from(filter.limit.max(1)));
        for target in targets {
            query = query.bind(target.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(to_event).collect())
    }

    /// Walks the chain from the first event, in pages, and reports the first broken link.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport, StoreError> {
        const PAGE: i64 = 1000;
        let mut expected_seq = 1_i64;
        let mut prev_hash = GENESIS.to_owned();
        let mut checked = 0_u64;
        loop {
            let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2"
            )))
            .bind(expected_seq)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let page_len = rows.len();
            for row in rows {
                let (
                    seq,
                    occurred_at,
                    actor,
                    action,
                    target,
                    correlation_id,
                    details,
                    recorded_prev,
                    hash,
                ) = row;
                let broken = |reason: String| {
                    Ok(ChainReport {
                        events_checked: checked,
                        head_hash: None,
                        first_break: Some(ChainBreak { seq, reason }),
                    })
                };
                if seq != expected_seq {
                    let missing = if expected_seq + 1 == seq {
                        format!("event #{expected_seq} is missing")
                    } else {
                        format!("events #{expected_seq}–#{} are missing", seq - 1)
                    };
                    return broken(format!("{missing} before event #{seq}: rows were deleted"));
                }
                let recomputed = event_hash(&Hashed {
                    seq,
                    occurred_at: &occurred_at,
                    actor: &actor,
                    action: &action,
                    target: &target,
                    correlation_id: &correlation_id,
                    details: &details,
                    prev_hash: &recorded_prev,
                });
                if recomputed != hash {
                    return broken(format!(
                        "event #{seq} does not match its recorded hash: the row was edited or moved"
                    ));
                }
                if recorded_prev != prev_hash {
                    return broken(format!(
                        "event #{seq} does not link to event #{}: events were deleted, inserted or reordered",
                        seq - 1
                    ));
                }
                prev_hash = hash;
                expected_seq += 1;
                checked += 1;
            }
            if i64::try_from(page_len).unwrap_or(i64::MAX) < PAGE {
                break;
            }
        }
        Ok(ChainReport {
            events_checked: checked,
            head_hash: (checked > 0).then_some(prev_hash),
            first_break: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(seq: i64, actor: &str, action: &str, details: &str) -> String {
        event_hash(&Hashed {
            seq,
            occurred_at: "t",
            actor,
            action,
            target: "y",
            correlation_id: "c",
            details,
            prev_hash: GENESIS,
        })
    }

    #[test]
    fn hashes_cover_every_field_unambiguously() {
        let base = h(1, "a", "x", "{}");
        assert_ne!(base, h(2, "a", "x", "{}"));
        assert_ne!(base, h(1, "a", "x", "{ }"));
        // Moving a character between fields changes the hash.
        assert_ne!(h(1, "ab", "x", "{}"), h(1, "a", "bx", "{}"));
    }
}
