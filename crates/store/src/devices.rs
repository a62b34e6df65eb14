//! Devices: registration, lookup, metadata updates and decommissioning.
//!
//! A device is registered together with its first credential in one transaction, so there is
//! never a device the server cannot log in to, nor a credential without its device. Devices are
//! never deleted: decommissioning keeps the row (and its audit history) and wipes its secrets.

use std::collections::BTreeMap;

use domain::{
    DeviceId, DeviceName, DeviceStatus, DriverPreference, Environment, Host, Port, ProjectRef, Tag,
};
use serde_json::{Value, json};
use vault::{MasterKey, SecretString};

use crate::audit::{self, AuditContext};
use crate::credentials::{credential_context, insert_credential};
use crate::{Store, StoreError, on_unique_violation, parse_column, time};

/// A registered device as the rest of the system sees it (no secrets).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Device {
    pub id: DeviceId,
    pub project: ProjectRef,
    pub name: DeviceName,
    pub address: Host,
    pub rest_port: Port,
    pub ssh_port: Port,
    /// Plain-HTTP REST port, used only when `insecure_http` is set.
    pub http_port: Option<Port>,
    /// REST over plain HTTP (lab devices only).
    pub insecure_http: bool,
    pub driver: DriverPreference,
    pub environment: Environment,
    pub tags: BTreeMap<String, String>,
    pub status: DeviceStatus,
    pub routeros_version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
    pub identity: Option<String>,
    pub tls_cert_sha256: Option<String>,
    pub ssh_host_key_sha256: Option<String>,
    /// Username of the current credential.
    pub username: Option<String>,
    pub credential_version: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub decommissioned_at: Option<String>,
    /// When a call last reached the device.
    pub last_seen_at: Option<String>,
    /// Whether the workflow may plan basic writes here, as an admin set it (`None`: the
    /// environment's default; see [`Device::capabilities`]).
    pub allow_basic_writes: Option<bool>,
    /// Whether the workflow may plan professional workflows here, as an admin set it.
    pub allow_professional_workflows: Option<bool>,
}

impl Device {
    /// What the workflow may plan on this device: the flags its admin set, else its
    /// environment's defaults.
    pub fn capabilities(&self) -> domain::Capabilities {
        domain::Capabilities::resolve(
            self.environment,
            self.allow_basic_writes,
            self.allow_professional_workflows,
        )
    }

    /// The audit target naming this device.
    pub fn audit_target(&self) -> String {
        format!("device:{}", self.id)
    }
}

/// What an operator provides to register a device.
#[derive(Debug)]
pub struct NewDevice {
    pub id: DeviceId,
    pub project: ProjectRef,
    pub name: DeviceName,
    pub address: Host,
    pub rest_port: Port,
    pub ssh_port: Port,
    pub http_port: Option<Port>,
    pub insecure_http: bool,
    pub driver: DriverPreference,
    pub environment: Environment,
    pub tags: Vec<Tag>,
    pub username: String,
    pub password: SecretString,
    pub tls_cert_sha256: Option<String>,
    pub ssh_host_key_sha256: Option<String>,
    /// What onboarding learned, if the device was contacted before registration.
    pub facts: Option<Facts>,
}

/// What a device says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Facts {
    pub routeros_version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
    pub identity: Option<String>,
}

/// Metadata changes; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct DevicePatch {
    pub name: Option<DeviceName>,
    pub address: Option<Host>,
    pub rest_port: Option<Port>,
    pub ssh_port: Option<Port>,
    pub http_port: Option<Port>,
    pub insecure_http: Option<bool>,
    pub driver: Option<DriverPreference>,
    pub environment: Option<Environment>,
    /// `active` or `inactive` (decommissioning has its own operation).
    pub status: Option<DeviceStatus>,
    pub set_tags: Vec<Tag>,
    pub remove_tags: Vec<String>,
    /// `Some(Some(flag))` sets the flag, `Some(None)` returns it to the environment's default.
    pub allow_basic_writes: Option<Option<bool>>,
    pub allow_professional_workflows: Option<Option<bool>>,
}

