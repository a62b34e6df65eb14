//! A project's devices: listing and reading them (viewer), and — for admins of the project —
//! onboarding new ones, changing their metadata, testing them, rotating their credentials and
//! decommissioning them.
//!
//! Onboarding always contacts the device before anything is stored: a device that cannot be
//! reached, presents an identity other than the one pinned, or refuses the credentials is not
//! added (422 `onboarding_failed`, with each driver's findings). The password given is sealed in
//! the registry and never shown, logged or audited.

use std::collections::BTreeMap;

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{
    DeviceId, DeviceName, DeviceStatus, DriverPreference, Environment, Host, Port, ProjectRef, Tag,
    TagKey,
};
use fleet::TrustMode;
use serde::Deserialize;
use store::{Device, DevicePage, DevicePatch, NewDevice, StoreError};
use utoipa::{IntoParams, ToSchema};
use vault::{ExposeSecret, SecretString};

use super::describe;
use crate::AdminState;
use crate::access;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{ApiQuery, Caller, JsonBody};
use crate::paging;
use crate::views::{
    CreatedDevice, DeviceList, DeviceView, Fingerprints, RotationResult, TestResult, probes,
};

/// The most tags a request may set.
const MAX_TAGS: usize = 64;
/// The longest user name accepted.
const MAX_USERNAME: usize = 64;
/// The longest password accepted, in bytes.
const MAX_PASSWORD: usize = 1024;

/// Filters and paging of the device list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeviceListQuery {
    /// `active`, `inactive` or `decommissioned`; without it, every device that is not
    /// decommissioned.
    #[param(value_type = Option<String>)]
    status: Option<DeviceStatus>,
    /// `lab`, `staging` or `prod`.
    #[param(value_type = Option<String>)]
    environment: Option<Environment>,
    /// Devices per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

fn default_rest_port() -> Port {
    Port::new_const(443)
}

fn default_ssh_port() -> Port {
    Port::new_const(22)
}

/// A device to onboard: the server contacts it with these credentials and registers it only if
/// it answers as expected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDevice {
    /// 1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit;
    /// unique among the project's live devices.
    #[schema(value_type = String, example = "core-1")]
    name: DeviceName,
    /// Management address: an IPv4/IPv6 address or a hostname.
    #[schema(value_type = String, example = "192.0.2.1")]
    address: Host,
    /// HTTPS REST port.
    #[serde(default = "default_rest_port")]
    #[schema(value_type = u16, default = 443, minimum = 1, maximum = 65535)]
    rest_port: Port,
    #[serde(default = "default_ssh_port")]
    #[schema(value_type = u16, default = 22, minimum = 1, maximum = 65535)]
    ssh_port: Port,
    /// Plain-HTTP REST port (default 80); only with `insecure_http`.
    #[serde(default)]
    #[schema(value_type = Option<u16>, minimum = 1, maximum = 65535)]
    http_port: Option<Port>,
    /// REST over plain HTTP: lab and staging devices only.
    #[serde(default)]
    insecure_http: bool,
    /// `auto` (REST, falling back to SSH), `rest` or `ssh`.
    #[serde(default)]
    #[schema(value_type = Option<String>, default = "auto")]
    driver: Option<DriverPreference>,
    /// `lab`, `staging` or `prod`; `prod` (the restrictive one) when not given.
    #[serde(default)]
    #[schema(value_type = Option<String>, default = "prod")]
    environment: Option<Environment>,
    /// Tags as `{"key": "value"}`.
    #[serde(default)]
    tags: BTreeMap<String, String>,
    /// The RouterOS user the server logs in as.
    username: String,
    /// That user's password: stored sealed, never shown again, never logged or audited.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// Accept and pin the certificate and host key the device presents now, where no
    /// fingerprint is given. Without it (and without fingerprints) a device whose identity is
    /// unknown is refused.
    #[serde(default)]
    trust_on_first_use: bool,
    /// The TLS certificate's SHA-256 the device must present (hex, colons allowed).
    #[serde(default)]
    tls_cert_sha256: Option<String>,
    /// The SSH host key's SHA-256 the device must present (hex or OpenSSH `SHA256:…`).
    #[serde(default)]
    ssh_host_key_sha256: Option<String>,
}

