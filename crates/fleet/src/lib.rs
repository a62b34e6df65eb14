//! The registry's devices as live connections.
//!
//! [`Fleet`] joins the registry (who the devices are, their sealed credentials and pins) with the
//! drivers (how to reach them): it builds a device's connection target, hands out the cached
//! [`DeviceClient`], and runs the operations that need both — onboarding a new device, testing
//! one, and rotating its credentials on the device itself.

pub mod import;
mod lookup;
mod onboard;
mod rotate;

pub use onboard::{OnboardError, Onboarded, ProbeSummary};
pub use rotate::RotationOutcome;

use std::sync::Arc;

use domain::{DeviceStatus, ProjectRef};
use routeros::{Connections, DeviceClient, DriverError, Target, Trust};
use store::{AuditContext, Device, Store, StoreError};
use vault::MasterKey;

/// Everything that can go wrong between the registry and a device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    /// The operation makes no sense for this device (decommissioned, plain HTTP in prod, …).
    #[error("{0}")]
    Refused(String),
}

/// Registry + connections.
#[derive(Debug, Clone)]
pub struct Fleet {
    store: Store,
    key: Arc<MasterKey>,
    connections: Arc<Connections>,
    /// Devices resolved by [`Fleet::find`], served while the registry's generation holds.
    lookups: Arc<lookup::Lookups>,
}

/// How a connection should treat the identity a device presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    /// Use the pins in the registry.
    Registry,
    /// Use the pins in the registry; where none is recorded, accept and report what the device
    /// presents (`--trust-on-first-use`). A recorded pin is never overridden this way.
    FirstUseWhereUnpinned,
}

impl TrustMode {
    pub(crate) fn apply(self, pin: Option<&str>) -> Trust {
        match (Trust::from_stored(pin), self) {
            (Trust::Unknown, TrustMode::FirstUseWhereUnpinned) => Trust::FirstUse,
            (trust, TrustMode::Registry | TrustMode::FirstUseWhereUnpinned) => trust,
        }
    }
}

