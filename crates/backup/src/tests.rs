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
