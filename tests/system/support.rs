//! The world a system test runs in: simulated routers imported into a fresh registry by the real
//! CLI, and the real `routeros-mcp serve` driven by rmcp's MCP client over stdio or HTTP.

#![allow(dead_code)] // Shared with the MCP benchmark, which uses a part of it.

use std::net::Ipv4Addr;
use std::process::Stdio;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use routeros_sim::profiles::Profile;
use serde_json::{Map, Value};
use store::testing::TestDatabase;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

/// Every step of a test is bounded: a hung server fails the test instead of hanging CI.
pub const STEP: Duration = Duration::from_secs(60);

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

pub struct WorldOptions {
    pub profiles: Vec<Profile>,
    pub count: usize,
    /// Use PostgreSQL when `TEST_DATABASE_URL` is set (SQLite otherwise).
    pub postgres: Option<&'static str>,
}

/// Simulated routers registered (by `routeros-mcp device import`) in a fresh data directory.
pub struct World {
    sims: Option<routeros_sim::Fleet>,
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    db: Option<TestDatabase>,
    /// Registry names, in simulator order (`sim-0001`, …).
    pub names: Vec<String>,
    /// Every simulated router's password (none may ever appear in output).
    pub passwords: Vec<String>,
}

impl World {
    pub async fn start(profiles: &[Profile]) -> Self {
        Self::start_with(WorldOptions {
            profiles: profiles.to_vec(),
            count: profiles.len(),
            postgres: None,
        })
        .await
    }

