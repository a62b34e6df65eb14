//! A real OpenID provider for tests: oidc-provider under node (`provider.mjs` beside this file),
//! installed once per test run with `npm ci` and killed when its handle is dropped. Shared by
//! the auth crate's tests and the server's system tests (included with `#[path]`).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use auth::{OidcConfig, OidcValidator, Url};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// The audience tokens are requested for by default.
pub const AUDIENCE: &str = "https://mcp.test/mcp";

/// How long the provider may take to print its issuer.
const PROVIDER_START_LIMIT: Duration = Duration::from_secs(20);

/// A reqwest client that needs no global TLS provider (tests talk plain HTTP to loopback).
pub fn http() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("test HTTP client")
}

/// This directory, from any crate of the workspace.
fn provider_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../auth/tests/oidc"))
}

/// Installs the provider's node packages once per test run (`npm ci`), unless present.
fn install_provider() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let dir = provider_dir();
        if installed_version(&dir).is_some() && installed_version(&dir) == pinned_version(&dir) {
            return Ok(());
        }
        let npm = std::process::Command::new("npm").arg("--version").output();
        if npm.is_err() {
            return Err(
                "npm is not installed; these tests run a real OpenID provider \
                        (oidc-provider) and need Node.js 20 or later with npm"
                    .to_owned(),
            );
        }
        let out = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("running npm ci failed: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "npm ci --prefix {} failed:\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn read_json(path: PathBuf) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The oidc-provider version package.json pins.
fn pinned_version(dir: &std::path::Path) -> Option<String> {
    let manifest = read_json(dir.join("package.json"))?;
    manifest["dependencies"]["oidc-provider"]
        .as_str()
        .map(str::to_owned)
}

/// The oidc-provider version in node_modules, if installed.
fn installed_version(dir: &std::path::Path) -> Option<String> {
    let manifest = read_json(dir.join("node_modules/oidc-provider/package.json"))?;
    manifest["version"].as_str().map(str::to_owned)
}

/// A running oidc-provider; killed when dropped.
pub struct Provider {
    pub issuer: String,
    pub started_in: Duration,
    _child: Child,
    http: reqwest::Client,
}

/// A client the provider knows: `claims` go into every access token it gets.
pub fn client(id: &str, alg: &str, claims: Value) -> Value {
    json!({ "client_id": id, "client_secret": format!("{id}-secret"), "alg": alg, "claims": claims })
}

impl Provider {
    /// A provider with `clients` and fresh keys.
    pub async fn start(clients: Value) -> Provider {
        Self::start_with(clients, None).await
    }

    /// A provider with `clients`, signing with `keys` (a private JWKS) when given.
    pub async fn start_with(clients: Value, keys: Option<Value>) -> Provider {
        install_provider();
        let began = Instant::now();
        let mut command = Command::new("node");
        command
            .arg(provider_dir().join("provider.mjs"))
            .env("OIDC_TEST_CLIENTS", clients.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(keys) = keys {
            command.env("OIDC_TEST_KEYS", keys.to_string());
        }
        let mut child = command
            .spawn()
            .expect("node must be installed to run the OpenID provider");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let errors = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&errors);
        tokio::spawn(async move {
            let mut buf = String::new();
            let _ = stderr.read_to_string(&mut buf).await;
            if let Ok(mut e) = sink.lock() {
                e.push_str(&buf);
            }
        });
        let mut line = String::new();
        let read = tokio::time::timeout(
            PROVIDER_START_LIMIT,
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        let issuer = line.trim().to_owned();
        if !matches!(read, Ok(Ok(n)) if n > 0) || !issuer.starts_with("http://127.0.0.1:") {
            tokio::time::sleep(Duration::from_millis(200)).await;
            panic!(
                "the OpenID provider did not print its issuer within {PROVIDER_START_LIMIT:?} \
                 (got {line:?}); its stderr:\n{}",
                errors.lock().map(|e| e.clone()).unwrap_or_default()
            );
        }
        Provider {
            issuer,
            started_in: began.elapsed(),
            _child: child,
            http: http(),
        }
    }

    /// An access token for `client_id` with audience `resource`.
    pub async fn token(&self, client_id: &str, resource: &str, scope: Option<&str>) -> String {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.to_owned()),
            ("client_secret", format!("{client_id}-secret")),
            ("resource", resource.to_owned()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.to_owned()));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let answer: Value = self
            .http
            .post(format!("{}/token", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token response JSON");
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {answer}"))
            .to_owned()
    }

    /// New signing keys (new kids) become the ones used; returns their kids.
    pub async fn rotate(&self) -> Vec<String> {
        self.new_keys("rotate").await
    }

    /// New signing keys replace the old ones, which the provider no longer publishes (as after
    /// a key compromise); returns the new kids.
    pub async fn withdraw(&self) -> Vec<String> {
        self.new_keys("withdraw").await
    }

    async fn new_keys(&self, how: &str) -> Vec<String> {
        let answer: Value = self
            .http
            .post(format!("{}/__admin/{how}", self.issuer))
            .send()
            .await
            .expect("new keys")
            .json()
            .await
            .expect("new keys answer");
        serde_json::from_value(answer["kids"].clone()).expect("kids")
    }

    /// The private keys in use.
    pub async fn private_keys(&self) -> Value {
        self.http
            .get(format!("{}/__admin/keys", self.issuer))
            .send()
            .await
            .expect("keys")
            .json()
            .await
            .expect("keys JSON")
    }

    /// How many times the published JWKS has been fetched.
    pub async fn jwks_fetches(&self) -> u64 {
        let stats: Value = self
            .http
            .get(format!("{}/__admin/stats", self.issuer))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON");
        stats["jwks_fetches"].as_u64().expect("a count")
    }

    /// The published JWKS.
    pub async fn jwks(&self) -> Value {
        self.http
            .get(format!("{}/jwks", self.issuer))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("jwks JSON")
    }

    pub fn config(&self) -> OidcConfig {
        OidcConfig::new(Url::parse(&self.issuer).expect("issuer URL"), AUDIENCE)
    }

    pub async fn validator(&self) -> OidcValidator {
        OidcValidator::discover(self.config())
            .await
            .expect("discovery against the real provider")
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
