//! MCP server benchmark (printed figures, not asserted), against the real `routeros-mcp serve`
//! process and routeros-sim routers in this process:
//!
//! 1. The size of the `tools/list` answer for the default tier.
//! 2. Tool-call latency p50/p99 over stdio and over HTTP against the same driver call made
//!    directly (`routeros.print` of `/system/identity` vs. `print` on a REST driver client): the
//!    server's own overhead as a ratio. The three are interleaved call by call so that load on
//!    the shared machine affects them alike.
//!    The server runs with the read cache off, so every call reaches the router as the direct
//!    call does; a `ping` over the same stdio session gives the client's and the pipe's share, so
//!    stdio call − ping − direct call is the server's own work per call.
//! 3. Tool calls per second with 50 concurrent HTTP sessions, at the default settings: sessions
//!    driven like a load generator drives a server, and the same with rmcp's client.
//! 4. `fleet.get_health` over 1,000 simulated routers (one call): wall time and the server's peak
//!    RSS.
//! 5. `system.get_overview` at the default settings, as a new user meets it: 30 and then 300
//!    calls in a row from a fresh server over stdio and over HTTP, with the read cache as
//!    configured by default and with it off (`MCP_RESOURCE_CACHE_ENABLED=false`), beside the same
//!    three reads made directly on a driver client with the default limits.
//!
//! 6. `fleet.get_health` at fleet scale (`--only fleet`, 10,000 routers unless `--devices` says
//!    otherwise): the routers served by several simulator processes (this benchmark started again
//!    with `--sim-child`, 2,500 routers each, as one process's open files allow), registered by
//!    `device import`, then one call over all of them — cold (no connection open), warm, and again
//!    after the idle time closed every connection — with wall time, answer size in tokens and the
//!    server's RSS. Five routers reboot before the cold call: the cold and warm answers must list
//!    exactly those five first, with a summary that counts every router once (asserted).
//! 7. Backups at fleet scale (`--only backups`, 10,000 routers unless `--devices` says
//!    otherwise; needs `TEST_DATABASE_URL`): the same simulator processes, registered in a fresh
//!    PostgreSQL database, backed up by two `serve` instances through the `backup` fleet jobs —
//!    wall time until every router has its first snapshot, the split between the instances, that
//!    none was backed up twice, each instance's RSS and the database's size.
//!
//! Run with `cargo bench -p routeros-mcp --bench mcp` (add `-- --devices 200` for a smaller fleet,
//! `-- --only overview` for section 5 alone, `-- --only throughput` for section 3 alone,
//! `-- --only fleet` for section 6 alone, `-- --only backups` for section 7 alone).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../../tests/system/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::DeviceId;
use http_body_util::{BodyExt, Full};
use routeros::{Connections, Fingerprint, Limits, MenuPath, PrintQuery, Target, Trust};
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use support::{World, WorldOptions};
use vault::SecretString;

const CALLS: usize = 300;
const SESSIONS: usize = 50;
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(5);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (percentile(&samples, 0.50), percentile(&samples, 0.99))
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmHWM:")
}

/// A memory figure of `/proc/PID/status` (`VmHWM:` peak, `VmRSS:` now), in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// For the server's own overhead per call: every call reaches the router (no read cache), as the
/// direct driver call it is compared with does, and no device limit makes a call wait.
const UNCACHED: &[(&str, &str)] = &[
    ("MCP_RESOURCE_CACHE_ENABLED", "false"),
    ("ROUTEROS_DEVICE_CONCURRENCY", "64"),
    ("LOG_LEVEL", "warn"),
];

/// The default settings (quieter logs only).
const DEFAULTS: &[(&str, &str)] = &[("LOG_LEVEL", "warn")];

/// A REST driver client of the world's first router, made directly (no server), with `limits`.
fn direct_client(world: &World, limits: Limits) -> Arc<routeros::DeviceClient> {
    let m = world.manifest().devices[0].clone();
    Connections::new(limits, None).client(
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
        },
        domain::DriverPreference::Rest,
        None,
    )
}

