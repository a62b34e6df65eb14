//! The control API: how tests steer a running fleet.
//!
//! Plain JSON over HTTP on a loopback address only (the fleet refuses any other bind):
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/manifest` | the fleet manifest (current identities and key fingerprints) |
//! | GET | `/devices` | every device with its status |
//! | GET | `/devices/{name}` | one device's status |
//! | GET | `/devices/{name}/state[?volatile=true]` | the configuration dump |
//! | GET | `/devices/{name}/faults` | faults currently set |
//! | PUT | `/devices/{name}/faults` | replace the faults (body: [`Faults`]) |
//! | POST | `/devices/{name}/faults` | change only the given fault fields |
//! | DELETE | `/devices/{name}/faults` | clear every fault |
//! | GET | `/devices/{name}/counters` | connections per listener, recent requests |
//! | POST | `/devices/{name}/reboot` | reboot now (body: `{"seconds": 5}`, optional) |
//! | POST | `/devices/{name}/regenerate-keys` | new HTTPS certificate and SSH host key |
//!
//! Request bodies reject unknown fields; every error is `{"error": "<what was wrong and what
//! is allowed>"}` with status 400 (bad input) or 404 (unknown device or path).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{DEFAULT_REBOOT_SECONDS, Faults};
use crate::fleet::{CounterSnapshot, FleetHandle, Ports, SimDevice};

/// Builds the control API for a fleet.
pub fn router(fleet: FleetHandle) -> Router {
    Router::new()
        .route("/manifest", get(manifest))
        .route("/devices", get(list))
        .route("/devices/{name}", get(device_status))
        .route("/devices/{name}/state", get(state))
        .route(
            "/devices/{name}/faults",
            get(get_faults)
                .put(put_faults)
                .post(post_faults)
                .delete(delete_faults),
        )
        .route("/devices/{name}/counters", get(counters))
        .route("/devices/{name}/reboot", post(reboot))
        .route("/devices/{name}/regenerate-keys", post(regenerate_keys))
        .fallback(not_found)
        .with_state(fleet)
}

/// An error reply: `{"error": "…"}` with a status.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

fn json_text(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

fn find(fleet: &FleetHandle, name: &str) -> Result<Arc<SimDevice>, ApiError> {
    fleet.device(name).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("no device named `{name}` (names look like sim-0001; GET /devices lists them)"),
        )
    })
}

async fn not_found() -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /manifest, /devices, /devices/{name}/state|faults|counters|reboot|regenerate-keys".into(),
    )
}

async fn manifest(State(fleet): State<FleetHandle>) -> Response {
    axum::Json(fleet.manifest()).into_response()
}

/// One device's status as the control API reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Fleet name.
    pub name: String,
    /// Current `/system/identity`.
    pub identity: String,
    /// Profile.
    pub profile: String,
    /// Listening address.
    pub address: String,
    /// Listening ports.
    pub ports: Ports,
    /// Down for a reboot.
    pub rebooting: bool,
    /// Would answer a client on 127.0.0.1 right now (not rebooting, not hanging, management
    /// path intact).
    pub answering: bool,
    /// Simulated uptime in seconds.
    pub uptime_seconds: u64,
    /// Faults set.
    pub faults: Faults,
}

fn status_of(d: &SimDevice) -> DeviceStatus {
    DeviceStatus {
        name: d.name().to_string(),
        identity: d.identity(),
        profile: d.profile().to_string(),
        address: d.address().to_string(),
        ports: d.ports(),
        rebooting: d.is_rebooting(),
        answering: d.answering(std::net::Ipv4Addr::LOCALHOST),
        uptime_seconds: d.clock().uptime().as_secs(),
        faults: d.faults(),
    }
}

async fn list(State(fleet): State<FleetHandle>) -> Response {
    let all: Vec<DeviceStatus> = fleet.devices().iter().map(|d| status_of(d)).collect();
    axum::Json(all).into_response()
}

async fn device_status(State(fleet): State<FleetHandle>, Path(name): Path<String>) -> ApiResult {
    let d = find(&fleet, &name)?;
    Ok(axum::Json(status_of(&d)).into_response())
}

