//! Captures against the simulator: dedup, attribution, drift after a change made on the
//! router's own REST API, retention, and encryption at rest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
use routeros::{Connections, Fingerprint, Limits};
use routeros_sim::profiles::Profile;
use store::testing::TestDatabase;
use store::{AuditContext, AuditFilter, NewDevice};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vault::{MasterKey, SecretString};

use super::*;

struct Lab {
    sims: routeros_sim::Fleet,
    fleet: fleet::Fleet,
    device: Device,
    _db: TestDatabase,
}

static NEXT_BLOCK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

async fn lab(db: TestDatabase) -> Lab {
    let block = NEXT_BLOCK.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
        count: 1,
        profiles: vec![Profile::Home],
        seed: 7,
        base_address: Ipv4Addr::new(127, 91, block, 1),
        ..routeros_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let store = db.store().await;
    let fleet = fleet::Fleet::new(
        store.clone(),
        Arc::new(MasterKey::generate().unwrap()),
        Arc::new(Connections::new(
            Limits {
                timeout: Duration::from_secs(5),
                read_retries: 0,
                ..Limits::default()
            },
            None,
        )),
    );
    let m = &sims.manifest().devices[0];
    let new = NewDevice {
        id: DeviceId::new(),
        project: ProjectRef::default(),
        name: "r1".parse().unwrap(),
        address: m.address.parse().unwrap(),
        rest_port: i64::from(m.https_port).try_into().unwrap(),
        ssh_port: i64::from(m.ssh_port).try_into().unwrap(),
        http_port: None,
        insecure_http: false,
        driver: DriverPreference::Auto,
        environment: Environment::Lab,
        tags: vec![],
        username: m.username.clone(),
        password: SecretString::from(m.password.clone()),
        tls_cert_sha256: Some(Fingerprint::parse(&m.tls_sha256).unwrap().hex()),
        ssh_host_key_sha256: Some(Fingerprint::parse(&m.ssh_host_key_sha256).unwrap().hex()),
        facts: None,
    };
    fleet
        .onboard(new, fleet::TrustMode::Registry, &AuditContext::new("test"))
        .await
        .unwrap_or_else(|e| panic!("{}", e.reason));
    let device = store.find_device(None, "r1").await.unwrap();
    Lab {
        sims,
        fleet,
        device,
        _db: db,
    }
}

impl Lab {
    /// A change made on the router itself, over its plain-HTTP REST API: `PUT /rest/<menu>`.
    async fn rest_add(&self, menu: &str, body: &str) {
        let m = &self.sims.manifest().devices[0];
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", m.username, m.password));
        let request = format!(
            "PUT /rest/{menu} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            m.address,
            body.len()
        );
        let mut conn = tokio::net::TcpStream::connect((m.address.as_str(), m.http_port))
            .await
            .unwrap();
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }

