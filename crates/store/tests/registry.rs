//! The registry suite: every test runs unchanged against a fresh SQLite file and a fresh
//! PostgreSQL database (the latter when `TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use domain::{DeviceId, DeviceStatus, DriverPreference, Environment, ProjectRef, Tag};
use store::testing::TestDatabase;
use store::{
    AuditContext, AuditFilter, Backend, DeviceFilter, DevicePatch, NewDevice, Store, StoreError,
};
use vault::{ExposeSecret, MasterKey, SecretString, VaultError};

/// Runs `body` against SQLite and PostgreSQL as two tests.
macro_rules! both_backends {
    ($name:ident, |$store:ident, $db:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($store: Store, $db: &TestDatabase) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = TestDatabase::sqlite();
                let store = db.store().await;
                run(store.clone(), &db).await;
                store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = TestDatabase::postgres(concat!(stringify!($name), "::postgres")).await else {
                    return;
                };
                let store = db.store().await;
                run(store.clone(), &db).await;
                store.close().await;
                db.cleanup().await;
            }
        }
    };
}

const SENTINEL: &str = "Pl4intext-Sentinel-Zq9!";

fn ctx() -> AuditContext {
    AuditContext::new("test:registry")
}

fn new_device(name: &str) -> NewDevice {
    NewDevice {
        id: DeviceId::new(),
        project: ProjectRef::default(),
        name: name.parse().unwrap(),
        address: "192.0.2.10".parse().unwrap(),
        rest_port: "443".parse().unwrap(),
        ssh_port: "22".parse().unwrap(),
        http_port: None,
        insecure_http: false,
        driver: DriverPreference::Auto,
        environment: Environment::Lab,
        tags: vec!["site=fra1".parse().unwrap()],
        username: "mcp".into(),
        password: SecretString::from(format!("{SENTINEL}{name}")),
        tls_cert_sha256: None,
        ssh_host_key_sha256: None,
        facts: None,
    }
}

async fn audit_len(store: &Store) -> usize {
    store
        .audit_events(&AuditFilter {
            limit: 100_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .len()
}

/// Runs raw SQL as an attacker with database access would (bypassing the application).
async fn raw(store: &Store, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn disable_audit_triggers(store: &Store) {
    match store.backend() {
        Backend::Sqlite => {
            raw(
                store,
                "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;",
            )
            .await;
        }
        Backend::Postgres => raw(store, "ALTER TABLE audit_events DISABLE TRIGGER USER").await,
    }
}

both_backends!(
    default_tenancy_exists_and_orgs_projects_are_managed,
    |store, _db| {
        let orgs = store.list_orgs().await.unwrap();
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0].name.as_str(), "default");
        let projects = store.list_projects(None).await.unwrap();
        assert_eq!(projects[0].reference().to_string(), "default/default");

        let acme = store
            .create_org(&"acme".parse().unwrap(), &ctx())
            .await
            .unwrap();
        assert_eq!(acme.projects, 1, "a new org comes with its default project");
        assert!(matches!(
            store.create_org(&"acme".parse().unwrap(), &ctx()).await,
            Err(StoreError::OrgExists(_))
        ));
        store
            .create_project(&"acme/branches".parse().unwrap(), &ctx())
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_project(&"acme/branches".parse().unwrap(), &ctx())
                .await,
            Err(StoreError::ProjectExists(_))
        ));
        let err = store
            .create_project(&"nobody/x".parse().unwrap(), &ctx())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "organization \"nobody\" does not exist; see `routeros-mcp org list`"
        );
        let acme_projects = store
            .list_projects(Some(&"acme".parse().unwrap()))
            .await
            .unwrap();
        let names: Vec<_> = acme_projects.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(names, ["branches", "default"]);
    }
);

both_backends!(devices_are_added_found_and_listed, |store, _db| {
    let key = MasterKey::generate().unwrap();
    let added = store
        .add_device(&new_device("core-1"), &key, &ctx())
        .await
        .unwrap();
    assert_eq!(added.status, DeviceStatus::Active);
    assert_eq!(added.username.as_deref(), Some("mcp"));
    assert_eq!(added.credential_version, Some(1));
    assert_eq!(added.tags.get("site").map(String::as_str), Some("fra1"));

    let by_name = store.find_device(None, "core-1").await.unwrap();
    assert_eq!(by_name.id, added.id);
    let by_id = store
        .find_device(None, &added.id.to_string())
        .await
        .unwrap();
    assert_eq!(by_id.name, added.name);
    let missing = store.find_device(None, "core-2").await.unwrap_err();
    assert_eq!(
        missing.to_string(),
        "no device \"core-2\" in any project; see `routeros-mcp device list`"
    );

    let creds = store.credentials(&added, &key).await.unwrap();
    assert_eq!(creds.password.expose_secret(), &format!("{SENTINEL}core-1"));
    assert!(!format!("{creds:?}").contains(SENTINEL));
});

both_backends!(bad_input_changes_nothing, |store, _db| {
    let key = MasterKey::generate().unwrap();
    store
        .add_device(&new_device("edge-1"), &key, &ctx())
        .await
        .unwrap();
    let events = audit_len(&store).await;

    let dup = store
        .add_device(&new_device("edge-1"), &key, &ctx())
        .await
        .unwrap_err();
    assert_eq!(
        dup.to_string(),
        "a device named \"edge-1\" already exists in project default/default"
    );
    let mut elsewhere = new_device("edge-2");
    elsewhere.project = "default/nowhere".parse().unwrap();
    let err = store
        .add_device(&elsewhere, &key, &ctx())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "project \"default/nowhere\" does not exist; see `routeros-mcp project list`"
    );

    let all = store.list_devices(&DeviceFilter::default()).await.unwrap();
    assert_eq!(all.len(), 1, "a refused add leaves no device behind");
    assert_eq!(
        audit_len(&store).await,
        events,
        "a refused add leaves no audit event"
    );
    let key_ids = store.credential_key_ids().await.unwrap();
    assert_eq!(key_ids, vec![(key.id().to_string(), 1)], "nor a credential");
});

both_backends!(
    same_name_in_another_project_is_fine_and_ambiguity_is_reported,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        store
            .create_org(&"acme".parse().unwrap(), &ctx())
            .await
            .unwrap();
        store
            .add_device(&new_device("gw"), &key, &ctx())
            .await
            .unwrap();
        let mut other = new_device("gw");
        other.project = "acme/default".parse().unwrap();
        store.add_device(&other, &key, &ctx()).await.unwrap();
        let err = store.find_device(None, "gw").await.unwrap_err();
        assert!(matches!(err, StoreError::AmbiguousDevice { .. }), "{err}");
        assert!(err.to_string().contains("acme/default, default/default"));
        let found = store
            .find_device(Some(&"acme/default".parse().unwrap()), "gw")
            .await
            .unwrap();
        assert_eq!(found.project.to_string(), "acme/default");
    }
);