fn flag(query: &Option<String>, name: &str) -> Result<bool, ApiError> {
    let mut value = false;
    for pair in query
        .iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
        if k != name {
            return Err(bad(format!(
                "unknown query parameter `{k}` (allowed: {name})"
            )));
        }
        value = match v {
            "true" | "1" | "yes" | "" => true,
            "false" | "0" | "no" => false,
            other => return Err(bad(format!("{name} must be true or false, got `{other}`"))),
        };
    }
    Ok(value)
}

async fn state(
    State(fleet): State<FleetHandle>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let d = find(&fleet, &name)?;
    let volatile = flag(&query, "volatile")?;
    Ok(json_text(
        StatusCode::OK,
        d.state_dump(volatile).to_json_string(),
    ))
}

async fn get_faults(State(fleet): State<FleetHandle>, Path(name): Path<String>) -> ApiResult {
    let d = find(&fleet, &name)?;
    Ok(axum::Json(d.faults()).into_response())
}

fn parse_faults(value: Value) -> Result<Faults, ApiError> {
    let faults: Faults = serde_json::from_value(value).map_err(|e| {
        bad(format!(
            "invalid faults: {e} (fields: latency_ms, error_rate, drop_after, fail_write, \
             hang, hang_after, reject_auth, reboot_after, reboot_seconds)"
        ))
    })?;
    faults
        .validate()
        .map_err(|e| bad(format!("invalid faults: {e}")))?;
    Ok(faults)
}

fn body_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(format!("the body is not valid JSON: {e}"))),
    }
}

async fn put_faults(
    State(fleet): State<FleetHandle>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let d = find(&fleet, &name)?;
    let faults = parse_faults(Value::Object(body_object(&body)?))?;
    d.set_faults(faults);
    Ok(axum::Json(d.faults()).into_response())
}

async fn post_faults(
    State(fleet): State<FleetHandle>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let d = find(&fleet, &name)?;
    let patch = body_object(&body)?;
    let mut merged = match serde_json::to_value(d.faults()) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    for (k, v) in patch {
        merged.insert(k, v);
    }
    let faults = parse_faults(Value::Object(merged))?;
    d.set_faults(faults);
    Ok(axum::Json(d.faults()).into_response())
}

async fn delete_faults(State(fleet): State<FleetHandle>, Path(name): Path<String>) -> ApiResult {
    let d = find(&fleet, &name)?;
    d.set_faults(Faults::none());
    Ok(axum::Json(d.faults()).into_response())
}

async fn counters(State(fleet): State<FleetHandle>, Path(name): Path<String>) -> ApiResult {
    let d = find(&fleet, &name)?;
    let snap: CounterSnapshot = d.counters().snapshot();
    Ok(axum::Json(snap).into_response())
}

/// Body of `POST /devices/{name}/reboot`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RebootRequest {
    #[serde(default)]
    seconds: Option<u64>,
}

async fn reboot(
    State(fleet): State<FleetHandle>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let d = find(&fleet, &name)?;
    let req: RebootRequest =
        serde_json::from_value(Value::Object(body_object(&body)?)).map_err(|e| {
            bad(format!(
                "invalid reboot request: {e} (allowed: {{\"seconds\": N}})"
            ))
        })?;
    let seconds = req.seconds.unwrap_or(DEFAULT_REBOOT_SECONDS);
    if seconds > 86_400 {
        return Err(bad("seconds must be at most 86400"));
    }
    d.reboot(Duration::from_secs(seconds));
    Ok(axum::Json(json!({ "rebooting": true, "seconds": seconds })).into_response())
}

async fn regenerate_keys(State(fleet): State<FleetHandle>, Path(name): Path<String>) -> ApiResult {
    let d = find(&fleet, &name)?;
    d.regenerate_keys()
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let keys = d.keys();
    Ok(axum::Json(json!({
        "tls_sha256": keys.tls_sha256(),
        "ssh_host_key_sha256": keys.ssh_host_key_sha256(),
    }))
    .into_response())
}
