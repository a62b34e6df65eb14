//! Audit append throughput (printed figures, not asserted): 50 tasks appending `tool.call`
//! records, one transaction per record (`Store::append_audit`) against the group-commit queue
//! (`Store::audit_queue`, timed until `flush` returns), on SQLite and — when
//! `TEST_DATABASE_URL` is set — PostgreSQL.
//!
//! Run with `cargo bench -p store --bench audit` (add `-- --records 20000` for a longer run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use store::testing::TestDatabase;
use store::{AuditContext, Store};

const TASKS: usize = 50;

fn details(task: usize, i: usize) -> serde_json::Value {
    serde_json::json!({
        "tool": "device.list",
        "device_id": null,
        "arguments": ["limit"],
        "outcome": "ok",
        "duration_ms": 1,
        "estimated_tokens": 120,
        "task": task,
        "call": i,
    })
}

/// Records per second with one transaction per record.
async fn direct(store: &Store, per_task: usize) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let ctx = AuditContext::new(format!("mcp:http:bench-{t}"));
                for i in 0..per_task {
                    store
                        .append_audit(&ctx, "tool.call", "tool:device.list", details(t, i))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (TASKS * per_task) as f64 / started.elapsed().as_secs_f64()
}

/// Records per second through the queue, counted until they are committed.
async fn queued(store: &Store, per_task: usize) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let ctx = AuditContext::new(format!("mcp:http:bench-{t}"));
                for i in 0..per_task {
                    store
                        .audit_queue()
                        .append(&ctx, "tool.call", "tool:device.list", details(t, i))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    store.audit_queue().flush().await.unwrap();
    (TASKS * per_task) as f64 / started.elapsed().as_secs_f64()
}

async fn run(name: &str, db: &TestDatabase, records: usize) {
    let store = db.store().await;
    let per_task = records.div_ceil(TASKS);
    let one_by_one = direct(&store, per_task).await;
    let grouped = queued(&store, per_task).await;
    let stats = store.audit_queue().stats();
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    println!(
        "{name:<10} one transaction per record: {one_by_one:>8.0} records/s | group commit: {grouped:>8.0} records/s \
         ({:.1} records per transaction on average, largest {}) | chain of {} verified",
        stats.records_written as f64 / stats.batches_written.max(1) as f64,
        stats.largest_batch,
        report.events_checked,
    );
    store.close().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(5000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("{records} tool-call records from {TASKS} tasks");
        let sqlite = TestDatabase::sqlite();
        run("SQLite", &sqlite, records).await;
        if let Some(pg) = TestDatabase::postgres("audit bench").await {
            run("PostgreSQL", &pg, records).await;
            pg.cleanup().await;
        }
    });
}
