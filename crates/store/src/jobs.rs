//! The SQL of the fleet jobs table (`fleet_jobs`): recurring background work keyed by
//! (kind, key), claimed by one instance at a time through a lease.
//!
//! This module owns the rules that keep N instances on one database from running a job twice:
//!
//! - A job is claimable when it is due and nobody holds a live lease on it (never leased, lease
//!   released, or lease expired because its instance died or stalled).
//! - PostgreSQL claims with `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`, so concurrent
//!   claimers skip each other's rows instead of waiting or taking the same ones. SQLite serves
//!   one instance: a plain `BEGIN IMMEDIATE` transaction reads then updates.
//! - Every claim increments `lease_seq`; renewing, finishing, failing and releasing name the
//!   sequence number they claimed, so an instance whose lease was taken over changes nothing.
//! - Finishing or failing sets the next due time, except that a run requested meanwhile
//!   ([`Store::job_schedule`] for an earlier time while the job ran) is kept.
//!
//! Running the jobs (handlers, concurrency, renewal, shutdown) is the `jobs` crate's business.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Store, StoreError, time};

/// The longest a job kind may be (characters).
pub const MAX_KIND_LEN: usize = 64;
/// The longest a job key may be (characters).
pub const MAX_KEY_LEN: usize = 200;
/// The longest error text kept on a job (characters); longer text is cut.
pub const MAX_ERROR_LEN: usize = 2000;

/// A `fleet_jobs` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub kind: String,
    pub key: String,
    pub due_at: String,
    /// The instance that holds (or last held, if it died) the lease; `None` when released.
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    /// How many times the job was claimed.
    pub lease_seq: i64,
    /// Failed runs since the last success.
    pub attempts: i64,
    /// Successful runs.
    pub runs: i64,
    pub last_error: Option<String>,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    pub last_finished_by: Option<String>,
    pub created_at: String,
}

const JOB_COLUMNS: &str = "kind, key, due_at, lease_owner, lease_until, lease_seq, attempts, runs, \
     last_error, last_started_at, last_finished_at, last_finished_by, created_at";

fn job_row(row: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        kind: row.try_get(0)?,
        key: row.try_get(1)?,
        due_at: row.try_get(2)?,
        lease_owner: row.try_get(3)?,
        lease_until: row.try_get(4)?,
        lease_seq: row.try_get(5)?,
        attempts: row.try_get(6)?,
        runs: row.try_get(7)?,
        last_error: row.try_get(8)?,
        last_started_at: row.try_get(9)?,
        last_finished_at: row.try_get(10)?,
        last_finished_by: row.try_get(11)?,
        created_at: row.try_get(12)?,
    })
}

/// A job an instance claimed: what it needs to renew, finish, fail or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub kind: String,
    pub key: String,
    /// The instance holding the lease.
    pub owner: String,
    /// The claim's sequence number (fences out an owner that lost the lease).
    pub seq: i64,
    /// The due time this claim serves.
    pub due_at: String,
    /// Until when the lease holds (as of the claim or the last renewal).
    pub until: String,
    /// Failed runs before this one.
    pub attempts: i64,
    /// The instance whose expired lease this claim took over, if any.
    pub taken_over_from: Option<String>,
}

/// What [`Store::job_sync`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobSync {
    pub added: usize,
    pub removed: usize,
}

/// Refuses a kind that is not short lowercase words (`backup`, `drift`, `reconcile`).
fn check_kind(kind: &str) -> Result<(), StoreError> {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_KIND_LEN
        && kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidJob(format!(
            "job kind {:?} is not allowed: use 1 to {MAX_KIND_LEN} characters a-z, 0-9, '_', '-', \
             '.', starting with a letter",
            truncate(kind, MAX_KIND_LEN + 8)
        )))
    }
}