/// Changes to a device's metadata; absent (or null) fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchDevice {
    #[schema(value_type = Option<String>)]
    name: Option<DeviceName>,
    #[schema(value_type = Option<String>)]
    address: Option<Host>,
    #[schema(value_type = Option<u16>, minimum = 1, maximum = 65535)]
    rest_port: Option<Port>,
    #[schema(value_type = Option<u16>, minimum = 1, maximum = 65535)]
    ssh_port: Option<Port>,
    #[schema(value_type = Option<u16>, minimum = 1, maximum = 65535)]
    http_port: Option<Port>,
    insecure_http: Option<bool>,
    /// `auto`, `rest` or `ssh`.
    #[schema(value_type = Option<String>)]
    driver: Option<DriverPreference>,
    /// `lab`, `staging` or `prod`.
    #[schema(value_type = Option<String>)]
    environment: Option<Environment>,
    /// `active` or `inactive` (decommissioning is `DELETE`).
    #[schema(value_type = Option<String>)]
    status: Option<DeviceStatus>,
    /// Tags to add or change, as `{"key": "value"}`.
    #[serde(default)]
    set_tags: BTreeMap<String, String>,
    /// Tag keys to remove.
    #[serde(default)]
    remove_tags: Vec<String>,
    /// Whether plans of basic tools (and of low or medium risk) may be proposed for the device:
    /// `true`, `false`, or `"default"` to follow the environment (lab, staging, prod: on).
    #[schema(value_type = Option<Object>)]
    allow_basic_writes: Option<FlagSetting>,
    /// Whether plans of professional tools (and of high or critical risk) may be proposed for
    /// the device: `true`, `false`, or `"default"` to follow the environment (lab, staging:
    /// on; prod: off).
    #[schema(value_type = Option<Object>)]
    allow_professional_workflows: Option<FlagSetting>,
}

/// A capability flag as a request sets it: on, off, or back to the environment's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagSetting {
    Set(bool),
    Default,
}

impl<'de> Deserialize<'de> for FlagSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(b) => Ok(FlagSetting::Set(b)),
            Raw::Text(t) if t == "default" => Ok(FlagSetting::Default),
            Raw::Text(_) => Err(serde::de::Error::custom(
                "expected true, false or \"default\" (follow the device's environment)",
            )),
        }
    }
}

impl FlagSetting {
    fn stored(self) -> Option<bool> {
        match self {
            FlagSetting::Set(b) => Some(b),
            FlagSetting::Default => None,
        }
    }
}

/// How to contact a device under test.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestDevice {
    /// Pin the certificate and host key the device presents where none is pinned yet.
    #[serde(default)]
    trust_on_first_use: bool,
}

/// A credential rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateCredentials {
    /// `true`: the server creates a new user with a random password on the device, proves it
    /// works, stores it, then disables the old user. `false`: store the `password` (and
    /// optionally `username`) already set on the device.
    on_device: bool,
    /// The new user name (only with `on_device: false`; default: the current one).
    #[serde(default)]
    username: Option<String>,
    /// The new password (required with `on_device: false`, refused otherwise).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

