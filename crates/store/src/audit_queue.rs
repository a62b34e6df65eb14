//! Group commit for audit records nobody waits on (tool calls): appends are queued to one writer
//! task, which takes whatever is waiting — up to a bounded batch — and writes it in one
//! transaction.
//!
//! One transaction per record made the audit log the ceiling of tool-call throughput; one per
//! batch costs the same lock, head lookup and commit for up to [`AuditQueueLimits::max_batch`]
//! records. The chain is unchanged: the batch's transaction takes the registry's write lock (so
//! on PostgreSQL several server instances still take turns), reads the chain head once, and links
//! each record onto the one before exactly as a single append does.
//!
//! - **Bounded memory**: the queue holds at most [`AuditQueueLimits::capacity`] records; when it
//!   is full (the database is slow or down), [`AuditWriter::append`] waits for room. Nothing is
//!   dropped to make room.
//! - **Failures**: a batch the database refuses or cannot take is logged (its size and the
//!   error, never the records) and written again after a growing pause; every attempt is a fresh
//!   transaction that reads the head again, so a retry cannot break the chain.
//! - **Durability**: [`AuditWriter::flush`] returns once everything queued before it is
//!   committed; the server calls it on shutdown before closing the pool.
//!
//! Records that must be durable before their caller goes on (plan approvals and applies) or that
//! belong to a registry change keep using [`crate::Store::append_audit`] and
//! [`crate::append_audit_in`]; both take the same write lock, so all writers share one chain.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, AuditContext, NewEvent};
use crate::{Backend, Store, StoreError, time};

/// Pause before writing a failed batch again; doubles per failure up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// How much the queue takes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQueueLimits {
    /// Most records written in one transaction.
    pub max_batch: usize,
    /// Most records waiting to be written; appends wait for room beyond this.
    pub capacity: usize,
}

impl Default for AuditQueueLimits {
    fn default() -> Self {
        Self {
            max_batch: 256,
            capacity: 8192,
        }
    }
}

/// What a writer has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditQueueStats {
    /// Records committed.
    pub records_written: u64,
    /// Transactions committed (one per batch).
    pub batches_written: u64,
    /// The most records one transaction committed.
    pub largest_batch: u64,
    /// Batch writes that failed and were tried again.
    pub failed_attempts: u64,
}

#[derive(Debug, Default)]
struct Counters {
    records_written: AtomicU64,
    batches_written: AtomicU64,
    largest_batch: AtomicU64,
    failed_attempts: AtomicU64,
}

/// A record as queued: its time is when it was appended, its place in the chain is decided when
/// its batch is written.
struct Queued {
    occurred_at: String,
    actor: String,
    action: String,
    target: String,
    correlation_id: String,
    details: String,
}

enum Message {
    Record(Queued),
    /// Answered once every record queued before it is committed.
    Flush(oneshot::Sender<()>),
}

/// The sending side of a store's group-commit queue. Cheap to clone; the writer task ends when
/// the last clone is dropped or the store's pool is closed.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Message>,
    counters: Arc<Counters>,
}

impl AuditWriter {
    /// A writer of its own for `store`, with its own limits (the store's shared one is
    /// [`Store::audit_queue`]). Must be called inside a Tokio runtime.
    pub fn new(store: &Store, limits: AuditQueueLimits) -> Self {
        Self::spawn(store.pool.clone(), store.backend, limits)
    }

