//! Idle connections: a device without calls for the idle time has its connections closed (the
//! simulator sees its side of the TCP connection go), and the next call opens new ones without
//! the caller noticing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use domain::{DeviceId, DriverPreference};
use routeros::{Connections, Fingerprint, Limits, MenuPath, PrintQuery, Target, Trust};
use routeros_sim::{Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

async fn sims(block: u8) -> Fleet {
    Fleet::start(FleetOptions {
        count: 2,
        profiles: vec![Profile::Home],
        seed: 3,
        base_address: Ipv4Addr::new(127, 33, block, 1),
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

/// Established TCP connections whose local end is `address:port` — the simulator's side of
/// the connections clients hold to it (Linux `/proc/net/tcp`).
fn established_to(address: &str, port: u16) -> usize {
    let ip: Ipv4Addr = address.parse().unwrap();
    // The kernel prints the address as the little-endian hex of its 32-bit value.
    let local = format!("{:08X}:{port:04X}", u32::from_le_bytes(ip.octets()));
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"01")
        })
        .count()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_and_the_next_call_reopens_them() {
    let sims = sims(1).await;
    let manifest = sims.manifest();
    let limits = Limits {
        idle: Duration::from_millis(600),
        ..Limits::default()
    };
    let conns = Arc::new(Connections::new(limits, None));
    let identity = MenuPath::parse("system/identity").unwrap();
    let (rest_m, ssh_m) = (&manifest.devices[0], &manifest.devices[1]);
    let rest = conns.client(target(rest_m), DriverPreference::Rest, Some("7.16"));
    let ssh = conns.client(target(ssh_m), DriverPreference::Ssh, Some("7.16"));
    let accepted = |m: &ManifestDevice| {
        let c = sims.device(&m.name).unwrap().counters().snapshot();
        (c.https_connections, c.ssh_connections)
    };
    for _ in 0..3 {
        rest.print(&identity, &PrintQuery::all()).await.unwrap();
        ssh.print(&identity, &PrintQuery::all()).await.unwrap();
    }
    assert_eq!(conns.open_devices(), 2);
    assert_eq!(accepted(rest_m), (1, 0), "calls share one connection");
    assert_eq!(accepted(ssh_m), (0, 1));
    assert_eq!(established_to(&rest_m.address, rest_m.https_port), 1);
    assert_eq!(established_to(&ssh_m.address, ssh_m.ssh_port), 1);

    // Not idle long enough: nothing closes.
    assert_eq!(conns.close_idle(), 0);
    assert_eq!(conns.open_devices(), 2);

    // Idle: both closed, and the routers see their side go.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(conns.close_idle(), 2);
    assert_eq!(conns.open_devices(), 0);
    eventually("the REST connection closing", || {
        established_to(&rest_m.address, rest_m.https_port) == 0
    })
    .await;
    eventually("the SSH session closing", || {
        established_to(&ssh_m.address, ssh_m.ssh_port) == 0
    })
    .await;

    // The same clients go on working over new connections.
    let again = rest.print(&identity, &PrintQuery::all()).await.unwrap();
    assert_eq!(again[0]["name"], "sim-0001");
    ssh.print(&identity, &PrintQuery::all()).await.unwrap();
    assert_eq!(accepted(rest_m), (2, 0));
    assert_eq!(accepted(ssh_m), (0, 2));
    assert_eq!(conns.open_devices(), 2);

    // In the background: a device in use keeps its connection, an idle one loses it.
    let closer = conns.close_idle_in_background().unwrap();
    for _ in 0..12 {
        rest.print(&identity, &PrintQuery::all()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(accepted(rest_m).0, 2, "a busy device keeps its connection");
    assert_eq!(conns.open_devices(), 1, "the idle one was closed");
    eventually("the idle SSH session closing", || {
        established_to(&ssh_m.address, ssh_m.ssh_port) == 0
    })
    .await;
    // The closer ends with the connections it serves.
    drop((rest, ssh));
    drop(conns);
    tokio::time::timeout(Duration::from_secs(5), closer)
        .await
        .unwrap()
        .unwrap();
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_keeps_its_connection() {
    let sims = sims(2).await;
    let m = sims.manifest().devices[0].clone();
    sims.device(&m.name)
        .unwrap()
        .set_faults(routeros_sim::Faults {
            latency_ms: 1_500,
            ..routeros_sim::Faults::default()
        });
    let conns = Arc::new(Connections::new(
        Limits {
            idle: Duration::from_millis(100),
            ..Limits::default()
        },
        None,
    ));
    let client = conns.client(target(&m), DriverPreference::Rest, Some("7.16"));
    let slow = {
        let client = Arc::clone(&client);
        tokio::spawn(async move {
            client
                .print(
                    &MenuPath::parse("system/identity").unwrap(),
                    &PrintQuery::all(),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(conns.close_idle(), 0, "the call in flight holds its driver");
    assert_eq!(conns.open_devices(), 1);
    let answer = slow.await.unwrap().unwrap();
    assert_eq!(answer[0]["name"], "sim-0001");
    sims.shutdown().await;
}