async fn latency_and_throughput() {
    let world = World::start(&[Profile::Home]).await;
    let name = world.names[0].clone();

    for tier in ["free", "basic", "professional"] {
        let session = world.stdio(&[("MCP_DEFAULT_TOOL_TIER", tier)]).await;
        let size = serde_json::to_string(&json!({"tools": session.tools}))
            .unwrap()
            .len();
        println!(
            "tools/list for a {tier} session{}: {} tools, {size} bytes of JSON ({:.1} KB)",
            if tier == "free" {
                " (the default tier; budget 42 KB)"
            } else {
                ""
            },
            session.tools.len(),
            size as f64 / 1000.0
        );
        session.close().await;
    }
    let stdio = world.stdio(UNCACHED).await;

    let server = world.http_server(UNCACHED).await;
    let http = server.client().await;
    let direct = direct_client(
        &world,
        Limits {
            concurrency: 64,
            ..Limits::default()
        },
    );
    let menu = MenuPath::parse("system/identity").unwrap();
    let args = json!({"device_id": name, "menu": "system/identity"});
    // Warm every path (connections, caches).
    for _ in 0..20 {
        direct.print(&menu, &PrintQuery::all()).await.unwrap();
        stdio.ok("routeros.print", args.clone()).await;
        http.ok("routeros.print", args.clone()).await;
    }
    let (mut d, mut s, mut h) = (Vec::new(), Vec::new(), Vec::new());
    let mut p = Vec::new();
    for _ in 0..CALLS {
        let t = Instant::now();
        direct.print(&menu, &PrintQuery::all()).await.unwrap();
        d.push(t.elapsed());
        // The client's and the pipe's share: a `ping` does nothing in the server.
        let t = Instant::now();
        stdio
            .service
            .peer()
            .send_request(rmcp::model::ClientRequest::PingRequest(Default::default()))
            .await
            .unwrap();
        p.push(t.elapsed());
        let t = Instant::now();
        let r = stdio.call("routeros.print", args.clone()).await;
        s.push(t.elapsed());
        assert_ne!(r.is_error, Some(true));
        let t = Instant::now();
        let r = http.call("routeros.print", args.clone()).await;
        h.push(t.elapsed());
        assert_ne!(r.is_error, Some(true));
    }
    let (d50, d99) = summary(d);
    let (p50, p99) = summary(p);
    let (s50, s99) = summary(s);
    let (h50, h99) = summary(h);
    println!(
        "\nlatency of {CALLS} calls reading /system/identity (interleaved; server with the read cache off):"
    );
    println!("| path | p50 | p99 | p50 vs direct |");
    println!("|---|---|---|---|");
    println!(
        "| direct REST driver call | {} | {} | 1.00x |",
        ms(d50),
        ms(d99)
    );
    println!(
        "| `ping` over stdio (client and pipe only) | {} | {} | {:.2}x |",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / d50.as_secs_f64()
    );
    for (label, p50, p99) in [
        ("`routeros.print` over stdio", s50, s99),
        ("`routeros.print` over Streamable HTTP", h50, h99),
    ] {
        println!(
            "| {label} | {} | {} | {:.2}x |",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / d50.as_secs_f64()
        );
    }
    stdio.close().await;
    http.close().await;
    server.stop().await;

    throughput(&world, &args).await;
    world.stop().await;
}

