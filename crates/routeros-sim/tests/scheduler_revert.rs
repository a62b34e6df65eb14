//! Device-side auto-revert end to end: a scheduler entry is created, then a change over SSH or
//! REST cuts the device's management path and it stops answering; the entry, run by the device
//! itself, restores the path; the device answers again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rest_support::Sim;
use routeros_sim::FleetOptions;
use ssh_support::{Conn, connect};

const T: Duration = Duration::from_secs(20);

async fn fleet() -> Sim {
    rest_support::start(FleetOptions {
        seed: 5,
        password: Some("secret".into()),
        time_scale: 60.0,
        ..FleetOptions::default()
    })
    .await
}

fn ssh_addr(sim: &Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port)
}

async fn reconnect(sim: &Sim, within: Duration) -> Conn {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(c) = connect(ssh_addr(sim), "admin", "secret", Duration::from_secs(1)).await {
            return c;
        }
        assert!(Instant::now() < deadline, "the device never answered again");
    }
}

/// Arms a revert that re-enables ether1 and removes itself, six simulated
/// minutes from now (six real seconds).
const ARM: &str = "/system scheduler add name=revert interval=6m on-event=\"/interface enable [find name=ether1]; /system scheduler remove [find name=revert]\"";

#[tokio::test]
async fn a_change_over_ssh_that_cuts_the_path_is_reverted_by_the_scheduler() {
    let sim = fleet().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    assert_eq!(conn.exec(ARM).await.0, "");
    // The change goes through, but its reply never comes back: the path is gone.
    let reply = conn
        .try_exec(
            "/interface disable [find name=ether1]",
            Duration::from_millis(800),
        )
        .await;
    assert!(
        reply.is_none(),
        "no answer once the management interface is down: {reply:?}"
    );
    let dev = sim.fleet.devices()[0].clone();
    assert!(dev.read_state(|s| {
        s.items_of("/interface")
            .any(|i| i.get("name") == Some("ether1") && i.is_true("disabled"))
    }));
    let fresh = connect(
        ssh_addr(&sim),
        "admin",
        "secret",
        Duration::from_millis(500),
    )
    .await;
    assert!(fresh.is_err(), "new connections hang as well");
    // The device restores the path by itself.
    let back = reconnect(&sim, T).await;
    let (out, _) = back.exec(":put [/interface get ether1 disabled]").await;
    assert_eq!(out, "false\r\n");
    let (out, _) = back
        .exec(":put [:len [/system scheduler find name=revert]]")
        .await;
    assert_eq!(out, "0\r\n", "the revert entry removed itself");
    // The old connection resumes too, with the held reply.
    let (out, _) = conn.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn a_change_over_rest_that_cuts_the_path_is_reverted_by_the_scheduler() {
    let sim = fleet().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    // Revert by putting the management address back.
    let (out, _) = conn
        .exec("/system scheduler add name=revert interval=6m on-event=\"/ip address add address=$[/ip address get [find comment=management] address] interface=ether1 comment=management; /system scheduler remove [find name=revert]\"")
        .await;
    assert_eq!(out, "");
    let (_, body) = sim.get("/ip/address?comment=management").await;
    let id = body[0][".id"].as_str().unwrap().to_string();
    let cut = tokio::time::timeout(
        Duration::from_millis(800),
        sim.delete(&format!("/ip/address/{id}")),
    )
    .await;
    assert!(
        cut.is_err(),
        "the DELETE that removes the management address gets no reply"
    );
    let started = Instant::now();
    let back = reconnect(&sim, T).await;
    assert!(started.elapsed() < T);
    let (out, _) = back
        .exec(":put [/ip address get [find comment=management] address]")
        .await;
    assert_eq!(out, "127.0.1.1/24\r\n");
    let (status, _) = sim.get("/system/identity").await;
    assert_eq!(status.as_u16(), 200, "REST answers again");
    sim.fleet.shutdown().await;
}
