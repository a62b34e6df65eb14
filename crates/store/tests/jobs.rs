//! The fleet jobs table: claims, leases and their fencing, failures and schedules — every test
//! against a fresh SQLite file and a fresh PostgreSQL database (the latter when
//! `TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use store::testing::TestDatabase;
use store::{Store, StoreError};

/// Runs `body` against SQLite and PostgreSQL as two tests.
macro_rules! both_backends {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($store: Store) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = TestDatabase::sqlite();
                let store = db.store().await;
                run(store.clone()).await;
                store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = TestDatabase::postgres(concat!(stringify!($name), "::postgres")).await else {
                    return;
                };
                let store = db.store().await;
                run(store.clone()).await;
                store.close().await;
                db.cleanup().await;
            }
        }
    };
}

const HOUR: chrono::Duration = chrono::Duration::hours(1);
const LEASE: Duration = Duration::from_secs(60);

fn keys(leases: &[store::jobs::Lease]) -> Vec<&str> {
    leases.iter().map(|l| l.key.as_str()).collect()
}

both_backends!(only_due_unleased_jobs_are_claimed, |store| {
    let now = Utc::now();
    assert!(store.job_ensure("backup", "dev-a", now).await.unwrap());
    assert!(
        store
            .job_ensure("backup", "dev-b", now - HOUR)
            .await
            .unwrap()
    );
    assert!(
        store
            .job_ensure("backup", "dev-later", now + HOUR)
            .await
            .unwrap()
    );
    assert!(store.job_ensure("drift", "dev-a", now).await.unwrap());

    let a = store
        .jobs_claim("backup", "inst-a", 10, LEASE)
        .await
        .unwrap();
    assert_eq!(
        keys(&a),
        ["dev-b", "dev-a"],
        "earliest due first, kind only"
    );
    assert!(a.iter().all(|l| l.owner == "inst-a" && l.seq == 1));
    assert!(a.iter().all(|l| l.taken_over_from.is_none()));

    let b = store
        .jobs_claim("backup", "inst-b", 10, LEASE)
        .await
        .unwrap();
    assert!(b.is_empty(), "a live lease keeps others out: {b:?}");

    assert!(store.job_finish(&a[0], now + HOUR).await.unwrap());
    let row = store.job("backup", "dev-b").await.unwrap().unwrap();
    assert_eq!((row.runs, row.attempts), (1, 0));
    assert_eq!(row.lease_owner, None);
    assert_eq!(row.last_finished_by.as_deref(), Some("inst-a"));
    assert!(
        store
            .jobs_claim("backup", "inst-b", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );

    // A limit is a limit.
    let drift = store.jobs_claim("drift", "inst-b", 0, LEASE).await.unwrap();
    assert!(drift.is_empty());
    let drift = store.jobs_claim("drift", "inst-b", 1, LEASE).await.unwrap();
    assert_eq!(keys(&drift), ["dev-a"]);
});

both_backends!(
    an_expired_lease_is_taken_over_and_the_old_owner_is_fenced_out,
    |store| {
        store
            .job_ensure("backup", "dev-a", Utc::now())
            .await
            .unwrap();
        let mut dead = store
            .jobs_claim("backup", "inst-dead", 5, Duration::from_millis(300))
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert!(
            store
                .jobs_claim("backup", "inst-b", 5, LEASE)
                .await
                .unwrap()
                .is_empty()
        );
        tokio::time::sleep(Duration::from_millis(400)).await;

        let taken = store
            .jobs_claim("backup", "inst-b", 5, LEASE)
            .await
            .unwrap();
        assert_eq!(keys(&taken), ["dev-a"]);
        assert_eq!(taken[0].taken_over_from.as_deref(), Some("inst-dead"));
        assert_eq!(taken[0].seq, 2);

        // The instance that lost its lease can change nothing any more.
        assert!(!store.job_renew(&mut dead[0], LEASE).await.unwrap());
        assert!(!store.job_finish(&dead[0], Utc::now()).await.unwrap());
        assert!(!store.job_fail(&dead[0], "late", Utc::now()).await.unwrap());
        assert!(!store.job_release(&dead[0]).await.unwrap());
        let row = store.job("backup", "dev-a").await.unwrap().unwrap();
        assert_eq!(row.lease_owner.as_deref(), Some("inst-b"));
        assert_eq!((row.runs, row.attempts), (0, 0));

        assert!(
            store
                .job_finish(&taken[0], Utc::now() + HOUR)
                .await
                .unwrap()
        );
        let row = store.job("backup", "dev-a").await.unwrap().unwrap();
        assert_eq!(row.runs, 1);
        assert_eq!(row.last_finished_by.as_deref(), Some("inst-b"));
    }
);

both_backends!(renewal_keeps_a_lease_past_its_first_expiry, |store| {
    store
        .job_ensure("backup", "dev-a", Utc::now())
        .await
        .unwrap();
    let short = Duration::from_millis(1000);
    let mut held = store
        .jobs_claim("backup", "inst-a", 1, short)
        .await
        .unwrap();
    // 1.6 s in all, past the first lease's end.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.job_renew(&mut held[0], short).await.unwrap());
        assert!(
            store
                .jobs_claim("backup", "inst-b", 1, short)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(store.job_finish(&held[0], Utc::now() + HOUR).await.unwrap());
});

both_backends!(
    a_failure_is_recorded_backed_off_and_cleared_by_success,
    |store| {
        store
            .job_ensure("backup", "dev-a", Utc::now())
            .await
            .unwrap();
        let held = store
            .jobs_claim("backup", "inst-a", 1, LEASE)
            .await
            .unwrap();
        let long = format!("router said no\0{}", "x".repeat(5000));
        assert!(
            store
                .job_fail(&held[0], &long, Utc::now() + HOUR)
                .await
                .unwrap()
        );
        let row = store.job("backup", "dev-a").await.unwrap().unwrap();
        assert_eq!(row.attempts, 1);
        let error = row.last_error.unwrap();
        assert!(error.starts_with("router said nox"), "{error}");
        assert_eq!(error.chars().count(), store::jobs::MAX_ERROR_LEN);
        assert_eq!(row.lease_owner, None);
        assert!(
            store
                .jobs_claim("backup", "inst-a", 1, LEASE)
                .await
                .unwrap()
                .is_empty(),
            "backed off until the retry time"
        );

        // Asking for a run now overrides the backoff; the next claim knows the attempts so far.
        store
            .job_schedule("backup", "dev-a", Utc::now())
            .await
            .unwrap();
        let again = store
            .jobs_claim("backup", "inst-b", 1, LEASE)
            .await
            .unwrap();
        assert_eq!(again[0].attempts, 1);
        assert!(
            store
                .job_finish(&again[0], Utc::now() + HOUR)
                .await
                .unwrap()
        );
        let row = store.job("backup", "dev-a").await.unwrap().unwrap();
        assert_eq!((row.attempts, row.runs), (0, 1));
        assert_eq!(row.last_error, None);
    }
);

both_backends!(a_run_requested_during_a_run_is_not_lost, |store| {
    store
        .job_ensure("backup", "dev-a", Utc::now())
        .await
        .unwrap();
    let held = store
        .jobs_claim("backup", "inst-a", 1, LEASE)
        .await
        .unwrap();
    store
        .job_schedule("backup", "dev-a", Utc::now())
        .await
        .unwrap();
    // Still leased: the request waits for the run in progress.
    assert!(
        store
            .jobs_claim("backup", "inst-b", 1, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.job_finish(&held[0], Utc::now() + HOUR).await.unwrap());
    let next = store
        .jobs_claim("backup", "inst-b", 1, LEASE)
        .await
        .unwrap();
    assert_eq!(keys(&next), ["dev-a"], "due again at once, not in an hour");

    // Without a request meanwhile, finishing sets the next due time it asks for.
    assert!(store.job_finish(&next[0], Utc::now() + HOUR).await.unwrap());
    assert!(
        store
            .jobs_claim("backup", "inst-b", 1, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
});

both_backends!(a_released_lease_is_claimable_at_once, |store| {
    store
        .job_ensure("backup", "dev-a", Utc::now())
        .await
        .unwrap();
    let held = store
        .jobs_claim("backup", "inst-a", 1, LEASE)
        .await
        .unwrap();
    assert!(store.job_release(&held[0]).await.unwrap());
    let b = store
        .jobs_claim("backup", "inst-b", 1, LEASE)
        .await
        .unwrap();
    assert_eq!(keys(&b), ["dev-a"]);
    assert_eq!(b[0].taken_over_from, None, "a release is not an expiry");
});

both_backends!(
    ensure_keeps_a_schedule_and_sync_follows_the_key_set,
    |store| {
        let later = Utc::now() + HOUR;
        assert!(store.job_ensure("backup", "dev-a", later).await.unwrap());
        assert!(
            !store
                .job_ensure("backup", "dev-a", Utc::now())
                .await
                .unwrap()
        );
        assert!(
            store
                .jobs_claim("backup", "i", 9, LEASE)
                .await
                .unwrap()
                .is_empty()
        );

        let wanted: Vec<String> = (0..1200).map(|i| format!("dev-{i:04}")).collect();
        let sync = store.job_sync("backup", &wanted, Utc::now()).await.unwrap();
        assert_eq!((sync.added, sync.removed), (1200, 1), "dev-a goes");
        let again = store.job_sync("backup", &wanted, Utc::now()).await.unwrap();
        assert_eq!((again.added, again.removed), (0, 0));
        let fewer = store
            .job_sync("backup", &wanted[..700], Utc::now())
            .await
            .unwrap();
        assert_eq!((fewer.added, fewer.removed), (0, 500));
        let rows = store.jobs("backup").await.unwrap();
        assert_eq!(rows.len(), 700);
        assert_eq!(rows[0].key, "dev-0000");
        assert!(store.job_remove("backup", "dev-0000").await.unwrap());
        assert!(!store.job_remove("backup", "dev-0000").await.unwrap());
        assert_eq!(store.jobs("backup").await.unwrap().len(), 699);
    }
);

both_backends!(bad_kinds_and_keys_are_refused_and_change_nothing, |store| {
    let now = Utc::now();
    let too_long = "k".repeat(201);
    for (kind, key) in [
        ("Backup", "dev-a"),
        ("backup'; DROP TABLE fleet_jobs; --", "dev-a"),
        ("", "dev-a"),
        ("backup", ""),
        ("backup", "dev\na"),
        ("backup", too_long.as_str()),
    ] {
        let err = store.job_ensure(kind, key, now).await.unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidJob(_)),
            "{kind:?}/{key:?}: {err}"
        );
        let err = store.job_schedule(kind, key, now).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidJob(_)), "{err}");
    }
    let err = store
        .job_sync("backup", &["ok".into(), "bad\u{0}".into()], now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("control characters"), "{err}");
    let err = store.jobs_claim("BAD", "i", 1, LEASE).await.unwrap_err();
    assert!(err.to_string().contains("job kind \"BAD\""), "{err}");
    assert!(
        store.jobs("backup").await.unwrap().is_empty(),
        "nothing was created"
    );
});

both_backends!(concurrent_claimers_never_share_a_job, |store| {
    let now = Utc::now();
    let all: Vec<String> = (0..300).map(|i| format!("dev-{i:03}")).collect();
    store.job_sync("backup", &all, now).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .jobs_claim("backup", &format!("inst-{n}"), 7, LEASE)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break mine;
                }
                mine.extend(got.into_iter().map(|l| l.key));
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!(total, 300, "every job claimed once, none twice");
    assert_eq!(seen.len(), 300);
});