/// Section 3: tool calls per second with [`SESSIONS`] concurrent MCP sessions over Streamable
/// HTTP, at the default settings.
async fn throughput(world: &World, print_args: &Value) {
    let server = world.http_server(DEFAULTS).await;
    let addr = server.root()["http://".len()..].to_owned();
    println!(
        "\n{SESSIONS} concurrent HTTP sessions, {} s each, default settings:",
        THROUGHPUT_WINDOW.as_secs()
    );
    println!("| tool | calls | calls/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|");
    for (tool, args) in [
        ("device.list", json!({"limit": 10})),
        ("routeros.print", print_args.clone()),
    ] {
        let call = Bytes::from(
            serde_json::to_vec(&json!({
                "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": tool, "arguments": args}
            }))
            .unwrap(),
        );
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            sessions.push(LoadSession::open(&addr).await);
        }
        // One call first, shown, so the figures below are known to be of real answers.
        let (_, _, sample) = sessions[0].post(call.clone()).await;
        println!(
            "<!-- {tool} answers ({} bytes): {} -->",
            sample.len(),
            String::from_utf8_lossy(&sample).replace('\n', " ")
        );
        let started = Instant::now();
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|mut session| {
                let call = call.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errors = 0u32;
                    while started.elapsed() < THROUGHPUT_WINDOW {
                        let t = Instant::now();
                        let answered = session.call(call.clone()).await;
                        lat.push(t.elapsed());
                        if !answered {
                            errors += 1;
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await.unwrap();
            all.extend(lat);
            errors += e;
        }
        let wall = started.elapsed().as_secs_f64();
        let calls = all.len();
        let (p50, p99) = summary(all);
        println!(
            "| `{tool}` | {calls} | {:.0} | {} | {} | {errors} |",
            calls as f64 / wall,
            ms(p50),
            ms(p99)
        );
    }
    // The same with rmcp's own client in the benchmark process: what an SDK client sees, with
    // the client's decoding competing with the server for the same two cores.
    let mut clients = Vec::new();
    for _ in 0..SESSIONS {
        clients.push(Arc::new(server.client().await));
    }
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = Arc::clone(c);
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u32;
                while started.elapsed() < THROUGHPUT_WINDOW {
                    let t = Instant::now();
                    let r = c.call("device.list", json!({"limit": 10})).await;
                    lat.push(t.elapsed());
                    if r.is_error == Some(true) {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.unwrap();
        all.extend(lat);
        errors += e;
    }
    let wall = started.elapsed().as_secs_f64();
    let calls = all.len();
    let (p50, p99) = summary(all);
    println!(
        "| `device.list`, rmcp's client | {calls} | {:.0} | {} | {} | {errors} |",
        calls as f64 / wall,
        ms(p50),
        ms(p99)
    );
    for c in clients {
        if let Ok(c) = Arc::try_unwrap(c) {
            c.close().await;
        }
    }
    server.stop().await;
}

/// One MCP session (2025-11-25: `initialize`, then `Mcp-Session-Id` on every request) over one
/// HTTP/1.1 keep-alive connection, driven the way a load generator (wrk, oha) drives a server:
/// the request is prebuilt bytes and the answer is checked for a successful tool result without
/// being decoded into a model, so the benchmark's own share of the two cores stays small.
struct LoadSession {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
    session: String,
}

impl LoadSession {
    async fn open(addr: &str) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let mut session = LoadSession {
            sender,
            host: addr.to_owned(),
            session: String::new(),
        };
        let init = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "routeros-mcp-bench", "version": "0"}
            }
        });
        let (status, headers, body) = session
            .post(serde_json::to_vec(&init).unwrap().into())
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        session.session = headers
            .get("mcp-session-id")
            .expect("a session id")
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _, _) = session
            .post(serde_json::to_vec(&initialized).unwrap().into())
            .await;
        assert_eq!(status, 202);
        session
    }

    async fn post(&mut self, body: Bytes) -> (u16, hyper::HeaderMap, Bytes) {
        let mut request = hyper::Request::post("/mcp")
            .header("host", &self.host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if !self.session.is_empty() {
            request = request.header("mcp-session-id", &self.session);
        }
        self.sender.ready().await.unwrap();
        let response = self
            .sender
            .send_request(request.body(Full::new(body)).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts.status.as_u16(), parts.headers, body)
    }

    /// One `tools/call`; whether it answered with a result that is not an error.
    async fn call(&mut self, request: Bytes) -> bool {
        let (status, _, body) = self.post(request).await;
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        status == 200 && has(b"\"result\"") && !has(b"\"isError\":true")
    }
}

/// Section 5: `system.get_overview` at the default settings.
async fn overview_at_defaults() {
    let world = World::start(&[Profile::Home]).await;
    let name = world.names[0].clone();
    let args = json!({"device_id": name});
    println!("\n`system.get_overview` at the default settings, one fresh server per line:");
    println!("| path | calls 1–30 p50 | p99 | calls 31–330 p50 | p99 |");
    println!("|---|---|---|---|---|");

    // The same three reads on a driver client with the default limits, one at a time as a tool
    // did before and at once.
    let direct = direct_client(&world, Limits::default());
    let menus: Vec<MenuPath> = ["system/resource", "system/identity", "system/routerboard"]
        .iter()
        .map(|m| MenuPath::parse(m).unwrap())
        .collect();
    let all = PrintQuery::all();
    let mut samples = Vec::new();
    for _ in 0..330 {
        let t = Instant::now();
        let (a, b, c) = tokio::join!(
            direct.print(&menus[0], &all),
            direct.print(&menus[1], &all),
            direct.print(&menus[2], &all)
        );
        samples.push(t.elapsed());
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
    }
    overview_line(
        "direct driver calls (three reads at once, default limits)",
        samples,
    );

    for (label, env) in [
        ("defaults", &[("LOG_LEVEL", "warn")][..]),
        (
            "MCP_RESOURCE_CACHE_ENABLED=false",
            &[
                ("LOG_LEVEL", "warn"),
                ("MCP_RESOURCE_CACHE_ENABLED", "false"),
            ][..],
        ),
    ] {
        let stdio = world.stdio(env).await;
        let mut samples = Vec::new();
        for _ in 0..330 {
            let t = Instant::now();
            let r = stdio.call("system.get_overview", args.clone()).await;
            samples.push(t.elapsed());
            assert_ne!(r.is_error, Some(true));
        }
        overview_line(&format!("stdio, {label}"), samples);
        stdio.close().await;

        let server = world.http_server(env).await;
        let http = server.client().await;
        let mut samples = Vec::new();
        for _ in 0..330 {
            let t = Instant::now();
            let r = http.call("system.get_overview", args.clone()).await;
            samples.push(t.elapsed());
            assert_ne!(r.is_error, Some(true));
        }
        overview_line(&format!("Streamable HTTP, {label}"), samples);
        http.close().await;
        server.stop().await;
    }
    world.stop().await;
}

