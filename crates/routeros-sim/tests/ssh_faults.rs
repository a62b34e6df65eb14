//! Each fault over SSH, as a client notices it: added latency, `failure:` lines, a dropped
//! connection, a hang (and recovery when it clears), a reboot, rejected credentials, and the
//! "fail the k-th write" trigger.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rest_support::Sim;
use routeros_sim::{Faults, FleetOptions};
use ssh_support::{ConnectError, connect};

const T: Duration = Duration::from_secs(20);

fn ssh_addr(sim: &Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port)
}

fn set(sim: &Sim, faults: Faults) {
    sim.fleet.devices()[0].set_faults(faults);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    set(
        &sim,
        Faults {
            latency_ms: 400,
            ..Faults::default()
        },
    );
    let started = Instant::now();
    let (out, _) = conn.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn error_rate_answers_failure_and_changes_nothing() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    set(
        &sim,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let (out, _) = conn.exec("/system identity set name=changed").await;
    assert_eq!(out, "failure: simulated internal error\r\n");
    set(&sim, Faults::default());
    let (out, _) = conn.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn the_kth_write_fails_and_reads_do_not_count() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    set(
        &sim,
        Faults {
            fail_write: Some(2),
            ..Faults::default()
        },
    );
    let (out, _) = conn.exec("/ip address print count-only").await;
    assert_eq!(out, "3\r\n");
    let (out, _) = conn
        .exec("/ip address add address=10.61.0.1/24 interface=ether2")
        .await;
    assert_eq!(out, "");
    let (out, _) = conn
        .exec("/ip address add address=10.62.0.1/24 interface=ether2")
        .await;
    assert_eq!(out, "failure: simulated internal error\r\n");
    let (out, _) = conn
        .exec("/ip address add address=10.63.0.1/24 interface=ether2")
        .await;
    assert_eq!(out, "");
    let (out, _) = conn
        .exec(":put [:len [/ip address find where address~\"^10.6\"]]")
        .await;
    assert_eq!(out, "2\r\n", "the failed write was not applied");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn drop_after_closes_the_connection_once() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    set(
        &sim,
        Faults {
            drop_after: Some(1),
            ..Faults::default()
        },
    );
    let (out, _) = conn.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    let second = conn
        .try_exec("/system identity print", Duration::from_secs(5))
        .await;
    assert!(
        second
            .as_ref()
            .is_none_or(|(out, status)| out.is_empty() && status.is_none()),
        "{second:?}"
    );
    assert!(conn.handle.is_closed(), "the TCP connection is gone");
    // The trigger is one-shot: a new connection is served.
    let again = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    assert_eq!(
        again.exec("/system identity print").await.0,
        "  name: sim-0001\r\n"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn hang_silences_old_and_new_connections_until_cleared() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let mut sh = conn.shell(80).await;
    sh.read_until("] > ", T).await.unwrap();
    set(
        &sim,
        Faults {
            hang: true,
            ..Faults::default()
        },
    );
    sh.send(b"/system identity print\r\n").await;
    assert!(
        sh.read_until("name: sim-0001", Duration::from_millis(800))
            .await
            .is_none(),
        "a hung device answers nothing"
    );
    let fresh = connect(
        ssh_addr(&sim),
        "admin",
        "secret",
        Duration::from_millis(800),
    )
    .await;
    assert!(
        matches!(fresh, Err(ConnectError::Transport(_))),
        "new logins hang too"
    );
    set(&sim, Faults::default());
    let out = sh
        .read_until("] > ", T)
        .await
        .expect("the held command is answered after the hang clears");
    assert!(out.contains("  name: sim-0001\r\n"), "{out:?}");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn rejected_credentials() {
    let sim = rest_support::home().await;
    set(
        &sim,
        Faults {
            reject_auth: true,
            ..Faults::default()
        },
    );
    assert!(matches!(
        connect(ssh_addr(&sim), "admin", "secret", T).await,
        Err(ConnectError::Rejected)
    ));
    set(&sim, Faults::default());
    assert!(connect(ssh_addr(&sim), "admin", "secret", T).await.is_ok());
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn reboot_drops_sessions_and_comes_back_with_uptime_reset() {
    // A 30 s simulated reboot lasts one real second at this scale.
    let sim = rest_support::start(FleetOptions {
        seed: 1,
        password: Some("secret".into()),
        time_scale: 30.0,
        ..FleetOptions::default()
    })
    .await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    conn.exec(":global before \"x\"").await;
    let mut sh = conn.shell(80).await;
    sh.read_until("] > ", T).await.unwrap();
    // Interactive reboot asks first; "n" keeps the router up.
    sh.send(b"/system reboot\r\n").await;
    sh.read_until("Reboot, yes? [y/N]: ", T)
        .await
        .expect("confirmation question");
    sh.send(b"n").await;
    sh.read_until("] > ", T)
        .await
        .expect("prompt after declining");
    assert!(!sim.fleet.devices()[0].is_rebooting());
    sh.send(b"/system reboot\r\n").await;
    sh.read_until("Reboot, yes? [y/N]: ", T).await.unwrap();
    sh.send(b"y").await;
    assert!(sh.wait_closed(T).await, "the session ends with the reboot");
    let down = connect(
        ssh_addr(&sim),
        "admin",
        "secret",
        Duration::from_millis(300),
    )
    .await;
    assert!(down.is_err(), "nothing answers while the device is down");
    let deadline = Instant::now() + Duration::from_secs(15);
    let back = loop {
        if let Ok(c) = connect(ssh_addr(&sim), "admin", "secret", Duration::from_secs(2)).await {
            break c;
        }
        assert!(Instant::now() < deadline, "device did not come back");
    };
    let (log, _) = back.exec("/log print").await;
    assert!(log.contains("router rebooted"), "{log}");
    let (up, _) = back.exec(":put [/system resource get uptime]").await;
    let up = up.trim();
    let secs = routeros_sim::cli::value::parse_time(up).unwrap() / 1_000_000_000;
    assert!(secs < 300, "uptime restarted: {up}");
    let (g, _) = back.exec(":global before; :put [:typeof $before]").await;
    assert_eq!(g, "nothing\r\n", "globals do not survive a reboot");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn reboot_fault_cuts_the_connection() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    set(
        &sim,
        Faults {
            reboot_after: Some(1),
            reboot_seconds: Some(1),
            ..Faults::default()
        },
    );
    assert_eq!(
        conn.exec("/system identity print").await.0,
        "  name: sim-0001\r\n"
    );
    let second = conn
        .try_exec("/system identity print", Duration::from_secs(5))
        .await;
    assert!(
        second.as_ref().is_none_or(|(out, _)| out.is_empty()),
        "{second:?}"
    );
    assert!(sim.fleet.devices()[0].is_rebooting());
    sim.fleet.shutdown().await;
}
