//! The RouterOS templates of PyPI `ntc-templates` (TextFSM), unchanged, over the simulator's
//! console output (`tests/python/ntc_templates_check.py`): every RouterOS 7 command a template
//! covers runs on a `home` and an `edge` device over SSH and is parsed as
//! `netmiko.send_command(use_textfsm=True)` would.
//!
//! Asserted: the commands in [`PARSING`] parse (records, no empty key field, one record per
//! item); every other covered command carries the reason its template cannot parse faithful
//! 7.x output (the script's `REASONS` table); commands of menus the simulator lacks still answer `bad command name` (adding such a
//! menu makes this fail until its command is checked); the number of parsing commands never
//! drops below [`PARSING`]'s length. Without textfsm/ntc-templates the test is skipped with a
//! loud notice, except under CI (`CI` set), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::path::PathBuf;
use std::time::Duration;

use routeros_sim::fleet::FleetOptions;
use routeros_sim::profiles::Profile;
use serde_json::Value;

/// Commands whose template parses the simulator's output completely.
const PARSING: &[&str] = &[
    "/interface ethernet print",
    "/interface print terse without-paging",
    "/ip address print",
    "/interface vlan print detail",
    "/ip neighbor print detail",
    "/ip arp print without-paging",
    "/ip firewall filter print all without-paging",
    "/ip firewall nat print all without-paging",
    "/system identity print",
    "/system routerboard print",
    "/interface wireguard peers print terse without-paging",
    "/ip dhcp-server lease print terse without-paging",
    "/routing ospf interface print terse",
    "/ip firewall connection print terse without-paging",
];

#[tokio::test]
async fn ntc_templates_parse_console_output() {
    let sim = rest_support::start(FleetOptions {
        count: 2,
        profiles: vec![Profile::Home, Profile::Edge],
        seed: 1,
        password: Some("secret".into()),
        ..FleetOptions::default()
    })
    .await;
    let devices = sim.fleet.manifest().devices.clone();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/ntc_templates_check.py");
    let run = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&devices[0].address)
        .arg(devices[0].ssh_port.to_string())
        .arg(&devices[1].address)
        .arg(devices[1].ssh_port.to_string())
        .arg("admin")
        .arg("secret")
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(Duration::from_secs(300), run).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            skip_or_fail(&format!("python3 could not be started: {e}"));
            sim.fleet.shutdown().await;
            return;
        }
        Err(_) => panic!("the template check did not finish within 300 s"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        skip_or_fail(&stderr);
        sim.fleet.shutdown().await;
        return;
    }
    assert!(
        output.status.success(),
        "template check failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for cmd in PARSING {
        let r = lines
            .iter()
            .find(|l| l["command"] == *cmd)
            .unwrap_or_else(|| panic!("{cmd} was not run: {stdout}"));
        assert_eq!(r["status"], "parsed", "{cmd}: {r}");
    }
    for r in lines.iter().filter(|l| l["status"] == "failed") {
        assert!(
            r["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "a template that does not parse needs its reason in REASONS: {r}"
        );
    }
    for r in lines.iter().filter(|l| l.get("command").is_some()) {
        assert_ne!(
            r["status"], "unexpectedly-present",
            "the simulator has this menu now: check its template like the others: {r}"
        );
    }
    let summary = lines.last().unwrap();
    let parsed = summary["parsed"].as_u64().unwrap();
    eprintln!(
        "ntc-templates: {parsed} of {} RouterOS 7 commands parse",
        summary["checked"]
    );
    assert!(parsed >= PARSING.len() as u64, "{summary}");
    sim.fleet.shutdown().await;
}

fn skip_or_fail(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("ntc-templates is required under CI: pip install ntc-templates textfsm ({why})");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: ntc-templates test did not run: {why}\n!!!!!!!! pip install ntc-templates textfsm to run it\n"
    );
}
