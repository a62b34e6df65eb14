//! Console output compared byte for byte with golden files in `tests/golden/`.
//!
//! The layouts follow outputs recorded on real RouterOS 7 routers (`/work/shared/routeros-fixtures`
//! and the captures cited in `docs/simulator.md`): `Flags:`/`Columns:` tables, `detail` wrapped
//! at 80 columns, `terse`, `as-value`, singleton `key: value` prints, `/export`. Run with
//! `UPDATE_GOLDEN=1` to rewrite the files after a deliberate change, then review the diff.
//! The same files are checked over SSH by `ssh_golden.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::path::PathBuf;

use cli_support::TestDevice;
use routeros_sim::profiles::Profile;

/// The console commands whose output is pinned, and the golden file of each.
pub const CASES: &[(&str, &str)] = &[
    ("identity-print", "/system identity print"),
    ("resource-print", "/system resource print"),
    ("interface-print", "/interface print"),
    ("interface-print-detail", "/interface print detail"),
    ("interface-print-terse", "/interface print terse"),
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
    ("dhcp-lease-print", "/ip dhcp-server lease print"),
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

/// Commands that fail, each with the line RouterOS prints; pinned together in `errors.txt`.
pub const ERRORS: &[&str] = &[
    "/ip addresss print",
    "/ip address print bogus=1",
    "/ip address add address=10.9.9.9/24 interface=bridge comment=two words",
    "/ip address add comment=a;b",
    ":put \"unterminated",
    ":put \"bad \\q escape\"",
    "/ip address remove 99",
    "/ip address add address=192.168.88.1/24 interface=bridge",
    "/ip address add address=not-an-ip interface=bridge",
    "/ip address add address=10.9.9.9/24 interface=nosuch",
    "/ip address add interface=bridge",
    "/interface ethernet add name=x",
    ":error \"custom failure\"",
];

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"))
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
pub fn check(name: &str, actual: &str) -> Result<(), String> {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    })?;
    if expected != actual {
        return Err(format!(
            "{name}: output differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn console_output_matches_golden_files() {
    let dev = TestDevice::new(Profile::Home);
    let mut failures = Vec::new();
    for (name, cmd) in CASES {
        let out = dev.run1(cmd);
        if let Err(e) = check(name, &out) {
            failures.push(e);
        }
    }
    let mut errors = String::new();
    for cmd in ERRORS {
        errors.push_str(&format!("> {cmd}\n{}", dev.run1(cmd)));
    }
    if let Err(e) = check("errors", &errors) {
        failures.push(e);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
