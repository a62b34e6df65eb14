//! Answers from a device are read with a size cap: an answer over it fails as a `device_error`
//! naming the device and the limit, and never grows a buffer without bound. The default cap
//! leaves room for the largest answer of the simulator's edge profile (20,000 routes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::time::Duration;

use domain::DeviceId;
use routeros::error::MAX_ANSWER_BYTES;
use routeros::rest::RestDriver;
use routeros::{Driver, Fingerprint, MenuPath, PrintQuery, SshDriver, Target, Trust};
use routeros_sim::{Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

async fn edge() -> Fleet {
    Fleet::start(FleetOptions {
        count: 1,
        profiles: vec![Profile::Edge],
        seed: 11,
        base_address: Ipv4Addr::new(127, 31, 1, 1),
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

const TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_the_cap_fails_naming_the_device_and_the_limit() {
    let sims = edge().await;
    let m = sims.manifest().devices[0].clone();
    let routes = MenuPath::parse("ip/route").unwrap();
    let identity = MenuPath::parse("system/identity").unwrap();
    let rest = RestDriver::new(&target(&m), TIMEOUT)
        .unwrap()
        .with_max_answer_bytes(64 * 1024);
    let ssh = SshDriver::new(&target(&m), TIMEOUT).with_max_answer_bytes(64 * 1024);
    let drivers: [(&str, &dyn Driver); 2] = [("rest", &rest), ("ssh", &ssh)];
    for (kind, driver) in drivers {
        let e = tokio::time::timeout(TIMEOUT, driver.print(&routes, &PrintQuery::all()))
            .await
            .unwrap_or_else(|_| panic!("{kind}: the oversized read did not end"))
            .expect_err("20,000 routes do not fit in 64 KiB");
        assert_eq!(e.kind.code(), "device_error", "{kind}: {e}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("device {}: ", m.name))
                && text.contains("larger than the 65536-byte limit"),
            "{kind}: {text}"
        );
        // A small answer still reads, on the same driver.
        let me = tokio::time::timeout(TIMEOUT, driver.print(&identity, &PrintQuery::all()))
            .await
            .unwrap_or_else(|_| panic!("{kind}: the next read did not end"))
            .unwrap();
        assert_eq!(me.len(), 1, "{kind}");
    }
    sims.shutdown().await;
}

/// The default cap fits the biggest read the edge profile offers, with room to spare; the
/// sizes are printed for the record (`--nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cap_fits_the_edge_profile_with_margin() {
    let sims = edge().await;
    let m = sims.manifest().devices[0].clone();
    let rest = RestDriver::new(&target(&m), TIMEOUT).unwrap();
    let ssh = SshDriver::new(&target(&m), TIMEOUT);
    for menu in ["ip/route", "ip/firewall/filter", "ip/firewall/address-list"] {
        let menu = MenuPath::parse(menu).unwrap();
        let records = rest.print(&menu, &PrintQuery::all()).await.unwrap();
        let json_bytes = serde_json::to_vec(&records).unwrap().len();
        eprintln!(
            "{menu}: {} records, {json_bytes} bytes as JSON",
            records.len()
        );
        assert!(
            json_bytes * 3 < MAX_ANSWER_BYTES,
            "{menu} ({json_bytes} bytes) leaves too little margin under the cap"
        );
        let over_ssh = ssh.print(&menu, &PrintQuery::all()).await.unwrap();
        assert_eq!(over_ssh.len(), records.len(), "{menu}");
    }
    sims.shutdown().await;
}
