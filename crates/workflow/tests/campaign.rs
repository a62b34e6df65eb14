//! The fault campaign: hundreds of seeded random plans (mixed menus, 1–5 routers each), each
//! applied with a fault injected at a random point — before the lock, after the k-th change,
//! during verification, during confirmation — of a random kind: a dropped connection, an HTTP
//! 500, a hang, a reboot, or a change that cuts the management path. Every run must end with
//! each router's configuration either exactly as before the plan or exactly as planned, never
//! anything in between; the planned state is checked against the plan by a model of its changes
//! written here, independent of the engine.
//!
//! `CAMPAIGN_PLANS` sets how many plans run (default 200), `CAMPAIGN_SEED` the seed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plan_ends_before_or_as_planned_whatever_fails() {
    let plans: usize = std::env::var("CAMPAIGN_PLANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("CAMPAIGN_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_121);
    support::campaign::run(plans, seed).await;
}
