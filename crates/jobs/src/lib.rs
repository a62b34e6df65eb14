//! Fleet jobs: recurring background work (scheduled backups, drift checks, the plan reconciler)
//! that every server instance on one database runs its share of, with no coordinator but the
//! database.
//!
//! A job is a row keyed by (kind, key) — `("backup", device id)`, `("reconcile", "plans")` —
//! with the time it is next due (the `store::jobs` module owns the SQL and its rules). This crate
//! owns running them: a [`Runner`] per process, identified by an [`InstanceId`], holds one
//! [`Kind`] per kind of job — its handler, how many run at once, its lease — and for each kind a
//! loop that
//!
//! 1. claims due jobs, as many as it has free slots (PostgreSQL `FOR UPDATE SKIP LOCKED`, so
//!    instances never take the same job; on SQLite the one instance takes them all);
//! 2. runs each job's handler, renewing its lease every third of the lease while it runs (a job
//!    longer than its lease is not taken over by another instance as long as this one lives);
//!    a run whose lease is lost anyway (the database unreachable for longer than the lease, a
//!    stalled process) is stopped, because another instance may be running it now;
//! 3. finishes the job when the handler succeeds (due again after the time the handler returned)
//!    or records the failure and backs off (doubling from the kind's minimum to its maximum);
//! 4. on shutdown (the cancellation token), claims nothing more, waits up to the drain time for
//!    runs in progress, then stops the rest and gives their leases back so another instance
//!    takes them at once.
//!
//! An instance that dies without giving its leases back (killed, host lost) leaves them to
//! expire: its jobs are due again for the others after at most one lease.
//!
//! The instances' clocks are compared through lease and due times, so they must agree (NTP) to
//! well within a lease.

mod metrics;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use store::Store;
use store::jobs::Lease;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use metrics::Metrics;

/// Who this process is to the other instances: written into the leases it holds and shown in
/// logs. `host-pid-random`, new for every process.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(String);

impl InstanceId {
    /// A new id from the host name, the process id and random bits.
    pub fn generate() -> Self {
        let host: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default()
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            .take(40)
            .collect();
        let host = if host.is_empty() { "host".into() } else { host };
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{host}-{}-{}", std::process::id(), &random[..8]))
    }