both_backends!(
    updates_record_what_changed_and_decommission_keeps_history,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        let d = store
            .add_device(&new_device("r1"), &key, &ctx())
            .await
            .unwrap();
        store
            .add_device(&new_device("r2"), &key, &ctx())
            .await
            .unwrap();

        let patch = DevicePatch {
            address: Some("router1.example.net".parse().unwrap()),
            ssh_port: Some("2222".parse().unwrap()),
            environment: Some(Environment::Prod),
            set_tags: vec!["role=edge".parse().unwrap()],
            remove_tags: vec!["site".into()],
            ..DevicePatch::default()
        };
        let updated = store.update_device(&d.id, &patch, &ctx()).await.unwrap();
        assert_eq!(updated.address.to_string(), "router1.example.net");
        assert_eq!(updated.ssh_port.get(), 2222);
        assert_eq!(updated.environment, Environment::Prod);
        assert_eq!(
            updated.tags.into_iter().collect::<Vec<_>>(),
            vec![("role".to_string(), "edge".to_string())]
        );
        let event = &store
            .audit_events(&AuditFilter {
                action: Some("device.update".into()),
                limit: 1,
                ..AuditFilter::default()
            })
            .await
            .unwrap()[0];
        assert_eq!(event.target, format!("device:{}", d.id));
        assert_eq!(event.details["changed"]["ssh_port"]["from"], 22);
        assert_eq!(event.details["changed"]["ssh_port"]["to"], 2222);
        assert!(event.details["changed"].get("name").is_none());

        let rename = DevicePatch {
            name: Some("r2".parse().unwrap()),
            ..DevicePatch::default()
        };
        assert!(matches!(
            store.update_device(&d.id, &rename, &ctx()).await,
            Err(StoreError::DuplicateDevice { .. })
        ));

        let gone = store.decommission_device(&d.id, &ctx()).await.unwrap();
        assert_eq!(gone.status, DeviceStatus::Decommissioned);
        assert!(gone.decommissioned_at.is_some());
        assert!(matches!(
            store.credentials(&gone, &key).await,
            Err(StoreError::NoCredentials(_))
        ));
        assert!(matches!(
            store
                .update_device(
                    &d.id,
                    &DevicePatch {
                        ssh_port: Some("22".parse().unwrap()),
                        ..DevicePatch::default()
                    },
                    &ctx()
                )
                .await,
            Err(StoreError::Decommissioned(_))
        ));
        // Hidden from the default listing, shown on request, and its name is free again.
        let live = store.list_devices(&DeviceFilter::default()).await.unwrap();
        assert_eq!(
            live.iter().map(|d| d.name.to_string()).collect::<Vec<_>>(),
            ["r2"]
        );
        let every = store
            .list_devices(&DeviceFilter {
                include_decommissioned: true,
                ..DeviceFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(every.len(), 2);
        store
            .add_device(&new_device("r1"), &key, &ctx())
            .await
            .unwrap();
        let history = store
            .audit_events(&AuditFilter {
                target: Some(format!("device:{}", d.id)),
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let actions: Vec<_> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["device.decommission", "device.update", "device.add"]
        );
    }
);

both_backends!(
    listing_filters_by_environment_tags_and_status,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        for (name, env, tag) in [
            ("a", Environment::Lab, "site=fra1"),
            ("b", Environment::Prod, "site=fra1"),
            ("c", Environment::Prod, "site=ams1"),
        ] {
            let mut d = new_device(name);
            d.environment = env;
            d.tags = vec![tag.parse().unwrap(), "role=edge".parse().unwrap()];
            store.add_device(&d, &key, &ctx()).await.unwrap();
        }
        let names = |ds: Vec<store::Device>| {
            ds.into_iter()
                .map(|d| d.name.to_string())
                .collect::<Vec<_>>()
        };
        let prod = store
            .list_devices(&DeviceFilter {
                environment: Some(Environment::Prod),
                ..DeviceFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(names(prod), ["b", "c"]);
        let fra_prod = store
            .list_devices(&DeviceFilter {
                environment: Some(Environment::Prod),
                tags: vec!["site=fra1".parse::<Tag>().unwrap()],
                ..DeviceFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(names(fra_prod), ["b"]);
        let a = store.find_device(None, "a").await.unwrap();
        store
            .update_device(
                &a.id,
                &DevicePatch {
                    status: Some(DeviceStatus::Inactive),
                    ..DevicePatch::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        let inactive = store
            .list_devices(&DeviceFilter {
                status: Some(DeviceStatus::Inactive),
                ..DeviceFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(names(inactive), ["a"]);
    }
);

both_backends!(
    credential_rotation_versions_and_wipes_the_old_secret,
    |store, db| {
        let key = MasterKey::generate().unwrap();
        let d = store
            .add_device(&new_device("rot"), &key, &ctx())
            .await
            .unwrap();
        let new_pw = SecretString::from("Rotated-Sentinel-77".to_owned());
        let creds = store
            .rotate_credentials(&d.id, Some("mcp2"), &new_pw, &key, &ctx())
            .await
            .unwrap();
        assert_eq!(creds.version, 2);
        let d = store.device_by_id(&d.id).await.unwrap();
        let now = store.credentials(&d, &key).await.unwrap();
        assert_eq!(now.username, "mcp2");
        assert_eq!(now.password.expose_secret(), "Rotated-Sentinel-77");
        let rows: Vec<(i64, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT version, ciphertext FROM device_credentials WHERE device_id = $1 ORDER BY version",
    )
    .bind(d.id.to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].1.is_none(), "the retired version keeps no secret");
        assert!(rows[1].1.is_some());
        let _ = db;
    }
);

/// Everything the database holds, as bytes/text an attacker with a copy would see.
async fn raw_dump(store: &Store, db: &TestDatabase) -> Vec<u8> {
    match store.backend() {
        Backend::Sqlite => {
            let path = db.sqlite_path().unwrap();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                if let Ok(b) = std::fs::read(&file) {
                    bytes.extend(b);
                }
            }
            bytes
        }
        Backend::Postgres => {
            let mut out = Vec::new();
            for table in [
                "organizations",
                "projects",
                "devices",
                "device_credentials",
                "audit_events",
            ] {
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t"
                )))
                .fetch_all(store.pool())
                .await
                .unwrap();
                for (r,) in rows {
                    out.extend(r.into_bytes());
                }
            }
            out
        }
    }
}

both_backends!(a_raw_dump_holds_no_plaintext_password, |store, db| {
    let key = MasterKey::generate().unwrap();
    for i in 0..20 {
        store
            .add_device(&new_device(&format!("d{i}")), &key, &ctx())
            .await
            .unwrap();
    }
    let d = store.find_device(None, "d3").await.unwrap();
    store
        .rotate_credentials(
            &d.id,
            None,
            &SecretString::from(format!("{SENTINEL}rotated")),
            &key,
            &ctx(),
        )
        .await
        .unwrap();
    let dump = raw_dump(&store, db).await;
    assert!(dump.len() > 1000, "the dump should hold the data");
    let needle = SENTINEL.as_bytes();
    assert!(
        !dump.windows(needle.len()).any(|w| w == needle),
        "a plaintext password is in the raw database"
    );
    // Sanity: the dump does contain what is not secret.
    assert!(dump.windows(3).any(|w| w == b"d19"));
});

both_backends!(
    tampered_or_moved_ciphertexts_and_wrong_keys_are_refused,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        let a = store
            .add_device(&new_device("ta"), &key, &ctx())
            .await
            .unwrap();
        let b = store
            .add_device(&new_device("tb"), &key, &ctx())
            .await
            .unwrap();

        // Wrong key: named by id, never garbage.
        let other = MasterKey::generate().unwrap();
        let err = store.credentials(&a, &other).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("master key does not match key id {}", key.id())),
            "{text}"
        );

        // Swap the ciphertexts of two devices: each is bound to its own row.
        let ct = |id: &DeviceId| {
            let id = id.to_string();
            let pool = store.pool().clone();
            async move {
                let (n, c): (Vec<u8>, Vec<u8>) = sqlx::query_as(
                "SELECT nonce, ciphertext FROM device_credentials WHERE device_id = $1 AND retired_at IS NULL",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
                (n, c)
            }
        };
        let (na, ca) = ct(&a.id).await;
        let set = |id: &DeviceId, n: Vec<u8>, c: Vec<u8>| {
            let id = id.to_string();
            let pool = store.pool().clone();
            async move {
                sqlx::query("UPDATE device_credentials SET nonce = $1, ciphertext = $2 WHERE device_id = $3 AND retired_at IS NULL")
                .bind(n)
                .bind(c)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            }
        };
        set(&b.id, na.clone(), ca.clone()).await;
        let moved = store.credentials(&b, &key).await.unwrap_err();
        assert!(
            matches!(moved, StoreError::Vault(VaultError::Tampered { .. })),
            "{moved}"
        );

        // Truncated and bit-flipped ciphertexts.
        let mut truncated = ca.clone();
        truncated.truncate(ca.len() / 2);
        set(&a.id, na.clone(), truncated).await;
        let err = store.credentials(&a, &key).await.unwrap_err();
        assert!(err.to_string().contains("truncated or tampered"), "{err}");
        let mut flipped = ca.clone();
        flipped[0] ^= 0x01;
        set(&a.id, na.clone(), flipped).await;
        assert!(matches!(
            store.credentials(&a, &key).await,
            Err(StoreError::Vault(VaultError::Tampered { .. }))
        ));
        // Restored, it opens again.
        set(&a.id, na, ca).await;
        assert!(store.credentials(&a, &key).await.is_ok());
    }
);

both_backends!(
    master_key_rotation_over_a_thousand_credentials,
    |store, _db| {
        let old = MasterKey::generate().unwrap();
        for i in 0..1000 {
            let mut d = new_device(&format!("k{i:04}"));
            d.password = SecretString::from(format!("pw-{i}"));
            store.add_device(&d, &old, &ctx()).await.unwrap();
        }
        let new = MasterKey::generate().unwrap();

        // Interrupted halfway: nothing changes, the old key still opens everything.
        let err = store
            .rotate_master_key(&old, &new, &ctx(), |p| {
                if p.done == 500 {
                    Err("injected failure".into())
                } else {
                    Ok(())
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Aborted(_)), "{err}");
        assert_eq!(
            store.credential_key_ids().await.unwrap(),
            vec![(old.id().to_string(), 1000)]
        );
        assert_eq!(store.verify_master_key(&old).await.unwrap(), 1000);

        // Completed: every credential opens under the new key, none under the old.
        let mut last = None;
        let n = store
            .rotate_master_key(&old, &new, &ctx(), |p| {
                last = Some(p);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(n, 1000);
        assert_eq!(last.map(|p| (p.done, p.total)), Some((1000, 1000)));
        assert_eq!(
            store.credential_key_ids().await.unwrap(),
            vec![(new.id().to_string(), 1000)]
        );
        assert_eq!(store.verify_master_key(&new).await.unwrap(), 1000);
        assert!(matches!(
            store.verify_master_key(&old).await,
            Err(StoreError::Vault(VaultError::KeyMismatch { .. }))
        ));
        for i in [0, 499, 999] {
            let d = store.find_device(None, &format!("k{i:04}")).await.unwrap();
            let c = store.credentials(&d, &new).await.unwrap();
            assert_eq!(c.password.expose_secret(), &format!("pw-{i}"));
        }
        let rotation = &store
            .audit_events(&AuditFilter {
                action: Some("key.rotate".into()),
                limit: 5,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(rotation.len(), 1, "only the completed rotation is recorded");
        assert_eq!(rotation[0].details["credentials"], 1000);
        assert!(store.verify_audit_chain().await.unwrap().is_intact());
    }
);

async fn chain_with_events(store: &Store) {
    let key = MasterKey::generate().unwrap();
    for i in 0..6 {
        store
            .add_device(&new_device(&format!("c{i}")), &key, &ctx())
            .await
            .unwrap();
    }
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.events_checked, 6);
    assert_eq!(report.head_hash.as_ref().map(String::len), Some(64));
}

both_backends!(the_audit_log_refuses_updates_and_deletes, |store, _db| {
    chain_with_events(&store).await;
    for sql in [
        "UPDATE audit_events SET actor = 'x' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
    ] {
        let err = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
});

both_backends!(audit_verify_catches_an_edited_row, |store, _db| {
    chain_with_events(&store).await;
    disable_audit_triggers(&store).await;
    raw(
        &store,
        "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 4",
    )
    .await;
    let report = store.verify_audit_chain().await.unwrap();
    let b = report.first_break.unwrap();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("edited"), "{}", b.reason);
});

both_backends!(audit_verify_catches_a_deleted_row, |store, _db| {
    chain_with_events(&store).await;
    disable_audit_triggers(&store).await;
    raw(&store, "DELETE FROM audit_events WHERE seq = 3").await;
    let b = store
        .verify_audit_chain()
        .await
        .unwrap()
        .first_break
        .unwrap();
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("event #3 is missing"), "{}", b.reason);
});

both_backends!(audit_verify_catches_reordered_rows, |store, _db| {
    chain_with_events(&store).await;
    disable_audit_triggers(&store).await;
    raw(
        &store,
        "UPDATE audit_events SET seq = 100 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = 100;",
    )
    .await;
    let b = store
        .verify_audit_chain()
        .await
        .unwrap()
        .first_break
        .unwrap();
    assert_eq!(b.seq, 2);
});

both_backends!(
    fifty_concurrent_adds_all_land_once_and_the_chain_holds,
    |store, _db| {
        let key = Arc::new(MasterKey::generate().unwrap());
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .add_device(&new_device(&format!("par-{i:02}")), &key, &ctx())
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // And ten racing for one name: exactly one wins.
        let racers: Vec<_> = (0..10)
            .map(|_| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .add_device(&new_device("contested"), &key, &ctx())
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for r in racers {
            match r.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::DuplicateDevice { .. }) => {}
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!(won, 1);
        let devices = store.list_devices(&DeviceFilter::default()).await.unwrap();
        let names: BTreeSet<_> = devices.iter().map(|d| d.name.to_string()).collect();
        assert_eq!(devices.len(), 51);
        assert_eq!(names.len(), 51, "no duplicates");
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.is_intact(), "{:?}", report.first_break);
        assert_eq!(report.events_checked, 51);
    }
);

both_backends!(migrations_go_down_and_up_again, |store, _db| {
    let known = store.known_migrations();
    assert_eq!(store.applied_migrations().await.unwrap(), known);
    assert!(
        store.migrate().await.unwrap().is_empty(),
        "nothing left to apply"
    );
    store.migrate_down_to(0).await.unwrap();
    assert!(store.applied_migrations().await.unwrap().is_empty());
    assert_eq!(store.migrate().await.unwrap(), known);
    assert_eq!(
        store.list_orgs().await.unwrap().len(),
        1,
        "seed data is back"
    );
});

/// Events recorded with `action`.
async fn count_action(store: &Store, action: &str) -> usize {
    store
        .audit_events(&AuditFilter {
            action: Some(action.into()),
            limit: 100_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .len()
}

both_backends!(
    two_thousand_queued_appends_from_fifty_tasks_land_in_batches_on_one_chain,
    |store, _db| {
        let queue = store.audit_queue().clone();
        let tasks: Vec<_> = (0..50)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..40 {
                        store
                            .audit_queue()
                            .append(
                                &AuditContext::new(format!("mcp:test:{t}")),
                                "tool.call",
                                "tool:device.list",
                                serde_json::json!({"task": t, "call": i}),
                            )
                            .await
                            .unwrap();
                        // Records that must be durable still go straight in, on the same chain.
                        if i % 20 == 0 && t % 10 == 0 {
                            store
                                .append_audit(
                                    &ctx(),
                                    "plan.approve",
                                    "plan:x",
                                    serde_json::json!({}),
                                )
                                .await
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        queue.flush().await.unwrap();
        assert_eq!(count_action(&store, "tool.call").await, 2000);
        assert_eq!(count_action(&store, "plan.approve").await, 10);
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.is_intact(), "{:?}", report.first_break);
        assert_eq!(report.events_checked, 2010);
        let stats = queue.stats();
        assert_eq!(stats.records_written, 2000);
        assert!(
            stats.batches_written < 2000 && stats.largest_batch > 1,
            "records were committed in groups: {stats:?}"
        );
        assert!(stats.largest_batch <= 256, "{stats:?}");
        assert_eq!(stats.failed_attempts, 0);
        // Each task's records are in the order it appended them.
        let events = store
            .audit_events(&AuditFilter {
                action: Some("tool.call".into()),
                limit: 100_000,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let calls: Vec<i64> = events
            .iter()
            .rev()
            .filter(|e| e.actor == "mcp:test:7")
            .map(|e| e.details["call"].as_i64().unwrap())
            .collect();
        assert_eq!(calls, (0..40).collect::<Vec<_>>());
    }
);

both_backends!(
    while_the_database_is_busy_a_full_queue_makes_appends_wait_and_flush_waits_for_the_write,
    |store, _db| {
        let queue = store::AuditWriter::new(
            &store,
            store::AuditQueueLimits {
                max_batch: 4,
                capacity: 8,
            },
        );
        // Another writer holds the registry's write lock: the queue cannot commit.
        let held = store.begin_write().await.unwrap();
        let appending = {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    queue
                        .append(&ctx(), "tool.call", "tool:x", serde_json::json!({"i": i}))
                        .await
                        .unwrap();
                }
            })
        };
        // At most a batch and a full queue fit: the 50 appends cannot all return.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !appending.is_finished(),
            "appends wait for room instead of growing the queue or dropping records"
        );
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(200), queue.flush())
                .await
                .is_err(),
            "flush returns only once the records are written"
        );
        assert_eq!(count_action(&store, "tool.call").await, 0);

        held.rollback().await.unwrap();
        appending.await.unwrap();
        queue.flush().await.unwrap();
        assert_eq!(count_action(&store, "tool.call").await, 50);
        let stats = queue.stats();
        assert_eq!(stats.records_written, 50);
        assert!((2..=4).contains(&stats.largest_batch), "{stats:?}");
        assert!(store.verify_audit_chain().await.unwrap().is_intact());
    }
);

both_backends!(
    a_batch_the_database_refuses_is_written_again_later_on_an_intact_chain,
    |store, _db| {
        chain_with_events(&store).await;
        let (refuse, allow) = match store.backend() {
            Backend::Sqlite => (
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit refused for the test'); END;",
                "DROP TRIGGER refuse_audit",
            ),
            Backend::Postgres => (
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
                "DROP TRIGGER refuse_audit ON audit_events",
            ),
        };
        raw(&store, refuse).await;
        let queue = store.audit_queue();
        for i in 0..10 {
            queue
                .append(&ctx(), "tool.call", "tool:x", serde_json::json!({"i": i}))
                .await
                .unwrap();
        }
        let started = std::time::Instant::now();
        while queue.stats().failed_attempts < 2 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the writer tries again: {:?}",
                queue.stats()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(count_action(&store, "tool.call").await, 0);
        raw(&store, allow).await;
        tokio::time::timeout(std::time::Duration::from_secs(30), queue.flush())
            .await
            .expect("the queue is written once the database accepts it")
            .unwrap();
        assert_eq!(count_action(&store, "tool.call").await, 10);
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.is_intact(), "{:?}", report.first_break);
        assert_eq!(report.events_checked, 16);
    }
);

both_backends!(
    a_queued_record_the_database_cannot_store_is_refused_at_once,
    |store, _db| {
        let err = store
            .audit_queue()
            .append(
                &AuditContext::new("mcp:stdio:evil\0client"),
                "tool.call",
                "tool:x",
                serde_json::json!({}),
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("audit actor contains a NUL"),
            "{err}"
        );
        // The queue goes on working.
        store
            .audit_queue()
            .append(&ctx(), "tool.call", "tool:x", serde_json::json!({}))
            .await
            .unwrap();
        store.audit_queue().flush().await.unwrap();
        assert_eq!(audit_len(&store).await, 1);
    }
);

both_backends!(
    the_registry_generation_moves_with_every_change_a_lookup_depends_on,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        let g0 = store.registry_generation().await.unwrap();
        let device = store
            .add_device(&new_device("gen-r1"), &key, &ctx())
            .await
            .unwrap();
        let g1 = store.registry_generation().await.unwrap();
        assert!(
            g1 > g0,
            "adding a device must move the generation ({g0} → {g1})"
        );

        // An observation is not a change: a busy fleet does not empty every server's lookups.
        store.mark_seen(&device.id).await.unwrap();
        assert_eq!(store.registry_generation().await.unwrap(), g1);

        let patch = DevicePatch {
            address: Some("192.0.2.99".parse().unwrap()),
            ..DevicePatch::default()
        };
        store
            .update_device(&device.id, &patch, &ctx())
            .await
            .unwrap();
        let g2 = store.registry_generation().await.unwrap();
        assert!(g2 > g1, "an edited address must move the generation");

        store
            .set_pins(&device.id, Some(&"ab".repeat(32)), None, &ctx())
            .await
            .unwrap();
        let g3 = store.registry_generation().await.unwrap();
        assert!(g3 > g2, "a new pin must move the generation");

        store
            .rotate_credentials(
                &device.id,
                None,
                &SecretString::from("n3w-Passw0rd".to_owned()),
                &key,
                &ctx(),
            )
            .await
            .unwrap();
        let g4 = store.registry_generation().await.unwrap();
        assert!(g4 > g3, "a credential rotation must move the generation");

        store.decommission_device(&device.id, &ctx()).await.unwrap();
        let g5 = store.registry_generation().await.unwrap();
        assert!(g5 > g4, "decommissioning must move the generation");

        // Reads change nothing.
        store.find_device(None, "gen-r1").await.unwrap_err();
        store.list_devices(&DeviceFilter::default()).await.unwrap();
        assert_eq!(store.registry_generation().await.unwrap(), g5);
    }
);

both_backends!(
    api_tokens_are_kept_as_hashes_scoped_and_revocable,
    |store, _db| {
        use store::NewApiToken;
        let site: ProjectRef = "default/default".parse().unwrap();
        let new = NewApiToken {
            id: "0123456789abcdef".into(),
            name: "ci".into(),
            role: "operator".into(),
            project: Some(site.clone()),
            token_hash: "ab".repeat(32),
            expires_at: None,
        };
        let created = store.create_api_token(&new, &ctx()).await.unwrap();
        assert_eq!(created.project, Some(site));
        let (found, hash) = store
            .api_token_for_check("0123456789abcdef")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(hash, "ab".repeat(32));
        assert!(found.is_live(&store::time::now()));
        assert!(
            store
                .api_token_for_check("ffffffffffffffff")
                .await
                .unwrap()
                .is_none()
        );

        // A token for a project that does not exist is refused and nothing is kept.
        let mut elsewhere = new.clone();
        elsewhere.id = "1111111111111111".into();
        elsewhere.project = Some("nope/none".parse().unwrap());
        let e = store
            .create_api_token(&elsewhere, &ctx())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::ProjectNotFound(_)), "{e}");
        assert_eq!(store.list_api_tokens().await.unwrap().len(), 1);

        let revoked = store
            .revoke_api_token("0123456789abcdef", &ctx())
            .await
            .unwrap();
        assert!(!revoked.is_live(&store::time::now()));
        let again = store
            .revoke_api_token("0123456789abcdef", &ctx())
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::TokenRevoked(_)), "{again}");
        let unknown = store.revoke_api_token("nope", &ctx()).await.unwrap_err();
        assert!(unknown.to_string().contains("token list"), "{unknown}");

        // Expired by time.
        let mut short = new.clone();
        short.id = "2222222222222222".into();
        short.expires_at = Some("2000-01-01T00:00:00.000000Z".into());
        let t = store.create_api_token(&short, &ctx()).await.unwrap();
        assert!(!t.is_live(&store::time::now()));

        // The audit log names the tokens, never a hash.
        let events = store
            .audit_events(&AuditFilter {
                limit: 50,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let text =
            serde_json::to_string(&events.iter().map(|e| &e.details).collect::<Vec<_>>()).unwrap();
        assert!(events.iter().any(|e| e.action == "token.create"));
        assert!(events.iter().any(|e| e.action == "token.revoke"));
        assert!(!text.contains(&"ab".repeat(32)));
    }
);

