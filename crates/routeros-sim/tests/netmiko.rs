//! A third-party RouterOS SSH client, unchanged, against the simulator: netmiko's
//! `mikrotik_routeros` driver connects, finds the prompt, runs commands and makes a change
//! (`tests/python/netmiko_check.py`); and the same driver without its terminal-size login suffix
//! meets the console's pager on a long print, as it would on a router
//! (`tests/python/netmiko_pager_check.py`).
//!
//! Without netmiko installed the test is skipped with a loud notice, except under CI (the `CI`
//! environment variable), where it fails and says `pip install netmiko`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

#[tokio::test]
async fn netmiko_mikrotik_routeros_driver_works_unchanged() {
    let sim = rest_support::home().await;
    let Some(steps) = python_steps(&sim.dev.address, sim.dev.ssh_port, "netmiko_check.py").await
    else {
        sim.fleet.shutdown().await;
        return;
    };
    let step = |name: &str| steps.step(name);
    assert_eq!(step("prompt")["prompt"], "[admin@sim-0001] >");
    assert_eq!(step("identity")["output"], "name: sim-0001");
    let addresses = step("addresses")["output"].as_str().unwrap();
    assert!(
        addresses.contains("Columns: ADDRESS, NETWORK, INTERFACE"),
        "{addresses}"
    );
    assert!(addresses.contains("192.168.88.1/24"), "{addresses}");
    let readback = step("readback")["output"].as_str().unwrap();
    assert!(readback.contains("address=192.0.2.1/24"), "{readback}");
    assert!(readback.contains("comment=netmiko"), "{readback}");
    let error = step("error")["output"].as_str().unwrap();
    assert!(
        error.contains("failure: already have such address"),
        "{error}"
    );
    step("done");
    // The change netmiko made is in the device's configuration.
    let dev = sim.fleet.devices()[0].clone();
    let present = dev.read_state(|s| {
        s.items_of("/ip/address").any(|a| {
            a.get("address") == Some("192.0.2.1/24") && a.get("comment") == Some("netmiko")
        })
    });
    assert!(present);
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn netmiko_without_the_login_suffix_meets_the_pager() {
    let sim = rest_support::home().await;
    let Some(steps) =
        python_steps(&sim.dev.address, sim.dev.ssh_port, "netmiko_pager_check.py").await
    else {
        sim.fleet.shutdown().await;
        return;
    };
    let step = |name: &str| steps.step(name);
    assert_eq!(step("filled")["count"], "1500");
    // Plain `admin` over netmiko's 1,000-row PTY: 999 lines (plus the echoed command), then
    // the pager prompt, and nothing more until a key; `q` gives the prompt back.
    let plain = step("plain");
    assert_eq!(plain["paged"], true, "{plain}");
    assert_eq!(plain["lines"], 1000, "{plain}");
    assert!(
        plain["tail"]
            .as_str()
            .unwrap()
            .ends_with("\n-- [Q quit|D dump|down]"),
        "{plain}"
    );
    assert_eq!(plain["waiting"], "", "{plain}");
    assert!(
        plain["after_quit"]
            .as_str()
            .unwrap()
            .ends_with("[admin@sim-0001] > "),
        "{plain}"
    );
    // With the suffix (4,098 rows) the 1,500-entry print arrives whole.
    let suffix = step("suffix");
    assert_eq!(suffix["paged"], false, "{suffix}");
    assert!(suffix["lines"].as_u64().unwrap() >= 1500, "{suffix}");
    step("done");
    sim.fleet.shutdown().await;
}

fn skip_or_fail(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("netmiko is required under CI: pip install netmiko ({why})");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: netmiko test did not run: {why}\n!!!!!!!! pip install netmiko to run it\n"
    );
}

/// The JSON lines a netmiko script printed, one per step.
struct Steps {
    stdout: String,
    steps: Vec<Value>,
}

impl Steps {
    fn step(&self, name: &str) -> &Value {
        self.steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name} in {}", self.stdout))
    }
}

/// Runs `tests/python/SCRIPT` against the device's SSH port as `admin`/`secret` and returns its
/// steps; `None` when netmiko is missing (skipped, or failed under CI by [`skip_or_fail`]).
async fn python_steps(address: &str, ssh_port: u16, script: &str) -> Option<Steps> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let run = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(address)
        .arg(ssh_port.to_string())
        .arg("admin")
        .arg("secret")
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(Duration::from_secs(180), run).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            skip_or_fail(&format!("python3 could not be started: {e}"));
            return None;
        }
        Err(_) => panic!("netmiko did not finish within 180 s"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        skip_or_fail(&stderr);
        return None;
    }
    assert!(
        output.status.success(),
        "netmiko failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let steps = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Some(Steps { stdout, steps })
}
