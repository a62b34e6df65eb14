//! Fleets: many devices in one process, the manifest contract, the control API, state dumps
//! and determinism, keys, and option validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};

use reqwest::{Method, StatusCode};
use rest_support::{client, ordered_keys};
use routeros_sim::profiles::Profile;
use routeros_sim::{Fleet, FleetOptions, SimError};
use serde_json::{Value, json};

fn opts(count: usize, seed: u64, base: Ipv4Addr) -> FleetOptions {
    FleetOptions {
        count,
        seed,
        base_address: base,
        profiles: vec![Profile::Home, Profile::Switch48],
        ..FleetOptions::default()
    }
}

#[tokio::test]
async fn a_mixed_fleet_serves_every_device_on_its_own_address() {
    let fleet = Fleet::start(opts(5, 11, Ipv4Addr::new(127, 0, 20, 1)))
        .await
        .unwrap();
    let m = fleet.manifest();
    assert_eq!(m.devices.len(), 5);
    assert!(m.control_url.starts_with("http://127.0.0.1:"));
    let mut addrs = HashSet::new();
    for (i, d) in m.devices.iter().enumerate() {
        assert_eq!(d.name, format!("sim-{:04}", i + 1));
        assert_eq!(d.identity, d.name);
        assert_eq!(d.profile, if i % 2 == 0 { "home" } else { "switch48" });
        assert_eq!(d.address, format!("127.0.20.{}", i + 1));
        assert!(addrs.insert(d.address.clone()));
        assert!(d.http_port > 0 && d.https_port > 0 && d.ssh_port > 0);
        assert!(d.api_port > 0 && d.api_ssl_port > 0);
        assert_eq!(d.tls_sha256.len(), 64);
        assert!(d.ssh_host_key_sha256.starts_with("SHA256:"));
        let c = client(&d.tls_sha256);
        for url in [
            format!("http://{}:{}/rest/system/identity", d.address, d.http_port),
            format!(
                "https://{}:{}/rest/system/identity",
                d.address, d.https_port
            ),
        ] {
            let resp = c
                .get(&url)
                .basic_auth(&d.username, Some(&d.password))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{url}");
            assert_eq!(resp.json::<Value>().await.unwrap(), json!({"name": d.name}));
        }
        // The SSH listener accepts connections.
        let ssh: SocketAddr = format!("{}:{}", d.address, d.ssh_port).parse().unwrap();
        tokio::net::TcpStream::connect(ssh).await.unwrap();
        // So do both API listeners.
        for port in [d.api_port, d.api_ssl_port] {
            let api: SocketAddr = format!("{}:{port}", d.address).parse().unwrap();
            tokio::net::TcpStream::connect(api).await.unwrap();
        }
    }
    let (_, ports) = (0, m.devices[1].clone());
    let c = client(&ports.tls_sha256);
    let switch: Value = c
        .get(format!(
            "http://{}:{}/rest/interface/ethernet?.proplist=name",
            ports.address, ports.http_port
        ))
        .basic_auth(&ports.username, Some(&ports.password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        switch.as_array().unwrap().len(),
        52,
        "48 copper + 4 SFP+ ports"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn the_manifest_json_is_exactly_the_contract() {
    let fleet = Fleet::start(opts(2, 1, Ipv4Addr::new(127, 0, 21, 1)))
        .await
        .unwrap();
    let text = serde_json::to_string(&fleet.manifest()).unwrap();
    let keys = ordered_keys(&text);
    assert_eq!(keys[0], vec!["control_url", "devices"]);
    assert_eq!(
        keys[1],
        vec![
            "name",
            "identity",
            "profile",
            "address",
            "http_port",
            "https_port",
            "ssh_port",
            "api_port",
            "api_ssl_port",
            "username",
            "password",
            "tls_sha256",
            "ssh_host_key_sha256"
        ]
    );
    // The control API serves the same manifest.
    let c = rest_support::plain();
    let served: Value = c
        .get(format!("{}/manifest", fleet.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, serde_json::from_str::<Value>(&text).unwrap());
    // Debug output never shows passwords.
    let dbg = format!("{:?}", fleet.manifest());
    assert!(!dbg.contains(&fleet.manifest().devices[0].password));
    fleet.shutdown().await;
}

#[tokio::test]
async fn same_seed_gives_byte_identical_state_dumps() {
    let a = Fleet::start(opts(3, 42, Ipv4Addr::new(127, 0, 22, 1)))
        .await
        .unwrap();
    let b = Fleet::start(opts(3, 42, Ipv4Addr::new(127, 0, 22, 1)))
        .await
        .unwrap();
    let c = Fleet::start(opts(3, 43, Ipv4Addr::new(127, 0, 22, 1)))
        .await
        .unwrap();
    let http = rest_support::plain();
    let dump = |f: &Fleet, name: &str| {
        let url = format!("{}/devices/{name}/state", f.control_url());
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    for name in ["sim-0001", "sim-0002", "sim-0003"] {
        let (da, db, dc) = (
            dump(&a, name).await,
            dump(&b, name).await,
            dump(&c, name).await,
        );
        assert_eq!(da, db, "{name}: same seed, same dump");
        assert_ne!(da, dc, "{name}: different seed, different dump");
        let v: Value = serde_json::from_str(&da).unwrap();
        assert!(v.get("/log").is_none(), "configuration only by default");
        assert!(v.get("/system/resource").is_none());
        assert!(v["/ip/address"].is_array());
        assert_eq!(v["/system/identity"], json!({"name": name}));
    }
    // Volatile dumps include status and live values.
    let url = format!("{}/devices/sim-0001/state?volatile=true", a.control_url());
    let v: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    assert!(v["/log"].is_array());
    assert!(v["/system/resource"]["uptime"].is_string());
    let url = format!("{}/devices/sim-0001/state?verbose=true", a.control_url());
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    for f in [a, b, c] {
        f.shutdown().await;
    }
}

#[tokio::test]
async fn state_dump_shows_a_change_and_its_revert() {
    let fleet = Fleet::start(opts(1, 5, Ipv4Addr::new(127, 0, 23, 1)))
        .await
        .unwrap();
    let dev = fleet.device("sim-0001").unwrap();
    let d = fleet.manifest().devices[0].clone();
    let c = client(&d.tls_sha256);
    let base = format!("http://{}:{}/rest", d.address, d.http_port);
    let before = dev.state_dump(false);
    // Reads and logins do not change the configuration dump.
    for _ in 0..3 {
        c.get(format!("{base}/ip/address"))
            .basic_auth(&d.username, Some(&d.password))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(before, dev.state_dump(false));
    c.patch(format!("{base}/system/identity"))
        .basic_auth(&d.username, Some(&d.password))
        .json(&json!({"name": "changed"}))
        .send()
        .await
        .unwrap();
    let changed = dev.state_dump(false);
    assert_ne!(before, changed);
    let diff: Vec<_> = before
        .0
        .iter()
        .filter(|(k, v)| changed.0.get(*k) != Some(*v))
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(diff, vec!["/system/identity"]);
    c.patch(format!("{base}/system/identity"))
        .basic_auth(&d.username, Some(&d.password))
        .json(&json!({"name": "sim-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        before,
        dev.state_dump(false),
        "reverting restores an identical dump"
    );
    // Passwords appear only as fingerprints.
    let text = before.to_json_string();
    assert!(!text.contains(&d.password));
    assert!(text.contains("\"password\":\"sha256:"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn regenerated_keys_break_old_pins_and_key_seeds_are_stable() {
    let o = FleetOptions {
        key_seed: Some(9),
        ..opts(1, 1, Ipv4Addr::new(127, 0, 24, 1))
    };
    let a = Fleet::start(o.clone()).await.unwrap();
    let b = Fleet::start(o).await.unwrap();
    let (da, db) = (
        a.manifest().devices[0].clone(),
        b.manifest().devices[0].clone(),
    );
    assert_eq!(
        da.tls_sha256, db.tls_sha256,
        "same key seed, same certificate"
    );
    assert_eq!(da.ssh_host_key_sha256, db.ssh_host_key_sha256);
    b.shutdown().await;

    let http = rest_support::plain();
    let resp: Value = http
        .post(format!(
            "{}/devices/sim-0001/regenerate-keys",
            a.control_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_pin = resp["tls_sha256"].as_str().unwrap().to_string();
    assert_ne!(new_pin, da.tls_sha256);
    assert_ne!(resp["ssh_host_key_sha256"], json!(da.ssh_host_key_sha256));
    assert_eq!(a.manifest().devices[0].tls_sha256, new_pin);
    let url = format!(
        "https://{}:{}/rest/system/identity",
        da.address, da.https_port
    );
    let old = client(&da.tls_sha256)
        .get(&url)
        .basic_auth(&da.username, Some(&da.password))
        .send()
        .await;
    assert!(old.is_err(), "the old pin no longer matches");
    let new = client(&new_pin)
        .get(&url)
        .basic_auth(&da.username, Some(&da.password))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), StatusCode::OK);
    a.shutdown().await;
}

#[tokio::test]
async fn control_api_lists_devices_and_counts() {
    let fleet = Fleet::start(opts(3, 2, Ipv4Addr::new(127, 0, 25, 1)))
        .await
        .unwrap();
    let http = rest_support::plain();
    let list: Value = http
        .get(format!("{}/devices", fleet.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[2]["name"], json!("sim-0003"));
    assert_eq!(list[2]["answering"], json!(true));
    assert_eq!(list[2]["rebooting"], json!(false));
    let resp = http
        .get(format!("{}/devices/nope", fleet.control_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = http
        .get(format!("{}/nothing", fleet.control_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = http
        .request(
            Method::DELETE,
            format!("{}/devices/sim-0001", fleet.control_url()),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    fleet.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let fleet = Fleet::start(opts(1, 1, Ipv4Addr::new(127, 0, 26, 1)))
        .await
        .unwrap();
    let d = fleet.manifest().devices[0].clone();
    let addr: SocketAddr = format!("{}:{}", d.address, d.http_port).parse().unwrap();
    tokio::net::TcpStream::connect(addr).await.unwrap();
    fleet.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn invalid_options_are_reported_together() {
    let bad = FleetOptions {
        count: 0,
        base_address: Ipv4Addr::new(10, 0, 0, 1),
        time_scale: 0.0,
        control_address: SocketAddr::from(([0, 0, 0, 0], 0)),
        api_limits: routeros_sim::api::ApiLimits {
            max_word_len: 0,
            login_timeout: std::time::Duration::ZERO,
            ..routeros_sim::api::ApiLimits::default()
        },
        ..FleetOptions::default()
    };
    let err = Fleet::start(bad).await.unwrap_err();
    let SimError::InvalidOptions(msg) = &err else {
        panic!("{err}");
    };
    for needle in [
        "count must be at least 1",
        "loopback address (127.x.y.z)",
        "time scale",
        "control API listens on loopback only",
        "API limits must be above zero: max_word_len, login_timeout",
    ] {
        assert!(msg.contains(needle), "{msg} lacks {needle}");
    }
}

#[tokio::test]
async fn edge_profile_serves_its_scale_over_rest() {
    let fleet = Fleet::start(FleetOptions {
        profiles: vec![Profile::Edge],
        base_address: Ipv4Addr::new(127, 0, 27, 1),
        ..FleetOptions::default()
    })
    .await
    .unwrap();
    let d = fleet.manifest().devices[0].clone();
    let c = client(&d.tls_sha256);
    let count = |path: &str| {
        let url = format!("http://{}:{}/rest{path}", d.address, d.http_port);
        let c = c.clone();
        let (u, p) = (d.username.clone(), d.password.clone());
        async move {
            let v: Value = c
                .post(url)
                .basic_auth(u, Some(p))
                .json(&json!({"count-only": ""}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["ret"].as_str().unwrap().parse::<usize>().unwrap()
        }
    };
    assert!(count("/ip/firewall/filter/print").await >= 5000);
    assert!(count("/ip/firewall/address-list/print").await > 10_000);
    assert_eq!(count("/ip/dhcp-server/lease/print").await, 500);
    assert!(count("/ip/route/print").await >= 20_000);
    fleet.shutdown().await;
}
