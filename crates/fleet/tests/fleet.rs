//! Onboarding, testing and on-device credential rotation against routeros-sim, with a real
//! registry (SQLite; PostgreSQL is exercised by the registry suite).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
use fleet::{Fleet, TrustMode};
use routeros::{Connections, Fingerprint, Limits, MenuPath, PrintQuery};
use routeros_sim::{Faults, ManifestDevice, profiles::Profile};
use store::testing::TestDatabase;
use store::{AuditContext, AuditFilter, NewDevice};
use vault::{MasterKey, SecretString};

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

struct Setup {
    sims: routeros_sim::Fleet,
    fleet: Fleet,
    _db: TestDatabase,
}

async fn setup() -> Setup {
    let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
        count: 2,
        profiles: vec![Profile::Home],
        seed: 3,
        base_address: Ipv4Addr::new(127, 40, NEXT_BLOCK.fetch_add(1, Ordering::SeqCst), 1),
        ..routeros_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let limits = Limits {
        timeout: Duration::from_millis(1500),
        read_retries: 0,
        ..Limits::default()
    };
    let fleet = Fleet::new(
        store,
        Arc::new(MasterKey::generate().unwrap()),
        Arc::new(Connections::new(limits, None)),
    );
    Setup {
        sims,
        fleet,
        _db: db,
    }
}

fn ctx() -> AuditContext {
    AuditContext::new("test:fleet")
}

