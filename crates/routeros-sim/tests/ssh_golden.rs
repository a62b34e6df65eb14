//! The golden files of `cli_golden.rs`, checked over real SSH exec requests: same bytes, with
//! `\r\n` line ends on the wire. The fleet uses the parameters of the in-memory test device
//! (seed 7, first address 127.0.1.1), so the configuration is identical; only the export
//! header's date line, which follows the wall clock, is not compared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use routeros_sim::FleetOptions;

/// Golden files whose content does not depend on time, and the command of each.
const CASES: &[(&str, &str)] = &[
    ("identity-print", "/system identity print"),
    ("interface-print", "/interface print"),
    ("ip-address-print", "/ip address print"),
    ("ip-address-print-detail", "/ip address print detail"),
    ("ip-address-print-terse", "/ip address print terse"),
    ("ip-address-print-as-value", "/ip address print as-value"),
    (
        "ip-address-serialize-json",
        ":put [:serialize to=json [/ip address print as-value]]",
    ),
    (
        "ip-address-print-where",
        "/ip address print where interface=bridge",
    ),
    (
        "ip-address-print-count-only",
        "/ip address print count-only",
    ),
    ("ip-route-print", "/ip route print"),
    ("firewall-filter-print", "/ip firewall filter print"),
    ("export", "/export"),
    ("export-verbose-ip-address", "/ip address export verbose"),
    (
        "export-wireguard-show-sensitive",
        "/interface wireguard export show-sensitive",
    ),
    (
        "export-wireguard-hide-sensitive",
        "/interface wireguard export hide-sensitive",
    ),
];

fn without_date(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.starts_with("# ") && l.contains(" by RouterOS ") {
                "# <date> by RouterOS"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn ssh_output_matches_golden_files() {
    let sim = rest_support::start(FleetOptions {
        seed: 7,
        password: Some("secret-pass".into()),
        ..FleetOptions::default()
    })
    .await;
    let addr = SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port);
    let conn = ssh_support::connect(addr, "admin", "secret-pass", Duration::from_secs(20))
        .await
        .unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = Vec::new();
    for (name, cmd) in CASES {
        let (wire, _) = conn.exec(cmd).await;
        let lines_ok = wire.split_inclusive('\n').all(|l| l.ends_with("\r\n"));
        let text = wire.replace("\r\n", "\n");
        let expected = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
        if !lines_ok {
            failures.push(format!("{name}: a line does not end in CRLF: {wire:?}"));
        }
        if without_date(&text) != without_date(&expected) {
            failures.push(format!(
                "{name}:\n--- expected\n{expected}\n--- over ssh\n{text}"
            ));
        }
    }
    sim.fleet.shutdown().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
