//! Fleet jobs in the real server: two `serve` processes on one database (PostgreSQL when
//! `TEST_DATABASE_URL` is set, else one SQLite file) share the plan reconciler — each announces
//! its instance, and a pass runs on one of them, not both; likewise each device's backup.

use std::time::Duration;

use routeros_sim::profiles::Profile;

use crate::support::{HttpServer, STEP, World, WorldOptions};

/// The instance id a server announced.
fn instance(server: &HttpServer) -> String {
    server
        .log
        .text()
        .lines()
        .find_map(|l| {
            let (kinds, id) = l
                .strip_prefix("fleet jobs (")?
                .split_once(") run here as instance ")?;
            assert_eq!(kinds, "reconcile, backup", "{l}");
            Some(id.to_owned())
        })
        .unwrap_or_else(|| panic!("no instance announced:\n{}", server.log.text()))
}

/// `mcp_jobs_claimed_total{kind="reconcile"}` of one server.
async fn reconciles_claimed(server: &HttpServer) -> u64 {
    let (status, metrics) = server.get("/metrics").await;
    assert_eq!(status, 200);
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("mcp_jobs_claimed_total{kind=\"reconcile\"} "))
        .unwrap_or_else(|| panic!("no reconcile series in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_run_the_reconciler_on_one_of_them() {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: 1,
        postgres: Some("system::two_servers_on_one_database_run_the_reconciler_on_one_of_them"),
    })
    .await;
    let a = world.http_server(&[]).await;
    let b = world.http_server(&[]).await;
    let (id_a, id_b) = (instance(&a), instance(&b));
    assert_ne!(id_a, id_b, "every process is an instance of its own");

    let registry = world.registry().await;
    let job = tokio::time::timeout(STEP, async {
        loop {
            if let Some(job) = registry.job("reconcile", "plans").await.unwrap()
                && job.runs >= 1
            {
                break job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a reconciling pass runs at start");
    // Time for a second pass to show up if both servers ran one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (claimed_a, claimed_b) = (reconciles_claimed(&a).await, reconciles_claimed(&b).await);
    assert_eq!(
        claimed_a + claimed_b,
        1,
        "one pass for both servers (a: {claimed_a}, b: {claimed_b})"
    );
    let ran_on = if claimed_a == 1 { &id_a } else { &id_b };
    assert_eq!(job.last_finished_by.as_ref(), Some(ran_on));
    let job = registry.job("reconcile", "plans").await.unwrap().unwrap();
    assert_eq!(job.runs, 1, "next pass in a minute: {job:?}");
    assert!(job.lease_owner.is_none());

    // The device's scheduled backup ran once, on one of the two, and stored its first snapshot.
    let devices = registry.list_devices(&Default::default()).await.unwrap();
    assert_eq!(devices.len(), 1);
    let key = devices[0].id.to_string();
    let backup = tokio::time::timeout(STEP, async {
        loop {
            if let Some(job) = registry.job("backup", &key).await.unwrap()
                && job.runs >= 1
            {
                break job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the device is backed up at start");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = registry.job("backup", &key).await.unwrap().unwrap();
    assert_eq!(
        again.runs, 1,
        "once per interval, not once per instance: {again:?}"
    );
    assert!(
        backup.last_finished_by.as_ref() == Some(&id_a)
            || backup.last_finished_by.as_ref() == Some(&id_b)
    );
    let snapshots = registry.snapshot_list(&key, 0, 10).await.unwrap();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    assert_eq!(snapshots[0].cause, "baseline");
    registry.close().await;
    a.stop().await;
    b.stop().await;
    world.stop().await;
}
