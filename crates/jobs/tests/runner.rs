//! The runner against real databases: several "instances" (runners with their own connection
//! pools) on one PostgreSQL database split the work, never run a job twice at once, and finish
//! what a killed instance left once its leases expire; on SQLite one instance does it all.
//! The PostgreSQL tests need `TEST_DATABASE_URL` (they are skipped, with a notice, without it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use jobs::{InstanceId, JobError, Kind, Metrics, Runner};
use store::Store;
use store::testing::TestDatabase;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const HOUR: Duration = Duration::from_secs(3600);

/// One run of a handler as seen from inside it.
#[derive(Debug, Clone)]
struct Run {
    instance: String,
    key: String,
    start: Instant,
    end: Option<Instant>,
}

#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<Vec<Run>>>);

impl Log {
    fn start(&self, instance: &str, key: &str) -> usize {
        let mut runs = self.0.lock().unwrap();
        runs.push(Run {
            instance: instance.into(),
            key: key.into(),
            start: Instant::now(),
            end: None,
        });
        runs.len() - 1
    }
    fn end(&self, i: usize) {
        self.0.lock().unwrap()[i].end = Some(Instant::now());
    }
    fn runs(&self) -> Vec<Run> {
        self.0.lock().unwrap().clone()
    }
}

/// A kind whose handler logs its run, works for `work` and asks to run again after `again`.
fn logged(name: &str, instance: &str, log: &Log, work: Duration, again: Duration) -> Kind {
    let (instance, log) = (instance.to_owned(), log.clone());
    Kind::new(name, move |key| {
        let (instance, log) = (instance.clone(), log.clone());
        async move {
            let i = log.start(&instance, &key);
            tokio::time::sleep(work).await;
            log.end(i);
            Ok(again)
        }
    })
}

fn runner(store: &Store, instance: &str) -> Runner {
    Runner::new(store.clone(), InstanceId::named(instance)).poll_every(Duration::from_millis(50))
}

async fn postgres(test: &str) -> Option<(TestDatabase, Store, Store)> {
    let db = TestDatabase::postgres(test).await?;
    let a = db.store().await;
    let b = db.store().await;
    Some((db, a, b))
}

/// Waits (up to `limit`) for `done`; panics naming `what` if it never happens.
async fn until<F, Fut>(limit: Duration, what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn all_ran(store: &Store, kind: &str, times: i64) -> bool {
    store
        .jobs(kind)
        .await
        .unwrap()
        .iter()
        .all(|j| j.runs >= times)
}

fn device_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("dev-{i:03}")).collect()
}

fn counter(registry: &prometheus::Registry, name: &str, kind: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().to_vec())
        .filter(|m| m.get_label().iter().any(|l| l.value() == kind))
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