    async fn drift_events(&self) -> usize {
        self.fleet
            .store()
            .audit_events(&AuditFilter::default())
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == DRIFT_DETECTED)
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_configuration_is_stored_once_and_outside_changes_are_drift() {
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    let store = lab.fleet.store();
    let id = lab.device.id.to_string();

    let first = backups
        .capture(&lab.device, Trigger::Operator)
        .await
        .unwrap();
    assert!(first.stored);
    assert_eq!(first.cause, "baseline");
    assert!(first.drift.is_none());
    let again = backups
        .capture(&lab.device, Trigger::Schedule)
        .await
        .unwrap();
    assert!(!again.stored, "same configuration, no new snapshot");
    assert_eq!(again.snapshot_id, first.snapshot_id);
    assert_eq!(store.snapshot_count(&id).await.unwrap(), 1);

    // Someone adds a DNS entry on the router itself.
    lab.rest_add(
        "ip/dns/static",
        r#"{"name":"rogue.lan","address":"10.6.6.6"}"#,
    )
    .await;
    let changed = backups
        .capture(&lab.device, Trigger::Schedule)
        .await
        .unwrap();
    assert!(changed.stored);
    assert_eq!(changed.cause, "outside");
    assert_eq!(changed.changed_menus, ["/ip dns static"]);
    let drift = changed.drift.clone().unwrap();
    assert_eq!(drift.menus, ["/ip dns static"]);
    assert_eq!(drift.baseline_id, first.snapshot_id);
    assert!(changed.drift_first_seen);
    assert_eq!(lab.drift_events().await, 1);

    // Checked again: still drift, since the same time, audited once.
    let later = backups
        .capture(&lab.device, Trigger::DriftCheck)
        .await
        .unwrap();
    assert!(!later.stored);
    assert!(!later.drift_first_seen);
    assert_eq!(later.drift.unwrap().since, drift.since);
    assert_eq!(lab.drift_events().await, 1, "audited when first seen only");
    let row = store.drift_get(&id).await.unwrap().unwrap();
    assert_eq!(row.menus, r#"["/ip dns static"]"#);
    let snap = store
        .snapshot_get(&changed.snapshot_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.since, snap.taken_at);
    assert!(snap.content.contains("name=rogue.lan"));
    assert!(!snap.content.contains(" by RouterOS "), "date line dropped");
    let checks = store.check_list().await.unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].status, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_on_postgres_too() {
    let Some(db) = TestDatabase::postgres("backup_drift").await else {
        return;
    };
    let lab = lab(db).await;
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    backups
        .capture(&lab.device, Trigger::Operator)
        .await
        .unwrap();
    lab.rest_add(
        "ip/firewall/address-list",
        r#"{"list":"x","address":"10.1.1.1"}"#,
    )
    .await;
    let c = backups
        .capture(&lab.device, Trigger::Schedule)
        .await
        .unwrap();
    assert_eq!(c.drift.unwrap().menus, ["/ip firewall address-list"]);
    backups
        .capture(&lab.device, Trigger::Schedule)
        .await
        .unwrap();
    assert_eq!(lab.drift_events().await, 1);
    assert_eq!(lab.fleet.store().drift_list().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_newest_and_the_baseline() {
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(
        lab.fleet.clone(),
        BackupOptions {
            keep: 2,
            ..BackupOptions::default()
        },
    );
    let id = lab.device.id.to_string();
    let base = backups
        .capture(&lab.device, Trigger::Operator)
        .await
        .unwrap();
    let mut last = None;
    for i in 0..4 {
        lab.rest_add(
            "ip/dns/static",
            &format!(r#"{{"name":"h{i}.lan","address":"10.6.6.{i}"}}"#),
        )
        .await;
        last = Some(
            backups
                .capture(&lab.device, Trigger::Schedule)
                .await
                .unwrap(),
        );
    }
    let store = lab.fleet.store();
    let kept: Vec<String> = store
        .snapshot_list(&id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    // Newest two, and the baseline drift is measured against (plus the first drifted one, which
    // the drift record points at as "since").
    assert!(kept.contains(&last.unwrap().snapshot_id));
    assert!(kept.contains(&base.snapshot_id), "baseline kept");
    assert!(kept.len() <= 4, "{kept:?}");
    assert!(kept.len() < 5, "pruned");

    // By age: everything but the protected ones goes.
    let by_age = Backups::new(
        lab.fleet.clone(),
        BackupOptions {
            keep: 100,
            max_age: Some(Duration::ZERO),
            ..BackupOptions::default()
        },
    );
    lab.rest_add("ip/dns/static", r#"{"name":"z.lan","address":"10.6.7.1"}"#)
        .await;
    let c = by_age
        .capture(&lab.device, Trigger::Schedule)
        .await
        .unwrap();
    let left: Vec<String> = store
        .snapshot_list(&id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(left.contains(&c.snapshot_id));
    assert!(left.contains(&base.snapshot_id));
    assert_eq!(left.len(), 2, "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_snapshots_are_sealed_at_rest() {
    let lab = lab(TestDatabase::sqlite()).await;
    let wg_key = lab
        .sims
        .device(&lab.sims.manifest().devices[0].name)
        .unwrap()
        .read_state(|s| {
            s.items_of("/interface/wireguard")
                .find_map(|i| i.get("private-key").map(str::to_owned))
                .unwrap()
        });
    let backups = Backups::new(
        lab.fleet.clone(),
        BackupOptions {
            show_sensitive: true,
            ..BackupOptions::default()
        },
    );
    let c = backups
        .capture(&lab.device, Trigger::Operator)
        .await
        .unwrap();
    let row = lab
        .fleet
        .store()
        .snapshot_get(&c.snapshot_id)
        .await
        .unwrap()
        .unwrap();
    assert!(row.key_id.is_some());
    assert!(!row.content.contains(&wg_key), "ciphertext only");
    assert!(!row.content.contains("/interface wireguard"));
    assert!(!format!("{row:?}").contains(&row.content));
    let opened = backups.content(&row).unwrap();
    assert!(
        opened.contains(&wg_key),
        "show-sensitive export kept the key"
    );

    // The raw database file holds no plaintext either.
    let path = lab.fleet.store().sqlite_path().unwrap().to_owned();
    lab.fleet.store().close().await;
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
        bytes.extend(wal);
    }
    let needle = wg_key.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));

    // Moved to another row, the ciphertext does not open.
    let mut moved = row.clone();
    moved.id = "another".into();
    assert!(matches!(
        backups.content(&moved),
        Err(BackupError::Vault(_))
    ));
}

// ---------------------------------------------------------------- binary backups

impl Lab {
    fn sim(&self) -> Arc<routeros_sim::SimDevice> {
        self.sims
            .device(&self.sims.manifest().devices[0].name)
            .unwrap()
    }

    fn files_on_router(&self) -> Vec<String> {
        self.sim()
            .read_state(|s| s.file_list())
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_backup_is_fetched_sealed_and_removed_from_the_router() {
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    let taken = backups.binary(&lab.device, "cli:alice").await.unwrap();
    assert!(lab.files_on_router().is_empty(), "left on the router");

    let opened = backups.binary_open(&taken.backup_id, None).await.unwrap();
    let password = opened.password.expose_secret().to_owned();
    assert_eq!(password.len(), 64);
    assert_eq!(opened.file.len() as u64, taken.size_bytes);
    // Exactly the backup the router made of its configuration, with that password.
    assert!(lab.sim().read_state(|s| routeros_sim::backup::is_backup_of(
        s,
        &opened.file,
        Some(&password)
    )));
    let row = &opened.row;
    assert_eq!(row.requested_by, "cli:alice");
    assert!(!format!("{row:?}").contains(&row.content));

    // Audited with who asked, never the password.
    let events = lab
        .fleet
        .store()
        .audit_events(&AuditFilter::default())
        .await
        .unwrap();
    let saved = events
        .iter()
        .find(|e| e.action == BINARY_SAVED)
        .expect("audited");
    assert_eq!(saved.actor, "cli:alice");
    assert!(!saved.details.to_string().contains(&password));

    // Neither the file nor its password is in the database file or its WAL.
    let path = lab.fleet.store().sqlite_path().unwrap().to_owned();
    lab.fleet.store().close().await;
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
        bytes.extend(wal);
    }
    for needle in [password.as_bytes(), &opened.file[..64]] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_backup_of_another_project_or_a_bogus_id_is_refused() {
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    let taken = backups.binary(&lab.device, "cli:alice").await.unwrap();
    let other: ProjectRef = "acme/lab".parse().unwrap();
    for (id, project) in [
        (taken.backup_id.as_str(), Some(&other)),
        ("0193c1f2-0000-7000-8000-000000000000", None),
        ("../../etc/passwd", None),
    ] {
        let err = backups.binary_open(id, project).await.unwrap_err();
        assert!(matches!(err, BackupError::NotFound(_)), "{id}: {err}");
        assert!(err.to_string().contains("backup list"), "{err}");
    }
    let own = ProjectRef::default();
    assert!(
        backups
            .binary_open(&taken.backup_id, Some(&own))
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_binary_backup_leaves_nothing_on_the_router_nor_in_the_store() {
    let lab = lab(TestDatabase::sqlite()).await;
    let store = lab.fleet.store().clone();
    let device_id = lab.device.id.to_string();

    // Too large for the cap.
    let small = Backups::new(lab.fleet.clone(), BackupOptions::default()).with_binary_options(
        BinaryOptions {
            max_bytes: 100,
            timeout: Duration::from_secs(20),
        },
    );
    let err = small.binary(&lab.device, "cli:alice").await.unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::Transfer(routeros::TransferError::TooLarge { limit: 100, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("100-byte limit"), "{err}");
    assert!(lab.files_on_router().is_empty());

    // SFTP refused: the device user's group lost the ftp policy.
    lab.sim().write_state(|s| {
        let group = routeros_sim::model::menu("/user/group").unwrap();
        s.add(
            group,
            &[
                ("name", "noftp"),
                ("policy", "ssh,read,write,rest-api,sensitive,policy,test"),
            ],
        )
        .unwrap();
        let user = routeros_sim::model::menu("/user").unwrap();
        let id = s.resolve(user, "admin").unwrap();
        s.set(user, Some(id), &[("group", "noftp")]).unwrap();
    });
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    let err = backups.binary(&lab.device, "cli:alice").await.unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::Transfer(routeros::TransferError::Refused { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ftp policy"), "{err}");
    assert!(lab.files_on_router().is_empty());

    // Unreachable: nothing saved, a clear error.
    lab.sims.shutdown().await;
    let err = backups.binary(&lab.device, "cli:alice").await.unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");

    assert!(
        store
            .binary_backup_list(&device_id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_backups_follow_retention() {
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(
        lab.fleet.clone(),
        BackupOptions {
            keep: 2,
            ..BackupOptions::default()
        },
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(backups.binary(&lab.device, "cli:alice").await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ids[2].pruned, 1);
    let left: Vec<String> = lab
        .fleet
        .store()
        .binary_backup_list(&lab.device.id.to_string(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        left,
        vec![ids[2].backup_id.clone(), ids[1].backup_id.clone()]
    );
}

/// Captures the product's own log lines at trace level.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_backup_password_never_reaches_the_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    let captured = Captured::default();
    let sink = captured.clone();
    let targets = tracing_subscriber::filter::Targets::new()
        .with_target("backup", tracing::Level::TRACE)
        .with_target("routeros", tracing::Level::TRACE)
        .with_target("fleet", tracing::Level::TRACE)
        .with_target("store", tracing::Level::TRACE)
        .with_target("vault", tracing::Level::TRACE)
        .with_target("sqlx", tracing::Level::TRACE);
    let subscriber = tracing_subscriber::registry().with(targets).with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || sink.clone()),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let lab = lab(TestDatabase::sqlite()).await;
    let backups = Backups::new(lab.fleet.clone(), BackupOptions::default());
    let taken = backups.binary(&lab.device, "cli:alice").await.unwrap();
    let opened = backups.binary_open(&taken.backup_id, None).await.unwrap();
    tracing::trace!(target: "backup", "marker line");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("marker line"), "capture works");
    assert!(
        logs.contains("binary backup stored"),
        "the backup's own lines captured"
    );
    assert!(logs.contains("saving a binary backup"), "{logs}");
    assert!(!logs.contains(opened.password.expose_secret()));
}