    pub async fn start_with(opts: WorldOptions) -> Self {
        // The HTTP clients (reqwest, rmcp's) use rustls with the build's one provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: opts.count,
            profiles: opts.profiles,
            seed: 11,
            // Each test's routers get addresses of their own: 127.91.<block>.x.
            base_address: Ipv4Addr::new(127, 91, block, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .unwrap();
        let manifest = sims.manifest();
        Self::import(Some(sims), manifest, opts.postgres, 16).await
    }

    /// Routers served elsewhere (other processes), described by `manifest`, registered in a
    /// fresh data directory by `device import` with `concurrency` probes at once.
    pub async fn with_manifest(manifest: routeros_sim::Manifest, concurrency: usize) -> Self {
        Self::with_manifest_on(manifest, concurrency, None).await
    }

    /// [`World::with_manifest`] on a fresh PostgreSQL database of `TEST_DATABASE_URL` when
    /// `postgres` names the run (SQLite without that variable).
    pub async fn with_manifest_on(
        manifest: routeros_sim::Manifest,
        concurrency: usize,
        postgres: Option<&'static str>,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self::import(None, manifest, postgres, concurrency).await
    }

    async fn import(
        sims: Option<routeros_sim::Fleet>,
        manifest: routeros_sim::Manifest,
        postgres: Option<&'static str>,
        concurrency: usize,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![
            (
                "ROUTEROS_MCP_DATA_DIR".to_owned(),
                dir.path().join("data").display().to_string(),
            ),
            ("USER".to_owned(), "system-test".to_owned()),
        ];
        let db = match postgres {
            Some(test) => TestDatabase::postgres(test).await,
            None => None,
        };
        if let Some(url) = db.as_ref().and_then(TestDatabase::postgres_url) {
            env.push(("DATABASE_URL".to_owned(), url));
        }
        let names = manifest.devices.iter().map(|d| d.name.clone()).collect();
        let passwords = manifest
            .devices
            .iter()
            .map(|d| d.password.clone())
            .collect();
        let mut world = Self {
            sims,
            dir,
            env,
            db,
            names,
            passwords,
        };
        let file = world.dir.path().join("fleet.json");
        std::fs::write(&file, serde_json::to_string(&manifest).unwrap()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = world
            .cli(&[
                "device",
                "import",
                file.to_str().unwrap(),
                "--concurrency",
                &concurrency.to_string(),
                // Said explicitly: a device without an environment is recorded as prod.
                "--env",
                "lab",
            ])
            .await;
        assert!(
            out.status.success(),
            "import failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        world.env.retain(|(k, _)| k != "USER");
        world
    }

    /// The real binary with this world's environment (and nothing inherited but `PATH`).
    pub fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_routeros-mcp"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .kill_on_drop(true);
        cmd
    }

    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let child = self
            .command(args, &[])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        tokio::time::timeout(STEP, child.wait_with_output())
            .await
            .expect("the command finishes")
            .unwrap()
    }

    /// Whether this world's registry is on PostgreSQL (`TEST_DATABASE_URL` was set).
    pub fn on_postgres(&self) -> bool {
        self.db.is_some()
    }

    /// The registry the servers of this world use, opened from the test (one connection).
    pub async fn registry(&self) -> store::Store {
        let target = match self.db.as_ref().and_then(TestDatabase::postgres_url) {
            Some(url) => store::Target::Postgres(url.into()),
            None => store::Target::Sqlite(self.dir.path().join("data").join("routeros-mcp.sqlite")),
        };
        store::Store::open(&target, 1).await.unwrap()
    }

    pub fn manifest(&self) -> routeros_sim::Manifest {
        self.sims.as_ref().unwrap().manifest()
    }

    pub fn sim(&self, name: &str) -> Arc<routeros_sim::SimDevice> {
        self.sims.as_ref().unwrap().device(name).unwrap()
    }

    /// `routeros-mcp serve` over stdio, with a connected client.
    pub async fn stdio(&self, extra: &[(&str, &str)]) -> Client {
        self.stdio_args(&["serve", "--transport", "stdio"], extra)
            .await
    }

    pub async fn stdio_args(&self, args: &[&str], extra: &[(&str, &str)]) -> Client {
        self.stdio_with((), args, extra).await
    }

    /// `serve` over stdio with a client of our own (one that answers elicitations, say).
    pub async fn stdio_with<H: ClientHandler>(
        &self,
        handler: H,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Client<H> {
        let (transport, stderr) = TokioChildProcess::builder(self.command(args, extra))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = transport.id();
        let log = Log::collect(stderr);
        let service = tokio::time::timeout(STEP, handler.serve(transport))
            .await
            .expect("the server initializes in time")
            .unwrap_or_else(|e| panic!("initialize failed: {e}\n{}", log.text()));
        let mut client = Client::new(service, log).await;
        client.pid = pid;
        client
    }

    /// `serve` over stdio with a 2026-07-28 client: no `initialize`; `server/discover` first, then
    /// self-contained requests.
    pub async fn stdio_stateless_with<H: ClientHandler>(
        &self,
        handler: H,
        extra: &[(&str, &str)],
    ) -> Client<H> {
        let (transport, stderr) = TokioChildProcess::builder(self.command(&["serve"], extra))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = transport.id();
        let log = Log::collect(stderr);
        let service = tokio::time::timeout(
            STEP,
            rmcp::service::serve_client_with_lifecycle(handler, transport, stateless()),
        )
        .await
        .expect("the server answers server/discover in time")
        .unwrap_or_else(|e| panic!("discover failed: {e}\n{}", log.text()));
        let mut client = Client::new(service, log).await;
        client.pid = pid;
        client
    }

    /// `routeros-mcp serve` over Streamable HTTP on a free loopback port.
    pub async fn http_server(&self, extra: &[(&str, &str)]) -> HttpServer {
        let mut env: Vec<(&str, &str)> = vec![("MCP_HTTP_PORT", "0")];
        env.extend_from_slice(extra);
        let mut child = self
            .command(&["serve", "--transport", "http"], &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Log::collect(child.stderr.take());
        let base = tokio::time::timeout(STEP, async {
            loop {
                if let Some(url) = log.text().lines().find_map(|l| {
                    l.strip_prefix("serving MCP over Streamable HTTP at ")
                        .and_then(|r| r.split_whitespace().next())
                        .map(str::to_owned)
                }) {
                    break url;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the server exited with {status}:\n{}", log.text());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the HTTP server announces its address");
        HttpServer {
            child,
            url: base,
            log,
        }
    }

    pub async fn stop(mut self) {
        if let Some(sims) = self.sims.take() {
            sims.shutdown().await;
        }
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

/// What a server wrote to stderr.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<String>>);

impl Log {
    pub fn collect(stream: Option<impl AsyncRead + Unpin + Send + 'static>) -> Self {
        let log = Log::default();
        if let Some(stream) = stream {
            let sink = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut text = sink.0.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        log
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

pub struct HttpServer {
    pub child: tokio::process::Child,
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    pub log: Log,
}

impl HttpServer {
    /// The server's root (`http://127.0.0.1:PORT`).
    pub fn root(&self) -> String {
        let after_scheme = &self.url["http://".len()..];
        let host_end = after_scheme.find('/').unwrap_or(after_scheme.len());
        format!("http://{}", &after_scheme[..host_end])
    }

    pub async fn client(&self) -> Client {
        self.client_with(()).await
    }

    /// A client of our own over HTTP (one that answers elicitations, say).
    pub async fn client_with<H: ClientHandler>(&self, handler: H) -> Client<H> {
        let transport = StreamableHttpClientTransport::from_uri(self.url.clone());
        let service = tokio::time::timeout(STEP, handler.serve(transport))
            .await
            .expect("the server initializes in time")
            .unwrap_or_else(|e| panic!("initialize failed: {e}\n{}", self.log.text()));
        Client::new(service, self.log.clone()).await
    }

    /// A session client presenting `Authorization: Bearer <token>`; `Err` with the SDK's message
    /// when the server refuses it.
    pub async fn client_bearer(&self, token: &str) -> Result<Client, String> {
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(self.url.clone()).auth_header(token),
        );
        let service = tokio::time::timeout(STEP, ().serve(transport))
            .await
            .expect("the server answers initialize in time")
            .map_err(|e| e.to_string())?;
        Ok(Client::new(service, self.log.clone()).await)
    }

    /// A 2026-07-28 client over HTTP: no session, every request self-contained.
    pub async fn stateless_client_with<H: ClientHandler>(&self, handler: H) -> Client<H> {
        let transport = StreamableHttpClientTransport::from_uri(self.url.clone());
        let service = tokio::time::timeout(
            STEP,
            rmcp::service::serve_client_with_lifecycle(handler, transport, stateless()),
        )
        .await
        .expect("the server answers server/discover in time")
        .unwrap_or_else(|e| panic!("discover failed: {e}\n{}", self.log.text()));
        Client::new(service, self.log.clone()).await
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path}", self.root()))
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// How a 2026-07-28 client starts: `server/discover`, no `initialize`.
pub fn stateless() -> rmcp::service::ClientLifecycleMode {
    rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    }
}

/// An MCP client session, with the tools the server listed (for output-schema checks).
pub struct Client<H: ClientHandler = ()> {
    pub service: RunningService<RoleClient, H>,
    pub tools: Vec<Tool>,
    pub log: Log,
    /// The server process (stdio sessions).
    pub pid: Option<u32>,
}

impl<H: ClientHandler> Client<H> {
    async fn new(service: RunningService<RoleClient, H>, log: Log) -> Self {
        let tools = tokio::time::timeout(STEP, service.list_all_tools())
            .await
            .expect("tools/list answers in time")
            .unwrap();
        Self {
            service,
            tools,
            log,
            pid: None,
        }
    }

    pub fn tool(&self, name: &str) -> &Tool {
        self.tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} is not listed"))
    }

    pub fn tool_names(&self) -> Vec<String> {
        self.tools.iter().map(|t| t.name.to_string()).collect()
    }

    /// `tools/call`, whatever the outcome.
    pub async fn call(&self, name: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments are an object")
        };
        tokio::time::timeout(
            STEP,
            self.service
                .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(args)),
        )
        .await
        .unwrap_or_else(|_| panic!("{name} answers in time"))
        .unwrap_or_else(|e| panic!("{name}: protocol error {e}"))
    }

    /// A call that must succeed; its `structuredContent`, checked against the listed
    /// `outputSchema`, and `_meta.estimated_tokens` checked present.
    pub async fn ok(&self, name: &str, args: Value) -> Value {
        self.ok_result(name, args).await.0
    }

    /// `ok`, with the whole result.
    pub async fn ok_result(&self, name: &str, args: Value) -> (Value, CallToolResult) {
        let r = self.call(name, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{name} {args} failed: {}", text(&r));
        let structured = r
            .structured_content
            .clone()
            .unwrap_or_else(|| panic!("{name} returned no structuredContent"));
        let schema = self
            .tool(name)
            .output_schema
            .clone()
            .unwrap_or_else(|| panic!("{name} lists no outputSchema"));
        let validator = jsonschema::validator_for(&Value::Object(Map::clone(&schema))).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&structured)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name} returned structuredContent its outputSchema rejects: {errors:?}\n{structured}"
        );
        let tokens = meta(&r, "estimated_tokens");
        assert!(
            tokens.as_u64().is_some_and(|t| t > 0),
            "{name}: _meta.estimated_tokens is {tokens}"
        );
        assert!(!text(&r).is_empty(), "{name} has a text rendering");
        (structured, r)
    }

    /// A call that must fail as a tool result; its message.
    pub async fn err(&self, name: &str, args: Value) -> String {
        let r = self.call(name, args.clone()).await;
        assert_eq!(
            r.is_error,
            Some(true),
            "{name} {args} should have failed: {}",
            text(&r)
        );
        let message = text(&r);
        assert!(!message.is_empty(), "{name}: an error says what went wrong");
        message
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}

/// The text content of a result.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn meta(r: &CallToolResult, key: &str) -> Value {
    r.meta
        .as_ref()
        .and_then(|m| m.0.get(key).cloned())
        .unwrap_or(Value::Null)
}