async fn close(db: TestDatabase, stores: &[&Store]) {
    for s in stores {
        s.close().await;
    }
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_split_the_jobs_and_run_each_once() {
    let Some((db, sa, sb)) = postgres("two_instances_split_the_jobs_and_run_each_once").await
    else {
        return;
    };
    sa.job_sync("backup", &device_keys(60), Utc::now())
        .await
        .unwrap();
    let log = Log::default();
    let stop = CancellationToken::new();
    let work = Duration::from_millis(30);
    let a = runner(&sa, "inst-a")
        .register(logged("backup", "inst-a", &log, work, HOUR).concurrency(4))
        .spawn(stop.clone());
    let b = runner(&sb, "inst-b")
        .register(logged("backup", "inst-b", &log, work, HOUR).concurrency(4))
        .spawn(stop.clone());
    until(Duration::from_secs(20), "every job to run", || {
        all_ran(&sa, "backup", 1)
    })
    .await;
    // Time for a duplicate to show up if there were one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();

    let runs = log.runs();
    assert_eq!(runs.len(), 60, "60 jobs, 60 runs: {runs:?}");
    let keys: BTreeSet<&str> = runs.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 60, "no job ran twice");
    let per_instance = runs
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut m, r| {
            *m.entry(r.instance.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        per_instance.len(),
        2,
        "both instances did a share: {per_instance:?}"
    );
    let rows = sa.jobs("backup").await.unwrap();
    for row in &rows {
        let run = runs.iter().find(|r| r.key == row.key).unwrap();
        assert_eq!(row.runs, 1);
        assert_eq!(row.last_finished_by.as_deref(), Some(run.instance.as_str()));
        assert!(row.due_at > Utc::now().to_rfc3339(), "next due in an hour");
    }
    close(db, &[&sa, &sb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recurring_jobs_run_once_per_due_time_across_instances() {
    let Some((db, sa, sb)) =
        postgres("recurring_jobs_run_once_per_due_time_across_instances").await
    else {
        return;
    };
    sa.job_sync("drift", &device_keys(8), Utc::now())
        .await
        .unwrap();
    let log = Log::default();
    let stop = CancellationToken::new();
    let (work, again) = (Duration::from_millis(40), Duration::from_millis(250));
    let a = runner(&sa, "inst-a")
        .register(logged("drift", "inst-a", &log, work, again).concurrency(3))
        .spawn(stop.clone());
    let b = runner(&sb, "inst-b")
        .register(logged("drift", "inst-b", &log, work, again).concurrency(3))
        .spawn(stop.clone());
    until(Duration::from_secs(20), "every job to run 4 times", || {
        all_ran(&sa, "drift", 4)
    })
    .await;
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();

    let runs = log.runs();
    let rows = sa.jobs("drift").await.unwrap();
    for row in rows {
        let mut mine: Vec<&Run> = runs.iter().filter(|r| r.key == row.key).collect();
        mine.sort_by_key(|r| r.start);
        assert_eq!(
            mine.len() as i64,
            row.runs,
            "every run recorded, none lost: {}",
            row.key
        );
        for pair in mine.windows(2) {
            let end = pair[0].end.expect("runs end before the next starts");
            // Due again 250 ms after a run finishes; a few ms of slack for the clocks' grain.
            assert!(
                pair[1].start >= end + again - Duration::from_millis(15),
                "{}: a run started {:?} after the previous ended, before it was due again ({} by {}, then {})",
                row.key,
                pair[1].start.saturating_duration_since(end),
                pair[0].instance,
                pair[0].key,
                pair[1].instance
            );
        }
    }
    close(db, &[&sa, &sb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_jobs_are_finished_by_the_other_after_its_lease() {
    let Some((db, sa, sb)) =
        postgres("a_killed_instance_jobs_are_finished_by_the_other_after_its_lease").await
    else {
        return;
    };
    let keys = device_keys(8);
    sa.job_sync("backup", &keys, Utc::now()).await.unwrap();
    let lease = Duration::from_secs(1);
    // Instance A finishes the even-numbered devices and hangs on the others until it is killed.
    let log = Log::default();
    let hung = Arc::new(AtomicUsize::new(0));
    let kind_a = {
        let (log, hung) = (log.clone(), Arc::clone(&hung));
        Kind::new("backup", move |key: String| {
            let (log, hung) = (log.clone(), Arc::clone(&hung));
            async move {
                let i = log.start("inst-a", &key);
                if key.ends_with(['1', '3', '5', '7']) {
                    hung.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                }
                log.end(i);
                Ok::<_, JobError>(HOUR)
            }
        })
        .concurrency(8)
        .lease(lease)
    };
    let a = runner(&sa, "inst-a")
        .register(kind_a)
        .spawn(CancellationToken::new());
    until(
        Duration::from_secs(10),
        "A to finish 4 jobs and hang on 4",
        || async {
            let finished = sa.jobs("backup").await.unwrap();
            hung.load(Ordering::SeqCst) == 4 && finished.iter().filter(|j| j.runs == 1).count() == 4
        },
    )
    .await;
    let claimed_by_a = log.runs().iter().map(|r| r.start).max().unwrap();
    a.abort();
    assert!(a.await.unwrap_err().is_cancelled());

    let registry = prometheus::Registry::new();
    let stop = CancellationToken::new();
    let b = runner(&sb, "inst-b")
        .metrics(Metrics::register(&registry).unwrap())
        .register(
            logged("backup", "inst-b", &log, Duration::from_millis(10), HOUR)
                .concurrency(8)
                .lease(lease),
        )
        .spawn(stop.clone());
    until(Duration::from_secs(15), "B to finish A's jobs", || {
        all_ran(&sb, "backup", 1)
    })
    .await;
    stop.cancel();
    b.await.unwrap();

    let runs = log.runs();
    let by_b: Vec<&Run> = runs.iter().filter(|r| r.instance == "inst-b").collect();
    let taken: BTreeSet<&str> = by_b.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        taken,
        BTreeSet::from(["dev-001", "dev-003", "dev-005", "dev-007"]),
        "B ran exactly the jobs A held when it died"
    );
    for r in &by_b {
        assert!(
            r.start + Duration::from_millis(50) >= claimed_by_a + lease,
            "{} was taken before A's lease expired",
            r.key
        );
    }
    for row in sb.jobs("backup").await.unwrap() {
        let odd = row.key.ends_with(['1', '3', '5', '7']);
        assert_eq!(row.runs, 1, "{}", row.key);
        let expected = if odd { "inst-b" } else { "inst-a" };
        assert_eq!(
            row.last_finished_by.as_deref(),
            Some(expected),
            "{}",
            row.key
        );
        assert_eq!(row.lease_seq, if odd { 2 } else { 1 }, "{}", row.key);
    }
    assert_eq!(
        counter(&registry, "mcp_jobs_lease_expiries_total", "backup"),
        4
    );
    assert_eq!(counter(&registry, "mcp_jobs_finished_total", "backup"), 4);
    close(db, &[&sa, &sb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lease_keeps_a_long_job_from_being_taken() {
    let Some((db, sa, sb)) = postgres("a_renewed_lease_keeps_a_long_job_from_being_taken").await
    else {
        return;
    };
    sa.job_ensure("backup", "dev-slow", Utc::now())
        .await
        .unwrap();
    let log = Log::default();
    let stop = CancellationToken::new();
    let lease = Duration::from_millis(600);
    let a = runner(&sa, "inst-a")
        .register(logged("backup", "inst-a", &log, Duration::from_millis(2500), HOUR).lease(lease))
        .spawn(stop.clone());
    until(Duration::from_secs(5), "A to start", || async {
        !log.runs().is_empty()
    })
    .await;
    let b = runner(&sb, "inst-b")
        .register(logged("backup", "inst-b", &log, Duration::ZERO, HOUR).lease(lease))
        .spawn(stop.clone());
    until(Duration::from_secs(10), "the long job to finish", || {
        all_ran(&sa, "backup", 1)
    })
    .await;
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();
    let runs = log.runs();
    assert_eq!(
        runs.len(),
        1,
        "only A ran it, for four times its lease: {runs:?}"
    );
    let row = sa.job("backup", "dev-slow").await.unwrap().unwrap();
    assert_eq!((row.runs, row.lease_seq), (1, 1));
    assert_eq!(row.last_finished_by.as_deref(), Some("inst-a"));
    close(db, &[&sa, &sb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_singleton_runs_on_one_instance_at_a_time() {
    let Some((db, sa, sb)) = postgres("a_singleton_runs_on_one_instance_at_a_time").await else {
        return;
    };
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(Mutex::new(BTreeSet::new()));
    let kind = |instance: &'static str| {
        let (in_flight, most, ran) = (Arc::clone(&in_flight), Arc::clone(&most), Arc::clone(&ran));
        Kind::singleton("reconcile", "plans", move |key| {
            let (in_flight, most, ran) =
                (Arc::clone(&in_flight), Arc::clone(&most), Arc::clone(&ran));
            async move {
                assert_eq!(key, "plans");
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                ran.lock().unwrap().insert(instance);
                tokio::time::sleep(Duration::from_millis(60)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(Duration::from_millis(20))
            }
        })
    };
    let stop = CancellationToken::new();
    let a = runner(&sa, "inst-a")
        .register(kind("inst-a"))
        .spawn(stop.clone());
    let b = runner(&sb, "inst-b")
        .register(kind("inst-b"))
        .spawn(stop.clone());
    until(Duration::from_secs(15), "ten passes", || async {
        sa.job("reconcile", "plans")
            .await
            .unwrap()
            .is_some_and(|j| j.runs >= 10)
    })
    .await;
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two passes at once");
    assert_eq!(
        sa.jobs("reconcile").await.unwrap().len(),
        1,
        "one job for both instances"
    );
    close(db, &[&sa, &sb]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_one_instance_does_all() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    store
        .job_sync("backup", &device_keys(25), Utc::now())
        .await
        .unwrap();
    let log = Log::default();
    let stop = CancellationToken::new();
    let r = runner(&store, "only")
        .register(logged("backup", "only", &log, Duration::from_millis(5), HOUR).concurrency(4))
        .spawn(stop.clone());
    until(Duration::from_secs(15), "every job to run", || {
        all_ran(&store, "backup", 1)
    })
    .await;
    stop.cancel();
    r.await.unwrap();
    let runs = log.runs();
    assert_eq!(runs.len(), 25);
    for row in store.jobs("backup").await.unwrap() {
        assert_eq!(row.runs, 1);
        assert_eq!(row.last_finished_by.as_deref(), Some("only"));
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_recorded_and_retried_with_a_growing_wait() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    store
        .job_ensure("backup", "flaky", Utc::now())
        .await
        .unwrap();
    store
        .job_ensure("backup", "panics", Utc::now())
        .await
        .unwrap();
    let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let kind = {
        let attempts = Arc::clone(&attempts);
        Kind::new("backup", move |key: String| {
            let attempts = Arc::clone(&attempts);
            async move {
                if key == "panics" {
                    panic!("handler bug");
                }
                let n = {
                    let mut a = attempts.lock().unwrap();
                    a.push(Instant::now());
                    a.len()
                };
                if n <= 2 {
                    return Err(JobError::msg(format!("router unreachable (try {n})")));
                }
                Ok(HOUR)
            }
        })
        .retry(Duration::from_millis(200), Duration::from_secs(5))
    };
    let registry = prometheus::Registry::new();
    let stop = CancellationToken::new();
    let r = runner(&store, "only")
        .metrics(Metrics::register(&registry).unwrap())
        .register(kind)
        .spawn(stop.clone());
    until(
        Duration::from_secs(10),
        "the flaky job to succeed",
        || async { store.job("backup", "flaky").await.unwrap().unwrap().runs == 1 },
    )
    .await;
    let panics = store.job("backup", "panics").await.unwrap().unwrap();
    stop.cancel();
    r.await.unwrap();

    let at = attempts.lock().unwrap().clone();
    assert_eq!(at.len(), 3);
    assert!(
        at[1] - at[0] >= Duration::from_millis(190),
        "first wait {:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(390),
        "doubled {:?}",
        at[2] - at[1]
    );
    let flaky = store.job("backup", "flaky").await.unwrap().unwrap();
    assert_eq!(
        (flaky.attempts, flaky.last_error),
        (0, None),
        "a success clears them"
    );
    assert!(panics.attempts >= 1);
    assert_eq!(
        panics.last_error.as_deref(),
        Some("the job's handler panicked")
    );
    assert_eq!(panics.lease_owner, None, "a panic gives the lease back");
    assert!(counter(&registry, "mcp_jobs_failed_total", "backup") >= 3);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_then_gives_back_the_leases_of_runs_still_going() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    store
        .job_ensure("backup", "quick", Utc::now())
        .await
        .unwrap();
    store
        .job_ensure("backup", "slow", Utc::now())
        .await
        .unwrap();
    let log = Log::default();
    let kind = {
        let log = log.clone();
        Kind::new("backup", move |key: String| {
            let log = log.clone();
            async move {
                let i = log.start("only", &key);
                let work = if key == "slow" { 30_000 } else { 300 };
                tokio::time::sleep(Duration::from_millis(work)).await;
                log.end(i);
                Ok(HOUR)
            }
        })
    };
    let stop = CancellationToken::new();
    let r = runner(&store, "only")
        .drain(Duration::from_millis(600))
        .register(kind)
        .spawn(stop.clone());
    until(Duration::from_secs(5), "both to start", || async {
        log.runs().len() == 2
    })
    .await;
    stop.cancel();
    let stopped = Instant::now();
    r.await.unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(3),
        "{:?}",
        stopped.elapsed()
    );

    let quick = store.job("backup", "quick").await.unwrap().unwrap();
    assert_eq!(
        quick.runs, 1,
        "a run that ends within the drain time is recorded"
    );
    let slow = store.job("backup", "slow").await.unwrap().unwrap();
    assert_eq!((slow.runs, slow.lease_owner), (0, None));
    let next = store
        .jobs_claim("backup", "next-instance", 5, HOUR)
        .await
        .unwrap();
    assert_eq!(
        next.len(),
        1,
        "the slow job is due for another instance at once"
    );
    assert_eq!(next[0].key, "slow");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_follow_their_key_source() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let devices = Arc::new(Mutex::new(device_keys(3)));
    let log = Log::default();
    let kind = {
        let devices = Arc::clone(&devices);
        logged("backup", "only", &log, Duration::ZERO, HOUR).keys_from(
            Duration::from_millis(100),
            move || {
                let keys = devices.lock().unwrap().clone();
                async move { Ok(keys) }
            },
        )
    };
    let stop = CancellationToken::new();
    let r = runner(&store, "only").register(kind).spawn(stop.clone());
    until(Duration::from_secs(5), "three backups", || async {
        log.runs().len() == 3
    })
    .await;
    *devices.lock().unwrap() = vec!["dev-001".into(), "dev-new".into()];
    until(
        Duration::from_secs(5),
        "the new device's backup",
        || async { log.runs().len() == 4 },
    )
    .await;
    until(
        Duration::from_secs(5),
        "the removed devices' jobs to go",
        || async { store.jobs("backup").await.unwrap().len() == 2 },
    )
    .await;
    stop.cancel();
    r.await.unwrap();
    let keys: Vec<String> = store
        .jobs("backup")
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.key)
        .collect();
    assert_eq!(keys, ["dev-001", "dev-new"]);
    assert_eq!(log.runs()[3].key, "dev-new");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lease_was_taken_over_is_stopped_and_records_nothing() {
    let Some((db, sa, sb)) =
        postgres("a_run_whose_lease_was_taken_over_is_stopped_and_records_nothing").await
    else {
        return;
    };
    sa.job_ensure("backup", "dev-a", Utc::now()).await.unwrap();
    let log = Log::default();
    let registry = prometheus::Registry::new();
    let stop = CancellationToken::new();
    let lease = Duration::from_millis(600);
    let a = runner(&sa, "inst-a")
        .metrics(Metrics::register(&registry).unwrap())
        .register(logged("backup", "inst-a", &log, Duration::from_secs(30), HOUR).lease(lease))
        .spawn(stop.clone());
    until(Duration::from_secs(5), "A to start", || async {
        !log.runs().is_empty()
    })
    .await;
    // As if A had stalled past its lease: the lease runs out and another instance takes the job
    // (again if A's renewal slipped in between the two statements).
    let mut taken = Vec::new();
    for _ in 0..10 {
        sqlx::query("UPDATE fleet_jobs SET lease_until = '2000-01-01T00:00:00.000000Z'")
            .execute(sb.pool())
            .await
            .unwrap();
        taken = sb.jobs_claim("backup", "inst-b", 1, HOUR).await.unwrap();
        if !taken.is_empty() {
            break;
        }
    }
    assert_eq!(taken.len(), 1);
    until(
        Duration::from_secs(5),
        "A to notice at its next renewal",
        || async { counter(&registry, "mcp_jobs_leases_lost_total", "backup") == 1 },
    )
    .await;
    stop.cancel();
    let stopping = Instant::now();
    a.await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "A's run was stopped, not drained for 30 s"
    );
    assert!(
        log.runs()[0].end.is_none(),
        "the handler did not run to its end"
    );
    let row = sb.job("backup", "dev-a").await.unwrap().unwrap();
    assert_eq!(
        row.lease_owner.as_deref(),
        Some("inst-b"),
        "B keeps the job"
    );
    assert_eq!((row.runs, row.attempts), (0, 0), "A recorded nothing");
    close(db, &[&sa, &sb]).await;
}

/// Two instances over ten thousand jobs: every one run exactly once. Slow in a debug build
/// (tens of seconds), so run on request: `cargo test -p jobs --test runner -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten thousand jobs: run with --ignored"]
async fn two_instances_run_ten_thousand_jobs_once_each() {
    let Some((db, sa, sb)) = postgres("two_instances_run_ten_thousand_jobs_once_each").await else {
        return;
    };
    sa.job_sync("backup", &device_keys(10_000), Utc::now())
        .await
        .unwrap();
    let counts = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let kind = || {
        let counts = Arc::clone(&counts);
        Kind::new("backup", move |key: String| {
            let counts = Arc::clone(&counts);
            async move {
                *counts.lock().unwrap().entry(key).or_default() += 1;
                Ok(HOUR)
            }
        })
        .concurrency(32)
    };
    let started = Instant::now();
    let stop = CancellationToken::new();
    let a = runner(&sa, "inst-a").register(kind()).spawn(stop.clone());
    let b = runner(&sb, "inst-b").register(kind()).spawn(stop.clone());
    until(Duration::from_secs(300), "ten thousand runs", || async {
        counts.lock().unwrap().len() == 10_000
    })
    .await;
    until(Duration::from_secs(30), "every run recorded", || {
        all_ran(&sa, "backup", 1)
    })
    .await;
    let took = started.elapsed();
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();
    let counts = counts.lock().unwrap().clone();
    assert!(counts.values().all(|n| *n == 1), "no job ran twice");
    let rows = sa.jobs("backup").await.unwrap();
    let by_a = rows
        .iter()
        .filter(|j| j.last_finished_by.as_deref() == Some("inst-a"))
        .count();
    eprintln!(
        "10,000 jobs in {took:?}: {by_a} on instance a, {} on b",
        rows.len() - by_a
    );
    assert!(rows.iter().all(|j| j.runs == 1));
    close(db, &[&sa, &sb]).await;
}
