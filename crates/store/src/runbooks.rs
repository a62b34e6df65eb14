//! The SQL of the runbook tables (`runbook_versions`, `runbook_runs`), kept with the migration
//! that creates them. Rows are plain columns (text, numbers, JSON text); the `tools` crate runs
//! runbooks and decides every status, this module records them. Review decisions and the start of
//! a run land in one transaction with their audit event; a review decision checks the version's
//! old status in its `WHERE`, so two reviewers can never both decide one proposal.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AuditContext, Store, StoreError, audit, on_unique_violation, time};

/// A `runbook_versions` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub content_hash: String,
    pub content: String,
    /// `built-in`, `operator` or `proposal`.
    pub origin: String,
    /// `draft`, `published`, `deprecated`, `pending_review`, `in_review` or `rejected`.
    pub status: String,
    pub parent_id: Option<String>,
    /// For proposals: the hash of the file version their lineage started from.
    pub base_hash: Option<String>,
    pub generated_from_run: Option<String>,
    pub proposed_by: Option<String>,
    pub failure_type: Option<String>,
    /// `high`, `medium` or `low` (proposals).
    pub priority: Option<String>,
    pub rationale: Option<String>,
    pub created_at: String,
    pub review_started_at: Option<String>,
    pub reviewer: Option<String>,
    pub review_notes: Option<String>,
    pub reviewed_at: Option<String>,
}

const VERSION_COLUMNS: &str = "id, name, version, content_hash, content, origin, status, parent_id, \
     base_hash, generated_from_run, proposed_by, failure_type, priority, rationale, created_at, \
     review_started_at, reviewer, review_notes, reviewed_at";

fn version_row(row: &AnyRow) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        content_hash: row.try_get(3)?,
        content: row.try_get(4)?,
        origin: row.try_get(5)?,
        status: row.try_get(6)?,
        parent_id: row.try_get(7)?,
        base_hash: row.try_get(8)?,
        generated_from_run: row.try_get(9)?,
        proposed_by: row.try_get(10)?,
        failure_type: row.try_get(11)?,
        priority: row.try_get(12)?,
        rationale: row.try_get(13)?,
        created_at: row.try_get(14)?,
        review_started_at: row.try_get(15)?,
        reviewer: row.try_get(16)?,
        review_notes: row.try_get(17)?,
        reviewed_at: row.try_get(18)?,
    })
}

/// A version without its content: enough to follow lineage and label metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionHead {
    pub id: String,
    pub name: String,
    pub version: String,
    pub content_hash: String,
    pub origin: String,
    pub status: String,
    pub parent_id: Option<String>,
    pub created_at: String,
}

/// A `runbook_runs` row: one run and its execution log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: String,
    pub runbook: String,
    pub version_id: String,
    pub project_id: Option<String>,
    /// The device acted on ('' when none).
    pub device_key: String,
    /// JSON object, secrets replaced.
    pub variables: String,
    pub variables_hash: String,
    pub incident: Option<String>,
    pub started_by: String,
    /// `running`, `waiting_approval`, `waiting_assistant`, `succeeded`, `failed` or `abandoned`.
    pub status: String,
    /// The next step to run (1-based; one past the last when finished).
    pub next_step: i64,
    pub plan_id: Option<String>,
    pub failed_step: Option<i64>,
    pub failure_type: Option<String>,
    pub failure_reason: Option<String>,
    /// JSON array: one entry per step run so far.
    pub steps: String,
    pub state_before: Option<String>,
    pub state_after: Option<String>,
    pub state_diff: Option<String>,
    pub started_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

const RUN_COLUMNS: &str = "id, runbook, version_id, project_id, device_key, variables, variables_hash, \
     incident, started_by, status, next_step, plan_id, failed_step, failure_type, failure_reason, \
     steps, state_before, state_after, state_diff, started_at, updated_at, finished_at";

fn run_row(row: &AnyRow) -> Result<RunRow, sqlx::Error> {
    Ok(RunRow {
        id: row.try_get(0)?,
        runbook: row.try_get(1)?,
        version_id: row.try_get(2)?,
        project_id: row.try_get(3)?,
        device_key: row.try_get(4)?,
        variables: row.try_get(5)?,
        variables_hash: row.try_get(6)?,
        incident: row.try_get(7)?,
        started_by: row.try_get(8)?,
        status: row.try_get(9)?,
        next_step: row.try_get(10)?,
        plan_id: row.try_get(11)?,
        failed_step: row.try_get(12)?,
        failure_type: row.try_get(13)?,
        failure_reason: row.try_get(14)?,
        steps: row.try_get(15)?,
        state_before: row.try_get(16)?,
        state_after: row.try_get(17)?,
        state_diff: row.try_get(18)?,
        started_at: row.try_get(19)?,
        updated_at: row.try_get(20)?,
        finished_at: row.try_get(21)?,
    })
}