    /// An id given by the caller (tests, or several runners in one process).
    pub fn named(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a run failed: its message is stored on the job (cut to
/// [`store::jobs::MAX_ERROR_LEN`]) and logged, so it must hold no secret. Any error converts
/// into it with `?`.
pub struct JobError(String);

impl JobError {
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl<E: std::error::Error> From<E> for JobError {
    /// The error and its causes, `: `-separated.
    fn from(error: E) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self(text)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobError({:?})", self.0)
    }
}

/// A boxed future, as handlers and key sources return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Runs one job given its key; on success says how long until it is due again.
type Handler = Arc<dyn Fn(String) -> BoxFuture<Result<Duration, JobError>> + Send + Sync>;

/// Lists the keys the jobs of a kind should have (every device, say).
type KeySource = Arc<dyn Fn() -> BoxFuture<Result<Vec<String>, JobError>> + Send + Sync>;

/// Where a kind's keys come from.
#[derive(Clone)]
enum Keys {
    /// One job, created due at once if it does not exist.
    Singleton(String),
    /// The set of keys read again every `every`; jobs are created (due at once) and deleted to
    /// match it.
    Source { list: KeySource, every: Duration },
    /// Whoever schedules the jobs (`Store::job_schedule`) manages them.
    External,
}

/// One kind of job and how it runs.
#[derive(Clone)]
pub struct Kind {
    name: String,
    handler: Handler,
    keys: Keys,
    concurrency: usize,
    lease: Duration,
    retry_min: Duration,
    retry_max: Duration,
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kind")
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Kind {
    /// A kind whose jobs are created by whoever schedules them. Defaults: 4 at once per
    /// instance, a 60 s lease, retries after 30 s doubling up to an hour.
    pub fn new<F, Fut>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Duration, JobError>> + Send + 'static,
    {
        Self {
            name: name.into(),
            handler: Arc::new(move |key| Box::pin(handler(key))),
            keys: Keys::External,
            concurrency: 4,
            lease: Duration::from_secs(60),
            retry_min: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
        }
    }

    /// A kind with exactly one job, `key`, run by one instance at a time.
    pub fn singleton<F, Fut>(name: impl Into<String>, key: impl Into<String>, handler: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Duration, JobError>> + Send + 'static,
    {
        Self {
            keys: Keys::Singleton(key.into()),
            concurrency: 1,
            ..Self::new(name, handler)
        }
    }

    /// Keeps the kind's jobs equal to the keys `list` returns, read at start and every `every`.
    pub fn keys_from<F, Fut>(mut self, every: Duration, list: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<String>, JobError>> + Send + 'static,
    {
        self.keys = Keys::Source {
            list: Arc::new(move || Box::pin(list())),
            every: every.max(Duration::from_millis(10)),
        };
        self
    }

    /// How many jobs of this kind one instance runs at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a claim holds without renewal (at least 100 ms); renewed every third of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The wait after a first failure, doubled after each further one up to `max`.
    pub fn retry(mut self, min: Duration, max: Duration) -> Self {
        self.retry_min = min;
        self.retry_max = max.max(min);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wait before the retry of a job that failed `attempts` times before this failure.
    fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
        self.retry_min
            .checked_mul(2u32.saturating_pow(doublings))
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }
}

/// The jobs of one process: build with [`Runner::new`], add kinds, then [`Runner::spawn`].
pub struct Runner {
    store: Store,
    instance: InstanceId,
    kinds: Vec<Kind>,
    poll: Duration,
    drain: Duration,
    metrics: Option<Metrics>,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("instance", &self.instance)
            .field("kinds", &self.kinds)
            .field("poll", &self.poll)
            .field("drain", &self.drain)
            .finish_non_exhaustive()
    }
}

/// Everything a kind's loop and its runs share.
struct Shared {
    store: Store,
    instance: InstanceId,
    metrics: Option<Metrics>,
}

impl Runner {
    /// No kinds yet; looks for due jobs every 5 s (and whenever a run ends), drains for 10 s.
    pub fn new(store: Store, instance: InstanceId) -> Self {
        Self {
            store,
            instance,
            kinds: Vec::new(),
            poll: Duration::from_secs(5),
            drain: Duration::from_secs(10),
            metrics: None,
        }
    }

    /// Adds a kind. A second kind of the same name replaces the first.
    pub fn register(mut self, kind: Kind) -> Self {
        self.kinds.retain(|k| k.name != kind.name);
        self.kinds.push(kind);
        self
    }

    /// How long an idle kind waits before looking for due jobs again.
    pub fn poll_every(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(10));
        self
    }

    /// How long runs in progress may take to end once shutdown begins.
    pub fn drain(mut self, drain: Duration) -> Self {
        self.drain = drain;
        self
    }

    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn instance(&self) -> &InstanceId {
        &self.instance
    }

    /// The kinds' names, in registration order.
    pub fn kinds(&self) -> Vec<&str> {
        self.kinds.iter().map(|k| k.name.as_str()).collect()
    }

    /// Runs every kind until `stop` is cancelled and the runs in progress have drained. Aborting
    /// the returned task stops everything at once without giving leases back (as a killed
    /// process would).
    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(stop))
    }

    /// [`Runner::spawn`] in the caller's task.
    pub async fn run(self, stop: CancellationToken) {
        let shared = Arc::new(Shared {
            store: self.store,
            instance: self.instance,
            metrics: self.metrics,
        });
        tracing::info!(
            instance = %shared.instance,
            kinds = ?self.kinds.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            "running fleet jobs"
        );
        let loops = self.kinds.into_iter().map(|kind| {
            if let Some(m) = &shared.metrics {
                m.touch(&kind.name);
            }
            run_kind(
                Arc::clone(&shared),
                Arc::new(kind),
                self.poll,
                self.drain,
                stop.clone(),
            )
        });
        futures::future::join_all(loops).await;
    }
}

/// One kind's loop: claim, run, wait; then drain.
async fn run_kind(
    shared: Arc<Shared>,
    kind: Arc<Kind>,
    poll: Duration,
    drain: Duration,
    stop: CancellationToken,
) {
    let abandon = CancellationToken::new();
    let mut running: JoinSet<()> = JoinSet::new();
    let mut next_sync = Instant::now();
    while !stop.is_cancelled() {
        if Instant::now() >= next_sync {
            next_sync = Instant::now() + sync_keys(&shared, &kind).await;
        }
        let free = kind.concurrency.saturating_sub(running.len());
        if free > 0 {
            match shared
                .store
                .jobs_claim(&kind.name, shared.instance.as_str(), free, kind.lease)
                .await
            {
                Ok(leases) => {
                    for lease in leases {
                        claimed(&shared, &kind, &lease);
                        running.spawn(run_one(
                            Arc::clone(&shared),
                            Arc::clone(&kind),
                            lease,
                            abandon.clone(),
                        ));
                    }
                }
                Err(e) => tracing::warn!(kind = %kind.name, error = %e, "claiming due jobs failed"),
            }
        }
        let full = running.len() >= kind.concurrency;
        tokio::select! {
            () = stop.cancelled() => break,
            Some(ended) = running.join_next(), if !running.is_empty() => {
                log_join(&kind, ended);
                // Runs that ended together free their slots for one claim, not one claim each.
                while let Some(ended) = running.try_join_next() {
                    log_join(&kind, ended);
                }
            }
            () = tokio::time::sleep(poll), if !full => {}
        }
    }
    // Shutdown: nothing more is claimed; runs in progress get the drain time, then are stopped
    // and their leases given back.
    let drained = tokio::time::timeout(drain, async {
        while let Some(ended) = running.join_next().await {
            log_join(&kind, ended);
        }
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            kind = %kind.name,
            runs = running.len(),
            "jobs still running after {} ms of shutdown: stopping them and giving their leases back",
            drain.as_millis()
        );
        abandon.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(ended) = running.join_next().await {
                log_join(&kind, ended);
            }
        })
        .await;
    }
}