fn overview_line(label: &str, samples: Vec<Duration>) {
    let (first, rest) = samples.split_at(30);
    let (f50, f99) = summary(first.to_vec());
    let (r50, r99) = summary(rest.to_vec());
    println!(
        "| {label} | {} | {} | {} | {} |",
        ms(f50),
        ms(f99),
        ms(r50),
        ms(r99)
    );
}

async fn fleet_health(devices: usize) {
    let t = Instant::now();
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: devices,
        postgres: None,
    })
    .await;
    println!(
        "\nfleet.get_health over {devices} simulated routers (set-up: start and import in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let client = world.stdio(&[("LOG_LEVEL", "warn")]).await;
    let pid = client.pid.expect("the server's pid");
    println!("| run | wall time | answered | server peak RSS |");
    println!("|---|---|---|---|");
    for run in [
        "first (connects to every router)",
        "second (connections reused)",
    ] {
        let started = Instant::now();
        // One call answers for every router: the summary counts them all.
        let health = client.ok("fleet.get_health", json!({})).await;
        let answered = health["summary"]["reachable"].as_u64().unwrap_or(0);
        let seen = health["summary"]["total"].as_u64().unwrap_or(0);
        println!(
            "| {run} | {:.2} s | {answered} / {seen} | {:.1} MiB |",
            started.elapsed().as_secs_f64(),
            peak_rss_mib(pid)
        );
    }
    client.close().await;
    world.stop().await;
}

/// Routers per simulator process in section 6 (three listening sockets each, plus the
/// connections clients hold: well inside a process's open-file limit).
const ROUTERS_PER_PROCESS: usize = 2_500;

/// `--sim-child COUNT OCTET MANIFEST`: serves COUNT routers on 127.OCTET.x.y, writes their
/// manifest to MANIFEST once all listen, and serves until its standard input closes.
fn sim_child(args: &[String]) {
    let count: usize = args[0].parse().unwrap();
    let octet: u8 = args[1].parse().unwrap();
    let manifest_path = args[2].clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count,
            profiles: vec![Profile::Home],
            seed: u64::from(octet),
            base_address: std::net::Ipv4Addr::new(127, octet, 1, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .unwrap();
        std::fs::write(
            &manifest_path,
            serde_json::to_string(&sims.manifest()).unwrap(),
        )
        .unwrap();
        let mut stdin = tokio::io::stdin();
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink).await;
        sims.shutdown().await;
    });
}

/// One `fleet.get_health` over everything: (wall time, structured answer, estimated tokens).
async fn health_once(client: &support::Client) -> (Duration, Value, u64) {
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(600),
        client.service.call_tool(
            rmcp::model::CallToolRequestParams::new("fleet.get_health")
                .with_arguments(serde_json::Map::new()),
        ),
    )
    .await
    .expect("fleet.get_health answers within 10 minutes")
    .expect("fleet.get_health: no protocol error");
    let took = started.elapsed();
    assert_ne!(
        r.is_error,
        Some(true),
        "{}\nserver log:\n{}",
        support::text(&r),
        client.log.text()
    );
    let tokens = support::meta(&r, "estimated_tokens").as_u64().unwrap_or(0);
    (took, r.structured_content.unwrap_or(Value::Null), tokens)
}