/// Tags from `{"key": "value"}`, each checked; errors name `field.key`.
fn parse_tags(field: &str, map: &BTreeMap<String, String>) -> Result<Vec<Tag>, ApiError> {
    if map.len() > MAX_TAGS {
        return Err(ApiError::invalid(format!(
            "{field}: {} tags given; at most {MAX_TAGS} are allowed",
            map.len()
        )));
    }
    map.iter()
        .map(|(key, value)| {
            let shown = domain::text::escape(key);
            key.parse::<TagKey>()
                .map_err(|e| ApiError::invalid(format!("{field}.{shown}: {e}")))?;
            format!("{key}={value}")
                .parse::<Tag>()
                .map_err(|e| ApiError::invalid(format!("{field}.{shown}: {e}")))
        })
        .collect()
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let rule = format!(
        "expected 1-{MAX_USERNAME} characters without control characters or surrounding spaces"
    );
    if name.is_empty()
        || name.chars().count() > MAX_USERNAME
        || name.trim() != name
        || domain::text::find_control(name).is_some()
    {
        return Err(ApiError::invalid(format!(
            "username: \"{}\" is not a user name: {rule}",
            domain::text::escape(name)
        )));
    }
    Ok(())
}

/// Checks a password without ever quoting it.
fn check_password(password: &SecretString) -> Result<(), ApiError> {
    let text = password.expose_secret();
    if text.is_empty() || text.len() > MAX_PASSWORD {
        return Err(ApiError::invalid(format!(
            "password: expected 1 to {MAX_PASSWORD} bytes (the value is not repeated here)"
        )));
    }
    Ok(())
}

fn fingerprint(field: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|t| {
        routeros::Fingerprint::parse(t)
            .map(|f| f.hex())
            .map_err(|e| ApiError::invalid(format!("{field}: {e}")))
    })
    .transpose()
}