/// Brings the kind's jobs in line with its keys; returns when to do it again.
async fn sync_keys(shared: &Shared, kind: &Kind) -> Duration {
    const NEVER: Duration = Duration::from_secs(365 * 86_400);
    const RETRY: Duration = Duration::from_secs(30);
    match &kind.keys {
        Keys::External => NEVER,
        Keys::Singleton(key) => match shared.store.job_ensure(&kind.name, key, Utc::now()).await {
            Ok(_) => NEVER,
            Err(e) => {
                tracing::warn!(kind = %kind.name, error = %e, "creating the job failed");
                RETRY.min(kind.lease)
            }
        },
        Keys::Source { list, every } => {
            let keys = match list().await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::warn!(kind = %kind.name, error = %e, "listing the jobs' keys failed");
                    return RETRY.min(*every);
                }
            };
            match shared.store.job_sync(&kind.name, &keys, Utc::now()).await {
                Ok(sync) => {
                    if sync.added + sync.removed > 0 {
                        tracing::info!(
                            kind = %kind.name, added = sync.added, removed = sync.removed,
                            total = keys.len(), "jobs follow their keys"
                        );
                    }
                    *every
                }
                Err(e) => {
                    tracing::warn!(kind = %kind.name, error = %e, "updating the jobs failed");
                    RETRY.min(*every)
                }
            }
        }
    }
}

fn claimed(shared: &Shared, kind: &Kind, lease: &Lease) {
    if let Some(m) = &shared.metrics {
        m.claimed.with_label_values(&[&kind.name]).inc();
    }
    if let Some(dead) = &lease.taken_over_from {
        if let Some(m) = &shared.metrics {
            m.lease_expiries.with_label_values(&[&kind.name]).inc();
        }
        tracing::info!(
            kind = %kind.name, key = %lease.key, from = %dead, instance = %shared.instance,
            "taking over a job whose lease expired"
        );
    }
}

fn log_join(kind: &Kind, ended: Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended {
        tracing::error!(kind = %kind.name, error = %e, "a job's task ended abnormally");
    }
}

/// How a run ended, before it is recorded.
enum Ended {
    Done(Result<Duration, JobError>),
    /// The lease went to another instance (or could not be renewed in time): record nothing.
    LeaseLost,
    /// Shutdown: give the lease back.
    Abandoned,
}