/// The statuses of a run still in progress (at most one per runbook and device).
pub const ACTIVE_RUN: &[&str] = &["running", "waiting_approval", "waiting_assistant"];

/// How many runs of one version ended which way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTally {
    pub succeeded: i64,
    pub failed: i64,
}

/// What the review queue holds, for its statistics and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewStats {
    pub pending_review: i64,
    pub in_review: i64,
    pub approved: i64,
    pub rejected: i64,
    /// When the oldest high-priority proposal still waiting was proposed.
    pub oldest_high_priority: Option<String>,
}

/// A review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// `pending_review` → `in_review`.
    Start,
    /// `pending_review`/`in_review` → `published`, the parent → `deprecated`.
    Approve,
    /// `pending_review`/`in_review` → `rejected`.
    Reject,
}

impl Store {
    /// Records a version (a file's content as loaded, or a proposal) and returns its row; a
    /// version whose name and content are already recorded is returned as it is.
    pub async fn runbook_version_record(&self, v: &VersionRow) -> Result<VersionRow, StoreError> {
        if let Some(existing) = self
            .runbook_version_by_hash(&v.name, &v.content_hash)
            .await?
        {
            return Ok(existing);
        }
        match insert_version(self.pool(), v).await {
            Ok(()) => Ok(v.clone()),
            // Another process recorded it first.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => self
                .runbook_version_by_hash(&v.name, &v.content_hash)
                .await?
                .ok_or_else(|| StoreError::Corrupt("runbook_versions".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a proposed version for review, with its audit event. Refuses content already
    /// recorded under that name (as a file version or an earlier proposal).
    pub async fn runbook_propose(
        &self,
        v: &VersionRow,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        if let Some(existing) = self
            .runbook_version_by_hash(&v.name, &v.content_hash)
            .await?
        {
            return Err(StoreError::RunbookVersionExists {
                name: v.name.clone(),
                id: existing.id,
                status: existing.status,
            });
        }
        let mut tx = self.begin_write().await?;
        insert_version(&mut *tx, v).await?;
        audit::append(
            &mut tx,
            ctx,
            "runbook.propose",
            &format!("runbook-version:{}", v.id),
            json!({
                "runbook": v.name, "version": v.version, "parent": v.parent_id,
                "generated_from_run": v.generated_from_run, "priority": v.priority,
                "failure_type": v.failure_type, "content_hash": v.content_hash,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn runbook_version(&self, id: &str) -> Result<Option<VersionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM runbook_versions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(version_row).transpose()?)
    }

    pub async fn runbook_version_by_hash(
        &self,
        name: &str,
        content_hash: &str,
    ) -> Result<Option<VersionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM runbook_versions WHERE name = $1 AND content_hash = $2"
        )))
        .bind(name)
        .bind(content_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(version_row).transpose()?)
    }

    /// Every recorded version of a runbook, oldest first.
    pub async fn runbook_versions(&self, name: &str) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM runbook_versions WHERE name = $1 ORDER BY created_at, id"
        )))
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(version_row).collect::<Result<_, _>>()?)
    }

    /// Every recorded version of every runbook without its content, oldest first.
    pub async fn runbook_version_heads(&self) -> Result<Vec<VersionHead>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, version, content_hash, origin, status, parent_id, created_at \
             FROM runbook_versions ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        let head = |row: &AnyRow| -> Result<VersionHead, sqlx::Error> {
            Ok(VersionHead {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                version: row.try_get(2)?,
                content_hash: row.try_get(3)?,
                origin: row.try_get(4)?,
                status: row.try_get(5)?,
                parent_id: row.try_get(6)?,
                created_at: row.try_get(7)?,
            })
        };
        Ok(rows.iter().map(head).collect::<Result<_, _>>()?)
    }

    /// Versions in the given statuses (all runbooks), oldest first.
    pub async fn runbook_versions_in(
        &self,
        statuses: &[&str],
    ) -> Result<Vec<VersionRow>, StoreError> {
        let mut all = Vec::new();
        for status in statuses {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {VERSION_COLUMNS} FROM runbook_versions WHERE status = $1 \
                 ORDER BY created_at, id"
            )))
            .bind(*status)
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                all.push(version_row(r)?);
            }
        }
        all.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(all)
    }

    /// Proposals that published (approved by a person), newest decision last.
    pub async fn runbook_approved_proposals(&self) -> Result<Vec<VersionRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM runbook_versions \
             WHERE origin = 'proposal' AND status IN ('published', 'deprecated') \
             ORDER BY reviewed_at, id"
        )))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(version_row).collect::<Result<_, _>>()?)
    }

    /// A person's decision on a proposal, with its audit event. Approving publishes it and
    /// deprecates its parent. Refuses a version that is not a proposal awaiting that decision.
    pub async fn runbook_review(
        &self,
        id: &str,
        decision: ReviewDecision,
        reviewer: &str,
        notes: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<VersionRow, StoreError> {
        let now = time::now();
        let mut tx = self.begin_write().await?;
        let current = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM runbook_versions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(version_row)
        .transpose()?
        .ok_or_else(|| StoreError::RunbookVersionNotFound(id.to_owned()))?;
        let (from, to, action): (&[&str], &str, &str) = match decision {
            ReviewDecision::Start => (&["pending_review"], "in_review", "runbook.review_start"),
            ReviewDecision::Approve => (
                &["pending_review", "in_review"],
                "published",
                "runbook.review_approve",
            ),
            ReviewDecision::Reject => (
                &["pending_review", "in_review"],
                "rejected",
                "runbook.review_reject",
            ),
        };
        if current.origin != "proposal" || !from.contains(&current.status.as_str()) {
            return Err(StoreError::RunbookReviewState {
                id: id.to_owned(),
                status: current.status,
                allowed: from.join(" or "),
            });
        }
        let updated = match decision {
            ReviewDecision::Start => sqlx::query(
                "UPDATE runbook_versions SET status = $1, review_started_at = $2, reviewer = $3 \
                     WHERE id = $4 AND status = $5",
            )
            .bind(to)
            .bind(&now)
            .bind(reviewer)
            .bind(id)
            .bind(&current.status)
            .execute(&mut *tx)
            .await?,
            ReviewDecision::Approve | ReviewDecision::Reject => {
                sqlx::query(
                    "UPDATE runbook_versions SET status = $1, reviewer = $2, review_notes = $3, \
                     reviewed_at = $4 WHERE id = $5 AND status = $6",
                )
                .bind(to)
                .bind(reviewer)
                .bind(notes)
                .bind(&now)
                .bind(id)
                .bind(&current.status)
                .execute(&mut *tx)
                .await?
            }
        };
        if updated.rows_affected() != 1 {
            return Err(StoreError::RunbookReviewState {
                id: id.to_owned(),
                status: "decided meanwhile".into(),
                allowed: from.join(" or "),
            });
        }
        if let (ReviewDecision::Approve, Some(parent)) = (decision, &current.parent_id) {
            sqlx::query(
                "UPDATE runbook_versions SET status = 'deprecated' \
                 WHERE id = $1 AND status = 'published'",
            )
            .bind(parent)
            .execute(&mut *tx)
            .await?;
        }
        audit::append(
            &mut tx,
            ctx,
            action,
            &format!("runbook-version:{id}"),
            json!({"runbook": current.name, "version": current.version, "reviewer": reviewer, "notes": notes}),
        )
        .await?;
        tx.commit().await?;
        self.runbook_version(id)
            .await?
            .ok_or_else(|| StoreError::RunbookVersionNotFound(id.to_owned()))
    }

    /// The review queue's counts and its oldest waiting high-priority proposal.
    pub async fn runbook_review_stats(&self) -> Result<ReviewStats, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) FROM runbook_versions WHERE origin = 'proposal' GROUP BY status",
        )
        .fetch_all(self.pool())
        .await?;
        let mut stats = ReviewStats::default();
        for row in &rows {
            let status: String = row.try_get(0)?;
            let n: i64 = row.try_get(1)?;
            match status.as_str() {
                "pending_review" => stats.pending_review += n,
                "in_review" => stats.in_review += n,
                "published" | "deprecated" => stats.approved += n,
                "rejected" => stats.rejected += n,
                _ => {}
            }
        }
        stats.oldest_high_priority = sqlx::query_scalar(
            "SELECT MIN(created_at) FROM runbook_versions WHERE origin = 'proposal' \
             AND priority = 'high' AND status IN ('pending_review', 'in_review')",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(stats)
    }

    /// Starts a run, with its audit event. Refuses a second active run of the runbook on the
    /// same device, naming the one in progress.
    pub async fn runbook_run_start(
        &self,
        run: &RunRow,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO runbook_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        )))
        .bind(&run.id)
        .bind(&run.runbook)
        .bind(&run.version_id)
        .bind(run.project_id.as_deref())
        .bind(&run.device_key)
        .bind(&run.variables)
        .bind(&run.variables_hash)
        .bind(run.incident.as_deref())
        .bind(&run.started_by)
        .bind(&run.status)
        .bind(run.next_step)
        .bind(run.plan_id.as_deref())
        .bind(run.failed_step)
        .bind(run.failure_type.as_deref())
        .bind(run.failure_reason.as_deref())
        .bind(&run.steps)
        .bind(run.state_before.as_deref())
        .bind(run.state_after.as_deref())
        .bind(run.state_diff.as_deref())
        .bind(&run.started_at)
        .bind(&run.updated_at)
        .bind(run.finished_at.as_deref())
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            drop(tx);
            let busy = on_unique_violation(e, || StoreError::RunbookBusy {
                runbook: run.runbook.clone(),
                run_id: String::new(),
            });
            return match busy {
                StoreError::RunbookBusy { runbook, .. } => Err(StoreError::RunbookBusy {
                    run_id: self
                        .runbook_active_run(&runbook, &run.device_key)
                        .await?
                        .map(|r| r.id)
                        .unwrap_or_default(),
                    runbook,
                }),
                other => Err(other),
            };
        }
        audit::append(
            &mut tx,
            ctx,
            "runbook.run_start",
            &format!("runbook-run:{}", run.id),
            json!({
                "runbook": run.runbook, "version": run.version_id, "device": run.device_key,
                "variables_hash": run.variables_hash, "incident": run.incident,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a run's progress (status, next step, log); `expected_status` must still be the
    /// stored one, so two callers cannot both advance a run.
    pub async fn runbook_run_save(
        &self,
        run: &RunRow,
        expected_status: &str,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE runbook_runs SET status = $1, next_step = $2, plan_id = $3, failed_step = $4, \
             failure_type = $5, failure_reason = $6, steps = $7, state_before = $8, \
             state_after = $9, state_diff = $10, updated_at = $11, finished_at = $12 \
             WHERE id = $13 AND status = $14",
        )
        .bind(&run.status)
        .bind(run.next_step)
        .bind(run.plan_id.as_deref())
        .bind(run.failed_step)
        .bind(run.failure_type.as_deref())
        .bind(run.failure_reason.as_deref())
        .bind(&run.steps)
        .bind(run.state_before.as_deref())
        .bind(run.state_after.as_deref())
        .bind(run.state_diff.as_deref())
        .bind(&run.updated_at)
        .bind(run.finished_at.as_deref())
        .bind(&run.id)
        .bind(expected_status)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::RunbookRunMoved(run.id.clone()))
        }
    }

    pub async fn runbook_run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runbook_runs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(run_row).transpose()?)
    }

    /// The run of `runbook` on `device_key` still in progress, if any.
    pub async fn runbook_active_run(
        &self,
        runbook: &str,
        device_key: &str,
    ) -> Result<Option<RunRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runbook_runs WHERE runbook = $1 AND device_key = $2 \
             AND status IN ('running', 'waiting_approval', 'waiting_assistant')"
        )))
        .bind(runbook)
        .bind(device_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(run_row).transpose()?)
    }

    /// The most recent run of `runbook` on `device_key` that ran to an end, succeeded or failed
    /// (for its cooldown; an abandoned run does not count).
    pub async fn runbook_last_finished(
        &self,
        runbook: &str,
        device_key: &str,
    ) -> Result<Option<RunRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runbook_runs WHERE runbook = $1 AND device_key = $2 \
             AND status IN ('succeeded', 'failed') ORDER BY finished_at DESC LIMIT 1"
        )))
        .bind(runbook)
        .bind(device_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(run_row).transpose()?)
    }

    /// Runs of `runbook` (every runbook when `None`), newest first, at most `limit`.
    pub async fn runbook_runs(
        &self,
        runbook: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRow>, StoreError> {
        let rows = match runbook {
            Some(name) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {RUN_COLUMNS} FROM runbook_runs WHERE runbook = $1 \
                     ORDER BY started_at DESC, id DESC LIMIT $2"
                )))
                .bind(name)
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runbook_runs ORDER BY started_at DESC, id DESC LIMIT $1"
            )))
            .bind(limit)
            .fetch_all(self.pool())
            .await?,
        };
        Ok(rows.iter().map(run_row).collect::<Result<_, _>>()?)
    }

    /// The runs of `runbook` filed under the project with registry id `project_id`, newest
    /// first, at most `limit`, starting after `before` (`(started_at, id)` of the last run of the
    /// page before).
    pub async fn runbook_project_runs(
        &self,
        runbook: &str,
        project_id: &str,
        before: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<RunRow>, StoreError> {
        let (before_at, before_id) = before.unzip();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM runbook_runs WHERE runbook = $1 AND project_id = $2 \
             AND ($3 IS NULL OR started_at < $3 OR (started_at = $3 AND id < $4)) \
             ORDER BY started_at DESC, id DESC LIMIT $5"
        )))
        .bind(runbook)
        .bind(project_id)
        .bind(before_at)
        .bind(before_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(run_row).collect::<Result<_, _>>()?)
    }

    /// How the finished runs of each version ended: `(version_id, tally)`.
    pub async fn runbook_run_tallies(&self) -> Result<Vec<(String, RunTally)>, StoreError> {
        self.runbook_run_tallies_in(None).await
    }

    /// [`Store::runbook_run_tallies`] counting only the runs filed under the project with
    /// registry id `project_id` (every run when `None`).
    pub async fn runbook_run_tallies_in(
        &self,
        project_id: Option<&str>,
    ) -> Result<Vec<(String, RunTally)>, StoreError> {
        let rows = sqlx::query(
            "SELECT version_id, status, COUNT(*) FROM runbook_runs \
             WHERE status IN ('succeeded', 'failed') AND ($1 IS NULL OR project_id = $1) \
             GROUP BY version_id, status ORDER BY version_id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, RunTally)> = Vec::new();
        for row in &rows {
            let version: String = row.try_get(0)?;
            let status: String = row.try_get(1)?;
            let n: i64 = row.try_get(2)?;
            if out.last().is_none_or(|(v, _)| *v != version) {
                out.push((version, RunTally::default()));
            }
            if let Some((_, tally)) = out.last_mut() {
                match status.as_str() {
                    "succeeded" => tally.succeeded = n,
                    _ => tally.failed = n,
                }
            }
        }
        Ok(out)
    }

    /// Records what the operator's model said of a failed run's cause (one of the failure
    /// categories), beside the rules' category.
    pub async fn runbook_run_set_model_category(
        &self,
        id: &str,
        category: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE runbook_runs SET failure_type_model = $1 WHERE id = $2")
            .bind(category)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// What the operator's model said of a run's cause, if it was asked.
    pub async fn runbook_run_model_category(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT failure_type_model FROM runbook_runs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .flatten())
    }

    /// Deletes the logs of runs finished before `before` (RFC 3339); returns how many.
    pub async fn runbook_runs_prune(&self, before: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM runbook_runs WHERE finished_at IS NOT NULL AND finished_at < $1 \
             AND id NOT IN (SELECT generated_from_run FROM runbook_versions \
                            WHERE generated_from_run IS NOT NULL)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}

async fn insert_version<'e, E>(executor: E, v: &VersionRow) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO runbook_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    )))
    .bind(&v.id)
    .bind(&v.name)
    .bind(&v.version)
    .bind(&v.content_hash)
    .bind(&v.content)
    .bind(&v.origin)
    .bind(&v.status)
    .bind(v.parent_id.as_deref())
    .bind(v.base_hash.as_deref())
    .bind(v.generated_from_run.as_deref())
    .bind(v.proposed_by.as_deref())
    .bind(v.failure_type.as_deref())
    .bind(v.priority.as_deref())
    .bind(v.rationale.as_deref())
    .bind(&v.created_at)
    .bind(v.review_started_at.as_deref())
    .bind(v.reviewer.as_deref())
    .bind(v.review_notes.as_deref())
    .bind(v.reviewed_at.as_deref())
    .execute(executor)
    .await?;
    Ok(())
}