fn new_device(m: &ManifestDevice, pins: bool) -> NewDevice {
    NewDevice {
        id: DeviceId::new(),
        project: ProjectRef::default(),
        name: m.name.parse().unwrap(),
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
        tls_cert_sha256: pins.then(|| Fingerprint::parse(&m.tls_sha256).unwrap().hex()),
        ssh_host_key_sha256: pins
            .then(|| Fingerprint::parse(&m.ssh_host_key_sha256).unwrap().hex()),
        facts: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_with_pins_learns_the_facts() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let onboarded = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap();
    let d = &onboarded.device;
    assert_eq!(d.identity.as_deref(), Some(m.identity.as_str()));
    assert!(
        d.routeros_version.as_deref().unwrap().starts_with("7."),
        "{:?}",
        d.routeros_version
    );
    assert!(d.board.is_some() && d.architecture.is_some());
    assert!(d.last_seen_at.is_some());
    assert_eq!(onboarded.probes.len(), 2);
    assert!(
        onboarded
            .probes
            .iter()
            .all(|p| p.reachable && p.rtt_ms.is_some())
    );
    // Usable right away.
    let client = s.fleet.client(d).await.unwrap();
    client
        .print(
            &MenuPath::parse("system/identity").unwrap(),
            &PrintQuery::all(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_on_first_use_records_what_was_presented() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let d = s
        .fleet
        .onboard(
            new_device(&m, false),
            TrustMode::FirstUseWhereUnpinned,
            &ctx(),
        )
        .await
        .unwrap()
        .device;
    assert_eq!(
        d.tls_cert_sha256.as_deref(),
        Some(Fingerprint::parse(&m.tls_sha256).unwrap().hex().as_str())
    );
    assert_eq!(
        d.ssh_host_key_sha256.as_deref(),
        Some(
            Fingerprint::parse(&m.ssh_host_key_sha256)
                .unwrap()
                .hex()
                .as_str()
        )
    );
    let event = &s
        .fleet
        .store()
        .audit_events(&AuditFilter {
            action: Some("device.add".into()),
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        event.details["tls_cert_sha256"],
        serde_json::json!(d.tls_cert_sha256)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_fails_its_checks_is_never_added() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let mut wrong_pin = new_device(&m, true);
    wrong_pin.tls_cert_sha256 = Some("00".repeat(32));
    wrong_pin.driver = DriverPreference::Rest;
    let e = s
        .fleet
        .onboard(wrong_pin, TrustMode::Registry, &ctx())
        .await
        .unwrap_err();
    assert!(
        e.reason.contains("TLS certificate mismatch") && e.reason.contains(&"00".repeat(32)),
        "{}",
        e.reason
    );

    let mut wrong_password = new_device(&m, true);
    wrong_password.password = SecretString::from("not-it".to_owned());
    let e = s
        .fleet
        .onboard(wrong_password, TrustMode::Registry, &ctx())
        .await
        .unwrap_err();
    assert!(e.reason.contains("authentication failed"), "{}", e.reason);
    assert!(!e.reason.contains("not-it"));

    let mut unreachable = new_device(&m, true);
    unreachable.rest_port = "1".parse().unwrap();
    unreachable.ssh_port = "1".parse().unwrap();
    let e = s
        .fleet
        .onboard(unreachable, TrustMode::Registry, &ctx())
        .await
        .unwrap_err();
    assert!(e.reason.contains("could not be reached"), "{}", e.reason);
    assert_eq!(e.probes.len(), 2);

    let mut prod_http = new_device(&m, true);
    prod_http.insecure_http = true;
    prod_http.environment = Environment::Prod;
    let e = s
        .fleet
        .onboard(prod_http, TrustMode::Registry, &ctx())
        .await
        .unwrap_err();
    assert!(e.reason.contains("plain HTTP is refused"), "{}", e.reason);

    assert!(
        s.fleet
            .store()
            .list_devices(&store::DeviceFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.fleet
            .store()
            .audit_events(&AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_a_device_updates_facts_and_fills_only_missing_pins() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let mut half = new_device(&m, true);
    half.ssh_host_key_sha256 = None;
    let d = s
        .fleet
        .onboard(half, TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    assert!(d.ssh_host_key_sha256.is_none());
    let tested = s.fleet.test(&d, TrustMode::Registry, &ctx()).await.unwrap();
    let ssh = tested.probes.iter().find(|p| p.driver == "ssh").unwrap();
    assert!(
        !ssh.reachable && ssh.error_kind == Some("trust_mismatch"),
        "{ssh:?}"
    );
    let tested = s
        .fleet
        .test(&d, TrustMode::FirstUseWhereUnpinned, &ctx())
        .await
        .unwrap();
    assert!(tested.probes.iter().all(|p| p.reachable));
    assert!(tested.device.ssh_host_key_sha256.is_some());
    // After a re-key, first-use trust does not override the recorded pin.
    s.sims.device(&m.name).unwrap().regenerate_keys().unwrap();
    let tested = s
        .fleet
        .test(&tested.device, TrustMode::FirstUseWhereUnpinned, &ctx())
        .await
        .unwrap();
    assert!(
        tested
            .probes
            .iter()
            .all(|p| !p.reachable && p.error_kind == Some("trust_mismatch"))
    );
    assert_eq!(
        tested.device.tls_cert_sha256.as_deref(),
        Some(Fingerprint::parse(&m.tls_sha256).unwrap().hex().as_str())
    );
}

async fn users(s: &Setup, name: &str) -> Vec<(String, String)> {
    let dev = s.sims.device(name).unwrap();
    let dump = serde_json::to_value(dev.state_dump(false)).unwrap();
    dump["/user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_owned(),
                u["disabled"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_the_device_switches_users_safely() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let d = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    let outcome = s.fleet.rotate_on_device(&d, &ctx()).await.unwrap();
    assert_eq!(outcome.old_username, "admin");
    assert!(outcome.new_username.starts_with("admin-"));
    assert!(outcome.old_user_disabled.is_ok());
    assert_eq!(outcome.credential_version, 2);
    let on_device = users(&s, &m.name).await;
    assert!(
        on_device.contains(&("admin".into(), "true".into())),
        "{on_device:?}"
    );
    assert!(
        on_device.contains(&(outcome.new_username.clone(), "false".into())),
        "{on_device:?}"
    );
    // The stored login is the new one and works; the old password no longer does.
    let d = s.fleet.store().device_by_id(&d.id).await.unwrap();
    assert_eq!(d.username.as_deref(), Some(outcome.new_username.as_str()));
    let client = s.fleet.client(&d).await.unwrap();
    client
        .print(
            &MenuPath::parse("system/identity").unwrap(),
            &PrintQuery::all(),
        )
        .await
        .unwrap();
    let stored = s
        .fleet
        .store()
        .credentials(&d, &MasterKey::generate().unwrap())
        .await;
    assert!(stored.is_err(), "another key cannot read it");
    let events = s
        .fleet
        .store()
        .audit_events(&AuditFilter {
            action: Some("device.rotate_credentials".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        2,
        "the stored version and the on-device switch"
    );
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains(&m.password)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_user_creation_leaves_the_old_login_in_place() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let d = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    s.sims.device(&m.name).unwrap().set_faults(Faults {
        fail_write: Some(1),
        ..Faults::none()
    });
    s.fleet.rotate_on_device(&d, &ctx()).await.unwrap_err();
    assert_eq!(
        users(&s, &m.name).await,
        vec![("admin".to_owned(), "false".to_owned())]
    );
    let d = s.fleet.store().device_by_id(&d.id).await.unwrap();
    assert_eq!(
        (d.username.as_deref(), d.credential_version),
        (Some("admin"), Some(1))
    );
    let client = s.fleet.client(&d).await.unwrap();
    client
        .print(
            &MenuPath::parse("system/identity").unwrap(),
            &PrintQuery::all(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verification_removes_the_new_user_and_keeps_the_old() {
    let s = setup().await;
    let m = s.sims.manifest().devices[1].clone();
    let d = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    let dev = s.sims.device(&m.name).unwrap();
    // The new user is created, then the device refuses every login: the check of the new login
    // fails; the clean-up goes over the old client's connection.
    let client = s.fleet.client(&d).await.unwrap();
    client
        .print(&MenuPath::parse("user").unwrap(), &PrintQuery::all())
        .await
        .unwrap();
    dev.set_faults(Faults {
        reject_auth: true,
        ..Faults::none()
    });
    let err = s.fleet.rotate_on_device(&d, &ctx()).await.unwrap_err();
    dev.set_faults(Faults::none());
    let text = err.to_string();
    assert!(
        text.contains("could not log in") || text.contains("authentication failed"),
        "{text}"
    );
    let d = s.fleet.store().device_by_id(&d.id).await.unwrap();
    assert_eq!(
        (d.username.as_deref(), d.credential_version),
        (Some("admin"), Some(1))
    );
    let on_device = users(&s, &m.name).await;
    assert!(
        on_device.contains(&("admin".to_owned(), "false".to_owned())),
        "{on_device:?}"
    );
    // The device refused the clean-up as well, so the leftover user is named for the operator.
    if on_device.len() > 1 {
        assert!(
            text.contains("could not be removed") && text.contains(&on_device[1].0),
            "{text}"
        );
    }
    client
        .print(
            &MenuPath::parse("system/identity").unwrap(),
            &PrintQuery::all(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_new_login_is_removed_over_the_existing_session() {
    let s = setup().await;
    let m = s.sims.manifest().devices[1].clone();
    let mut new = new_device(&m, true);
    new.driver = DriverPreference::Ssh;
    let d = s
        .fleet
        .onboard(new, TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    let dev = s.sims.device(&m.name).unwrap();
    // The current login's SSH session is open; from now on the device refuses new logins, so the
    // check of the new user fails while the clean-up still goes through the open session.
    let client = s.fleet.client(&d).await.unwrap();
    client
        .print(&MenuPath::parse("user").unwrap(), &PrintQuery::all())
        .await
        .unwrap();
    dev.set_faults(Faults {
        reject_auth: true,
        ..Faults::none()
    });
    let err = s.fleet.rotate_on_device(&d, &ctx()).await.unwrap_err();
    dev.set_faults(Faults::none());
    assert!(err.to_string().contains("could not log in"), "{err}");
    assert!(!err.to_string().contains("could not be removed"), "{err}");
    assert_eq!(
        users(&s, &m.name).await,
        vec![("admin".to_owned(), "false".to_owned())],
        "the new user is gone"
    );
    let d = s.fleet.store().device_by_id(&d.id).await.unwrap();
    assert_eq!(
        (d.username.as_deref(), d.credential_version),
        (Some("admin"), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_disable_keeps_the_new_login_and_says_the_old_user_is_still_enabled() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let d = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    // Write 1 creates the new user; write 2 (disabling the old one) fails.
    s.sims.device(&m.name).unwrap().set_faults(Faults {
        fail_write: Some(2),
        ..Faults::none()
    });
    let outcome = s.fleet.rotate_on_device(&d, &ctx()).await.unwrap();
    assert!(outcome.old_user_disabled.is_err());
    let on_device = users(&s, &m.name).await;
    assert!(
        on_device.contains(&("admin".to_owned(), "false".to_owned())),
        "{on_device:?}"
    );
    assert!(
        on_device.contains(&(outcome.new_username.clone(), "false".to_owned())),
        "{on_device:?}"
    );
    let d = s.fleet.store().device_by_id(&d.id).await.unwrap();
    assert_eq!(d.username.as_deref(), Some(outcome.new_username.as_str()));
    let client = s.fleet.client(&d).await.unwrap();
    client
        .print(
            &MenuPath::parse("system/identity").unwrap(),
            &PrintQuery::all(),
        )
        .await
        .unwrap();
}

/// A device resolved once is served from memory on the next call, and any change to it made by
/// another process sharing the database (a second store on the same file) is seen on the very
/// next call: no decommissioned device is contacted, a rotated password is used at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_device_is_reused_until_another_process_changes_it() {
    let s = setup().await;
    let m = s.sims.manifest().devices[0].clone();
    let d = s
        .fleet
        .onboard(new_device(&m, true), TrustMode::Registry, &ctx())
        .await
        .unwrap()
        .device;
    let name = d.name.to_string();
    let (_, first) = s.fleet.find(None, &name).await.unwrap();
    let (_, again) = s.fleet.find(None, &name).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "an unchanged device is not resolved again"
    );

    // A last-seen update is an observation, not a change.
    s.fleet.store().mark_seen(&d.id).await.unwrap();
    let (_, seen) = s.fleet.find(None, &name).await.unwrap();
    assert!(Arc::ptr_eq(&first, &seen));

    // Another process rotates the stored password (same database file, its own pool).
    let other = s._db.store().await;
    other
        .rotate_credentials(
            &d.id,
            None,
            &SecretString::from("R0tated-elsewhere".to_owned()),
            s.fleet.master_key(),
            &ctx(),
        )
        .await
        .unwrap();
    let (_, rotated) = s.fleet.find(None, &name).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &rotated));
    assert_eq!(
        vault::ExposeSecret::expose_secret(&rotated.target().password),
        "R0tated-elsewhere",
        "the next call uses the rotated password"
    );

    // Another process decommissions it: the next call by name finds nothing, by id is refused.
    other.decommission_device(&d.id, &ctx()).await.unwrap();
    let by_name = s.fleet.find(None, &name).await.unwrap_err();
    assert!(
        by_name.to_string().contains("not found") || by_name.to_string().contains("no device"),
        "{by_name}"
    );
    let by_id = s.fleet.find(None, &d.id.to_string()).await.unwrap_err();
    assert!(by_id.to_string().contains("decommissioned"), "{by_id}");
    other.close().await;
}