async fn fleet_at_scale(devices: usize) {
    let t = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (children, manifest) = sim_processes(devices, dir.path()).await;
    let started = t.elapsed();
    // The first simulator process's control API (its routers are `p0-…` in the registry).
    let control_url = manifest.control_url.clone();
    let world = World::with_manifest(manifest, 64).await;
    println!(
        "\nfleet.get_health over {devices} simulated routers in {} simulator processes \
         (routers started in {:.1} s, imported in {:.1} s)",
        children.len(),
        started.as_secs_f64(),
        (t.elapsed() - started).as_secs_f64()
    );
    const IDLE_SECONDS: u64 = 10;
    let client = world
        .stdio(&[
            ("LOG_LEVEL", "warn"),
            ("ROUTEROS_DEVICE_IDLE_SECONDS", &IDLE_SECONDS.to_string()),
            // The health calls alone: no scheduled backups beside them (section 7 has those).
            ("ROUTEROS_MCP_BACKUP_INTERVAL", "0"),
        ])
        .await;
    let pid = client.pid.expect("the server's pid");
    // A few routers down (rebooting: connections refused) for the first two runs: the answer
    // must list exactly them, and its summary must count every router once.
    let first = devices.min(ROUTERS_PER_PROCESS);
    let mut down: Vec<String> = [3, first / 5, first / 2, first / 2 + 1, first - 2]
        .iter()
        .map(|i| format!("sim-{:04}", (*i).max(1)))
        .collect();
    down.dedup();
    let http = reqwest::Client::new();
    for name in &down {
        http.post(format!("{control_url}/devices/{name}/reboot"))
            .json(&serde_json::json!({"seconds": 120}))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
    let mut expected: Vec<String> = down.iter().map(|n| format!("p0-{n}")).collect();
    expected.sort_unstable();
    println!(
        "{} routers rebooting for the cold and warm runs ({})",
        down.len(),
        expected.join(", ")
    );
    println!(
        "| run | wall time | checked | reachable | listed | answer | server RSS after | server peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for run in [
        "cold (connects to every router)",
        "warm (connections reused)",
        "after the idle time closed every connection",
    ] {
        if run.starts_with("after") {
            let before = status_mib(pid, "VmRSS:");
            tokio::time::sleep(Duration::from_secs(IDLE_SECONDS * 2)).await;
            println!(
                "| idle {} s | | | | | | {before:.1} → {:.1} MiB | |",
                IDLE_SECONDS * 2,
                status_mib(pid, "VmRSS:")
            );
        }
        let (took, answer, tokens) = health_once(&client).await;
        if !run.starts_with("after") {
            let mut listed: Vec<String> = answer["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            listed.sort_unstable();
            assert_eq!(
                listed, expected,
                "exactly the routers that are down are listed"
            );
            assert_eq!(answer["summary"]["total"], devices);
            assert_eq!(answer["summary"]["unreachable"], down.len());
            assert_eq!(answer["summary"]["reachable"], devices - down.len());
        }
        println!(
            "| {run} | {:.2} s | {} | {} | {} | {tokens} tokens | {:.1} MiB | {:.1} MiB |",
            took.as_secs_f64(),
            answer["summary"]["total"],
            answer["summary"]["reachable"],
            answer["returned"],
            status_mib(pid, "VmRSS:"),
            peak_rss_mib(pid)
        );
    }
    client.close().await;
    world.stop().await;
    stop_sim_processes(children).await;
}

/// Starts `devices` routers in simulator processes of [`ROUTERS_PER_PROCESS`] each (children of
/// this benchmark) and returns them with one manifest naming every router uniquely.
async fn sim_processes(
    devices: usize,
    dir: &std::path::Path,
) -> (Vec<tokio::process::Child>, routeros_sim::Manifest) {
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    let mut manifest: Option<routeros_sim::Manifest> = None;
    let mut remaining = devices;
    let mut k = 0usize;
    while remaining > 0 {
        let count = remaining.min(ROUTERS_PER_PROCESS);
        let path = dir.join(format!("sims-{k}.json"));
        let octet = u8::try_from(120 + k).expect("at most 135 simulator processes");
        let child = tokio::process::Command::new(&exe)
            .args(["--sim-child", &count.to_string(), &octet.to_string()])
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push((child, path, k));
        remaining -= count;
        k += 1;
    }
    for (_, path, k) in &children {
        let part: routeros_sim::Manifest = loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && let Ok(m) = serde_json::from_str(&text)
            {
                break m;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Every process names its routers sim-0001…: registry names must differ.
        let devices = part.devices.into_iter().map(|mut d| {
            d.name = format!("p{k}-{}", d.name);
            d
        });
        match &mut manifest {
            Some(m) => m.devices.extend(devices),
            None => {
                manifest = Some(routeros_sim::Manifest {
                    control_url: part.control_url,
                    devices: devices.collect(),
                })
            }
        }
    }
    (
        children.into_iter().map(|(c, _, _)| c).collect(),
        manifest.unwrap(),
    )
}

/// Ends the simulator processes [`sim_processes`] started.
async fn stop_sim_processes(children: Vec<tokio::process::Child>) {
    for mut child in children {
        drop(child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    }
}

/// Section 7 (`--only backups`): `devices` routers backed up by two `serve` instances on one
/// PostgreSQL database (`TEST_DATABASE_URL`), through the `backup` fleet jobs: wall time until
/// every router has its first snapshot, how the routers split between the instances, that no
/// router was backed up twice, each instance's RSS and the database's size.
async fn backups_at_scale(devices: usize) {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        println!(
            "backups at scale: set TEST_DATABASE_URL to a PostgreSQL server to run this section"
        );
        return;
    }
    let t = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (children, manifest) = sim_processes(devices, dir.path()).await;
    let started = t.elapsed();
    let world = World::with_manifest_on(manifest, 64, Some("bench::backups_at_scale")).await;
    let imported = t.elapsed() - started;
    let registry = world.registry().await;
    let env = [
        ("LOG_LEVEL", "warn"),
        ("ROUTEROS_MCP_BACKUP_INTERVAL", "24h"),
    ];
    let begun = Instant::now();
    let a = world.http_server(&env).await;
    let b = world.http_server(&env).await;
    let done = loop {
        let jobs = registry.jobs("backup").await.unwrap();
        let done = jobs.iter().filter(|j| j.runs >= 1).count();
        if jobs.len() == devices && done == devices {
            break jobs;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(1800),
            "{done} of {devices} routers backed up after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let wall = begun.elapsed();
    // Time for a second backup to show up if any router were taken by both instances.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let jobs = registry.jobs("backup").await.unwrap();
    let twice = jobs.iter().filter(|j| j.runs > 1).count();
    let failed = done.iter().filter(|j| j.last_error.is_some()).count();
    let mut by_instance: std::collections::BTreeMap<String, usize> = Default::default();
    for j in &jobs {
        *by_instance
            .entry(j.last_finished_by.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(registry.pool())
        .await
        .unwrap();
    let snapshots: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM config_snapshots")
        .fetch_one(registry.pool())
        .await
        .unwrap();
    let rss = |s: &support::HttpServer| s.child.id().map_or(0.0, |pid| status_mib(pid, "VmRSS:"));
    let peak = |s: &support::HttpServer| s.child.id().map_or(0.0, peak_rss_mib);
    println!(
        "\nbackups of {devices} simulated routers by two instances on one PostgreSQL \
         (routers started in {:.1} s, imported in {:.1} s)",
        started.as_secs_f64(),
        imported.as_secs_f64()
    );
    println!(
        "| wall time to every router's first snapshot | routers per instance | backed up twice | failed | snapshots | instance RSS (now / peak) | database size |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {:.1} s ({:.0} routers/s) | {} | {twice} | {failed} | {snapshots} | {:.1} / {:.1} MiB and {:.1} / {:.1} MiB | {:.1} MiB |",
        wall.as_secs_f64(),
        devices as f64 / wall.as_secs_f64(),
        by_instance
            .values()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / "),
        rss(&a),
        peak(&a),
        rss(&b),
        peak(&b),
        size as f64 / (1024.0 * 1024.0)
    );
    assert_eq!(twice, 0, "every router once per interval");
    registry.close().await;
    a.stop().await;
    b.stop().await;
    world.stop().await;
    stop_sim_processes(children).await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sim-child") {
        sim_child(&args[i + 1..]);
        return;
    }
    let devices = args
        .iter()
        .position(|a| a == "--devices")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    runtime.block_on(async {
        if only.as_deref() == Some("overview") {
            overview_at_defaults().await;
            return;
        }
        if only.as_deref() == Some("fleet") {
            let devices = args
                .iter()
                .position(|a| a == "--devices")
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(10_000);
            fleet_at_scale(devices).await;
            return;
        }
        if only.as_deref() == Some("backups") {
            let devices = args
                .iter()
                .position(|a| a == "--devices")
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(10_000);
            backups_at_scale(devices).await;
            return;
        }
        if only.as_deref() == Some("throughput") {
            let world = World::start(&[Profile::Home]).await;
            let args = json!({"device_id": world.names[0], "menu": "system/identity"});
            throughput(&world, &args).await;
            world.stop().await;
            return;
        }
        latency_and_throughput().await;
        overview_at_defaults().await;
        fleet_health(devices).await;
    });
}