/// A device named `name` in `project`.
fn device_in(project: &str, name: &str) -> NewDevice {
    NewDevice {
        project: project.parse().unwrap(),
        ..new_device(name)
    }
}

both_backends!(
    a_projects_devices_come_a_page_at_a_time_in_name_order,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        store
            .create_org(&"acme".parse().unwrap(), &ctx())
            .await
            .unwrap();
        for p in ["acme/site-a", "acme/site-b"] {
            store
                .create_project(&p.parse().unwrap(), &ctx())
                .await
                .unwrap();
        }
        for name in ["e5", "a1", "d4", "b2", "c3"] {
            store
                .add_device(&device_in("acme/site-a", name), &key, &ctx())
                .await
                .unwrap();
        }
        store
            .add_device(&device_in("acme/site-b", "a0"), &key, &ctx())
            .await
            .unwrap();
        let gone = store.find_device(None, "d4").await.unwrap();
        store.decommission_device(&gone.id, &ctx()).await.unwrap();
        // A successor takes the decommissioned device's name.
        let successor = store
            .add_device(&device_in("acme/site-a", "d4"), &key, &ctx())
            .await
            .unwrap();

        let mut page = store::DevicePage {
            project: "acme/site-a".parse().unwrap(),
            environment: None,
            status: None,
            name: None,
            include_decommissioned: false,
            after: None,
            limit: 2,
        };
        let mut seen = Vec::new();
        for _ in 0..10 {
            let devices = store.device_page(&page).await.unwrap();
            assert!(devices.len() <= 2);
            let Some(last) = devices.last() else { break };
            page.after = Some((last.name.to_string(), last.id.to_string()));
            seen.extend(devices.iter().map(|d| d.name.to_string()));
        }
        assert_eq!(
            seen,
            ["a1", "b2", "c3", "d4", "e5"],
            "live devices of site-a only"
        );

        // Both devices named d4, decommissioned included, in id order.
        let named = store
            .device_page(&store::DevicePage {
                name: Some("d4".parse().unwrap()),
                include_decommissioned: true,
                after: None,
                limit: 10,
                ..page.clone()
            })
            .await
            .unwrap();
        let ids: Vec<_> = named.iter().map(|d| d.id).collect();
        assert_eq!(ids, [gone.id, successor.id]);

        let decommissioned = store
            .device_page(&store::DevicePage {
                status: Some(DeviceStatus::Decommissioned),
                after: None,
                limit: 10,
                ..page.clone()
            })
            .await
            .unwrap();
        assert_eq!(decommissioned.len(), 1);
        assert_eq!(decommissioned[0].id, gone.id);

        let prod = store
            .device_page(&store::DevicePage {
                environment: Some(Environment::Prod),
                after: None,
                limit: 10,
                ..page.clone()
            })
            .await
            .unwrap();
        assert!(prod.is_empty(), "every test device is in lab");

        assert!(matches!(
            store
                .device_page(&store::DevicePage {
                    project: "acme/nowhere".parse().unwrap(),
                    ..page.clone()
                })
                .await,
            Err(StoreError::ProjectNotFound(_))
        ));
        let project = store
            .project(&"acme/site-a".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(project.devices, 5, "live devices only");
        assert!(matches!(
            store.project(&"acme/nowhere".parse().unwrap()).await,
            Err(StoreError::ProjectNotFound(_))
        ));
    }
);