    pub(crate) fn spawn(pool: AnyPool, backend: Backend, limits: AuditQueueLimits) -> Self {
        let (queue, rx) = mpsc::channel(limits.capacity.max(1));
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(
            pool,
            backend,
            rx,
            limits.max_batch.max(1),
            Arc::clone(&counters),
        ));
        Self { queue, counters }
    }

    /// Queues an event and returns without waiting for it to be written — except when the queue
    /// is full, where it waits for room (backpressure). Refuses text the database cannot store.
    pub async fn append(
        &self,
        ctx: &AuditContext,
        action: &str,
        target: &str,
        details: Value,
    ) -> Result<(), StoreError> {
        for (field, text) in [
            ("actor", &*ctx.actor),
            ("action", action),
            ("target", target),
        ] {
            if text.contains('\0') {
                return Err(StoreError::AuditText { field });
            }
        }
        let record = Queued {
            occurred_at: time::now(),
            actor: ctx.actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            correlation_id: ctx.correlation_id.to_string(),
            details: details.to_string(),
        };
        self.queue
            .send(Message::Record(record))
            .await
            .map_err(|_| StoreError::AuditWriterStopped)
    }

    /// Returns once every record queued before this call is committed (waiting as long as the
    /// database takes to accept them; bound it with a timeout where that matters).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, written) = oneshot::channel();
        self.queue
            .send(Message::Flush(done))
            .await
            .map_err(|_| StoreError::AuditWriterStopped)?;
        written.await.map_err(|_| StoreError::AuditWriterStopped)
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> AuditQueueStats {
        let c = &self.counters;
        AuditQueueStats {
            records_written: c.records_written.load(Ordering::Relaxed),
            batches_written: c.batches_written.load(Ordering::Relaxed),
            largest_batch: c.largest_batch.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
        }
    }
}

/// The writer task: waits for a record, takes whatever else is waiting (up to `max_batch`, or
/// up to a flush request), writes it, answers the flush requests, repeats.
async fn run(
    pool: AnyPool,
    backend: Backend,
    mut rx: mpsc::Receiver<Message>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<Queued> = Vec::with_capacity(max_batch);
    let mut flushed: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Record(record) => {
                    batch.push(record);
                    if batch.len() < max_batch {
                        next = rx.try_recv().ok();
                    }
                }
                // Records queued after a flush request are not its concern: answer it first.
                Message::Flush(done) => flushed.push(done),
            }
        }
        if !batch.is_empty() && !write_until_done(&pool, backend, &batch, &counters).await {
            // The pool was closed: nothing more can be written. Say how much is lost.
            rx.close();
            let mut lost = batch.len();
            while let Ok(message) = rx.try_recv() {
                match message {
                    Message::Record(_) => lost += 1,
                    Message::Flush(_) => {}
                }
            }
            tracing::error!(
                records = lost,
                "the database was closed with audit records still queued; they were not written"
            );
            return;
        }
        batch.clear();
        for done in flushed.drain(..) {
            // The flusher may have stopped waiting; nothing to do then.
            let _ = done.send(());
        }
    }
}

/// Writes `batch` in one transaction, trying again after a pause until it is committed.
/// `false` when the pool was closed meanwhile (it cannot succeed then).
async fn write_until_done(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Queued],
    counters: &Counters,
) -> bool {
    let mut pause = RETRY_FIRST;
    loop {
        match write_batch(pool, backend, batch).await {
            Ok(()) => {
                let n = u64::try_from(batch.len()).unwrap_or(u64::MAX);
                counters.records_written.fetch_add(n, Ordering::Relaxed);
                counters.batches_written.fetch_add(1, Ordering::Relaxed);
                counters.largest_batch.fetch_max(n, Ordering::Relaxed);
                return true;
            }
            Err(e) => {
                counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
                if pool.is_closed() {
                    return false;
                }
                tracing::error!(
                    error = %e,
                    records = batch.len(),
                    retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                    "could not write queued audit records; trying again"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MAX);
            }
        }
    }
}

/// One transaction: the write lock, the chain head once, every record linked onto the one before.
async fn write_batch(pool: &AnyPool, backend: Backend, batch: &[Queued]) -> Result<(), StoreError> {
    let mut tx = crate::begin_write(pool, backend).await?;
    let (first_seq, mut prev_hash) = audit::chain_head(&mut tx).await?;
    let mut events = Vec::with_capacity(batch.len());
    for (seq, r) in (first_seq..).zip(batch) {
        let event = NewEvent::chained(
            seq,
            prev_hash,
            &r.occurred_at,
            &r.actor,
            &r.action,
            &r.target,
            &r.correlation_id,
            &r.details,
        );
        prev_hash = event.hash.clone();
        events.push(event);
    }
    audit::insert(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(())
}