impl DevicePatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.address.is_none()
            && self.rest_port.is_none()
            && self.ssh_port.is_none()
            && self.http_port.is_none()
            && self.insecure_http.is_none()
            && self.driver.is_none()
            && self.environment.is_none()
            && self.status.is_none()
            && self.set_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.allow_basic_writes.is_none()
            && self.allow_professional_workflows.is_none()
    }
}

/// Which devices to list.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub project: Option<ProjectRef>,
    pub environment: Option<Environment>,
    pub status: Option<DeviceStatus>,
    /// Every tag must match.
    pub tags: Vec<Tag>,
    /// Include decommissioned devices when no status is given.
    pub include_decommissioned: bool,
}

/// One page of a project's devices, ordered by name and then id (a decommissioned device keeps
/// its name, so a name alone does not identify a row).
#[derive(Debug, Clone)]
pub struct DevicePage {
    pub project: ProjectRef,
    pub environment: Option<Environment>,
    pub status: Option<DeviceStatus>,
    /// Only devices of this exact name (live or decommissioned, subject to the other filters).
    pub name: Option<DeviceName>,
    /// Include decommissioned devices when no status is given.
    pub include_decommissioned: bool,
    /// Continue after the device with this (name, id), exclusive.
    pub after: Option<(String, String)>,
    /// At most this many devices (at least one).
    pub limit: u32,
}

const SELECT: &str = "SELECT d.id, o.name AS org, p.name AS project, d.name, d.address, \
     d.rest_port, d.ssh_port, d.driver, d.environment, d.tags, d.status, d.routeros_version, \
     d.board, d.architecture, d.identity, d.tls_cert_sha256, d.ssh_host_key_sha256, \
     c.username AS username, c.version AS credential_version, \
     d.created_at, d.updated_at, d.decommissioned_at, d.http_port, d.insecure_http, d.last_seen_at, \
     d.allow_basic_writes, d.allow_professional_workflows \
     FROM devices d \
     JOIN projects p ON p.id = d.project_id \
     JOIN organizations o ON o.id = p.organization_id \
     LEFT JOIN device_credentials c ON c.device_id = d.id AND c.retired_at IS NULL";

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    org: String,
    project: String,
    name: String,
    address: String,
    rest_port: i64,
    ssh_port: i64,
    driver: String,
    environment: String,
    tags: String,
    status: String,
    routeros_version: Option<String>,
    board: Option<String>,
    architecture: Option<String>,
    identity: Option<String>,
    tls_cert_sha256: Option<String>,
    ssh_host_key_sha256: Option<String>,
    username: Option<String>,
    credential_version: Option<i64>,
    created_at: String,
    updated_at: String,
    decommissioned_at: Option<String>,
    http_port: Option<i64>,
    insecure_http: i64,
    last_seen_at: Option<String>,
    allow_basic_writes: Option<i64>,
    allow_professional_workflows: Option<i64>,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        let port = |v: i64, col: &str| {
            Port::try_from(v).map_err(|_| StoreError::Corrupt(format!("devices.{col}")))
        };
        Ok(Device {
            id: parse_column(&r.id, "devices.id")?,
            project: ProjectRef {
                org: parse_column(&r.org, "organizations.name")?,
                project: parse_column(&r.project, "projects.name")?,
            },
            name: parse_column(&r.name, "devices.name")?,
            address: parse_column(&r.address, "devices.address")?,
            rest_port: port(r.rest_port, "rest_port")?,
            ssh_port: port(r.ssh_port, "ssh_port")?,
            http_port: r.http_port.map(|p| port(p, "http_port")).transpose()?,
            insecure_http: r.insecure_http != 0,
            driver: parse_column(&r.driver, "devices.driver")?,
            environment: parse_column(&r.environment, "devices.environment")?,
            tags: serde_json::from_str(&r.tags)
                .map_err(|_| StoreError::Corrupt("devices.tags".into()))?,
            status: parse_column(&r.status, "devices.status")?,
            routeros_version: r.routeros_version,
            board: r.board,
            architecture: r.architecture,
            identity: r.identity,
            tls_cert_sha256: r.tls_cert_sha256,
            ssh_host_key_sha256: r.ssh_host_key_sha256,
            username: r.username,
            credential_version: r.credential_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            decommissioned_at: r.decommissioned_at,
            last_seen_at: r.last_seen_at,
            allow_basic_writes: r.allow_basic_writes.map(|v| v != 0),
            allow_professional_workflows: r.allow_professional_workflows.map(|v| v != 0),
        })
    }
}