both_backends!(
    a_projects_audit_holds_its_devices_plans_and_itself_only,
    |store, _db| {
        let key = MasterKey::generate().unwrap();
        store
            .create_org(&"acme".parse().unwrap(), &ctx())
            .await
            .unwrap();
        let a = store
            .create_project(&"acme/site-a".parse().unwrap(), &ctx())
            .await
            .unwrap();
        let b = store
            .create_project(&"acme/site-b".parse().unwrap(), &ctx())
            .await
            .unwrap();
        let in_a = store
            .add_device(&device_in("acme/site-a", "ra"), &key, &ctx())
            .await
            .unwrap();
        let in_b = store
            .add_device(&device_in("acme/site-b", "rb"), &key, &ctx())
            .await
            .unwrap();
        let alice = AuditContext::new("api:oidc:alice");
        let patch = DevicePatch {
            ssh_port: Some("2222".parse().unwrap()),
            ..DevicePatch::default()
        };
        store.update_device(&in_a.id, &patch, &alice).await.unwrap();
        store.update_device(&in_b.id, &patch, &alice).await.unwrap();
        // A plan filed under site-a, with its own event.
        let mut tx = store.begin_write().await.unwrap();
        let plan = store::plans::PlanRow {
            id: "plan-a".into(),
            project_id: a.id.clone(),
            title: "t".into(),
            tool: "test".into(),
            kind: "change".into(),
            rollback_of: None,
            status: "pending".into(),
            risk: "low".into(),
            risk_reasons: "[]".into(),
            environment: "lab".into(),
            content_hash: "h".into(),
            created_by: "test".into(),
            created_at: store::time::now(),
            updated_at: store::time::now(),
            outcome: None,
        };
        store::plans::insert_plan(&mut tx, &plan, &[])
            .await
            .unwrap();
        store::append_audit_in(
            &mut tx,
            &ctx(),
            "plan.create",
            "plan:plan-a",
            serde_json::json!({}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        store
            .append_audit(&ctx(), "tool.call", "tool:dns.list", serde_json::json!({}))
            .await
            .unwrap();

        let filter = store::ProjectAuditFilter {
            project_id: a.id.clone(),
            project: "acme/site-a".into(),
            limit: 100,
            ..store::ProjectAuditFilter::default()
        };
        let events = store.project_audit_events(&filter).await.unwrap();
        let seen: Vec<(String, String)> = events
            .iter()
            .map(|e| (e.action.clone(), e.target.clone()))
            .collect();
        let device_a = format!("device:{}", in_a.id);
        assert_eq!(
            seen,
            [
                ("plan.create".to_owned(), "plan:plan-a".to_owned()),
                ("device.update".to_owned(), device_a.clone()),
                ("device.add".to_owned(), device_a.clone()),
                (
                    "project.create".to_owned(),
                    "project:acme/site-a".to_owned()
                ),
            ],
            "newest first, nothing of site-b, the org or tool calls"
        );
        let of_b = store
            .project_audit_events(&store::ProjectAuditFilter {
                project_id: b.id.clone(),
                project: "acme/site-b".into(),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(of_b.len(), 3, "project.create, device.add, device.update");

        let by_alice = store
            .project_audit_events(&store::ProjectAuditFilter {
                actor: Some("api:oidc:alice".into()),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(by_alice.len(), 1);
        assert_eq!(by_alice[0].action, "device.update");

        let device_events = store
            .project_audit_events(&store::ProjectAuditFilter {
                action: Some("device.".into()),
                targets: Some(vec![device_a.clone(), format!("device:{}", in_b.id)]),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(
            device_events.len(),
            2,
            "site-b's device is outside the project"
        );
        let none = store
            .project_audit_events(&store::ProjectAuditFilter {
                targets: Some(vec![]),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert!(none.is_empty());

        // Time bounds are inclusive; paging continues below a sequence number.
        let newest = &events[0];
        let at_newest = store
            .project_audit_events(&store::ProjectAuditFilter {
                since: Some(newest.occurred_at.clone()),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(at_newest.len(), 1);
        let until_oldest = store
            .project_audit_events(&store::ProjectAuditFilter {
                until: Some(events[3].occurred_at.clone()),
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(until_oldest.len(), 1);
        let older = store
            .project_audit_events(&store::ProjectAuditFilter {
                before_seq: Some(events[1].seq),
                limit: 1,
                ..filter.clone()
            })
            .await
            .unwrap();
        assert_eq!(older.len(), 1);
        assert_eq!(older[0].seq, events[2].seq);

        // Plans of the project, newest first, a page at a time.
        let listed = store::plans::list_project_plans(&store, &a.id, None, None, 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        let after = store::plans::list_project_plans(
            &store,
            &a.id,
            None,
            Some((&listed[0].created_at, &listed[0].id)),
            10,
        )
        .await
        .unwrap();
        assert!(after.is_empty());
        assert!(
            store::plans::list_project_plans(&store, &b.id, None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store::plans::list_project_plans(&store, &a.id, Some("approved"), None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

both_backends!(
    a_database_migrated_by_a_newer_release_is_refused_by_name,
    |store, _db| {
        sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99, 'from the future', success, checksum, 1 FROM _sqlx_migrations WHERE version = 1",
    )
    .execute(store.pool())
    .await
    .unwrap();
        let e = store.migrate().await.unwrap_err();
        assert!(
            matches!(e, StoreError::NewerSchema { version: 99, .. }),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains("migrated by a newer release (migration 99, \"from the future\""),
            "{e}"
        );
    }
);

both_backends!(runbook_versions_runs_and_reviews, |store, _db| {
    use store::runbooks::{ReviewDecision, RunRow, VersionRow};
    let version =
        |id: &str, hash: &str, origin: &str, status: &str, parent: Option<&str>| VersionRow {
            id: id.into(),
            name: "high-cpu".into(),
            version: "1.0.0".into(),
            content_hash: hash.into(),
            content: format!("content {hash}"),
            origin: origin.into(),
            status: status.into(),
            parent_id: parent.map(Into::into),
            base_hash: None,
            generated_from_run: None,
            proposed_by: None,
            failure_type: None,
            priority: Some("high")
                .filter(|_| origin == "proposal")
                .map(Into::into),
            rationale: None,
            created_at: store::time::now(),
            review_started_at: None,
            reviewer: None,
            review_notes: None,
            reviewed_at: None,
        };
    // A file's version is recorded once, whoever records it.
    let v1 = store
        .runbook_version_record(&version("v1", "h1", "built-in", "published", None))
        .await
        .unwrap();
    let again = store
        .runbook_version_record(&version("v1-again", "h1", "built-in", "published", None))
        .await
        .unwrap();
    assert_eq!(again.id, v1.id);

    // One active run per runbook and device; the second names the first.
    let run = |id: &str, device: &str| RunRow {
        id: id.into(),
        runbook: "high-cpu".into(),
        version_id: "v1".into(),
        project_id: None,
        device_key: device.into(),
        variables: "{}".into(),
        variables_hash: "x".into(),
        incident: None,
        started_by: "alice".into(),
        status: "running".into(),
        next_step: 1,
        plan_id: None,
        failed_step: None,
        failure_type: None,
        failure_reason: None,
        steps: "[]".into(),
        state_before: None,
        state_after: None,
        state_diff: None,
        started_at: store::time::now(),
        updated_at: store::time::now(),
        finished_at: None,
    };
    store
        .runbook_run_start(&run("r1", "dev-a"), &ctx())
        .await
        .unwrap();
    store
        .runbook_run_start(&run("r2", "dev-b"), &ctx())
        .await
        .unwrap();
    let busy = store
        .runbook_run_start(&run("r3", "dev-a"), &ctx())
        .await
        .unwrap_err();
    assert!(busy.to_string().contains("run r1"), "{busy}");
    // Finishing frees the device; a stale status cannot be saved over a newer one.
    let mut done = store.runbook_run("r1").await.unwrap().unwrap();
    done.status = "failed".into();
    done.finished_at = Some(store::time::now());
    store.runbook_run_save(&done, "running").await.unwrap();
    assert!(store.runbook_run_save(&done, "running").await.is_err());
    store
        .runbook_run_start(&run("r3", "dev-a"), &ctx())
        .await
        .unwrap();
    assert_eq!(
        store
            .runbook_last_finished("high-cpu", "dev-a")
            .await
            .unwrap()
            .unwrap()
            .id,
        "r1"
    );
    let tallies = store.runbook_run_tallies().await.unwrap();
    assert_eq!(tallies.len(), 1);
    assert_eq!((tallies[0].1.succeeded, tallies[0].1.failed), (0, 1));

    // A proposal: queued, refused twice, decided once, and approval deprecates the parent.
    let mut p = version("p1", "h2", "proposal", "pending_review", Some("v1"));
    p.generated_from_run = Some("r1".into());
    store.runbook_propose(&p, &ctx()).await.unwrap();
    let dup = store.runbook_propose(&p, &ctx()).await.unwrap_err();
    assert!(
        dup.to_string().contains("already has this content"),
        "{dup}"
    );
    let stats = store.runbook_review_stats().await.unwrap();
    assert_eq!(stats.pending_review, 1);
    assert!(stats.oldest_high_priority.is_some());
    store
        .runbook_review("p1", ReviewDecision::Start, "bob", None, &ctx())
        .await
        .unwrap();
    let approved = store
        .runbook_review("p1", ReviewDecision::Approve, "bob", Some("ok"), &ctx())
        .await
        .unwrap();
    assert_eq!(approved.status, "published");
    let twice = store
        .runbook_review("p1", ReviewDecision::Reject, "carol", None, &ctx())
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("is published"), "{twice}");
    assert_eq!(
        store.runbook_version("v1").await.unwrap().unwrap().status,
        "deprecated"
    );
    let stats = store.runbook_review_stats().await.unwrap();
    assert_eq!((stats.pending_review, stats.approved), (0, 1));
    assert!(stats.oldest_high_priority.is_none());
    // A file version is never "reviewed".
    let not_proposal = store
        .runbook_review("v1", ReviewDecision::Approve, "bob", None, &ctx())
        .await
        .unwrap_err();
    assert!(
        not_proposal.to_string().contains("needs a proposal"),
        "{not_proposal}"
    );

    // Retention keeps the run a proposal was generated from.
    let mut r2 = store.runbook_run("r2").await.unwrap().unwrap();
    r2.status = "succeeded".into();
    r2.finished_at = Some("2020-01-01T00:00:00Z".into());
    store.runbook_run_save(&r2, "running").await.unwrap();
    let mut r1 = store.runbook_run("r1").await.unwrap().unwrap();
    r1.finished_at = Some("2020-01-01T00:00:00Z".into());
    store.runbook_run_save(&r1, "failed").await.unwrap();
    assert_eq!(
        store
            .runbook_runs_prune("2021-01-01T00:00:00Z")
            .await
            .unwrap(),
        1
    );
    assert!(store.runbook_run("r2").await.unwrap().is_none());
    assert!(store.runbook_run("r1").await.unwrap().is_some());
});

both_backends!(runbook_lineage_project_runs_and_tallies, |store, _db| {
    use store::runbooks::{RunRow, VersionRow};
    let version = |id: &str, version: &str, parent: Option<&str>| VersionRow {
        id: id.into(),
        name: "dns-broken".into(),
        version: version.into(),
        content_hash: format!("hash-{id}"),
        content: format!("content {id}"),
        origin: "operator".into(),
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
    };
    store
        .runbook_version_record(&version("v1", "1.0.0", None))
        .await
        .unwrap();
    store
        .runbook_version_record(&version("v2", "1.1.0", Some("v1")))
        .await
        .unwrap();
    let heads = store.runbook_version_heads().await.unwrap();
    let lineage: Vec<(&str, &str, Option<&str>)> = heads
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                h.content_hash.as_str(),
                h.parent_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lineage,
        [("v1", "hash-v1", None), ("v2", "hash-v2", Some("v1"))]
    );

    let site_a = store.project(&ProjectRef::default()).await.unwrap().id;
    let other: ProjectRef = "default/other".parse().unwrap();
    store.create_project(&other, &ctx()).await.unwrap();
    let site_b = store.project(&other).await.unwrap().id;
    // Runs on two projects' devices, finished one after the other.
    let mut n = 0;
    for (project, version_id, status) in [
        (&site_a, "v1", "succeeded"),
        (&site_a, "v1", "failed"),
        (&site_a, "v2", "succeeded"),
        (&site_b, "v2", "failed"),
        (&site_a, "v2", "succeeded"),
    ] {
        n += 1;
        let at = format!("2026-05-01T00:00:0{n}.000000Z");
        let run = RunRow {
            id: format!("run-{n}"),
            runbook: "dns-broken".into(),
            version_id: version_id.into(),
            project_id: Some(project.clone()),
            device_key: format!("dev-{n}"),
            variables: "{}".into(),
            variables_hash: "x".into(),
            incident: None,
            started_by: "alice".into(),
            status: "running".into(),
            next_step: 1,
            plan_id: None,
            failed_step: None,
            failure_type: None,
            failure_reason: None,
            steps: "[]".into(),
            state_before: None,
            state_after: None,
            state_diff: None,
            started_at: at.clone(),
            updated_at: at.clone(),
            finished_at: None,
        };
        store.runbook_run_start(&run, &ctx()).await.unwrap();
        let mut done = run.clone();
        done.status = status.into();
        done.finished_at = Some(at);
        store.runbook_run_save(&done, "running").await.unwrap();
    }
    // A project sees its own runs, newest first, a page at a time.
    let page = store
        .runbook_project_runs("dns-broken", &site_a, None, 2)
        .await
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["run-5", "run-3"]);
    let last = page.last().unwrap();
    let next = store
        .runbook_project_runs(
            "dns-broken",
            &site_a,
            Some((last.started_at.as_str(), last.id.as_str())),
            10,
        )
        .await
        .unwrap();
    let ids: Vec<&str> = next.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["run-2", "run-1"]);
    let theirs = store
        .runbook_project_runs("dns-broken", &site_b, None, 10)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert!(
        store
            .runbook_project_runs("other-runbook", &site_a, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Tallies: every project's runs, or one project's.
    let all: std::collections::BTreeMap<String, (i64, i64)> = store
        .runbook_run_tallies()
        .await
        .unwrap()
        .into_iter()
        .map(|(v, t)| (v, (t.succeeded, t.failed)))
        .collect();
    assert_eq!(all["v1"], (1, 1));
    assert_eq!(all["v2"], (2, 1));
    let mine: std::collections::BTreeMap<String, (i64, i64)> = store
        .runbook_run_tallies_in(Some(&site_a))
        .await
        .unwrap()
        .into_iter()
        .map(|(v, t)| (v, (t.succeeded, t.failed)))
        .collect();
    assert_eq!(mine["v2"], (2, 0));
    assert_eq!(mine.len(), 2);
});

both_backends!(
    capability_flags_follow_the_environment_until_an_admin_sets_them,
    |store, _db| {
        use domain::{CapabilityFlag, Tier};
        let key = MasterKey::generate().unwrap();
        let mut new = new_device("edge");
        new.environment = Environment::Prod;
        let d = store.add_device(&new, &key, &ctx()).await.unwrap();
        assert_eq!(
            (d.allow_basic_writes, d.allow_professional_workflows),
            (None, None)
        );
        assert_eq!(
            d.capabilities().missing(Tier::Professional),
            vec![CapabilityFlag::ProfessionalWorkflows]
        );
        // Moved to staging, it follows staging's defaults.
        let staged = store
            .update_device(
                &d.id,
                &DevicePatch {
                    environment: Some(Environment::Staging),
                    ..DevicePatch::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        assert!(staged.capabilities().missing(Tier::Professional).is_empty());
        // An admin's setting outlives environment changes and is audited.
        let set = store
            .update_device(
                &d.id,
                &DevicePatch {
                    environment: Some(Environment::Prod),
                    allow_professional_workflows: Some(Some(true)),
                    allow_basic_writes: Some(Some(false)),
                    ..DevicePatch::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        assert_eq!(set.allow_professional_workflows, Some(true));
        assert_eq!(
            set.capabilities().missing(Tier::Basic),
            vec![CapabilityFlag::BasicWrites]
        );
        let event = &store
            .audit_events(&AuditFilter {
                action: Some("device.update".into()),
                limit: 1,
                ..AuditFilter::default()
            })
            .await
            .unwrap()[0];
        let changed = &event.details["changed"];
        assert_eq!(
            changed["allow_basic_writes"]["from"],
            serde_json::Value::Null
        );
        assert_eq!(changed["allow_basic_writes"]["to"], false);
        assert_eq!(changed["allow_professional_workflows"]["to"], true);
        // Back to the environment's default.
        let reset = store
            .update_device(
                &d.id,
                &DevicePatch {
                    allow_basic_writes: Some(None),
                    allow_professional_workflows: Some(None),
                    ..DevicePatch::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        assert_eq!(
            (reset.allow_basic_writes, reset.allow_professional_workflows),
            (None, None)
        );
        let reread = store.device_by_id(&d.id).await.unwrap();
        assert_eq!(
            reread.capabilities(),
            domain::Capabilities::default_for(Environment::Prod)
        );
    }
);