/// Refuses an empty key, an overlong one, or one with control characters.
fn check_key(key: &str) -> Result<(), StoreError> {
    let ok =
        !key.is_empty() && key.chars().count() <= MAX_KEY_LEN && !key.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidJob(format!(
            "job key {:?} is not allowed: use 1 to {MAX_KEY_LEN} characters without control \
             characters",
            truncate(key, MAX_KEY_LEN + 8)
        )))
    }
}

fn truncate(s: &str, chars: usize) -> String {
    s.chars().take(chars).collect()
}

/// Error text as stored: no NUL (PostgreSQL refuses it), at most [`MAX_ERROR_LEN`] characters.
fn error_text(error: &str) -> String {
    let clean: String = error.chars().filter(|c| *c != '\0').collect();
    if clean.chars().count() <= MAX_ERROR_LEN {
        clean
    } else {
        let mut cut = truncate(&clean, MAX_ERROR_LEN - 1);
        cut.push('…');
        cut
    }
}

fn lease_until(now: DateTime<Utc>, lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    time::format(
        now.checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

/// Keys inserted or deleted per statement by [`Store::job_sync`].
const SYNC_CHUNK: usize = 500;

impl Store {
    /// Creates the job due at `due_at` unless it exists (whatever its state); says whether it
    /// was created.
    pub async fn job_ensure(
        &self,
        kind: &str,
        key: &str,
        due_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        check_kind(kind)?;
        check_key(key)?;
        let done = sqlx::query(
            "INSERT INTO fleet_jobs (kind, key, due_at, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, key) DO NOTHING",
        )
        .bind(kind)
        .bind(key)
        .bind(time::format(due_at))
        .bind(time::now())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes the job due at `due_at`, creating it if needed (a "run now" asks for the current
    /// time). A run in progress is not disturbed; when it ends, the job is due again at the
    /// earlier of this time and the one the run asks for.
    pub async fn job_schedule(
        &self,
        kind: &str,
        key: &str,
        due_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        check_kind(kind)?;
        check_key(key)?;
        sqlx::query(
            "INSERT INTO fleet_jobs (kind, key, due_at, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at",
        )
        .bind(kind)
        .bind(key)
        .bind(time::format(due_at))
        .bind(time::now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Makes the jobs of `kind` exactly those of `keys`: missing ones are created due at
    /// `first_due`, others deleted (a run in progress on a deleted job can no longer finish it).
    /// Existing jobs keep their schedule.
    pub async fn job_sync(
        &self,
        kind: &str,
        keys: &[String],
        first_due: DateTime<Utc>,
    ) -> Result<JobSync, StoreError> {
        check_kind(kind)?;
        for key in keys {
            check_key(key)?;
        }
        let wanted: std::collections::BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        let existing: Vec<(String,)> = sqlx::query_as("SELECT key FROM fleet_jobs WHERE kind = $1")
            .bind(kind)
            .fetch_all(self.pool())
            .await?;
        let existing: std::collections::BTreeSet<String> =
            existing.into_iter().map(|(k,)| k).collect();
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|k| !existing.contains(*k))
            .collect();
        let stale: Vec<&str> = existing
            .iter()
            .map(String::as_str)
            .filter(|k| !wanted.contains(k))
            .collect();
        let due = time::format(first_due);
        let now = time::now();
        let mut sync = JobSync::default();
        let mut tx = self.pool().begin().await?;
        for chunk in missing.chunks(SYNC_CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, $2, $3, ${})", i + 4))
                .collect();
            let sql = format!(
                "INSERT INTO fleet_jobs (kind, due_at, created_at, key) VALUES {} \
                 ON CONFLICT (kind, key) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(kind)
                .bind(&due)
                .bind(&now);
            for key in chunk {
                q = q.bind(*key);
            }
            sync.added += usize::try_from(q.execute(&mut *tx).await?.rows_affected()).unwrap_or(0);
        }
        for chunk in stale.chunks(SYNC_CHUNK) {
            let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "DELETE FROM fleet_jobs WHERE kind = $1 AND key IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind);
            for key in chunk {
                q = q.bind(*key);
            }
            sync.removed +=
                usize::try_from(q.execute(&mut *tx).await?.rows_affected()).unwrap_or(0);
        }
        tx.commit().await?;
        Ok(sync)
    }

    /// Deletes a job; says whether it existed.
    pub async fn job_remove(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM fleet_jobs WHERE kind = $1 AND key = $2")
            .bind(kind)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn job(&self, kind: &str, key: &str) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM fleet_jobs WHERE kind = $1 AND key = $2"
        )))
        .bind(kind)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(job_row).transpose()?)
    }

    /// Every job of `kind`, by key.
    pub async fn jobs(&self, kind: &str) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM fleet_jobs WHERE kind = $1 ORDER BY key"
        )))
        .bind(kind)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(job_row).collect::<Result<_, _>>()?)
    }

    /// Claims up to `limit` due jobs of `kind` for `owner`, leased for `lease`, earliest due
    /// first. Jobs another instance holds a live lease on are skipped; expired leases are taken
    /// over (the returned lease says from whom).
    pub async fn jobs_claim(
        &self,
        kind: &str,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Lease>, StoreError> {
        check_kind(kind)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now_at = Utc::now();
        let now = time::format(now_at);
        let until = lease_until(now_at, lease);
        let claimed: Vec<(String, String, i64, i64, Option<String>)> = match self.backend() {
            Backend::Postgres => {
                sqlx::query_as(
                    "UPDATE fleet_jobs AS j \
                     SET lease_owner = $1, lease_until = $2, lease_seq = j.lease_seq + 1, \
                         last_started_at = $3 \
                     FROM (SELECT kind, key, lease_owner AS prev_owner FROM fleet_jobs \
                           WHERE kind = $4 AND due_at <= $3 \
                             AND (lease_until IS NULL OR lease_until <= $3) \
                           ORDER BY due_at, key LIMIT $5 \
                           FOR UPDATE SKIP LOCKED) AS c \
                     WHERE j.kind = c.kind AND j.key = c.key \
                     RETURNING j.key, j.due_at, j.lease_seq, j.attempts, c.prev_owner",
                )
                .bind(owner)
                .bind(&until)
                .bind(&now)
                .bind(kind)
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            Backend::Sqlite => {
                let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
                let due: Vec<(String, String, i64, i64, Option<String>)> = sqlx::query_as(
                    "SELECT key, due_at, lease_seq + 1, attempts, lease_owner FROM fleet_jobs \
                     WHERE kind = $1 AND due_at <= $2 \
                       AND (lease_until IS NULL OR lease_until <= $2) \
                     ORDER BY due_at, key LIMIT $3",
                )
                .bind(kind)
                .bind(&now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                for (key, _, seq, _, _) in &due {
                    sqlx::query(
                        "UPDATE fleet_jobs SET lease_owner = $1, lease_until = $2, \
                         lease_seq = $3, last_started_at = $4 WHERE kind = $5 AND key = $6",
                    )
                    .bind(owner)
                    .bind(&until)
                    .bind(*seq)
                    .bind(&now)
                    .bind(kind)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                due
            }
        };
        let mut leases: Vec<Lease> = claimed
            .into_iter()
            .map(|(key, due_at, seq, attempts, prev)| Lease {
                kind: kind.to_owned(),
                key,
                owner: owner.to_owned(),
                seq,
                due_at,
                until: until.clone(),
                attempts,
                taken_over_from: prev,
            })
            .collect();
        leases.sort_by(|a, b| (&a.due_at, &a.key).cmp(&(&b.due_at, &b.key)));
        Ok(leases)
    }

    /// Extends a lease still held to `lease` from now; `false` when it was lost (taken over after
    /// expiring, or the job deleted), in which case the holder must stop.
    pub async fn job_renew(&self, held: &mut Lease, lease: Duration) -> Result<bool, StoreError> {
        let until = lease_until(Utc::now(), lease);
        let done = sqlx::query(
            "UPDATE fleet_jobs SET lease_until = $1 \
             WHERE kind = $2 AND key = $3 AND lease_owner = $4 AND lease_seq = $5",
        )
        .bind(&until)
        .bind(&held.kind)
        .bind(&held.key)
        .bind(&held.owner)
        .bind(held.seq)
        .execute(self.pool())
        .await?;
        let kept = done.rows_affected() == 1;
        if kept {
            held.until = until;
        }
        Ok(kept)
    }

    /// Records a successful run and makes the job due at `next_due` (or earlier, if a run was
    /// requested meanwhile); `false` when the lease was lost and nothing was recorded.
    pub async fn job_finish(
        &self,
        held: &Lease,
        next_due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fleet_jobs SET \
               due_at = CASE WHEN due_at <> $1 AND due_at < $2 THEN due_at ELSE $2 END, \
               lease_owner = NULL, lease_until = NULL, attempts = 0, runs = runs + 1, \
               last_error = NULL, last_finished_at = $3, last_finished_by = $4 \
             WHERE kind = $5 AND key = $6 AND lease_owner = $4 AND lease_seq = $7",
        )
        .bind(&held.due_at)
        .bind(time::format(next_due))
        .bind(time::now())
        .bind(&held.owner)
        .bind(&held.kind)
        .bind(&held.key)
        .bind(held.seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed run (its error, cut to [`MAX_ERROR_LEN`]) and makes the job due again
    /// at `retry_at`; `false` when the lease was lost and nothing was recorded.
    pub async fn job_fail(
        &self,
        held: &Lease,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fleet_jobs SET \
               due_at = CASE WHEN due_at <> $1 AND due_at < $2 THEN due_at ELSE $2 END, \
               lease_owner = NULL, lease_until = NULL, attempts = attempts + 1, last_error = $3 \
             WHERE kind = $4 AND key = $5 AND lease_owner = $6 AND lease_seq = $7",
        )
        .bind(&held.due_at)
        .bind(time::format(retry_at))
        .bind(error_text(error))
        .bind(&held.kind)
        .bind(&held.key)
        .bind(&held.owner)
        .bind(held.seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a lease back without running the job (shutting down): it stays due as it was, for
    /// another instance at once. `false` when the lease was already lost.
    pub async fn job_release(&self, held: &Lease) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fleet_jobs SET lease_owner = NULL, lease_until = NULL \
             WHERE kind = $1 AND key = $2 AND lease_owner = $3 AND lease_seq = $4",
        )
        .bind(&held.kind)
        .bind(&held.key)
        .bind(&held.owner)
        .bind(held.seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_short_lowercase_words() {
        for good in ["backup", "drift", "reconcile", "test.slow-kind_2"] {
            assert!(check_kind(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Backup",
            "2fa",
            "back up",
            "a;DROP TABLE fleet_jobs",
            "x\0",
        ] {
            let err = check_kind(bad).unwrap_err().to_string();
            assert!(err.contains("a-z, 0-9"), "{bad}: {err}");
        }
        assert!(check_kind(&"a".repeat(MAX_KIND_LEN)).is_ok());
        assert!(check_kind(&"a".repeat(MAX_KIND_LEN + 1)).is_err());
    }

    #[test]
    fn keys_refuse_empty_overlong_and_control_characters() {
        assert!(check_key("0190f0a1-7c4e-7000-8000-000000000001").is_ok());
        assert!(check_key("plans").is_ok());
        for bad in ["", "a\nb", "nul\0", "\u{1b}[31m"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        let long = "k".repeat(MAX_KEY_LEN + 1);
        let err = check_key(&long).unwrap_err().to_string();
        assert!(err.contains("1 to 200 characters"), "{err}");
        assert!(
            err.len() < 400,
            "the message quotes a bounded prefix: {err}"
        );
    }

    #[test]
    fn error_text_is_cut_and_loses_nul() {
        assert_eq!(error_text("a\0b"), "ab");
        let long = "é".repeat(MAX_ERROR_LEN * 2);
        let cut = error_text(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_LEN);
        assert!(cut.ends_with('…'));
    }
}
