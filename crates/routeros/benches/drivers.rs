//! Driver benchmark (printed figures, not asserted):
//!
//! 1. Per-call latency (p50/p99) of the REST and SSH drivers reading `/system/resource` from one
//!    simulated router, against a bare `reqwest` call to the same HTTPS endpoint: the overhead of
//!    the driver stack (pinning, rate limit, breaker, metrics, JSON normalisation) as a ratio.
//! 2. Fleet fan-out: `/system/resource` from 1,000 simulated routers with bounded concurrency —
//!    wall time and peak RSS of the process (which also hosts the simulator).
//!
//! Run with `cargo bench -p routeros --bench drivers`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{DeviceId, DriverPreference};
use futures::StreamExt;
use routeros::{Connections, Fingerprint, Limits, MenuPath, PrintQuery, Target, Trust};
use routeros_sim::{Fleet, FleetOptions, ManifestDevice, profiles::Profile};
use secrecy::SecretString;

const CALLS: usize = 400;

fn target(m: &ManifestDevice) -> Target {
    Target {
        device_id: DeviceId::new(),
        name: m.name.clone(),
        host: m.address.parse().unwrap(),
        rest_port: m.https_port,
        http_port: m.http_port,
        ssh_port: m.ssh_port,
        username: m.username.clone(),
        password: SecretString::from(m.password.clone()),
        tls: Trust::Pinned(Fingerprint::parse(&m.tls_sha256).unwrap()),
        ssh: Trust::Pinned(Fingerprint::parse(&m.ssh_host_key_sha256).unwrap()),
        insecure_http: false,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (percentile(&samples, 0.50), percentile(&samples, 0.99))
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Accepts any certificate: the bare baseline does no pinning at all.
#[derive(Debug)]
struct AcceptAny(rustls::crypto::WebPkiSupportedAlgorithms);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

async fn latency() {
    let sims = Fleet::start(FleetOptions {
        count: 1,
        profiles: vec![Profile::Home],
        base_address: Ipv4Addr::new(127, 60, 0, 1),
        ..FleetOptions::default()
    })
    .await
    .unwrap();
    let m = sims.manifest().devices[0].clone();
    let menu = MenuPath::parse("system/resource").unwrap();
    let unlimited = Limits {
        rate_per_second: 100_000,
        burst: 100_000,
        ..Limits::default()
    };
    let conns = Connections::new(unlimited, None);

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(
            provider.signature_verification_algorithms,
        )))
        .with_no_client_auth();
    let bare = reqwest::Client::builder()
        .http1_only()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let url = format!(
        "https://{}:{}/rest/system/resource",
        m.address, m.https_port
    );

    // Interleaved, so drift on a shared machine affects every client alike.
    let rest = conns.client(target(&m), DriverPreference::Rest, Some("7.16"));
    let ssh = conns.uncached(target(&m), DriverPreference::Ssh, Some("7.16"));
    let (mut bare_s, mut rest_s, mut ssh_s) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..CALLS + 20 {
        let t = Instant::now();
        let body = bare
            .get(&url)
            .basic_auth(&m.username, Some(&m.password))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let _: serde_json::Value = serde_json::from_str(&body).unwrap();
        let bare_t = t.elapsed();
        let t = Instant::now();
        rest.print(&menu, &PrintQuery::all()).await.unwrap();
        let rest_t = t.elapsed();
        let t = Instant::now();
        ssh.print(&menu, &PrintQuery::all()).await.unwrap();
        let ssh_t = t.elapsed();
        if i >= 20 {
            bare_s.push(bare_t);
            rest_s.push(rest_t);
            ssh_s.push(ssh_t);
        }
    }
    let results = [
        ("bare reqwest (HTTPS, no pinning)", summary(bare_s)),
        ("REST driver", summary(rest_s)),
        ("SSH driver", summary(ssh_s)),
    ];
    let base = results[0].1;
    println!(
        "\nPer-call latency, {CALLS} sequential reads of /system/resource from one simulated router:"
    );
    println!("| client | p50 | p99 | p50 vs bare reqwest |");
    println!("|---|---|---|---|");
    for (label, (p50, p99)) in &results {
        println!(
            "| {label} | {:.3} ms | {:.3} ms | {:.2}x |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            p50.as_secs_f64() / base.0.as_secs_f64()
        );
    }
    sims.shutdown().await;
}

async fn fan_out() {
    let count = 1000;
    let started = Instant::now();
    let sims = Fleet::start(FleetOptions {
        count,
        profiles: vec![Profile::Home],
        base_address: Ipv4Addr::new(127, 61, 0, 1),
        ..FleetOptions::default()
    })
    .await
    .unwrap();
    let boot = started.elapsed();
    let rss_before = peak_rss_mib();
    let conns = Arc::new(Connections::new(Limits::default(), None));
    let menu = MenuPath::parse("system/resource").unwrap();
    for concurrency in [32, 128] {
        let t = Instant::now();
        let ok = futures::stream::iter(sims.manifest().devices)
            .map(|m| {
                let conns = Arc::clone(&conns);
                let menu = menu.clone();
                async move {
                    let client = conns.client(target(&m), DriverPreference::Rest, Some("7.16"));
                    client.print(&menu, &PrintQuery::all()).await.is_ok()
                }
            })
            .buffer_unordered(concurrency)
            .filter(|ok| futures::future::ready(*ok))
            .count()
            .await;
        println!(
            "\nFan-out: /system/resource from {count} simulated routers over REST, concurrency {concurrency}: \
             {ok}/{count} answered in {:.2} s (simulator start {:.2} s); peak RSS {:.1} MiB \
             (simulator alone {:.1} MiB)",
            t.elapsed().as_secs_f64(),
            boot.as_secs_f64(),
            peak_rss_mib(),
            rss_before
        );
    }
    sims.shutdown().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        latency().await;
        fan_out().await;
    });
}
