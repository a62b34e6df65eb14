//! Test fixtures: a real OpenID provider (oidc-provider under node, see ../oidc/provider.mjs)
//! and a tiny loopback issuer whose key the tests hold, for tokens no real provider would sign.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth::{OidcConfig, OidcValidator, Url};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the provider may take to print its issuer.
const PROVIDER_START_LIMIT: Duration = Duration::from_secs(20);

/// The audience tokens are requested for.
pub const AUDIENCE: &str = "https://mcp.test/mcp";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

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

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
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
        let answer: Value = self
            .http
            .post(format!("{}/__admin/rotate", self.issuer))
            .send()
            .await
            .expect("rotate")
            .json()
            .await
            .expect("rotate answer");
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

/// A loopback issuer whose ES256 key the test holds: serves discovery, a JWKS (counting
/// fetches) at `/jwks` and at Cloudflare's `/cdn-cgi/access/certs`.
pub struct FakeIssuer {
    pub issuer: String,
    pub kid: String,
    state: Arc<FakeState>,
    key: EncodingKey,
    public_pem: String,
}

struct FakeState {
    issuer: String,
    advertised_issuer: Mutex<Option<String>>,
    jwks: Value,
    fetches: AtomicUsize,
    failing: AtomicBool,
}

impl FakeIssuer {
    pub async fn start() -> FakeIssuer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
        let raw = pair.public_key_raw();
        assert_eq!(raw.len(), 65, "uncompressed P-256 point");
        let kid = format!("test-{:x}", rand_u64());
        let jwks = json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&raw[33..65]),
        }] });
        let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("PKCS#8 PEM");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let issuer = format!("http://{addr}");
        let state = Arc::new(FakeState {
            issuer: issuer.clone(),
            advertised_issuer: Mutex::new(None),
            jwks,
            fetches: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(keys))
            .route("/cdn-cgi/access/certs", get(keys))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeIssuer {
            issuer,
            kid,
            state,
            key,
            public_pem: pair.public_key_pem(),
        }
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint answer 500 (or recover).
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Makes discovery advertise another issuer.
    pub fn advertise_issuer(&self, issuer: &str) {
        *self.state.advertised_issuer.lock().expect("lock") = Some(issuer.to_owned());
    }

    /// The published JWKS.
    pub fn jwks(&self) -> &Value {
        &self.state.jwks
    }

    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    pub fn certs_url(&self) -> Url {
        Url::parse(&format!("{}/cdn-cgi/access/certs", self.issuer)).expect("certs URL")
    }

    /// Claims that pass every check.
    pub fn claims(&self) -> Value {
        json!({
            "iss": self.issuer, "aud": AUDIENCE, "sub": "user-1",
            "preferred_username": "ana", "iat": now(), "exp": now() + 300,
            "roles": ["operator"],
        })
    }

    /// ES256 with the issuer's key and kid.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        self.sign_with(&header, claims)
    }

    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.key).expect("sign")
    }

    pub fn config(&self) -> OidcConfig {
        OidcConfig::new(Url::parse(&self.issuer).expect("issuer URL"), AUDIENCE)
    }
}

async fn discovery(State(state): State<Arc<FakeState>>) -> Response {
    let advertised = state
        .advertised_issuer
        .lock()
        .ok()
        .and_then(|a| a.clone())
        .unwrap_or_else(|| state.issuer.clone());
    axum::Json(json!({ "issuer": advertised, "jwks_uri": format!("{}/jwks", state.issuer) }))
        .into_response()
}

async fn keys(State(state): State<Arc<FakeState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    axum::Json(state.jwks.clone()).into_response()
}

pub fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("OS randomness");
    u64::from_le_bytes(b)
}

/// A compact JWS from raw parts (for headers no library would write).
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The claims of a token, unverified (to tamper with them).
pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// HMAC-SHA-256 JWS with `secret`, the way an attacker would forge one.
pub fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}
