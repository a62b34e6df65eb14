//! Web console sessions and sign-ins in the registry: found by hash only, idle and absolute
//! expiry, sign-out, a sign-in's state good for one callback — against a fresh SQLite file and a
//! fresh PostgreSQL database (the latter when `TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::Utc;
use store::testing::TestDatabase;
use store::{ConsoleLogin, ConsoleSession, Store};

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

fn session(expires_in: chrono::Duration) -> ConsoleSession {
    let now = Utc::now();
    ConsoleSession {
        subject: "alice".into(),
        display: "Alice".into(),
        kind: "oidc".into(),
        grants: vec!["acme/web:approver".into(), "viewer".into()],
        csrf_token: "csrf-1".into(),
        created_at: store::time::format(now),
        last_seen_at: store::time::format(now),
        expires_at: store::time::format(now + expires_in),
    }
}

both_backends!(a_session_is_found_by_its_hash_until_it_ends, |store| {
    let long = session(chrono::Duration::hours(1));
    store.create_console_session("hash-a", &long).await.unwrap();
    let idle_since = store::time::ago(Duration::from_secs(600));
    let found = store
        .touch_console_session("hash-a", &idle_since)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(found.grants, long.grants);
    assert_eq!(found.csrf_token, "csrf-1");
    assert!(
        !format!("{found:?}").contains("csrf-1"),
        "Debug hides the CSRF token"
    );
    assert!(
        store
            .touch_console_session("hash-b", &idle_since)
            .await
            .unwrap()
            .is_none()
    );

    // Idle: last used before the idle limit; the session is gone for good.
    let future_idle = store::time::format(Utc::now() + chrono::Duration::seconds(5));
    assert!(
        store
            .touch_console_session("hash-a", &future_idle)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .touch_console_session("hash-a", &idle_since)
            .await
            .unwrap()
            .is_none()
    );

    // Absolute expiry, however recently used.
    let short = session(chrono::Duration::seconds(-1));
    store
        .create_console_session("hash-c", &short)
        .await
        .unwrap();
    assert!(
        store
            .touch_console_session("hash-c", &idle_since)
            .await
            .unwrap()
            .is_none()
    );

    // Sign-out.
    store.create_console_session("hash-d", &long).await.unwrap();
    assert!(store.delete_console_session("hash-d").await.unwrap());
    assert!(!store.delete_console_session("hash-d").await.unwrap());
    assert!(
        store
            .touch_console_session("hash-d", &idle_since)
            .await
            .unwrap()
            .is_none()
    );
});

both_backends!(
    a_sign_in_state_is_taken_once_and_only_while_fresh,
    |store| {
        let login = ConsoleLogin {
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            created_at: store::time::now(),
        };
        store.create_console_login("state-a", &login).await.unwrap();
        let window = store::time::ago(Duration::from_secs(600));
        assert_eq!(
            store.take_console_login("state-a", &window).await.unwrap(),
            Some(login.clone())
        );
        assert_eq!(
            store.take_console_login("state-a", &window).await.unwrap(),
            None,
            "used once"
        );
        let stale = ConsoleLogin {
            created_at: store::time::format(Utc::now() - chrono::Duration::hours(1)),
            ..login
        };
        store.create_console_login("state-b", &stale).await.unwrap();
        assert_eq!(
            store.take_console_login("state-b", &window).await.unwrap(),
            None,
            "too old"
        );
    }
);
