//! The RouterOS REST driver (RouterOS ≥ 7.1): `https://<device>/rest/...` with HTTP basic auth,
//! over one keep-alive connection pool per device and a pinned certificate.
//!
//! Verbs as RouterOS defines them: `GET` prints, `PUT` adds (201 with the created item), `PATCH`
//! sets, `DELETE` removes (204), `POST /rest/<menu>/<command>` runs console commands with JSON
//! arguments. Errors arrive as `{"error":400,"message":"Bad Request","detail":"…"}` and are mapped
//! onto the driver taxonomy using RouterOS's own detail wording.

pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::driver::{Driver, DriverKind, Target, Trust};
use crate::error::{DriverError, ErrorKind, TrustKind};
use crate::types::{
    DeviceCommand, ExportOptions, Fingerprint, MenuPath, PrintQuery, Props, Record, RosId,
    record_from_json, value_text,
};

/// Talks to one device's REST API.
pub struct RestDriver {
    name: String,
    base: String,
    client: reqwest::Client,
    username: String,
    password: SecretString,
    trust: Trust,
    presented: tls::Presented,
    timeout: Duration,
    /// Most bytes one response body may have ([`crate::error::MAX_ANSWER_BYTES`]).
    max_answer: usize,
}

impl std::fmt::Debug for RestDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestDriver")
            .field("name", &self.name)
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl RestDriver {
    /// Builds the driver; no connection is made until the first call.
    pub fn new(target: &Target, timeout: Duration) -> Result<Self, DriverError> {
        let presented: tls::Presented = Arc::new(Mutex::new(None));
        let mut builder = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(4)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(30))
            .connect_timeout(timeout)
            .timeout(timeout)
            .no_proxy()
            .user_agent(concat!("routeros-mcp/", env!("CARGO_PKG_VERSION")));
        let base = if target.insecure_http {
            format!(
                "http://{}:{}/rest",
                target.host.url_host(),
                target.http_port
            )
        } else {
            let config = tls::client_config(target.tls, Arc::clone(&presented))
                .map_err(|e| ErrorKind::DeviceError(e).on(&target.name))?;
            builder = builder.tls_backend_preconfigured(config);
            format!(
                "https://{}:{}/rest",
                target.host.url_host(),
                target.rest_port
            )
        };
        let client = builder
            .build()
            .map_err(|e| ErrorKind::DeviceError(format!("HTTP client: {e}")).on(&target.name))?;
        Ok(Self {
            name: target.name.clone(),
            base,
            client,
            username: target.username.clone(),
            password: target.password.clone(),
            trust: if target.insecure_http {
                Trust::FirstUse
            } else {
                target.tls
            },
            presented,
            timeout,
            max_answer: crate::error::MAX_ANSWER_BYTES,
        })
    }

    /// Caps response bodies at `bytes` instead of [`crate::error::MAX_ANSWER_BYTES`].
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    fn err(&self, kind: ErrorKind) -> DriverError {
        kind.on(&self.name)
    }

    /// Sends one request and returns the parsed JSON body (`Null` for empty bodies).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DriverError> {
        let url = format!("{}/{}", self.base, path);
        let mut request = self
            .client
            .request(method, &url)
            .basic_auth(&self.username, Some(self.password.expose_secret()));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes = self.body(response).await?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| {
                self.err(ErrorKind::DeviceError(format!(
                    "unreadable JSON from the REST API: {e}"
                )))
            });
        }
        Err(self.err(self.status_error(status, &bytes)))
    }

    /// Reads a response body, stopping (and dropping the connection) once it passes the cap.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, DriverError> {
        let limit = self.max_answer;
        let too_large = || self.err(ErrorKind::too_large(limit));
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn status_error(&self, status: StatusCode, body: &[u8]) -> ErrorKind {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let detail = field("detail")
            .or_else(|| field("message"))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorKind::AuthFailed {
                user: self.username.clone(),
            },
            StatusCode::NOT_FOUND => ErrorKind::NotFound(detail),
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::RateLimited(detail),
            StatusCode::BAD_REQUEST if detail.eq_ignore_ascii_case("session closed") => {
                ErrorKind::Timeout(Duration::from_secs(60))
            }
            s if s.is_server_error() => {
                ErrorKind::DeviceError(format!("HTTP {}: {detail}", s.as_u16()))
            }
            _ => ErrorKind::from_routeros_detail(&detail),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> DriverError {
        if e.is_timeout() {
            return self.err(ErrorKind::Timeout(self.timeout));
        }
        // A rejected certificate surfaces as a connect error; the verifier saw what was shown.
        let presented = self.presented.lock().ok().and_then(|p| *p);
        match (self.trust, presented) {
            (Trust::Pinned(expected), Some(shown)) if expected != shown => {
                return self.err(ErrorKind::TrustMismatch {
                    what: TrustKind::TlsCertificate,
                    expected: expected.hex(),
                    presented: shown.hex(),
                });
            }
            (Trust::Unknown, Some(_)) => {
                return self.err(ErrorKind::NotPinned {
                    what: TrustKind::TlsCertificate,
                });
            }
            _ => {}
        }
        self.err(ErrorKind::Unreachable(root_cause(e)))
    }

    fn records(&self, value: Value) -> Result<Vec<Record>, DriverError> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    record_from_json(v).ok_or_else(|| {
                        self.err(ErrorKind::DeviceError(
                            "expected JSON objects in the list".into(),
                        ))
                    })
                })
                .collect(),
            Value::Object(_) => Ok(record_from_json(&value).into_iter().collect()),
            Value::Null => Ok(Vec::new()),
            other => Err(self.err(ErrorKind::DeviceError(format!(
                "unexpected REST answer: {}",
                truncate(&other.to_string())
            )))),
        }
    }
}