/// A device of `project` by id or name; what is not in the project is not found.
async fn find_in_project(
    state: &AdminState,
    project: &ProjectRef,
    id_or_name: &str,
) -> Result<Device, ApiError> {
    let not_found = || access::device_not_found(id_or_name, project);
    let found = match id_or_name.parse::<DeviceId>() {
        Ok(id) => state.store().device_by_id(&id).await,
        Err(_) => state.store().find_device(Some(project), id_or_name).await,
    };
    match found {
        Ok(device) if device.project == *project => Ok(device),
        Ok(_) | Err(StoreError::DeviceNotFound { .. }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The device a path names, after the tenant and role checks: 404 for a project the caller
/// does not see, a missing project or a device not in it; 403 without `role`.
async fn open_device(
    state: &AdminState,
    caller: &Caller,
    (org, project, device): &(String, String, String),
    role: Role,
) -> Result<(ProjectRef, Device), ApiError> {
    let reference = access::project_ref(org, project)?;
    access::see_project(&caller.principal, &reference)?;
    state.store().project(&reference).await?;
    let device = find_in_project(state, &reference, device).await?;
    access::require_role(&caller.principal, &reference, role)?;
    Ok((reference, device))
}

/// A project's devices, a page at a time, ordered by name.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/devices",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        DeviceListQuery,
    ),
    responses(
        (status = 200, description = "A page of devices", body = DeviceList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_devices(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<DeviceListQuery>,
) -> Result<Json<DeviceList>, ApiError> {
    let (reference, _) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let limit = paging::limit(query.limit.as_deref())?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| paging::decode::<(String, String)>("devices", c))
        .transpose()?;
    let devices = state
        .store()
        .device_page(&DevicePage {
            project: reference,
            environment: query.environment,
            status: query.status,
            name: None,
            include_decommissioned: false,
            after,
            limit: limit + 1,
        })
        .await?;
    let (page, more) = paging::split(devices, limit);
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|d| paging::encode("devices", (d.name.as_str(), d.id.to_string())));
    Ok(Json(DeviceList {
        items: page.iter().map(DeviceView::from).collect(),
        next_cursor,
    }))
}

/// Onboards a device: contacts it, pins what it presented (with first-use trust) and registers
/// it only if it passed.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/devices",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
    ),
    request_body = CreateDevice,
    responses(
        (status = 201, description = "The device answered as expected and was registered", body = CreatedDevice),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "A live device of that name exists in the project", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 422, description = "The device failed its checks and was not added; `details.probes` has each driver's findings", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn create_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody,
) -> Result<(StatusCode, Json<CreatedDevice>), ApiError> {
    let (reference, _) = super::open_project(&state, &caller, &org, &project, Role::Admin).await?;
    let request: CreateDevice = body.parse()?;
    check_username(&request.username)?;
    check_password(&request.password)?;
    let tags = parse_tags("tags", &request.tags)?;
    let environment = request.environment.unwrap_or(Environment::Prod);
    if request.insecure_http && environment == Environment::Prod {
        return Err(ApiError::invalid(
            "insecure_http: plain HTTP is refused for a prod device (REST must use HTTPS); give environment lab or staging, or leave insecure_http out",
        ));
    }
    if request.http_port.is_some() && !request.insecure_http {
        return Err(ApiError::invalid(
            "http_port: only used with insecure_http true",
        ));
    }
    let tls = fingerprint("tls_cert_sha256", request.tls_cert_sha256.as_deref())?;
    let ssh = fingerprint(
        "ssh_host_key_sha256",
        request.ssh_host_key_sha256.as_deref(),
    )?;
    match state
        .store()
        .find_device(Some(&reference), request.name.as_str())
        .await
    {
        Ok(_) => {
            return Err(ApiError::conflict(format!(
                "a device named \"{}\" already exists in project {reference}",
                request.name
            )));
        }
        Err(StoreError::DeviceNotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let new = NewDevice {
        id: DeviceId::new(),
        project: reference,
        name: request.name,
        address: request.address,
        rest_port: request.rest_port,
        ssh_port: request.ssh_port,
        http_port: request
            .insecure_http
            .then(|| request.http_port.unwrap_or(Port::new_const(80))),
        insecure_http: request.insecure_http,
        driver: request.driver.unwrap_or(DriverPreference::Auto),
        environment,
        tags,
        username: request.username,
        password: request.password,
        tls_cert_sha256: tls,
        ssh_host_key_sha256: ssh,
        facts: None,
    };
    let trust = if request.trust_on_first_use {
        TrustMode::FirstUseWhereUnpinned
    } else {
        TrustMode::Registry
    };
    match state.fleet.onboard(new, trust, &caller.audit).await {
        Ok(onboarded) => {
            let device = DeviceView::from(&onboarded.device);
            Ok((
                StatusCode::CREATED,
                Json(CreatedDevice {
                    fingerprints: Fingerprints {
                        tls_cert_sha256: device.tls_cert_sha256.clone(),
                        ssh_host_key_sha256: device.ssh_host_key_sha256.clone(),
                    },
                    device,
                    probes: probes(&onboarded.probes),
                }),
            ))
        }
        // The registry refused after the device passed: our failure, not the device's.
        Err(e) if e.reason.starts_with("database error") => Err(ApiError::internal(&e)),
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::OnboardingFailed,
            format!("{}; the device was not added", e.reason),
        )
        .with_details(serde_json::json!({ "probes": probes(&e.probes) }))),
    }
}

/// One device, by id or name.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/devices/{id}",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Device id, or the name of a live device"),
    ),
    responses(
        (status = 200, description = "The device", body = DeviceView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn get_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<DeviceView>, ApiError> {
    let (_, device) = open_device(&state, &caller, &path, Role::Viewer).await?;
    Ok(Json(DeviceView::from(&device)))
}

/// Changes a device's metadata.
#[utoipa::path(
    patch,
    path = "/v1/organizations/{org}/projects/{project}/devices/{id}",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Device id, or the name of a live device"),
    ),
    request_body = PatchDevice,
    responses(
        (status = 200, description = "The device as changed", body = DeviceView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The device is decommissioned, or the new name is taken", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn update_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<DeviceView>, ApiError> {
    let (_, device) = open_device(&state, &caller, &path, Role::Admin).await?;
    let request: PatchDevice = body.parse()?;
    if request.status == Some(DeviceStatus::Decommissioned) {
        return Err(ApiError::invalid(
            "status: expected active or inactive; decommission a device with DELETE on its path",
        ));
    }
    let set_tags = parse_tags("set_tags", &request.set_tags)?;
    let remove_tags = request
        .remove_tags
        .iter()
        .map(|k| {
            k.parse::<TagKey>()
                .map(|k| k.to_string())
                .map_err(|e| ApiError::invalid(format!("remove_tags: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let patch = DevicePatch {
        name: request.name,
        address: request.address,
        rest_port: request.rest_port,
        ssh_port: request.ssh_port,
        http_port: request.http_port,
        insecure_http: request.insecure_http,
        driver: request.driver,
        environment: request.environment,
        status: request.status,
        set_tags,
        remove_tags,
        allow_basic_writes: request.allow_basic_writes.map(FlagSetting::stored),
        allow_professional_workflows: request
            .allow_professional_workflows
            .map(FlagSetting::stored),
    };
    if patch.is_empty() {
        return Err(ApiError::invalid(
            "nothing to change: give at least one of name, address, rest_port, ssh_port, http_port, insecure_http, driver, environment, status, set_tags, remove_tags, allow_basic_writes, allow_professional_workflows",
        ));
    }
    let environment = patch.environment.unwrap_or(device.environment);
    if patch.insecure_http.unwrap_or(device.insecure_http) && environment == Environment::Prod {
        return Err(ApiError::invalid(
            "insecure_http: plain HTTP is refused for a prod device (REST must use HTTPS)",
        ));
    }
    let updated = state
        .store()
        .update_device(&device.id, &patch, &caller.audit)
        .await?;
    Ok(Json(DeviceView::from(&updated)))
}

/// Decommissions a device: it is never contacted again, its stored credentials are wiped, and
/// its history is kept.
#[utoipa::path(
    delete,
    path = "/v1/organizations/{org}/projects/{project}/devices/{id}",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Device id, or the name of a live device"),
    ),
    responses(
        (status = 200, description = "The device, decommissioned", body = DeviceView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The device is already decommissioned", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn decommission_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<DeviceView>, ApiError> {
    let (_, device) = open_device(&state, &caller, &path, Role::Admin).await?;
    let gone = state
        .store()
        .decommission_device(&device.id, &caller.audit)
        .await?;
    state.fleet.connections().forget(&gone.id);
    Ok(Json(DeviceView::from(&gone)))
}

/// Contacts a registered device through each of its drivers and records what it learned.
/// Needs admin: it changes the registry (facts, and pins with first-use trust).
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/devices/{id}/test",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Device id, or the name of a live device"),
    ),
    request_body(content = Option<TestDevice>, description = "Optional"),
    responses(
        (status = 200, description = "What each driver found (an unreachable device is a result, not an error)", body = TestResult),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The device is decommissioned", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn test_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<TestResult>, ApiError> {
    let (_, device) = open_device(&state, &caller, &path, Role::Admin).await?;
    let request: TestDevice = body.parse_or_default()?;
    let trust = if request.trust_on_first_use {
        TrustMode::FirstUseWhereUnpinned
    } else {
        TrustMode::Registry
    };
    let tested = state.fleet.test(&device, trust, &caller.audit).await?;
    Ok(Json(TestResult {
        reachable: tested.probes.iter().any(|p| p.reachable),
        device: DeviceView::from(&tested.device),
        probes: probes(&tested.probes),
    }))
}

/// Rotates a device's credentials, on the device or in the registry only.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/devices/{id}/rotate-credentials",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Device id, or the name of a live device"),
    ),
    request_body = RotateCredentials,
    responses(
        (status = 200, description = "The new credentials are stored (and, on the device, working)", body = RotationResult),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The device is decommissioned, or refused the rotation (nothing changed)", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
        (status = 502, description = "The device could not be reached or failed (nothing changed)", body = ErrorBody),
    )
)]
pub(crate) async fn rotate_credentials(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<RotationResult>, ApiError> {
    let (_, device) = open_device(&state, &caller, &path, Role::Admin).await?;
    let request: RotateCredentials = body.parse()?;
    if request.on_device {
        if request.username.is_some() || request.password.is_some() {
            return Err(ApiError::invalid(
                "username, password: not allowed with on_device true (the server chooses both and creates the user on the device)",
            ));
        }
        let outcome = state.fleet.rotate_on_device(&device, &caller.audit).await?;
        return Ok(Json(RotationResult {
            device_id: device.id.to_string(),
            on_device: true,
            username: outcome.new_username,
            credential_version: outcome.credential_version,
            warning: outcome.old_user_disabled.as_ref().err().map(|e| {
                format!(
                    "the old user {} is still enabled on the device ({e}); disable it there",
                    outcome.old_username
                )
            }),
            old_user_disabled: Some(outcome.old_user_disabled.is_ok()),
            old_username: Some(outcome.old_username),
        }));
    }
    let password = request.password.ok_or_else(|| {
        ApiError::invalid(
            "password: required with on_device false (the password already set on the device)",
        )
    })?;
    check_password(&password)?;
    if let Some(username) = &request.username {
        check_username(username)?;
    }
    let stored = state
        .store()
        .rotate_credentials(
            &device.id,
            request.username.as_deref(),
            &password,
            state.fleet.master_key(),
            &caller.audit,
        )
        .await?;
    // The next call logs in with what was stored, not a cached connection's old login.
    state.fleet.connections().forget(&device.id);
    Ok(Json(RotationResult {
        device_id: device.id.to_string(),
        on_device: false,
        username: stored.username,
        credential_version: stored.version,
        old_username: None,
        old_user_disabled: None,
        warning: None,
    }))
}

/// A device to contact before it is registered: where it is and how to log in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeDevice {
    /// Management address: an IPv4/IPv6 address or a hostname.
    #[schema(value_type = String, example = "192.0.2.1")]
    address: Host,
    #[serde(default = "default_rest_port")]
    #[schema(value_type = u16, default = 443, minimum = 1, maximum = 65535)]
    rest_port: Port,
    #[serde(default = "default_ssh_port")]
    #[schema(value_type = u16, default = 22, minimum = 1, maximum = 65535)]
    ssh_port: Port,
    /// `auto` (both drivers), `rest` or `ssh`.
    #[serde(default)]
    #[schema(value_type = Option<String>, default = "auto")]
    driver: Option<DriverPreference>,
    username: String,
    /// Used for this contact only: never stored, shown, logged or audited.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// What a device presented when contacted without pinning.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub(crate) struct ProbeAnswer {
    /// What each driver found: `presented` is the SHA-256 of the TLS certificate (REST, hex)
    /// or of the SSH host key (OpenSSH `SHA256:…`) — the values to confirm and then give as
    /// `tls_cert_sha256` / `ssh_host_key_sha256` when creating the device.
    pub probes: Vec<crate::views::ProbeView>,
}

/// Contacts a device that is not registered and reports the identity it presents (TLS
/// certificate and SSH host key fingerprints) and its facts, so a person can confirm them
/// before they are pinned by `POST …/devices`. Nothing is stored.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/device-probes",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
    ),
    request_body = ProbeDevice,
    responses(
        (status = 200, description = "What each driver found (reachable or not); nothing was stored", body = ProbeAnswer),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn probe_device(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<ProbeAnswer>, ApiError> {
    super::open_project(&state, &caller, &org, &project, Role::Admin).await?;
    let request: ProbeDevice = body.parse()?;
    check_username(&request.username)?;
    check_password(&request.password)?;
    let target = routeros::Target {
        device_id: DeviceId::new(),
        name: request.address.to_string(),
        host: request.address,
        rest_port: request.rest_port.get(),
        http_port: 80,
        ssh_port: request.ssh_port.get(),
        username: request.username,
        password: request.password,
        tls: routeros::Trust::FirstUse,
        ssh: routeros::Trust::FirstUse,
        insecure_http: false,
    };
    let found = state
        .fleet
        .probe_unregistered(target, request.driver.unwrap_or(DriverPreference::Auto))
        .await;
    Ok(Json(ProbeAnswer {
        probes: probes(&found),
    }))
}
