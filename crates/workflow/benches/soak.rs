//! The fault campaign as a soak: `cargo bench -p workflow --bench soak -- --plans 10000
//! [--seed S]`. Runs the campaign's seeded random plans with a fault each (the same engine and
//! checks as `tests/campaign.rs`, which runs 200 in CI) and prints the tally, the time taken and
//! the process's peak memory. Every router must end exactly before or exactly as planned.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let plans: usize = match arg("--plans").map(|v| v.parse()) {
        None => 1000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("--plans takes a positive number of plans, e.g. --plans 10000");
            std::process::exit(2);
        }
    };
    let seed: u64 = match arg("--seed").map(|v| v.parse()) {
        None => 20_261_121,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("--seed takes a number, e.g. --seed 99");
            std::process::exit(2);
        }
    };
    // `cargo bench` also runs benches with `--bench`; without --plans that is a short run.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let all = runtime.block_on(support::campaign::run(plans, seed));
    eprintln!(
        "soak: {} plans checked; peak RSS {:.1} MiB",
        all.len(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}
