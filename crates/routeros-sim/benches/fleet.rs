//! Fleet start-up time and memory, printed (not asserted).
//!
//! Each fleet size runs in a fresh child process so its resident set size is not inflated by
//! an earlier, larger run: the parent re-executes this benchmark with
//! `ROUTEROS_SIM_BENCH_CHILD=<count>` and collects one line of figures per size.
//!
//! Figures: wall time of `Fleet::start` (build configurations, generate keys, bind three
//! listeners per device, start the control API), RSS after start, RSS per device, and for the
//! `edge` profile the time to build one device and to serve its full route table over REST.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Instant;

use routeros_sim::profiles::Profile;
use routeros_sim::{Fleet, FleetOptions};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn child(spec: &str) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(2);
        }
    };
    runtime.block_on(async {
        if let Some(rest) = spec.strip_prefix("edge") {
            let _ = rest;
            edge().await;
            return;
        }
        let count: usize = spec.parse().unwrap_or(100);
        let before = rss_kib();
        let started = Instant::now();
        let fleet = match Fleet::start(FleetOptions {
            count,
            seed: 1,
            base_address: Ipv4Addr::new(127, 1, 0, 1),
            ..FleetOptions::default()
        })
        .await
        {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fleet start failed: {e}");
                std::process::exit(2);
            }
        };
        let elapsed = started.elapsed();
        let after = rss_kib();
        println!(
            "home x{count}: start {:.3} s, RSS {:.1} MiB (baseline {:.1} MiB), {:.1} KiB per device",
            elapsed.as_secs_f64(),
            after as f64 / 1024.0,
            before as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / count as f64
        );
        fleet.shutdown().await;
    });
}

async fn edge() {
    let before = rss_kib();
    let started = Instant::now();
    let fleet = match Fleet::start(FleetOptions {
        profiles: vec![Profile::Edge],
        base_address: Ipv4Addr::new(127, 1, 200, 1),
        password: Some("bench".into()),
        ..FleetOptions::default()
    })
    .await
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fleet start failed: {e}");
            std::process::exit(2);
        }
    };
    let start = started.elapsed();
    let after = rss_kib();
    let Some(dev) = fleet.device("sim-0001") else {
        eprintln!("no device");
        std::process::exit(2);
    };
    // Print the route table the way a REST GET does, through the model and JSON.
    let route = routeros_sim::model::menu("/ip/route");
    let t = Instant::now();
    let (n, bytes) = dev.read_state(|s| {
        let recs = route.map(|m| s.print(m, None, None)).unwrap_or_default();
        let objs: Vec<_> = recs.iter().map(|r| r.to_json()).collect();
        let text = serde_json::to_vec(&objs).unwrap_or_default();
        (recs.len(), text.len())
    });
    let print = t.elapsed();
    println!(
        "edge x1: start {:.3} s, RSS +{:.1} MiB; GET /ip/route renders {n} routes ({:.1} MiB JSON) in {:.3} s",
        start.as_secs_f64(),
        (after.saturating_sub(before)) as f64 / 1024.0,
        bytes as f64 / 1_048_576.0,
        print.as_secs_f64()
    );
    fleet.shutdown().await;
}

fn main() {
    if let Ok(spec) = std::env::var("ROUTEROS_SIM_BENCH_CHILD") {
        child(&spec);
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot find own executable: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "routeros-sim fleet benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for spec in ["100", "1000", "edge"] {
        let status = Command::new(&exe)
            .env("ROUTEROS_SIM_BENCH_CHILD", spec)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => eprintln!("run {spec} failed: {s}"),
            Err(e) => eprintln!("run {spec} could not start: {e}"),
        }
    }
}