/// Loads one device through any executor (a pool, or a transaction that must see its own
/// writes and must not wait for a second connection).
pub(crate) async fn fetch_device<'e, E>(executor: E, id: &DeviceId) -> Result<Device, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<DeviceRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE d.id = $1")))
            .bind(id.to_string())
            .fetch_optional(executor)
            .await?;
    row.ok_or_else(|| StoreError::DeviceNotFound {
        what: id.to_string(),
        scope: "the registry".into(),
    })?
    .try_into()
}

fn tags_json(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".to_owned())
}

impl Store {
    /// Registers a device with its first credential (sealed under `key`).
    pub async fn add_device(
        &self,
        new: &NewDevice,
        key: &MasterKey,
        ctx: &AuditContext,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let project_id = Store::project_id(&mut *tx, &new.project).await?;
        let now = time::now();
        let tags: BTreeMap<String, String> = new
            .tags
            .iter()
            .map(|t| (t.key.to_string(), t.value.clone()))
            .collect();
        let facts = new.facts.clone().unwrap_or_default();
        sqlx::query(
            "INSERT INTO devices (id, project_id, name, address, rest_port, ssh_port, driver, \
             environment, tags, status, tls_cert_sha256, ssh_host_key_sha256, created_at, updated_at, \
             http_port, insecure_http, routeros_version, board, architecture, identity, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(new.id.to_string())
        .bind(&project_id)
        .bind(new.name.as_str())
        .bind(new.address.to_string())
        .bind(i64::from(new.rest_port.get()))
        .bind(i64::from(new.ssh_port.get()))
        .bind(new.driver.as_str())
        .bind(new.environment.as_str())
        .bind(tags_json(&tags))
        .bind(new.tls_cert_sha256.as_deref())
        .bind(new.ssh_host_key_sha256.as_deref())
        .bind(&now)
        .bind(new.http_port.map(|p| i64::from(p.get())))
        .bind(i64::from(new.insecure_http))
        .bind(facts.routeros_version.as_deref())
        .bind(facts.board.as_deref())
        .bind(facts.architecture.as_deref())
        .bind(facts.identity.as_deref())
        .bind(new.facts.as_ref().map(|_| now.clone()))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            on_unique_violation(e, || StoreError::DuplicateDevice {
                project: new.project.to_string(),
                name: new.name.to_string(),
            })
        })?;
        let sealed = key.seal(&new.password, &credential_context(&new.id, 1))?;
        insert_credential(&mut tx, &new.id, 1, &new.username, &sealed, &now).await?;
        audit::append(
            &mut tx,
            ctx,
            "device.add",
            &format!("device:{}", new.id),
            json!({
                "name": new.name.as_str(),
                "project": new.project.to_string(),
                "address": new.address.to_string(),
                "rest_port": new.rest_port.get(),
                "ssh_port": new.ssh_port.get(),
                "driver": new.driver.as_str(),
                "environment": new.environment.as_str(),
                "tags": tags,
                "username": new.username,
                "insecure_http": new.insecure_http,
                "tls_cert_sha256": new.tls_cert_sha256,
                "ssh_host_key_sha256": new.ssh_host_key_sha256,
                "facts": new.facts,
            }),
        )
        .await?;
        let device = fetch_device(&mut *tx, &new.id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// One device by id (whatever its status).
    pub async fn device_by_id(&self, id: &DeviceId) -> Result<Device, StoreError> {
        fetch_device(&self.pool, id).await
    }

    /// Resolves what a human or a client typed — a device id or a name — to a live device.
    /// Without a project, names are looked up across all projects and must be unambiguous.
    pub async fn find_device(
        &self,
        project: Option<&ProjectRef>,
        id_or_name: &str,
    ) -> Result<Device, StoreError> {
        if let Ok(id) = id_or_name.parse::<DeviceId>() {
            return self.device_by_id(&id).await;
        }
        let scope = project.map_or_else(|| "any project".to_owned(), |p| format!("project {p}"));
        let not_found = || StoreError::DeviceNotFound {
            what: id_or_name.to_owned(),
            scope: scope.clone(),
        };
        // Not a valid name either: it cannot exist.
        if id_or_name.parse::<DeviceName>().is_err() {
            return Err(not_found());
        }
        let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE d.name = $1 AND d.status <> 'decommissioned' \
             AND ($2 IS NULL OR (o.name = $2 AND p.name = $3)) ORDER BY o.name, p.name"
        )))
        .bind(id_or_name)
        .bind(project.map(|p| p.org.to_string()))
        .bind(project.map(|p| p.project.to_string()))
        .fetch_all(&self.pool)
        .await?;
        let mut devices = rows
            .into_iter()
            .map(Device::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        match devices.len() {
            0 => Err(not_found()),
            1 => Ok(devices.remove(0)),
            _ => Err(StoreError::AmbiguousDevice {
                name: id_or_name.to_owned(),
                projects: devices
                    .iter()
                    .map(|d| d.project.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Devices matching `filter`, ordered by project and name.
    pub async fn list_devices(&self, filter: &DeviceFilter) -> Result<Vec<Device>, StoreError> {
        if let Some(project) = &filter.project {
            Store::project_id(&self.pool, project).await?;
        }
        let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE ($1 IS NULL OR (o.name = $1 AND p.name = $2)) \
             AND ($3 IS NULL OR d.environment = $3) \
             AND (($4 IS NULL AND ($5 = 1 OR d.status <> 'decommissioned')) OR d.status = $4) \
             ORDER BY o.name, p.name, d.name, d.created_at"
        )))
        .bind(filter.project.as_ref().map(|p| p.org.to_string()))
        .bind(filter.project.as_ref().map(|p| p.project.to_string()))
        .bind(filter.environment.map(Environment::as_str))
        .bind(filter.status.map(DeviceStatus::as_str))
        .bind(i64::from(filter.include_decommissioned))
        .fetch_all(&self.pool)
        .await?;
        let mut devices = Vec::with_capacity(rows.len());
        for row in rows {
            let device = Device::try_from(row)?;
            let tags_match = filter
                .tags
                .iter()
                .all(|t| device.tags.get(t.key.as_str()) == Some(&t.value));
            if tags_match {
                devices.push(device);
            }
        }
        Ok(devices)
    }

    /// One page of a project's devices (see [`DevicePage`]); the project must exist.
    pub async fn device_page(&self, page: &DevicePage) -> Result<Vec<Device>, StoreError> {
        let project_id = Store::project_id(&self.pool, &page.project).await?;
        let (after_name, after_id) = match &page.after {
            Some((name, id)) => (Some(name.as_str()), Some(id.as_str())),
            None => (None, None),
        };
        let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE d.project_id = $1 \
             AND ($2 IS NULL OR d.environment = $2) \
             AND (($3 IS NULL AND ($4 = 1 OR d.status <> 'decommissioned')) OR d.status = $3) \
             AND ($5 IS NULL OR d.name = $5) \
             AND ($6 IS NULL OR d.name > $6 OR (d.name = $6 AND d.id > $7)) \
             ORDER BY d.name, d.id LIMIT $8"
        )))
        .bind(&project_id)
        .bind(page.environment.map(Environment::as_str))
        .bind(page.status.map(DeviceStatus::as_str))
        .bind(i64::from(page.include_decommissioned))
        .bind(page.name.as_ref().map(DeviceName::as_str))
        .bind(after_name)
        .bind(after_id)
        .bind(i64::from(page.limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Device::try_from).collect()
    }

    /// Applies metadata changes and records what changed.
    pub async fn update_device(
        &self,
        id: &DeviceId,
        patch: &DevicePatch,
        ctx: &AuditContext,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = fetch_device(&mut *tx, id).await?;
        if current.status == DeviceStatus::Decommissioned {
            return Err(StoreError::Decommissioned(current.name.to_string()));
        }
        let mut changed = serde_json::Map::new();
        let mut note = |field: &str, from: Value, to: Value| {
            if from != to {
                changed.insert(field.to_owned(), json!({ "from": from, "to": to }));
            }
        };
        let name = patch.name.clone().unwrap_or_else(|| current.name.clone());
        note("name", json!(current.name), json!(name));
        let address = patch
            .address
            .clone()
            .unwrap_or_else(|| current.address.clone());
        note("address", json!(current.address), json!(address));
        let rest_port = patch.rest_port.unwrap_or(current.rest_port);
        note("rest_port", json!(current.rest_port), json!(rest_port));
        let ssh_port = patch.ssh_port.unwrap_or(current.ssh_port);
        note("ssh_port", json!(current.ssh_port), json!(ssh_port));
        let http_port = patch.http_port.or(current.http_port);
        note("http_port", json!(current.http_port), json!(http_port));
        let insecure_http = patch.insecure_http.unwrap_or(current.insecure_http);
        note(
            "insecure_http",
            json!(current.insecure_http),
            json!(insecure_http),
        );
        let driver = patch.driver.unwrap_or(current.driver);
        note("driver", json!(current.driver), json!(driver));
        let environment = patch.environment.unwrap_or(current.environment);
        note(
            "environment",
            json!(current.environment),
            json!(environment),
        );
        let status = patch.status.unwrap_or(current.status);
        note("status", json!(current.status), json!(status));
        let mut tags = current.tags.clone();
        for key in &patch.remove_tags {
            tags.remove(key);
        }
        for tag in &patch.set_tags {
            tags.insert(tag.key.to_string(), tag.value.clone());
        }
        note("tags", json!(current.tags), json!(tags));
        // Audited as set (`true`/`false`) or following the environment (`null`).
        let allow_basic_writes = patch
            .allow_basic_writes
            .unwrap_or(current.allow_basic_writes);
        note(
            "allow_basic_writes",
            json!(current.allow_basic_writes),
            json!(allow_basic_writes),
        );
        let allow_professional_workflows = patch
            .allow_professional_workflows
            .unwrap_or(current.allow_professional_workflows);
        note(
            "allow_professional_workflows",
            json!(current.allow_professional_workflows),
            json!(allow_professional_workflows),
        );
        if changed.is_empty() {
            return Ok(current);
        }
        sqlx::query(
            "UPDATE devices SET name = $1, address = $2, rest_port = $3, ssh_port = $4, driver = $5, \
             environment = $6, status = $7, tags = $8, updated_at = $9, http_port = $10, \
             insecure_http = $11, allow_basic_writes = $12, allow_professional_workflows = $13 \
             WHERE id = $14",
        )
        .bind(name.as_str())
        .bind(address.to_string())
        .bind(i64::from(rest_port.get()))
        .bind(i64::from(ssh_port.get()))
        .bind(driver.as_str())
        .bind(environment.as_str())
        .bind(status.as_str())
        .bind(tags_json(&tags))
        .bind(time::now())
        .bind(http_port.map(|p| i64::from(p.get())))
        .bind(i64::from(insecure_http))
        .bind(allow_basic_writes.map(i64::from))
        .bind(allow_professional_workflows.map(i64::from))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            on_unique_violation(e, || StoreError::DuplicateDevice {
                project: current.project.to_string(),
                name: name.to_string(),
            })
        })?;
        audit::append(
            &mut tx,
            ctx,
            "device.update",
            &current.audit_target(),
            json!({ "name": current.name.as_str(), "changed": changed }),
        )
        .await?;
        let device = fetch_device(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Records what the device said about itself; audited when anything changed.
    pub async fn update_facts(
        &self,
        id: &DeviceId,
        facts: &Facts,
        ctx: &AuditContext,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = fetch_device(&mut *tx, id).await?;
        let before = Facts {
            routeros_version: current.routeros_version.clone(),
            board: current.board.clone(),
            architecture: current.architecture.clone(),
            identity: current.identity.clone(),
        };
        let now = time::now();
        sqlx::query(
            "UPDATE devices SET routeros_version = $1, board = $2, architecture = $3, identity = $4, \
             last_seen_at = $5 WHERE id = $6",
        )
        .bind(facts.routeros_version.as_deref())
        .bind(facts.board.as_deref())
        .bind(facts.architecture.as_deref())
        .bind(facts.identity.as_deref())
        .bind(&now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if before != *facts {
            audit::append(
                &mut tx,
                ctx,
                "device.facts",
                &current.audit_target(),
                json!({ "name": current.name.as_str(), "from": before, "to": facts }),
            )
            .await?;
        }
        let device = fetch_device(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Pins the TLS certificate and/or SSH host key fingerprints (`None` leaves one as it is).
    pub async fn set_pins(
        &self,
        id: &DeviceId,
        tls_cert_sha256: Option<&str>,
        ssh_host_key_sha256: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = fetch_device(&mut *tx, id).await?;
        if current.status == DeviceStatus::Decommissioned {
            return Err(StoreError::Decommissioned(current.name.to_string()));
        }
        let tls = tls_cert_sha256
            .map(str::to_owned)
            .or(current.tls_cert_sha256.clone());
        let ssh = ssh_host_key_sha256
            .map(str::to_owned)
            .or(current.ssh_host_key_sha256.clone());
        if tls == current.tls_cert_sha256 && ssh == current.ssh_host_key_sha256 {
            return Ok(current);
        }
        sqlx::query(
            "UPDATE devices SET tls_cert_sha256 = $1, ssh_host_key_sha256 = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(tls.as_deref())
        .bind(ssh.as_deref())
        .bind(time::now())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            "device.pin",
            &current.audit_target(),
            json!({
                "name": current.name.as_str(),
                "tls_cert_sha256": { "from": current.tls_cert_sha256, "to": tls },
                "ssh_host_key_sha256": { "from": current.ssh_host_key_sha256, "to": ssh },
            }),
        )
        .await?;
        let device = fetch_device(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// The registry's generation: a counter that database triggers move inside every transaction
    /// that changes a device (other than its last-seen time), its credentials, its project or its
    /// organization. Equal generations read at two moments prove no such change committed in
    /// between, in this process or any other sharing the database.
    pub async fn registry_generation(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT n FROM registry_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Notes that a call reached the device (not audited: it is an observation, not a change).
    pub async fn mark_seen(&self, id: &DeviceId) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
            .bind(time::now())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a device decommissioned and wipes its stored secrets; its history stays.
    pub async fn decommission_device(
        &self,
        id: &DeviceId,
        ctx: &AuditContext,
    ) -> Result<Device, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = fetch_device(&mut *tx, id).await?;
        if current.status == DeviceStatus::Decommissioned {
            return Err(StoreError::Decommissioned(current.name.to_string()));
        }
        let now = time::now();
        sqlx::query(
            "UPDATE devices SET status = 'decommissioned', decommissioned_at = $1, updated_at = $1 WHERE id = $2",
        )
        .bind(&now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE device_credentials SET retired_at = $1, nonce = NULL, ciphertext = NULL \
             WHERE device_id = $2 AND retired_at IS NULL",
        )
        .bind(&now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            "device.decommission",
            &current.audit_target(),
            json!({ "name": current.name.as_str(), "project": current.project.to_string() }),
        )
        .await?;
        let device = fetch_device(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }
}