/// Runs one claimed job to its end, renewing the lease meanwhile, and records the outcome.
async fn run_one(
    shared: Arc<Shared>,
    kind: Arc<Kind>,
    mut lease: Lease,
    abandon: CancellationToken,
) {
    let _running = shared.metrics.as_ref().map(|m| {
        let gauge = m.running.with_label_values(&[&kind.name]);
        gauge.inc();
        GaugeGuard(gauge)
    });
    let started = Instant::now();
    let run = AssertUnwindSafe((kind.handler)(lease.key.clone())).catch_unwind();
    tokio::pin!(run);
    let renew_every = kind.lease / 3;
    let mut renew = tokio::time::interval_at(Instant::now() + renew_every, renew_every);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held_until = Instant::now() + kind.lease;
    let ended = loop {
        tokio::select! {
            result = &mut run => break Ended::Done(result.unwrap_or_else(|_| {
                Err(JobError::msg("the job's handler panicked"))
            })),
            _ = renew.tick() => {
                let asked = Instant::now();
                match shared.store.job_renew(&mut lease, kind.lease).await {
                    Ok(true) => held_until = asked + kind.lease,
                    Ok(false) => break Ended::LeaseLost,
                    Err(e) => {
                        tracing::warn!(kind = %kind.name, key = %lease.key, error = %e, "renewing a job's lease failed");
                        if Instant::now() >= held_until {
                            break Ended::LeaseLost;
                        }
                    }
                }
            }
            () = abandon.cancelled() => break Ended::Abandoned,
        }
    };
    let key = &lease.key;
    let name = &kind.name;
    match ended {
        Ended::Done(Ok(after)) => {
            let next =
                Utc::now() + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
            match shared.store.job_finish(&lease, next).await {
                Ok(true) => {
                    if let Some(m) = &shared.metrics {
                        m.finished.with_label_values(&[name]).inc();
                    }
                    tracing::debug!(kind = %name, key = %key, ms = started.elapsed().as_millis() as u64, "job finished");
                }
                Ok(false) => lost(
                    &shared,
                    &kind,
                    key,
                    "finished, but its lease had been taken over",
                ),
                Err(e) => {
                    tracing::warn!(kind = %name, key = %key, error = %e, "recording a finished job failed; it runs again when its lease expires")
                }
            }
        }
        Ended::Done(Err(error)) => {
            if let Some(m) = &shared.metrics {
                m.failed.with_label_values(&[name]).inc();
            }
            let wait = kind.backoff(lease.attempts);
            let retry =
                Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            tracing::warn!(
                kind = %name, key = %key, attempt = lease.attempts + 1, retry_in_s = wait.as_secs(),
                error = %error, "job failed"
            );
            match shared
                .store
                .job_fail(&lease, &error.to_string(), retry)
                .await
            {
                Ok(true) => {}
                Ok(false) => lost(
                    &shared,
                    &kind,
                    key,
                    "failed, and its lease had been taken over",
                ),
                Err(e) => {
                    tracing::warn!(kind = %name, key = %key, error = %e, "recording a failed job failed")
                }
            }
        }
        Ended::LeaseLost => lost(
            &shared,
            &kind,
            key,
            "stopped: its lease was taken over or could not be renewed",
        ),
        Ended::Abandoned => match shared.store.job_release(&lease).await {
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(kind = %name, key = %key, error = %e, "giving a job's lease back failed; it runs again when the lease expires")
            }
        },
    }
}

fn lost(shared: &Shared, kind: &Kind, key: &str, what: &str) {
    if let Some(m) = &shared.metrics {
        m.leases_lost.with_label_values(&[&kind.name]).inc();
    }
    tracing::warn!(kind = %kind.name, key = %key, instance = %shared.instance, "job {what}");
}

/// Decrements the running gauge when a run ends, however it ends.
struct GaugeGuard(prometheus::IntGauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind() -> Kind {
        Kind::new("test", |_key| async { Ok(Duration::ZERO) })
    }

    #[test]
    fn backoff_doubles_from_the_minimum_up_to_the_maximum() {
        let k = kind().retry(Duration::from_secs(30), Duration::from_secs(300));
        let waits: Vec<u64> = (0..6).map(|a| k.backoff(a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(k.backoff(i64::MAX), Duration::from_secs(300));
        assert_eq!(k.backoff(-5), Duration::from_secs(30));
    }

    #[test]
    fn settings_are_bounded() {
        let k = kind().concurrency(0).lease(Duration::ZERO);
        assert_eq!(k.concurrency, 1);
        assert_eq!(k.lease, Duration::from_millis(100));
        let s = Kind::singleton("reconcile", "plans", |_key| async { Ok(Duration::ZERO) });
        assert_eq!(s.concurrency, 1);
    }

    #[test]
    fn instance_ids_differ_per_call_and_are_plain_text() {
        let a = InstanceId::generate();
        let b = InstanceId::generate();
        assert_ne!(a, b);
        assert!(
            a.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')),
            "{a}"
        );
        assert!(a.as_str().contains(&std::process::id().to_string()));
    }

    #[test]
    fn a_job_error_keeps_the_cause_chain() {
        let io = std::io::Error::other("connection refused");
        let e = JobError::from(io);
        assert_eq!(e.to_string(), "connection refused");
    }
}