impl Fleet {
    pub fn new(store: Store, key: Arc<MasterKey>, connections: Arc<Connections>) -> Self {
        Self {
            store,
            key,
            connections,
            lookups: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }

    pub(crate) fn key(&self) -> &MasterKey {
        &self.key
    }

    /// The master key the fleet's credentials are sealed under (to derive signing keys).
    pub fn master_key(&self) -> &MasterKey {
        &self.key
    }

    /// The connection target of a registered device (its credentials decrypted in memory).
    pub async fn target(&self, device: &Device, trust: TrustMode) -> Result<Target, FleetError> {
        if device.status == DeviceStatus::Decommissioned {
            return Err(FleetError::Refused(format!(
                "device {} is decommissioned and is never contacted",
                device.name
            )));
        }
        let creds = self.store.credentials(device, &self.key).await?;
        let tls = trust.apply(device.tls_cert_sha256.as_deref());
        let ssh = trust.apply(device.ssh_host_key_sha256.as_deref());
        Ok(Target {
            device_id: device.id,
            name: device.name.to_string(),
            host: device.address.clone(),
            rest_port: device.rest_port.get(),
            http_port: device.http_port.map_or(80, domain::Port::get),
            ssh_port: device.ssh_port.get(),
            username: creds.username,
            password: creds.password,
            tls,
            ssh,
            insecure_http: device.insecure_http,
        })
    }

    /// The cached client of a registered device, using its pins.
    /// How many of `devices` answer a read of their identity within `timeout`, all asked at
    /// once (what `/ready`, `check` and `preflight` call reachable).
    pub async fn answering(&self, devices: &[Device], timeout: std::time::Duration) -> usize {
        let Ok(identity) = routeros::MenuPath::parse("system/identity") else {
            return 0;
        };
        let probes = devices.iter().map(|d| {
            let identity = identity.clone();
            async move {
                let Ok(client) = self.client(d).await else {
                    return false;
                };
                tokio::time::timeout(
                    timeout,
                    client.print(&identity, &routeros::PrintQuery::all()),
                )
                .await
                .is_ok_and(|r| r.is_ok())
            }
        });
        futures::future::join_all(probes)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count()
    }

    pub async fn client(&self, device: &Device) -> Result<Arc<DeviceClient>, FleetError> {
        let target = self.target(device, TrustMode::Registry).await?;
        Ok(self
            .connections
            .client(target, device.driver, device.routeros_version.as_deref()))
    }

    /// The registry's generation now, for [`Fleet::client_at`] (`None` when it cannot be read:
    /// then nothing is served from memory).
    pub async fn generation(&self) -> Option<i64> {
        self.store.registry_generation().await.ok()
    }

    /// [`Fleet::client`] for one of many devices: served from memory while the registry is
    /// still at `generation` (read once by the caller, before it listed the devices), so asking
    /// a whole fleet again costs no query and no decryption per device.
    pub async fn client_at(
        &self,
        generation: Option<i64>,
        device: &Device,
    ) -> Result<Arc<DeviceClient>, FleetError> {
        let key = device.id.to_string();
        if let Some(g) = generation
            && let Some((_, client)) = self.lookups.get(g, None, &key)
        {
            return Ok(client);
        }
        let client = self.client(device).await?;
        if let Some(g) = generation {
            self.lookups
                .put(g, None, &key, (device.clone(), Arc::clone(&client)));
        }
        Ok(client)
    }

    /// Resolves a device id or name and returns it with its client. A device resolved before is
    /// served from memory while the registry's generation shows nothing changed (one small
    /// query instead of two and a decryption; see `lookup`).
    pub async fn find(
        &self,
        project: Option<&ProjectRef>,
        id_or_name: &str,
    ) -> Result<(Device, Arc<DeviceClient>), FleetError> {
        self.find_visible(project, id_or_name, |_| true).await
    }

    /// [`Fleet::find`] for a caller that may see only some projects: a device in a project
    /// `visible` refuses is answered exactly as one that does not exist, before anything else
    /// about it (its name, whether it is decommissioned) is said and before it is contacted.
    pub async fn find_visible(
        &self,
        project: Option<&ProjectRef>,
        id_or_name: &str,
        visible: impl Fn(&ProjectRef) -> bool,
    ) -> Result<(Device, Arc<DeviceClient>), FleetError> {
        let hidden = || {
            FleetError::Store(StoreError::DeviceNotFound {
                what: id_or_name.to_owned(),
                scope: project.map_or_else(|| "any project".to_owned(), |p| format!("project {p}")),
            })
        };
        // Read before the lookup: an entry is kept only under the generation it was fetched at.
        let generation = self.store.registry_generation().await?;
        if let Some(found) = self.lookups.get(generation, project, id_or_name) {
            return if visible(&found.0.project) {
                Ok(found)
            } else {
                Err(hidden())
            };
        }
        let device = self.store.find_device(project, id_or_name).await?;
        if !visible(&device.project) {
            return Err(hidden());
        }
        let client = self.client(&device).await?;
        self.lookups.put(
            generation,
            project,
            id_or_name,
            (device.clone(), Arc::clone(&client)),
        );
        Ok((device, client))
    }

    /// Notes in the registry that the device answered (best effort: an observation).
    pub async fn seen(&self, device: &Device) {
        if let Err(e) = self.store.mark_seen(&device.id).await {
            tracing::warn!(device = %device.name, error = %e, "could not record last-seen time");
        }
    }

    pub(crate) fn audit_target(device: &Device) -> String {
        device.audit_target()
    }

    pub(crate) async fn audit(
        &self,
        ctx: &AuditContext,
        action: &str,
        device: &Device,
        details: serde_json::Value,
    ) {
        if let Err(e) = self
            .store
            .append_audit(ctx, action, &Self::audit_target(device), details)
            .await
        {
            tracing::error!(device = %device.name, action, error = %e, "could not record an audit event");
        }
    }
}
