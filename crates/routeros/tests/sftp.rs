//! `/system backup save` through both drivers and file downloads over SFTP, against
//! routeros-sim on loopback: the bytes the device wrote come back exactly, and each failure
//! (missing file, too large, refused, bad credentials, wrong host key) has its own error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use domain::{DeviceId, DriverPreference};
use routeros::{
    Connections, DeviceClient, DownloadLimits, ErrorKind, Fingerprint, Limits, MenuPath,
    PrintQuery, RosId, Target, TransferError, Trust,
};
use routeros_sim::{Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

async fn fleet() -> Fleet {
    let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
    Fleet::start(FleetOptions {
        count: 1,
        profiles: vec![Profile::Home],
        seed: 11,
        base_address: Ipv4Addr::new(127, 31, block, 1),
        key_seed: Some(5),
        ..FleetOptions::default()
    })
    .await
    .unwrap()
}

fn target(m: &ManifestDevice) -> Target {
    Target {
        device_id: DeviceId::new(),
        name: m.name.clone(),
        host: m.address.parse().unwrap(),
        rest_port: m.https_port,
        http_port: m.http_port,
        ssh_port: m.ssh_port,
        username: m.username.clone(),
        password: SecretString::from(m.password.clone()),
        tls: Trust::Pinned(Fingerprint::parse(&m.tls_sha256).unwrap()),
        ssh: Trust::Pinned(Fingerprint::parse(&m.ssh_host_key_sha256).unwrap()),
        insecure_http: false,
    }
}

fn client(t: Target, pref: DriverPreference) -> Arc<DeviceClient> {
    let conns = Connections::new(
        Limits {
            timeout: Duration::from_secs(5),
            ..Limits::default()
        },
        None,
    );
    conns.client(t, pref, Some("7.16"))
}

fn limits(max_bytes: u64) -> DownloadLimits {
    DownloadLimits {
        max_bytes,
        timeout: Duration::from_secs(20),
    }
}

async fn file_ids(c: &DeviceClient) -> Vec<(String, RosId)> {
    c.print(&MenuPath::parse("file").unwrap(), &PrintQuery::all())
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r["name"].clone(),
                RosId::parse(r.get(".id").unwrap()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_backup_saved_by_either_driver_downloads_byte_for_byte() {
    let fleet = fleet().await;
    let m = fleet.manifest().devices[0].clone();
    let dev = fleet.device(&m.name).unwrap();
    for (pref, name) in [
        (DriverPreference::Rest, "via-rest"),
        (DriverPreference::Ssh, "via-ssh"),
    ] {
        let c = client(target(&m), pref);
        let password = SecretString::from(format!("pw-{name}-x9"));
        c.save_backup(name, &password).await.unwrap();
        let file = format!("{name}.backup");
        let bytes = c.download(&file, limits(1 << 20)).await.unwrap();
        assert_eq!(Some(bytes.clone()), dev.read_state(|s| s.read_file(&file)));
        assert!(dev.read_state(|s| routeros_sim::backup::is_backup_of(
            s,
            &bytes,
            Some(&format!("pw-{name}-x9"))
        )));
        c.invalidate_cache();
        let (_, id) = file_ids(&c)
            .await
            .into_iter()
            .find(|(n, _)| *n == file)
            .unwrap();
        c.remove(&MenuPath::parse("file").unwrap(), &id)
            .await
            .unwrap();
    }
    assert!(dev.read_state(|s| s.file_list()).is_empty());
    fleet.shutdown().await;
}

#[tokio::test]
async fn each_download_failure_has_its_own_error() {
    let fleet = fleet().await;
    let m = fleet.manifest().devices[0].clone();
    let dev = fleet.device(&m.name).unwrap();
    dev.write_state(|s| s.write_file("big.backup", &[7u8; 5000]))
        .unwrap();
    let c = client(target(&m), DriverPreference::Rest);

    let err = c
        .download("absent.backup", limits(1 << 20))
        .await
        .unwrap_err();
    assert!(matches!(&err, TransferError::Missing { path, .. } if path == "absent.backup"));
    assert!(
        err.to_string().contains("no file \"absent.backup\""),
        "{err}"
    );

    let err = c.download("big.backup", limits(4096)).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::TooLarge {
                size: 5000,
                limit: 4096,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("4096-byte limit"), "{err}");
    assert_eq!(
        c.download("big.backup", limits(5000)).await.unwrap().len(),
        5000
    );

    // A path outside the file list is refused before anything is sent.
    let err = c
        .download("../etc/passwd", limits(1 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::Driver(e) if matches!(e.kind, ErrorKind::InvalidRequest(_))),
        "{err:?}"
    );

    let mut wrong_password = target(&m);
    wrong_password.password = SecretString::from("not-it".to_string());
    let err = client(wrong_password, DriverPreference::Rest)
        .download("big.backup", limits(1 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::Driver(e) if matches!(e.kind, ErrorKind::AuthFailed { .. })),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-it"));

    let mut wrong_key = target(&m);
    wrong_key.ssh = Trust::Pinned(Fingerprint::of(b"another key"));
    let err = client(wrong_key, DriverPreference::Rest)
        .download("big.backup", limits(1 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TransferError::Driver(e) if matches!(e.kind, ErrorKind::TrustMismatch { .. })),
        "{err:?}"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_user_without_the_ftp_policy_is_refused_sftp() {
    let fleet = fleet().await;
    let m = fleet.manifest().devices[0].clone();
    let dev = fleet.device(&m.name).unwrap();
    dev.write_state(|s| {
        let group = routeros_sim::model::menu("/user/group").unwrap();
        s.add(
            group,
            &[("name", "noftp"), ("policy", "ssh,read,write,sensitive")],
        )
        .unwrap();
        let user = routeros_sim::model::menu("/user").unwrap();
        s.add(
            user,
            &[
                ("name", "ops"),
                ("group", "noftp"),
                ("password", "ops-pass"),
            ],
        )
        .unwrap();
        s.write_file("a.backup", b"bytes").unwrap();
    });
    let mut t = target(&m);
    t.username = "ops".into();
    t.password = SecretString::from("ops-pass".to_string());
    let err = client(t, DriverPreference::Ssh)
        .download("a.backup", limits(1 << 20))
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains("ftp policy"), "{err}");
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_bad_backup_name_is_refused_before_the_device_is_asked() {
    let fleet = fleet().await;
    let m = fleet.manifest().devices[0].clone();
    let dev = fleet.device(&m.name).unwrap();
    for pref in [DriverPreference::Rest, DriverPreference::Ssh] {
        let c = client(target(&m), pref);
        for bad in ["a b", "x;/system/reboot", "../up", ""] {
            let err = c
                .save_backup(bad, &SecretString::from("p".to_string()))
                .await
                .unwrap_err();
            assert!(
                matches!(err.kind, ErrorKind::InvalidRequest(_)),
                "{bad}: {err}"
            );
        }
    }
    assert!(dev.read_state(|s| s.file_list()).is_empty());
    fleet.shutdown().await;
}
