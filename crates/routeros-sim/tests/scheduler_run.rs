//! `/system/scheduler` entries really run, on the simulated clock: intervals, one-shot start
//! times, `on-event` naming a script, errors logged, `startup` entries after a reboot.
//! Fleets run at `time_scale` 60 (a real second is a simulated minute).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rest_support::Sim;
use routeros_sim::FleetOptions;
use ssh_support::{Conn, connect};

const T: Duration = Duration::from_secs(20);

async fn fast_fleet() -> (Sim, Conn) {
    let sim = rest_support::start(FleetOptions {
        seed: 3,
        password: Some("secret".into()),
        time_scale: 60.0,
        ..FleetOptions::default()
    })
    .await;
    let addr = SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port);
    let conn = connect(addr, "admin", "secret", T).await.unwrap();
    (sim, conn)
}

/// Polls `cmd` over SSH until its output satisfies `ok` (at most `within`).
async fn eventually(conn: &Conn, cmd: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let (out, _) = conn.exec(cmd).await;
        if ok(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "`{cmd}` never satisfied the condition; last output: {out:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(out: &str) -> u64 {
    out.trim().parse().unwrap_or(0)
}

#[tokio::test]
async fn interval_entries_run_repeatedly_and_update_run_count() {
    let (sim, conn) = fast_fleet().await;
    let (out, _) = conn
        .exec("/system scheduler add name=tick interval=1m on-event=\":global ticks; :set ticks ([:tonum \\$ticks] + 1); :log info \\\"tick \\$ticks\\\"\"")
        .await;
    assert_eq!(out, "");
    eventually(
        &conn,
        ":put [/system scheduler get tick run-count]",
        T,
        |o| count(o) >= 3,
    )
    .await;
    let (log, _) = conn.exec("/log print where topics~\"script\"").await;
    assert!(log.contains("script,info tick 1"), "{log}");
    assert!(log.contains("tick 2"), "{log}");
    let (next, _) = conn
        .exec(":put [/system scheduler get tick next-run]")
        .await;
    assert!(!next.trim().is_empty(), "next-run is shown");
    // Disabling stops it.
    conn.exec("/system scheduler disable tick").await;
    let before = count(
        &conn
            .exec(":put [/system scheduler get tick run-count]")
            .await
            .0,
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = count(
        &conn
            .exec(":put [/system scheduler get tick run-count]")
            .await
            .0,
    );
    assert_eq!(before, after, "a disabled entry does not run");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn a_future_start_time_runs_once_and_names_a_script() {
    let (sim, conn) = fast_fleet().await;
    let now = sim.fleet.devices()[0].clock().now();
    let at = now + chrono::Duration::minutes(5);
    conn.exec("/system script add name=mark source=\"/system identity set name=marked\"")
        .await;
    let cmd = format!(
        "/system scheduler add name=once start-date={} start-time={} interval=0 on-event=mark",
        at.format("%Y-%m-%d"),
        at.format("%H:%M:%S")
    );
    assert_eq!(conn.exec(&cmd).await.0, "");
    let (id, _) = conn.exec(":put [/system identity get name]").await;
    assert_eq!(id, "sim-0001\r\n", "not before its time");
    eventually(&conn, ":put [/system identity get name]", T, |o| {
        o == "marked\r\n"
    })
    .await;
    assert_eq!(
        conn.exec(":put [/system script get mark run-count]")
            .await
            .0,
        "1\r\n"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        conn.exec(":put [/system scheduler get once run-count]")
            .await
            .0,
        "1\r\n"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn failing_scripts_are_logged_as_script_errors() {
    let (sim, conn) = fast_fleet().await;
    conn.exec("/system scheduler add name=broken interval=1m on-event=\"/ip address remove 99\"")
        .await;
    let log = eventually(&conn, "/log print where topics~\"script,error\"", T, |o| {
        o.contains("no such item")
    })
    .await;
    assert!(
        log.contains("executing script from scheduler (broken) failed"),
        "{log}"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn startup_entries_run_after_every_boot() {
    let (sim, conn) = fast_fleet().await;
    conn.exec("/system scheduler add name=boot start-time=startup on-event=\":log warning \\\"booted\\\"\"").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        conn.exec(":put [/system scheduler get boot run-count]")
            .await
            .0,
        "0\r\n",
        "startup entries wait for a boot"
    );
    let dev = sim.fleet.devices()[0].clone();
    dev.reboot(Duration::from_millis(300));
    let addr = SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port);
    let deadline = Instant::now() + T;
    let conn = loop {
        if let Ok(c) = connect(addr, "admin", "secret", Duration::from_secs(2)).await {
            break c;
        }
        assert!(Instant::now() < deadline, "device did not come back");
        // A rebooting device closes connections at once: do not spin.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eventually(
        &conn,
        ":put [/system scheduler get boot run-count]",
        T,
        |o| o == "1\r\n",
    )
    .await;
    let (log, _) = conn.exec("/log print").await;
    assert!(log.contains("script,warning booted"), "{log}");
    sim.fleet.shutdown().await;
}
