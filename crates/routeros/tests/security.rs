//! Standing security suite of the drivers: a caller that bypasses every tool still cannot use a
//! read as an oracle for a secret. Both drivers, against routeros-sim over real TLS and SSH on
//! loopback, refuse filter keys that are query words (`<password`, `-password`, `#|`) or
//! secrets (`password`), and proplist entries that are not property names — before anything
//! is sent — while plain filters keep working.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use domain::{DeviceId, DriverPreference};
use routeros::{
    Connections, DeviceClient, DriverError, DriverKind, Fingerprint, Limits, MenuPath, PrintQuery,
    Record, Target, Trust,
};
use routeros_sim::{Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

/// The PPP secret the oracle would recover.
const PPP_PASSWORD: &str = "m0nkey-Oracle-77";

async fn home() -> Fleet {
    Fleet::start(FleetOptions {
        count: 1,
        profiles: vec![Profile::Home],
        seed: 3,
        // A block of loopback addresses no other test binary uses.
        base_address: Ipv4Addr::new(127, 31, 7, 1),
        key_seed: Some(5),
        ..FleetOptions::default()
    })
    .await
    .unwrap()
}

fn client(m: &ManifestDevice) -> Arc<DeviceClient> {
    let conns = Connections::new(
        Limits {
            rate_per_second: 1000,
            burst: 1000,
            timeout: Duration::from_secs(5),
            read_retries: 0,
            ..Limits::default()
        },
        None,
    );
    conns.client(
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
        },
        DriverPreference::Auto,
        Some("7.16"),
    )
}

async fn print_via(
    c: &DeviceClient,
    kind: DriverKind,
    menu: &str,
    q: &PrintQuery,
) -> Result<Vec<Record>, DriverError> {
    let menu = MenuPath::parse(menu).unwrap();
    c.via(kind, |d| {
        let (m, q) = (menu.clone(), q.clone());
        Box::pin(async move { d.print(&m, &q).await })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_drivers_refuse_secret_oracles_and_query_words_as_filter_keys() {
    let sims = home().await;
    let m = sims.manifest().devices[0].clone();
    sims.device(&m.name).unwrap().write_state(|s| {
        s.insert_raw(
            "/ppp/secret",
            &[
                ("name", "pppoe-oracle"),
                ("password", PPP_PASSWORD),
                ("service", "pppoe"),
            ],
        )
        .unwrap();
    });
    let c = client(&m);
    for kind in [DriverKind::Rest, DriverKind::Ssh] {
        // A plain filter still reads the item.
        let found = print_via(
            &c,
            kind,
            "ppp/secret",
            &PrintQuery::all().filter("name", "pppoe-oracle"),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(found.len(), 1, "{kind}");

        // Comparisons and equality tests on a secret, and query words of any kind.
        for (menu, key, value) in [
            ("ppp/secret", "<password", "m"),
            ("ppp/secret", ">password", "m"),
            ("ppp/secret", "password", PPP_PASSWORD),
            ("ppp/secret", "-password", ""),
            ("ppp/secret", "#|", ""),
            ("ppp/secret", "name=pppoe-oracle", ""),
            ("user", "password", m.password.as_str()),
            ("user", "<password", "m"),
            ("interface/wireguard", "<private-key", "m"),
            ("interface/wireguard", "private-key", "x"),
            ("snmp/community", "authentication-password", "x"),
            ("system/script", "source", "x"),
        ] {
            let e = print_via(&c, kind, menu, &PrintQuery::all().filter(key, value))
                .await
                .expect_err(&format!("{kind} {menu} where {key}"));
            assert_eq!(e.kind.code(), "invalid_request", "{kind} {menu} {key}: {e}");
            let text = e.to_string();
            assert!(
                text.contains(key),
                "{kind}: the refusal names the key: {text}"
            );
            assert!(
                !text.contains(PPP_PASSWORD) && !text.contains(&m.password),
                "{kind}: {text}"
            );
        }

        // Proplist entries are names too.
        let e = print_via(
            &c,
            kind,
            "ppp/secret",
            &PrintQuery::all().proplist(&["name", "<password"]),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind.code(), "invalid_request", "{kind}: {e}");
        assert!(e.to_string().contains("proplist entry"), "{kind}: {e}");
    }
    sims.shutdown().await;
}
