//! The drivers against routeros-sim over real TCP, TLS and SSH on loopback: parity of the two
//! drivers, connection reuse, pinning, every simulated fault, the breaker, the rate limit,
//! injection safety and the error taxonomy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use domain::{DeviceId, DriverPreference};
use routeros::{
    Connections, DeviceClient, DeviceCommand, DriverKind, ErrorKind, ExportOptions, Fingerprint,
    Limits, MenuPath, Metrics, PrintQuery, Props, Record, RosId, Target, Trust,
};
use routeros_sim::{Faults, Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

/// Each test gets its own block of loopback addresses so fleets never collide.
fn base(block: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 30, block, 1)
}

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

async fn fleet(count: usize, profile: Profile) -> Fleet {
    fleet_at(count, profile, NEXT_BLOCK.fetch_add(1, Ordering::SeqCst)).await
}

async fn fleet_at(count: usize, profile: Profile, block: u8) -> Fleet {
    Fleet::start(FleetOptions {
        count,
        profiles: vec![profile],
        seed: 11,
        base_address: base(block),
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

fn limits() -> Limits {
    Limits {
        rate_per_second: 1000,
        burst: 1000,
        timeout: Duration::from_secs(5),
        read_retries: 2,
        retry_base: Duration::from_millis(50),
        ..Limits::default()
    }
}

fn client(conns: &Connections, m: &ManifestDevice, pref: DriverPreference) -> Arc<DeviceClient> {
    conns.client(target(m), pref, Some("7.16"))
}

fn menu(p: &str) -> MenuPath {
    MenuPath::parse(p).unwrap()
}

async fn print_via(
    c: &DeviceClient,
    kind: DriverKind,
    m: &MenuPath,
    q: &PrintQuery,
) -> Vec<Record> {
    c.via(kind, |d| {
        let (m, q) = (m.clone(), q.clone());
        Box::pin(async move { d.print(&m, &q).await })
    })
    .await
    .unwrap_or_else(|e| panic!("{kind} print {m}: {e}"))
}

/// Drops the properties that change by themselves between two reads (uptime, counters, …).
fn stable(path: &str, records: Vec<Record>) -> Vec<Record> {
    let spec = routeros_sim::model::menu(path);
    let volatile: BTreeSet<&str> = spec
        .map(|s| {
            s.props
                .iter()
                .filter(|p| p.volatile)
                .map(|p| p.name)
                .collect()
        })
        .unwrap_or_default();
    records
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(k, _)| !volatile.contains(k.as_str()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_drivers_read_every_menu_identically() {
    let sims = fleet(1, Profile::Home).await;
    let m = &sims.manifest().devices[0];
    let conns = Connections::new(limits(), None);
    let c = client(&conns, m, DriverPreference::Auto);
    let mut compared = 0;
    for spec in routeros_sim::model::menus() {
        let path = spec.path.trim_start_matches('/');
        // Log lines are appended while we read (each login is logged); a REST read lists its
        // own session in user/active, an SSH read does not.
        if path == "log" || path == "user/active" {
            continue;
        }
        let mp = menu(path);
        let rest = stable(
            spec.path,
            print_via(&c, DriverKind::Rest, &mp, &PrintQuery::all()).await,
        );
        let ssh = stable(
            spec.path,
            print_via(&c, DriverKind::Ssh, &mp, &PrintQuery::all()).await,
        );
        assert_eq!(rest, ssh, "parity of {path}");
        compared += 1;
    }
    assert!(compared >= 55, "compared only {compared} menus");

    // Filters and proplists mean the same on both drivers.
    let q = PrintQuery::all()
        .filter("interface", "bridge")
        .proplist(&[".id", "address", "network"]);
    let mp = menu("ip/address");
    let rest = print_via(&c, DriverKind::Rest, &mp, &q).await;
    assert!(!rest.is_empty());
    assert_eq!(rest, print_via(&c, DriverKind::Ssh, &mp, &q).await);
    assert!(rest.iter().all(|r| {
        r.keys()
            .all(|k| k == "address" || k == "network" || k == ".id")
    }));

    // One item by id.
    let id = RosId::parse(&rest[0][".id"]).unwrap();
    let by_rest = c
        .via(DriverKind::Rest, |d| {
            let (m, id) = (mp.clone(), id.clone());
            Box::pin(async move { d.get(&m, &id).await })
        })
        .await
        .unwrap();
    let by_ssh = c
        .via(DriverKind::Ssh, |d| {
            let (m, id) = (mp.clone(), id.clone());
            Box::pin(async move { d.get(&m, &id).await })
        })
        .await
        .unwrap();
    assert_eq!(by_rest, by_ssh);
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consoles_without_serialize_read_the_same_through_property_lines() {
    use routeros::{Driver, ReadFormat, SshDriver};
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let conns = Connections::new(limits(), None);
    let c = client(&conns, &m, DriverPreference::Auto);
    let lines =
        SshDriver::new(&target(&m), Duration::from_secs(5)).with_read_format(ReadFormat::Lines);
    for spec in routeros_sim::model::menus() {
        let path = spec.path.trim_start_matches('/');
        if path == "log" || path == "user/active" {
            continue;
        }
        let mp = menu(path);
        let rest = stable(
            spec.path,
            print_via(&c, DriverKind::Rest, &mp, &PrintQuery::all()).await,
        );
        let via_lines = stable(
            spec.path,
            lines
                .print(&mp, &PrintQuery::all())
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}")),
        );
        assert_eq!(rest, via_lines, "parity of {path} through property lines");
    }
    let q = PrintQuery::all()
        .filter("interface", "bridge")
        .proplist(&[".id", "address"]);
    let mp = menu("ip/address");
    assert_eq!(
        print_via(&c, DriverKind::Rest, &mp, &q).await,
        lines.print(&mp, &q).await.unwrap()
    );
    sims.shutdown().await;
}

/// Applies the same sequence of writes through one driver and returns the device's state.
async fn write_sequence(kind: DriverKind, block: u8) -> (serde_json::Value, Vec<Record>) {
    let sims = fleet_at(1, Profile::Home, block).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(limits(), None);
    let c = client(&conns, &m, DriverPreference::Auto);
    let via_add = |path: &'static str, props: Props, before: Option<RosId>| {
        let c = Arc::clone(&c);
        async move {
            c.via(kind, |d| {
                let (props, before) = (props.clone(), before.clone());
                Box::pin(async move { d.add(&menu(path), &props, before.as_ref()).await })
            })
            .await
            .unwrap()
        }
    };
    let mut created = Vec::new();
    let a = via_add(
        "ip/dns/static",
        Props::from([
            ("name".into(), "nas.lan".into()),
            ("address".into(), "192.168.88.20".into()),
        ]),
        None,
    )
    .await;
    created.push(a.clone());
    let list = via_add(
        "ip/firewall/address-list",
        Props::from([
            ("list".into(), "blocked".into()),
            ("address".into(), "203.0.113.7".into()),
            ("comment".into(), "via driver".into()),
        ]),
        None,
    )
    .await;
    created.push(list.clone());
    let rules = print_via(&c, kind, &menu("ip/firewall/filter"), &PrintQuery::all()).await;
    let first = RosId::parse(&rules[0][".id"]).unwrap();
    let rule = via_add(
        "ip/firewall/filter",
        Props::from([
            ("chain".into(), "input".into()),
            ("action".into(), "drop".into()),
            ("src-address".into(), "198.51.100.0/24".into()),
            ("comment".into(), "top".into()),
        ]),
        Some(first.clone()),
    )
    .await;
    created.push(rule.clone());
    let dns_id = RosId::parse(&a[".id"]).unwrap();
    c.via(kind, |d| {
        let id = dns_id.clone();
        Box::pin(async move {
            d.set(
                &menu("ip/dns/static"),
                Some(&id),
                &Props::from([("comment".into(), "updated".into())]),
            )
            .await
        })
    })
    .await
    .unwrap();
    c.via(kind, |d| {
        Box::pin(async move {
            d.set(
                &menu("system/identity"),
                None,
                &Props::from([("name".into(), "parity-router".into())]),
            )
            .await
        })
    })
    .await
    .unwrap();
    let last = RosId::parse(&rules.last().unwrap()[".id"]).unwrap();
    let rule_id = RosId::parse(&rule[".id"]).unwrap();
    c.via(kind, |d| {
        let (r, l) = (rule_id.clone(), last.clone());
        Box::pin(async move {
            d.move_items(&menu("ip/firewall/filter"), &[r], Some(&l))
                .await
        })
    })
    .await
    .unwrap();
    let list_id = RosId::parse(&list[".id"]).unwrap();
    c.via(kind, |d| {
        let id = list_id.clone();
        Box::pin(async move { d.remove(&menu("ip/firewall/address-list"), &id).await })
    })
    .await
    .unwrap();
    // Menu commands: `unset` takes the comment away again, `make-static` keeps a dynamic lease.
    c.via(kind, |d| {
        let id = dns_id.clone();
        Box::pin(async move {
            d.item_command(
                &menu("ip/dns/static"),
                "unset",
                Some(&id),
                &Props::from([("value-name".into(), "comment".into())]),
            )
            .await
        })
    })
    .await
    .unwrap();
    let leases = print_via(&c, kind, &menu("ip/dhcp-server/lease"), &PrintQuery::all()).await;
    let dynamic = leases
        .iter()
        .find(|l| l.get("dynamic").map(String::as_str) == Some("true"))
        .expect("the home profile has dynamic leases");
    let lease_id = RosId::parse(&dynamic[".id"]).unwrap();
    c.via(kind, |d| {
        let id = lease_id.clone();
        Box::pin(async move {
            d.item_command(
                &menu("ip/dhcp-server/lease"),
                "make-static",
                Some(&id),
                &Props::new(),
            )
            .await
        })
    })
    .await
    .unwrap();
    let refused = c
        .via(kind, |d| {
            Box::pin(async move {
                d.item_command(
                    &menu("ip/dns/static"),
                    "unset; /system reboot",
                    None,
                    &Props::new(),
                )
                .await
            })
        })
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("invalid menu command"),
        "{refused}"
    );
    let state = serde_json::from_str(&dev.state_dump(false).to_json_string()).unwrap();
    sims.shutdown().await;
    (state, created)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_drivers_write_identically() {
    // Two fresh devices from the same seed at the same address, one after the other, the same
    // writes: the same configuration.
    let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
    let (rest_state, rest_created) = write_sequence(DriverKind::Rest, block).await;
    let (ssh_state, ssh_created) = write_sequence(DriverKind::Ssh, block).await;
    assert_eq!(rest_state, ssh_state);
    let without_time = |rs: Vec<Record>| -> Vec<Record> {
        rs.into_iter()
            .map(|mut r| {
                r.remove("creation-time");
                r
            })
            .collect()
    };
    assert_eq!(
        without_time(rest_created),
        without_time(ssh_created),
        "add returns the created item alike"
    );
    assert!(
        rest_state["/system/identity"]
            .to_string()
            .contains("parity-router")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_drivers_run_commands_and_export_alike() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let conns = Connections::new(limits(), None);
    let c = client(&conns, &m, DriverPreference::Auto);
    for cmd in [
        DeviceCommand::Ping {
            address: "192.168.88.1".into(),
            count: 2,
            interface: None,
        },
        DeviceCommand::MonitorTraffic {
            interfaces: vec!["ether1".into()],
        },
        DeviceCommand::Traceroute {
            address: "192.168.88.1".into(),
            count: 1,
        },
    ] {
        let via = |kind| {
            let c = Arc::clone(&c);
            let cmd = cmd.clone();
            async move {
                c.via(kind, |d| {
                    let cmd = cmd.clone();
                    Box::pin(async move { d.run(&cmd).await })
                })
                .await
                .unwrap()
            }
        };
        let (rest, ssh) = (via(DriverKind::Rest).await, via(DriverKind::Ssh).await);
        assert!(!rest.is_empty(), "{cmd:?}");
        let keys = |rs: &[Record]| {
            rs.iter()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&rest), keys(&ssh), "{cmd:?} returns the same fields");
        // Measurements differ between runs; the addresses and counts do not.
        for (r, s) in rest.iter().zip(&ssh) {
            for k in ["host", "sent", "received", "name", "address", "seq"] {
                assert_eq!(r.get(k), s.get(k), "{cmd:?} {k}");
            }
        }
    }
    let export = |kind| {
        let c = Arc::clone(&c);
        async move {
            c.via(kind, |d| {
                Box::pin(async move { d.export(&ExportOptions::default()).await })
            })
            .await
            .unwrap()
        }
    };
    let (rest, ssh) = (
        export(DriverKind::Rest).await,
        export(DriverKind::Ssh).await,
    );
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("# 20") && !l.starts_with("# jan"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(rest.contains("/ip address"), "{rest}");
    assert_eq!(body(&rest), body(&ssh));
    assert!(!rest.contains(&m.password));
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_reads_open_one_connection_per_driver() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(limits(), None);
    let rest = client(&conns, &m, DriverPreference::Rest);
    let ssh = conns.client(target(&m), DriverPreference::Ssh, None);
    let before = dev.counters().snapshot();
    for _ in 0..100 {
        rest.print(&menu("system/resource"), &PrintQuery::all())
            .await
            .unwrap();
        ssh.print(&menu("system/resource"), &PrintQuery::all())
            .await
            .unwrap();
    }
    let after = dev.counters().snapshot();
    // hyper hands a connection back to its pool asynchronously once a body is read; on a busy
    // machine the next request can occasionally start before that and open one more. Reuse
    // means a handful of connections for a hundred reads, never one per read.
    let https = after.https_connections - before.https_connections;
    assert!(
        (1..=2).contains(&https),
        "100 REST reads opened {https} connections: they are not reused"
    );
    assert_eq!(after.ssh_connections - before.ssh_connections, 1);
    assert!(after.requests_total - before.requests_total >= 200);
    // The cache hands out the same client (and so the same connections) for the same device.
    let again = conns.client(rest.target().clone(), DriverPreference::Rest, Some("7.16"));
    assert!(Arc::ptr_eq(&rest, &again));
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rekeyed_device_is_refused_with_both_fingerprints() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    dev.regenerate_keys().unwrap();
    let fresh = sims.device(&m.name).unwrap().manifest_entry();
    assert_ne!(fresh.tls_sha256, m.tls_sha256);
    let conns = Connections::new(limits(), None);
    for kind in [DriverKind::Rest, DriverKind::Ssh] {
        let pref = if kind == DriverKind::Rest {
            DriverPreference::Rest
        } else {
            DriverPreference::Ssh
        };
        let c = conns.uncached(target(&m), pref, None);
        let err = c
            .print(&menu("system/identity"), &PrintQuery::all())
            .await
            .unwrap_err();
        let ErrorKind::TrustMismatch {
            expected,
            presented,
            ..
        } = &err.kind
        else {
            panic!("{kind}: {err}");
        };
        let (want, got) = match kind {
            DriverKind::Rest => (
                Fingerprint::parse(&m.tls_sha256).unwrap().hex(),
                Fingerprint::parse(&fresh.tls_sha256).unwrap().hex(),
            ),
            DriverKind::Ssh => (
                Fingerprint::parse(&m.ssh_host_key_sha256)
                    .unwrap()
                    .openssh(),
                Fingerprint::parse(&fresh.ssh_host_key_sha256)
                    .unwrap()
                    .openssh(),
            ),
        };
        assert_eq!((expected, presented), (&want, &got), "{kind}");
        assert!(err.to_string().contains(&m.name));
    }
    // Unpinned is refused too, never silently trusted.
    let mut unpinned = target(&m);
    unpinned.tls = Trust::Unknown;
    let err = conns
        .uncached(unpinned, DriverPreference::Rest, None)
        .print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap_err();
    assert_eq!(err.kind.code(), "trust_mismatch", "{err}");
    sims.shutdown().await;
}

async fn set_faults(sims: &Fleet, name: &str, faults: Faults) {
    sims.device(name).unwrap().set_faults(faults);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_simulated_fault_maps_to_its_error() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let short = Limits {
        timeout: Duration::from_millis(400),
        read_retries: 0,
        ..limits()
    };
    let read = |pref| {
        let conns = Connections::new(short, None);
        let c = conns.uncached(target(&m), pref, None);
        async move { c.print(&menu("system/identity"), &PrintQuery::all()).await }
    };
    for pref in [DriverPreference::Rest, DriverPreference::Ssh] {
        set_faults(
            &sims,
            &m.name,
            Faults {
                latency_ms: 1500,
                ..Faults::none()
            },
        )
        .await;
        assert_eq!(
            read(pref).await.unwrap_err().kind.code(),
            "timeout",
            "{pref:?} latency"
        );
        set_faults(
            &sims,
            &m.name,
            Faults {
                error_rate: 1.0,
                ..Faults::none()
            },
        )
        .await;
        let e = read(pref).await.unwrap_err();
        assert_eq!(e.kind.code(), "device_error", "{pref:?} 500: {e}");
        set_faults(
            &sims,
            &m.name,
            Faults {
                hang: true,
                ..Faults::none()
            },
        )
        .await;
        assert_eq!(
            read(pref).await.unwrap_err().kind.code(),
            "timeout",
            "{pref:?} hang"
        );
        set_faults(
            &sims,
            &m.name,
            Faults {
                reject_auth: true,
                ..Faults::none()
            },
        )
        .await;
        let e = read(pref).await.unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::AuthFailed { .. }),
            "{pref:?}: {e}"
        );
        assert!(!e.to_string().contains(&m.password));
        set_faults(&sims, &m.name, Faults::none()).await;
        read(pref).await.unwrap();
    }
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_reconnected_for_reads() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let conns = Connections::new(limits(), None);
    for pref in [DriverPreference::Rest, DriverPreference::Ssh] {
        let c = conns.uncached(target(&m), pref, None);
        c.print(&menu("system/identity"), &PrintQuery::all())
            .await
            .unwrap();
        set_faults(
            &sims,
            &m.name,
            Faults {
                drop_after: Some(0),
                ..Faults::none()
            },
        )
        .await;
        let r = c.print(&menu("system/identity"), &PrintQuery::all()).await;
        assert!(
            r.is_ok(),
            "{pref:?}: a read retries on a new connection: {r:?}"
        );
        set_faults(&sims, &m.name, Faults::none()).await;
    }
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reboot_is_unreachable_then_recovers() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(
        Limits {
            timeout: Duration::from_millis(500),
            read_retries: 0,
            breaker_failures: 100,
            ..limits()
        },
        None,
    );
    let c = conns.uncached(target(&m), DriverPreference::Rest, None);
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap();
    dev.reboot(Duration::from_secs(2));
    let e = c
        .print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap_err();
    assert!(matches!(e.kind.code(), "unreachable" | "timeout"), "{e}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if c.print(&menu("system/identity"), &PrintQuery::all())
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the device never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resource = c
        .print(&menu("system/resource"), &PrintQuery::all())
        .await
        .unwrap();
    let uptime = &resource[0]["uptime"];
    assert!(
        uptime.ends_with('s') && !uptime.contains('m') && !uptime.contains('h'),
        "uptime was reset: {uptime}"
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_and_a_probe_closes_it() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let conns = Connections::new(
        Limits {
            timeout: Duration::from_millis(300),
            read_retries: 0,
            breaker_failures: 3,
            breaker_cooldown: Duration::from_millis(1500),
            ..limits()
        },
        None,
    );
    let c = conns.uncached(target(&m), DriverPreference::Rest, None);
    set_faults(
        &sims,
        &m.name,
        Faults {
            hang: true,
            ..Faults::none()
        },
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            c.print(&menu("system/identity"), &PrintQuery::all())
                .await
                .unwrap_err()
                .kind
                .code(),
            "timeout"
        );
    }
    let started = std::time::Instant::now();
    let e = c
        .print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("circuit breaker"), "{e}");
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "an open breaker fails fast"
    );
    set_faults(&sims, &m.name, Faults::none()).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .expect("the half-open probe succeeds");
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .expect("and the breaker is closed");
    sims.shutdown().await;
}

/// 500 different reads at once (identical ones would be made once), each answered after 5 ms.
async fn flood(c: &Arc<DeviceClient>) {
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let c = Arc::clone(c);
            tokio::spawn(async move {
                let q = PrintQuery::all().filter("comment", &format!("flood-{i}"));
                c.print(&menu("ip/address"), &q).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_calls_stays_within_the_concurrency_cap_and_any_ceiling() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    set_faults(
        &sims,
        &m.name,
        Faults {
            latency_ms: 5,
            ..Faults::none()
        },
    )
    .await;
    let defaults = Limits::default();
    assert_eq!(defaults.rate_per_second, 0, "no rate ceiling by default");

    // The defaults: only the concurrency cap.
    let conns = Arc::new(Connections::new(
        Limits {
            timeout: Duration::from_secs(10),
            ..defaults
        },
        None,
    ));
    let c = client(&conns, &m, DriverPreference::Rest);
    dev.counters().reset_max_in_flight();
    let before = dev.counters().snapshot().requests_total;
    let started = std::time::Instant::now();
    flood(&c).await;
    let uncapped = started.elapsed();
    assert_eq!(dev.counters().snapshot().requests_total - before, 500);
    let most = dev.counters().max_in_flight();
    assert_eq!(
        most, defaults.concurrency as u64,
        "the router had {most} requests in flight at once; the cap is {}",
        defaults.concurrency
    );

    // An operator's hard ceiling holds too.
    let (rate, burst) = (250, 25);
    let conns = Arc::new(Connections::new(
        Limits {
            rate_per_second: rate,
            burst,
            timeout: Duration::from_secs(10),
            queue_timeout: Duration::from_secs(30),
            ..defaults
        },
        None,
    ));
    let c = client(&conns, &m, DriverPreference::Rest);
    dev.counters().reset_max_in_flight();
    flood(&c).await;
    let snapshot = dev.counters().snapshot();
    let times: Vec<u64> = snapshot.requests.iter().map(|r| r.at_unix_ms).collect();
    let seen = &times[times.len() - 500..];
    let mut worst = 0;
    for (i, start) in seen.iter().enumerate() {
        let n = seen[i..].iter().take_while(|t| **t < start + 1000).count();
        worst = worst.max(n);
    }
    // Times are whole milliseconds taken at the router, after the loopback hop: a request let
    // through on time can arrive a little late and land next to the following one, so 2 % of
    // the rate is allowed for that bunching. Without the ceiling the same flood reaches the
    // router at several hundred requests per second.
    let jitter = (rate / 50) as usize;
    assert!(
        worst <= (rate + burst) as usize + jitter,
        "{worst} requests in one second; the ceiling is {rate}/s with a burst of {burst}"
    );
    let span = seen.last().unwrap() - seen.first().unwrap();
    assert!(
        span >= 1_700,
        "500 calls at 250/s after a burst of 25 take about 1.9 s, took {span} ms"
    );
    assert!(dev.counters().max_in_flight() <= defaults.concurrency as u64);
    println!(
        "flood: at most {most} requests in flight (cap {}), 500 calls in {} ms; with a ceiling the worst 1-second window had {worst} requests (limit {rate}/s, burst {burst}), 500 calls over {span} ms",
        defaults.concurrency,
        uncapped.as_millis()
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_and_the_rate_ceiling_change_while_clients_are_in_use() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    set_faults(
        &sims,
        &m.name,
        Faults {
            latency_ms: 5,
            ..Faults::none()
        },
    )
    .await;
    let conns = Arc::new(Connections::new(
        Limits {
            concurrency: 4,
            timeout: Duration::from_secs(10),
            queue_timeout: Duration::from_secs(30),
            ..Limits::default()
        },
        None,
    ));
    // The client exists (with its cap of 4) before the change.
    let c = client(&conns, &m, DriverPreference::Rest);
    flood(&c).await;
    assert_eq!(dev.counters().max_in_flight(), 4);

    // Lower: the same client now keeps at most 2 requests in flight.
    conns.set_rate_limits(0, 20, 2);
    assert_eq!(conns.limits().concurrency, 2);
    dev.counters().reset_max_in_flight();
    flood(&c).await;
    assert_eq!(dev.counters().max_in_flight(), 2, "the lowered cap holds");

    // Raise again: 6.
    conns.set_rate_limits(0, 20, 6);
    dev.counters().reset_max_in_flight();
    flood(&c).await;
    assert_eq!(dev.counters().max_in_flight(), 6, "the raised cap is used");

    // A ceiling of 100/s with a burst of 10: 60 calls take about half a second.
    conns.set_rate_limits(100, 10, 6);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let c = Arc::clone(&c);
            tokio::spawn(async move {
                let q = PrintQuery::all().filter("comment", &format!("ceiling-{i}"));
                c.print(&menu("ip/address"), &q).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "60 calls at 100/s after a burst of 10 took {took:?}"
    );
    // And off again.
    conns.set_rate_limits(0, 20, 6);
    assert!(conns.limits().rate_per_second == 0);
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_reads_in_flight_reach_the_router_once() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(limits(), None);
    let c = client(&conns, &m, DriverPreference::Rest);
    // Connected first, so the 20 below are only the reads.
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap();
    set_faults(
        &sims,
        &m.name,
        Faults {
            latency_ms: 300,
            ..Faults::none()
        },
    )
    .await;
    let before = dev.counters().snapshot().requests_total;
    let (resource, q) = (menu("system/resource"), PrintQuery::all());
    let answers = futures::future::join_all((0..20).map(|_| c.print(&resource, &q))).await;
    assert_eq!(dev.counters().snapshot().requests_total - before, 1);
    let first = answers[0].as_ref().unwrap();
    assert!(!first.is_empty());
    assert!(answers.iter().all(|a| a.as_ref().unwrap() == first));
    // Different queries are different reads.
    let before = dev.counters().snapshot().requests_total;
    let q2 = PrintQuery::all().proplist(&["uptime"]);
    let (a, b) = tokio::join!(c.print(&resource, &q), c.print(&resource, &q2));
    a.unwrap();
    b.unwrap();
    assert_eq!(dev.counters().snapshot().requests_total - before, 2);
    sims.shutdown().await;
}

fn cached(ttl: Duration, max_entries: usize) -> Limits {
    Limits {
        cache: Some(routeros::CacheLimits { ttl, max_entries }),
        ..limits()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_cache_answers_within_its_ttl_and_never_across_a_write() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let requests = || dev.counters().snapshot().requests_total;
    let identity = menu("system/identity");
    let q = PrintQuery::all();
    for kind in [DriverPreference::Rest, DriverPreference::Ssh] {
        let conns = Connections::new(cached(Duration::from_secs(30), 100), None);
        let c = conns.client(target(&m), kind, Some("7.16"));
        let (first, freshness) = c.print_with_age(&identity, &q).await.unwrap();
        assert_eq!(freshness, routeros::Freshness::Fresh);
        let before = requests();
        let (again, freshness) = c.print_with_age(&identity, &q).await.unwrap();
        assert_eq!(
            requests(),
            before,
            "{kind:?}: a repeated read within the TTL"
        );
        assert_eq!(again, first);
        assert!(
            matches!(freshness, routeros::Freshness::Cached { age } if age < Duration::from_secs(30))
        );

        // A write through the client: the next read goes to the router and sees it.
        let name = format!("cached-{}", kind.to_string().to_lowercase());
        c.set(
            &identity,
            None,
            &Props::from([("name".into(), name.clone())]),
        )
        .await
        .unwrap();
        let before = requests();
        let (after, freshness) = c.print_with_age(&identity, &q).await.unwrap();
        assert!(requests() > before, "{kind:?}: the read after a write");
        assert_eq!(freshness, routeros::Freshness::Fresh);
        assert_eq!(after[0]["name"], name);
    }

    // A client that is not cached (a check over a new connection) always asks the router.
    let conns = Connections::new(cached(Duration::from_secs(30), 100), None);
    let same = target(&m);
    let c = conns.client(same.clone(), DriverPreference::Rest, Some("7.16"));
    c.print(&identity, &q).await.unwrap();
    assert!(
        c.print_with_age(&identity, &q)
            .await
            .unwrap()
            .1
            .age()
            .is_some()
    );
    let fresh = conns.uncached(same, DriverPreference::Rest, Some("7.16"));
    let before = requests();
    let (_, freshness) = fresh.print_with_age(&identity, &q).await.unwrap();
    assert_eq!(
        (requests() - before, freshness),
        (1, routeros::Freshness::Fresh)
    );

    // Expired answers are read again.
    let conns = Connections::new(cached(Duration::from_millis(200), 100), None);
    let c = client(&conns, &m, DriverPreference::Rest);
    c.print(&identity, &q).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = requests();
    let (_, freshness) = c.print_with_age(&identity, &q).await.unwrap();
    assert_eq!(
        (requests() - before, freshness),
        (1, routeros::Freshness::Fresh)
    );

    // Without a cache every read reaches the router.
    let conns = Connections::new(limits(), None);
    let c = client(&conns, &m, DriverPreference::Rest);
    let before = requests();
    for _ in 0..5 {
        c.print(&identity, &q).await.unwrap();
    }
    assert_eq!(requests() - before, 5);

    // Beyond the maximum the oldest answer goes first.
    let conns = Connections::new(cached(Duration::from_secs(30), 2), None);
    let c = client(&conns, &m, DriverPreference::Rest);
    for path in ["system/identity", "system/clock", "system/resource"] {
        c.print(&menu(path), &q).await.unwrap();
    }
    let before = requests();
    c.print(&menu("system/resource"), &q).await.unwrap();
    c.print(&menu("system/clock"), &q).await.unwrap();
    assert_eq!(requests(), before, "the two newest are kept");
    c.print(&identity, &q).await.unwrap();
    assert_eq!(requests() - before, 1, "the oldest was evicted");
    sims.shutdown().await;
}

fn ssh_execs(dev: &routeros_sim::SimDevice) -> usize {
    dev.counters()
        .snapshot()
        .requests
        .iter()
        .filter(|r| r.method == "exec")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_reads_over_ssh_take_one_exec_and_answer_each_on_its_own() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(limits(), None);
    let c = conns.client(target(&m), DriverPreference::Ssh, None);
    let reads: Vec<(MenuPath, PrintQuery)> =
        ["system/resource", "system/identity", "system/routerboard"]
            .iter()
            .map(|p| (menu(p), PrintQuery::all()))
            .collect();
    let separate: Vec<Vec<Record>> = {
        let mut out = Vec::new();
        for (m, q) in &reads {
            out.push(stable(m.as_str(), c.print(m, q).await.unwrap()));
        }
        out
    };
    let before = ssh_execs(&dev);
    let together = c.print_many(&reads).await;
    assert_eq!(ssh_execs(&dev) - before, 1, "three reads, one exec channel");
    for ((m, _), (one, many)) in reads.iter().zip(separate.iter().zip(together)) {
        assert_eq!(&stable(m.as_str(), many.unwrap()), one, "{m}");
    }

    // A menu the device does not have fails that read alone, as on its own.
    let mut with_missing = reads.clone();
    with_missing[2] = (menu("system/no-such-menu"), PrintQuery::all());
    let alone = c
        .print(&with_missing[2].0, &PrintQuery::all())
        .await
        .unwrap_err();
    let results = c.print_many(&with_missing).await;
    assert_eq!(results[2].as_ref().unwrap_err(), &alone);
    assert_eq!(
        stable("system/resource", results[0].clone().unwrap()),
        separate[0]
    );
    assert_eq!(
        stable("system/identity", results[1].clone().unwrap()),
        separate[1]
    );

    // Over REST the same reads are made concurrently, with the same answers.
    let rest = client(&conns, &m, DriverPreference::Rest);
    for ((m, _), (one, many)) in reads
        .iter()
        .zip(separate.iter().zip(rest.print_many(&reads).await))
    {
        assert_eq!(&stable(m.as_str(), many.unwrap()), one, "{m}");
    }
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_go_through_ssh_literally_and_change_nothing_else() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let dev = sims.device(&m.name).unwrap();
    let conns = Connections::new(limits(), None);
    let c = conns.uncached(target(&m), DriverPreference::Ssh, None);
    let corpus = [
        "plain",
        "quote \" inside",
        "back\\slash",
        "semi; /system reboot",
        "$identity and $(x)",
        "[/system identity set name=pwned]",
        "{ :put x }",
        "question?",
        "line one\nline two",
        "tab\tand\rcarriage",
        "\\\"; /user add name=evil group=full password=x; :put \"",
        "unicode é 日本",
        "-dash and = equals",
    ];
    let before = dev.state_dump(false);
    let mut ids = Vec::new();
    for (i, value) in corpus.iter().enumerate() {
        let props = Props::from([
            ("list".into(), format!("corpus-{i}")),
            ("address".into(), format!("198.51.100.{}", i + 1)),
            ("comment".into(), (*value).to_owned()),
        ]);
        let rec = c
            .add(&menu("ip/firewall/address-list"), &props, None)
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert_eq!(rec["comment"], *value, "read back as stored");
        ids.push(rec[".id"].clone());
    }
    let after = dev.state_dump(false);
    let dump = serde_json::to_value(&after).unwrap();
    let stored: BTreeMap<String, String> = dump["/ip/firewall/address-list"]
        .as_array()
        .expect("a list menu dumps as an array")
        .iter()
        .filter_map(|i| {
            Some((
                i["list"].as_str()?.to_owned(),
                i["comment"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    for (i, value) in corpus.iter().enumerate() {
        assert_eq!(
            stored.get(&format!("corpus-{i}")).map(String::as_str),
            Some(*value),
            "stored exactly"
        );
    }
    // Nothing but the address list changed: no reboot, no new user, same identity.
    let strip = |d: &routeros_sim::model::StateDump| {
        let mut v = serde_json::to_value(d).unwrap();
        v.as_object_mut()
            .unwrap()
            .remove("/ip/firewall/address-list");
        v
    };
    assert_eq!(strip(&before), strip(&after));
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_device_name_and_routeros_words_never_the_password() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let metrics = Metrics::unregistered().unwrap();
    let conns = Connections::new(limits(), Some(metrics.clone()));
    for pref in [DriverPreference::Rest, DriverPreference::Ssh] {
        let c = conns.uncached(target(&m), pref, None);
        let dup = Props::from([
            ("address".into(), "192.168.88.1/24".into()),
            ("interface".into(), "bridge".into()),
        ]);
        let e = c.add(&menu("ip/address"), &dup, None).await.unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Conflict("failure: already have such address".into()),
            "{pref:?}"
        );
        let e = c
            .remove(&menu("ip/address"), &RosId::parse("*FFFF").unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.kind.code(), "not_found", "{pref:?}: {e}");
        let bad = Props::from([
            ("address".into(), "300.1.1.1/24".into()),
            ("interface".into(), "bridge".into()),
        ]);
        let e = c.add(&menu("ip/address"), &bad, None).await.unwrap_err();
        assert_eq!(e.kind.code(), "invalid_request", "{pref:?}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("device {}: invalid request: ", m.name)),
            "{e}"
        );
        assert!(!format!("{e:?}{e}").contains(&m.password));
    }
    assert_eq!(
        metrics
            .requests
            .with_label_values(&["not-a-device", "rest", "ok"])
            .get(),
        0,
        "labels are per device"
    );
    sims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_errors_and_reachability() {
    let sims = fleet(1, Profile::Home).await;
    let m = sims.manifest().devices[0].clone();
    let registry = prometheus::Registry::new();
    let metrics = Metrics::register(&registry).unwrap();
    let conns = Connections::new(
        Limits {
            read_retries: 0,
            timeout: Duration::from_millis(300),
            ..limits()
        },
        Some(metrics),
    );
    let t = target(&m);
    let id = t.device_id.to_string();
    let c = conns.client(t, DriverPreference::Rest, None);
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap();
    set_faults(
        &sims,
        &m.name,
        Faults {
            hang: true,
            ..Faults::none()
        },
    )
    .await;
    c.print(&menu("system/identity"), &PrintQuery::all())
        .await
        .unwrap_err();
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        text.contains(&format!(
            "routeros_api_requests_total{{device_id=\"{id}\",driver=\"rest\",status=\"ok\"}} 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "routeros_api_errors_total{{device_id=\"{id}\",kind=\"timeout\"}} 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "routeros_device_reachable{{device_id=\"{id}\"}} 0"
        )),
        "{text}"
    );
    assert!(text.contains("routeros_api_latency_seconds_bucket{driver=\"rest\""));
    sims.shutdown().await;
}