fn props_json(props: &Props) -> Value {
    Value::Object(
        props
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if text.is_empty() { e.to_string() } else { text }
}

fn truncate(s: &str) -> String {
    if s.len() > 200 {
        format!("{}…", &s[..s.floor_char_boundary(200)])
    } else {
        s.to_owned()
    }
}

#[async_trait]
impl Driver for RestDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Rest
    }

    async fn print(&self, menu: &MenuPath, query: &PrintQuery) -> Result<Vec<Record>, DriverError> {
        // `.query` words are native-API queries: a key such as `<password` is a comparison on
        // a secret, so only plain, non-secret property names are sent.
        query
            .check(menu)
            .map_err(|e| self.err(ErrorKind::InvalidRequest(e)))?;
        let value = if query.filters.is_empty() && query.proplist.is_none() {
            self.call(Method::GET, menu.as_str(), None).await?
        } else {
            let mut body = serde_json::Map::new();
            if let Some(props) = &query.proplist {
                body.insert(".proplist".into(), json!(props));
            }
            if !query.filters.is_empty() {
                let words: Vec<String> = query
                    .filters
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                body.insert(".query".into(), json!(words));
            }
            self.call(
                Method::POST,
                &format!("{menu}/print"),
                Some(&Value::Object(body)),
            )
            .await?
        };
        self.records(value)
    }

    async fn get(&self, menu: &MenuPath, id: &RosId) -> Result<Record, DriverError> {
        let value = self
            .call(Method::GET, &format!("{menu}/{id}"), None)
            .await?;
        record_from_json(&value)
            .ok_or_else(|| self.err(ErrorKind::DeviceError("expected one JSON object".into())))
    }

    async fn add(
        &self,
        menu: &MenuPath,
        props: &Props,
        place_before: Option<&RosId>,
    ) -> Result<Record, DriverError> {
        match place_before {
            None => {
                let value = self
                    .call(Method::PUT, menu.as_str(), Some(&props_json(props)))
                    .await?;
                record_from_json(&value).ok_or_else(|| {
                    self.err(ErrorKind::DeviceError(
                        "PUT did not return the created item".into(),
                    ))
                })
            }
            Some(before) => {
                let mut body = props_json(props);
                if let Value::Object(map) = &mut body {
                    map.insert("place-before".into(), Value::String(before.to_string()));
                }
                let value = self
                    .call(Method::POST, &format!("{menu}/add"), Some(&body))
                    .await?;
                let id = value
                    .get("ret")
                    .map(value_text)
                    .and_then(|t| RosId::parse(&t).ok())
                    .ok_or_else(|| {
                        self.err(ErrorKind::DeviceError(
                            "add did not return the new id".into(),
                        ))
                    })?;
                self.get(menu, &id).await
            }
        }
    }

    async fn set(
        &self,
        menu: &MenuPath,
        id: Option<&RosId>,
        props: &Props,
    ) -> Result<(), DriverError> {
        match id {
            Some(id) => {
                self.call(
                    Method::PATCH,
                    &format!("{menu}/{id}"),
                    Some(&props_json(props)),
                )
                .await?;
            }
            None => {
                self.call(
                    Method::POST,
                    &format!("{menu}/set"),
                    Some(&props_json(props)),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn remove(&self, menu: &MenuPath, id: &RosId) -> Result<(), DriverError> {
        self.call(Method::DELETE, &format!("{menu}/{id}"), None)
            .await?;
        Ok(())
    }

    async fn move_items(
        &self,
        menu: &MenuPath,
        ids: &[RosId],
        destination: Option<&RosId>,
    ) -> Result<(), DriverError> {
        let list: Vec<&str> = ids.iter().map(RosId::as_str).collect();
        let mut body = json!({ ".id": list.join(",") });
        if let (Some(dest), Value::Object(map)) = (destination, &mut body) {
            map.insert("destination".into(), Value::String(dest.to_string()));
        }
        self.call(Method::POST, &format!("{menu}/move"), Some(&body))
            .await?;
        Ok(())
    }

    async fn item_command(
        &self,
        menu: &MenuPath,
        command: &str,
        id: Option<&RosId>,
        args: &Props,
    ) -> Result<(), DriverError> {
        let command = crate::types::check_command(command)
            .map_err(|e| self.err(ErrorKind::InvalidRequest(e)))?;
        let mut body = props_json(args);
        if let (Some(id), Value::Object(map)) = (id, &mut body) {
            map.insert("numbers".into(), Value::String(id.to_string()));
        }
        self.call(Method::POST, &format!("{menu}/{command}"), Some(&body))
            .await?;
        Ok(())
    }

    async fn run(&self, command: &DeviceCommand) -> Result<Vec<Record>, DriverError> {
        let (path, body) = match command {
            DeviceCommand::Ping {
                address,
                count,
                interface,
            } => {
                let mut body = json!({ "address": address, "count": count.to_string() });
                if let (Some(i), Value::Object(map)) = (interface, &mut body) {
                    map.insert("interface".into(), Value::String(i.clone()));
                }
                ("ping".to_owned(), body)
            }
            DeviceCommand::Traceroute { address, count } => (
                "tool/traceroute".to_owned(),
                json!({ "address": address, "count": count.to_string() }),
            ),
            DeviceCommand::MonitorTraffic { interfaces } => (
                "interface/monitor-traffic".to_owned(),
                json!({ "interface": interfaces.join(","), "once": "" }),
            ),
            DeviceCommand::RunScript { script } => {
                ("system/script/run".to_owned(), json!({ ".id": script }))
            }
        };
        let value = self.call(Method::POST, &path, Some(&body)).await?;
        self.records(value)
    }

    async fn save_backup(&self, name: &str, password: &SecretString) -> Result<(), DriverError> {
        crate::ssh::sftp::check_file_name(name)
            .map_err(|e| self.err(ErrorKind::InvalidRequest(e)))?;
        let body = json!({
            "name": name,
            "password": password.expose_secret(),
            "encryption": "aes-sha256",
        });
        self.call(Method::POST, "system/backup/save", Some(&body))
            .await?;
        Ok(())
    }

    async fn export(&self, options: &ExportOptions) -> Result<String, DriverError> {
        let mut body = if options.show_sensitive {
            json!({ "show-sensitive": "" })
        } else {
            json!({ "hide-sensitive": "" })
        };
        if let (true, Value::Object(map)) = (options.verbose, &mut body) {
            map.insert("verbose".into(), Value::String(String::new()));
        }
        let value = self.call(Method::POST, "export", Some(&body)).await?;
        match value {
            Value::String(text) => Ok(text),
            Value::Object(ref map) if map.contains_key("ret") => {
                Ok(map.get("ret").map(value_text).unwrap_or_default())
            }
            other => Err(self.err(ErrorKind::DeviceError(format!(
                "unexpected export answer: {}",
                truncate(&other.to_string())
            )))),
        }
    }

    fn presented_fingerprint(&self) -> Option<Fingerprint> {
        self.presented.lock().ok().and_then(|p| *p)
    }
}
