//! Fleets of simulated routers in one process, and the handle of one device.
//!
//! [`Fleet::start`] builds every device's configuration from its profile and seed, generates its
//! keys, binds its HTTP, HTTPS, SSH and API (plain and TLS) listeners on its own loopback address (`127.x.y.z`), starts
//! the control API, and only then returns — so a manifest written from [`Fleet::manifest`] always
//! describes devices that are already listening. Nothing here is global: several fleets can run
//! in one process (parallel tests), each with ephemeral ports when asked for port `0`.
//!
//! [`SimDevice`] is what every server of a device shares: the configuration behind a lock, the
//! clock, faults, counters, keys, and the reachability rules (reboot, hang, management path, a
//! test's own [`PathCut`]) that decide whether the device answers at all.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::ApiLimits;
use crate::cli::Globals;
use crate::cli::host::DeviceHost;
use crate::clock::SimClock;
use crate::faults::{FaultState, Faults, RequestKind, Verdict};
use crate::model::{
    LoginFailure, RosError, RosId, RouterState, StateDump, UserInfo, management_path_ok, menu, mix,
};
use crate::profiles::{Profile, ProfileParams, device_address};
use crate::tls::{DeviceKeys, KeyError, KeySource};

/// Errors of starting and running fleets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The options are inconsistent; the message says which and what is allowed.
    #[error("invalid fleet options: {0}")]
    InvalidOptions(String),
    /// A listener could not be bound.
    #[error("cannot bind {what} listener on {addr}: {source}")]
    Bind {
        /// `http`, `https`, `ssh`, `api`, `api-ssl` or `control`.
        what: &'static str,
        /// The address tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Key generation failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A profile produced an invalid configuration (a bug in the profile).
    #[error("profile {profile} could not be built: {source}")]
    Profile {
        /// The profile.
        profile: Profile,
        /// What the model refused.
        source: RosError,
    },
}

/// The listeners of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// REST over plain HTTP (`www`).
    Http,
    /// REST over HTTPS (`www-ssl`).
    Https,
    /// The console over SSH.
    Ssh,
    /// The RouterOS API (`api`, 8728).
    Api,
    /// The RouterOS API over TLS (`api-ssl`, 8729).
    ApiSsl,
}

impl Transport {
    /// The `/ip/service` entry that enables this listener.
    pub fn service(self) -> &'static str {
        match self {
            Transport::Http => "www",
            Transport::Https => "www-ssl",
            Transport::Ssh => "ssh",
            Transport::Api => "api",
            Transport::ApiSsl => "api-ssl",
        }
    }
}

/// One request a device saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Wall-clock arrival time, Unix milliseconds (real time, for rate checks).
    pub at_unix_ms: u64,
    /// Which listener.
    pub transport: Transport,
    /// HTTP method, `exec`/`shell` for SSH, `api` for the API.
    pub method: String,
    /// Path (REST), command line (SSH) or command word (API).
    pub path: String,
}

/// How many recent requests a device remembers.
pub const REQUEST_RING: usize = 1024;

/// Connection and request counters of one device.
#[derive(Debug, Default)]
pub struct Counters {
    http: AtomicU64,
    https: AtomicU64,
    ssh: AtomicU64,
    api: AtomicU64,
    api_ssl: AtomicU64,
    requests: AtomicU64,
    recent: Mutex<VecDeque<RequestRecord>>,
    /// REST requests being answered right now, and the most ever at once.
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Marks one REST request as being answered until dropped ([`Counters::answering`]).
#[derive(Debug)]
pub struct Answering<'a>(&'a Counters);

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterSnapshot {
    /// TCP connections accepted on the HTTP listener.
    pub http_connections: u64,
    /// TCP connections accepted on the HTTPS listener.
    pub https_connections: u64,
    /// TCP connections accepted on the SSH listener.
    pub ssh_connections: u64,
    /// TCP connections accepted on the API listener.
    #[serde(default)]
    pub api_connections: u64,
    /// TCP connections accepted on the API-SSL listener.
    #[serde(default)]
    pub api_ssl_connections: u64,
    /// Requests seen since start.
    pub requests_total: u64,
    /// The most recent requests (up to [`REQUEST_RING`]), oldest first.
    pub requests: Vec<RequestRecord>,
}

impl Counters {
    /// Counts an accepted TCP connection.
    pub fn connection(&self, t: Transport) {
        let c = match t {
            Transport::Http => &self.http,
            Transport::Https => &self.https,
            Transport::Ssh => &self.ssh,
            Transport::Api => &self.api,
            Transport::ApiSsl => &self.api_ssl,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a request.
    pub fn request(&self, transport: Transport, method: &str, path: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let mut ring = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() >= REQUEST_RING {
            ring.pop_front();
        }
        ring.push_back(RequestRecord {
            at_unix_ms,
            transport,
            method: method.to_string(),
            path: path.to_string(),
        });
    }

    /// Counts a REST request as in flight until the returned guard is dropped.
    pub fn answering(&self) -> Answering<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Answering(self)
    }

    /// The most REST requests that were in flight at once since start (or the last reset).
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Starts a new high-water mark of requests in flight.
    pub fn reset_max_in_flight(&self) {
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Copies the counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            http_connections: self.http.load(Ordering::Relaxed),
            https_connections: self.https.load(Ordering::Relaxed),
            ssh_connections: self.ssh.load(Ordering::Relaxed),
            api_connections: self.api.load(Ordering::Relaxed),
            api_ssl_connections: self.api_ssl.load(Ordering::Relaxed),
            requests_total: self.requests.load(Ordering::Relaxed),
            requests: self
                .recent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .cloned()
                .collect(),
        }
    }
}

/// Boot status: an epoch bumped whenever the device goes down (every open connection belongs
/// to an epoch and dies with it), and whether it is down right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootStatus {
    /// Incremented at every reboot start.
    pub epoch: u64,
    /// The device is rebooting and answers nothing.
    pub rebooting: bool,
}

/// The listening ports of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// REST over HTTP.
    pub http: u16,
    /// REST over HTTPS.
    pub https: u16,
    /// SSH console.
    pub ssh: u16,
    /// RouterOS API.
    #[serde(default)]
    pub api: u16,
    /// RouterOS API over TLS.
    #[serde(default)]
    pub api_ssl: u16,
}

/// A session listed in `/user/active` while this value lives.
#[derive(Debug)]
pub struct ActiveSession {
    device: std::sync::Weak<SimDevice>,
    id: Option<RosId>,
}

impl Drop for ActiveSession {
    fn drop(&mut self) {
        if let (Some(dev), Some(id)) = (self.device.upgrade(), self.id) {
            dev.state
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .close_session(id);
        }
    }
}

/// A condition on a device's configuration under which the device answers nobody (see
/// [`SimDevice::set_path_cut`]).
pub type PathCut = Arc<dyn Fn(&RouterState) -> bool + Send + Sync>;

/// One simulated router.
pub struct SimDevice {
    name: String,
    index: u32,
    profile: Profile,
    address: Ipv4Addr,
    username: String,
    password: String,
    ports: Ports,
    clock: SimClock,
    state: RwLock<RouterState>,
    faults: Mutex<FaultState>,
    counters: Counters,
    keys: RwLock<DeviceKeys>,
    key_seed: Option<u64>,
    key_generation: AtomicU64,
    changed: Notify,
    boot: watch::Sender<BootStatus>,
    mgmt_cache: Mutex<Option<(u64, Ipv4Addr, bool)>>,
    /// A test's own cut (see [`SimDevice::set_path_cut`]).
    path_cut: RwLock<Option<PathCut>>,
    runtime: tokio::runtime::Handle,
    shutdown: CancellationToken,
}

impl fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimDevice")
            .field("name", &self.name)
            .field("profile", &self.profile)
            .field("address", &self.address)
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

/// How long `/system/reboot` keeps a device down, in simulated time (a real router takes
/// about half a minute).
pub const REBOOT_DOWNTIME: Duration = Duration::from_secs(30);

impl SimDevice {
    /// The fleet name (`sim-0001`), fixed for the device's life.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Position in the fleet (0-based).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The profile the device started from.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The management (and listening) address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The listening ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The administrator login created at start.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The administrator password created at start (also in the manifest).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The device clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Cancelled when the fleet shuts down; servers of the device stop with it.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Reads the configuration. Do not hold the guard across `.await`.
    pub fn state(&self) -> RwLockReadGuard<'_, RouterState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the configuration for reading.
    pub fn read_state<R>(&self, f: impl FnOnce(&RouterState) -> R) -> R {
        f(&self.state())
    }

    /// Runs `f` on the configuration for writing, then wakes everything waiting for the
    /// device to change (requests held by a lost management path re-check it).
    pub fn write_state<R>(&self, f: impl FnOnce(&mut RouterState) -> R) -> R {
        let out = {
            let mut guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        };
        self.changed.notify_waiters();
        out
    }

    /// The configuration tree (see [`RouterState::dump`]).
    pub fn state_dump(&self, volatile: bool) -> StateDump {
        self.state().dump(volatile)
    }

    /// The identity currently configured.
    pub fn identity(&self) -> String {
        self.read_state(|s| {
            menu("/system/identity")
                .and_then(|m| s.get(m, None).ok())
                .and_then(|r| r.get("name").map(|v| v.into_owned()))
                .unwrap_or_default()
        })
    }

    // ----------------------------------------------------------------------------------------
    // Faults
    // ----------------------------------------------------------------------------------------

    /// The faults currently set.
    pub fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .faults()
            .clone()
    }

    /// Replaces the faults (trigger counters restart). A `reboot_after` of `0` or a
    /// `reboot_seconds` without `reboot_after` is not a reboot; use [`SimDevice::reboot`].
    pub fn set_faults(&self, faults: Faults) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set(faults);
        self.changed.notify_waiters();
    }

    /// Counts a request of `kind` and decides what faults do to it. Both the REST and SSH
    /// servers call this once per request, after [`SimDevice::wait_until_answering`].
    pub fn decide(&self, kind: RequestKind) -> Verdict {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .decide(kind)
    }

    /// Checks a login against `/user` (and the `reject_auth` fault) and records it as RouterOS
    /// does (`last-logged-in`, a `/log` line). `policy` is the access policy the method needs
    /// (`rest-api`, `ssh`); `via` is how RouterOS names the method in the log.
    pub fn login(
        &self,
        user: &str,
        password: &str,
        policy: &str,
        from: IpAddr,
        via: &str,
    ) -> Result<UserInfo, LoginFailure> {
        let rejected = self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rejects_auth();
        // A rejected login is a login failure like any other, logged as RouterOS logs it.
        let info = if rejected {
            Err(LoginFailure::BadCredentials)
        } else {
            self.read_state(|s| s.authenticate(user, password, policy))
        };
        match &info {
            Ok(_) => {
                let mut s = self.state.write().unwrap_or_else(PoisonError::into_inner);
                s.record_login(user, &from.to_string(), via);
            }
            Err(_) => {
                let mut s = self.state.write().unwrap_or_else(PoisonError::into_inner);
                s.log(
                    "system,error,critical",
                    &format!("login failure for user {user} from {from} via {via}"),
                );
            }
        }
        info
    }

    /// Opens a `/user/active` entry for a session of `user` from `from` over `via`; the entry
    /// lasts as long as the returned value (drop it when the session closes).
    pub fn open_session(self: &Arc<Self>, user: &str, from: IpAddr, via: &str) -> ActiveSession {
        let id = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .open_session(user, &from.to_string(), via);
        ActiveSession {
            device: Arc::downgrade(self),
            id,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Reachability
    // ----------------------------------------------------------------------------------------

    /// The boot status channel: connections watch it to die at a reboot.
    pub fn boot_status(&self) -> watch::Receiver<BootStatus> {
        self.boot.subscribe()
    }

    /// Resolves once the device reboots after this call (or goes away): how a connection opened
    /// now learns that the router it talks to is gone.
    pub fn rebooted(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut boot = self.boot.subscribe();
        let epoch = boot.borrow().epoch;
        async move { while boot.changed().await.is_ok() && boot.borrow().epoch == epoch {} }
    }

    /// Whether the device is down for a reboot.
    pub fn is_rebooting(&self) -> bool {
        self.boot.borrow().rebooting
    }

    /// Whether the `/ip/service` entry for `transport` is enabled (a disabled service refuses
    /// connections, as on RouterOS).
    pub fn service_enabled(&self, transport: Transport) -> bool {
        self.read_state(|s| {
            s.items_of("/ip/service")
                .find(|it| it.get("name") == Some(transport.service()))
                .is_some_and(|it| !it.is_true("disabled"))
        })
    }

    /// Whether the configuration carries a management path to `client` (cached per
    /// configuration generation).
    pub fn management_path_ok(&self, client: Ipv4Addr) -> bool {
        let state = self.state();
        let generation = state.generation();
        {
            let cache = self
                .mgmt_cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((g, c, ok)) = *cache
                && g == generation
                && c == client
            {
                return ok;
            }
        }
        let ok = management_path_ok(&state, self.address, client);
        *self
            .mgmt_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((generation, client, ok));
        ok
    }

    /// Cuts the device off from every client while `cut` holds for its configuration; `None`
    /// removes the condition. This is a test's stand-in for a change that cuts the server off in
    /// a way the simulator does not model — a firewall rule, say, since no packet is filtered.
    /// It behaves as a lost management path: the reply to the write that makes `cut` hold
    /// never arrives, every later request is held silently, and held requests are answered
    /// once a change on the device (a scheduler script) makes it false. Unlike a fault set
    /// after the fact, it takes effect with the write itself.
    pub fn set_path_cut(&self, cut: Option<PathCut>) {
        *self
            .path_cut
            .write()
            .unwrap_or_else(PoisonError::into_inner) = cut;
        self.changed.notify_waiters();
    }

    /// Whether a test's [`PathCut`] holds now.
    fn path_cut_holds(&self) -> bool {
        // Never hold the cut's lock while taking the configuration lock.
        let cut = self
            .path_cut
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        cut.is_some_and(|cut| self.read_state(|s| cut(s)))
    }

    /// Whether the device would answer `client` right now: not rebooting, not hanging, the
    /// management path intact and no [`PathCut`] holding.
    pub fn answering(&self, client: Ipv4Addr) -> bool {
        // Never hold the faults lock while taking the configuration lock.
        let hanging = self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .hanging();
        !hanging
            && !self.is_rebooting()
            && self.management_path_ok(client)
            && !self.path_cut_holds()
    }

    /// Waits until the device answers `client` (returns at once if it does). Requests that
    /// arrive while the path is lost or the device hangs are held here silently, like packets
    /// to a router that cannot reply; they resume when a change (a scheduler script, a cleared
    /// fault) restores the path.
    pub async fn wait_until_answering(&self, client: Ipv4Addr) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.answering(client) {
                return;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Reboots: every connection closes now, nothing answers for `down_for` (real time), then
    /// the device comes back with uptime reset and a fresh log. The configuration survives.
    pub fn reboot(self: &Arc<Self>, down_for: Duration) {
        let mut epoch = 0;
        self.boot.send_modify(|b| {
            b.epoch += 1;
            b.rebooting = true;
            epoch = b.epoch;
        });
        self.changed.notify_waiters();
        let dev = Arc::clone(self);
        let shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(down_for) => dev.finish_boot(epoch),
            }
        });
    }

    /// Reboots after `delay` (so a reply to `/system/reboot` can still be sent).
    pub fn reboot_later(self: &Arc<Self>, delay: Duration, down_for: Duration) {
        let dev = Arc::clone(self);
        let shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(delay) => dev.reboot(down_for),
            }
        });
    }

    fn finish_boot(&self, epoch: u64) {
        if self.boot.borrow().epoch != epoch {
            return; // a later reboot is in progress
        }
        self.clock.mark_boot();
        self.write_state(|s| {
            s.clear_log();
            s.log("system,info", "router rebooted");
        });
        self.boot.send_modify(|b| b.rebooting = false);
        self.changed.notify_waiters();
    }

    /// A future that completes when the device changes (configuration, faults, boot status),
    /// for servers that wait on conditions of their own.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    // ----------------------------------------------------------------------------------------
    // Keys
    // ----------------------------------------------------------------------------------------

    /// The current keys.
    pub fn keys(&self) -> DeviceKeys {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The HTTPS server configuration (new connections pick up regenerated keys).
    pub fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .tls_config()
    }

    /// The SSH host key.
    pub fn ssh_host_key(&self) -> russh::keys::PrivateKey {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .ssh_host_key()
            .clone()
    }

    /// Replaces the HTTPS certificate and SSH host key (a pinned client now sees a mismatch).
    /// With a key seed, the new keys are the seed's next generation.
    pub fn regenerate_keys(&self) -> Result<(), SimError> {
        let generation = self.key_generation.fetch_add(1, Ordering::Relaxed) + 1;
        let source = match self.key_seed {
            Some(seed) => KeySource::Seeded {
                seed,
                index: self.index,
                generation,
            },
            None => KeySource::Random,
        };
        let keys = DeviceKeys::generate(&self.name, self.address, source)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(())
    }

    /// This device's manifest entry.
    pub fn manifest_entry(&self) -> ManifestDevice {
        let keys = self.keys();
        ManifestDevice {
            name: self.name.clone(),
            identity: self.identity(),
            profile: self.profile.to_string(),
            address: self.address.to_string(),
            http_port: self.ports.http,
            https_port: self.ports.https,
            ssh_port: self.ports.ssh,
            api_port: self.ports.api,
            api_ssl_port: self.ports.api_ssl,
            username: self.username.clone(),
            password: self.password.clone(),
            tls_sha256: keys.tls_sha256().to_string(),
            ssh_host_key_sha256: keys.ssh_host_key_sha256().to_string(),
        }
    }
}

/// One device in the manifest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestDevice {
    /// Fleet name (`sim-0001`).
    pub name: String,
    /// `/system/identity` name.
    pub identity: String,
    /// Profile name.
    pub profile: String,
    /// Loopback address the device listens on.
    pub address: String,
    /// REST over HTTP.
    pub http_port: u16,
    /// REST over HTTPS.
    pub https_port: u16,
    /// SSH.
    pub ssh_port: u16,
    /// RouterOS API (plain).
    #[serde(default)]
    pub api_port: u16,
    /// RouterOS API over TLS (the certificate of `tls_sha256`).
    #[serde(default)]
    pub api_ssl_port: u16,
    /// Administrator login.
    pub username: String,
    /// Administrator password.
    pub password: String,
    /// Lowercase hex SHA-256 of the DER HTTPS certificate.
    pub tls_sha256: String,
    /// OpenSSH fingerprint `SHA256:…` of the SSH host key.
    pub ssh_host_key_sha256: String,
}

impl fmt::Debug for ManifestDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestDevice")
            .field("name", &self.name)
            .field("identity", &self.identity)
            .field("profile", &self.profile)
            .field("address", &self.address)
            .field("http_port", &self.http_port)
            .field("https_port", &self.https_port)
            .field("ssh_port", &self.ssh_port)
            .field("api_port", &self.api_port)
            .field("api_ssl_port", &self.api_ssl_port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("tls_sha256", &self.tls_sha256)
            .field("ssh_host_key_sha256", &self.ssh_host_key_sha256)
            .finish()
    }
}

/// The fleet manifest, exactly the JSON the binary writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Base URL of the control API (`http://127.0.0.1:PORT`).
    pub control_url: String,
    /// Every device, in fleet order.
    pub devices: Vec<ManifestDevice>,
}

/// How to start a fleet.
#[derive(Clone)]
pub struct FleetOptions {
    /// Number of devices (at least 1).
    pub count: usize,
    /// Profiles, cycled over the devices (device `i` gets `profiles[i % len]`).
    pub profiles: Vec<Profile>,
    /// Seed of every generated configuration.
    pub seed: u64,
    /// Address of the first device; the next ones follow, skipping `.0`, `.254` and `.255`.
    pub base_address: Ipv4Addr,
    /// HTTP port on every device address (`0` = ephemeral per device).
    pub http_port: u16,
    /// HTTPS port on every device address (`0` = ephemeral per device).
    pub https_port: u16,
    /// SSH port on every device address (`0` = ephemeral per device).
    pub ssh_port: u16,
    /// RouterOS API port on every device address (`0` = ephemeral per device).
    pub api_port: u16,
    /// RouterOS API-SSL port on every device address (`0` = ephemeral per device).
    pub api_ssl_port: u16,
    /// What API peers may send and how long they may take.
    pub api_limits: ApiLimits,
    /// Where the control API listens; must be a loopback address (`127.0.0.1:0` by default).
    pub control_address: SocketAddr,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Faults every device starts with.
    pub faults: Faults,
    /// Administrator login of every device.
    pub username: String,
    /// Administrator password of every device; `None` derives one per device from the seed.
    pub password: Option<String>,
    /// Derive TLS and SSH keys from this seed (stable across restarts); `None` = random.
    pub key_seed: Option<u64>,
}

impl fmt::Debug for FleetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetOptions")
            .field("count", &self.count)
            .field("profiles", &self.profiles)
            .field("seed", &self.seed)
            .field("base_address", &self.base_address)
            .field("http_port", &self.http_port)
            .field("https_port", &self.https_port)
            .field("ssh_port", &self.ssh_port)
            .field("api_port", &self.api_port)
            .field("api_ssl_port", &self.api_ssl_port)
            .field("api_limits", &self.api_limits)
            .field("control_address", &self.control_address)
            .field("time_scale", &self.time_scale)
            .field("faults", &self.faults)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("key_seed", &self.key_seed)
            .finish()
    }
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            count: 1,
            profiles: vec![Profile::Home],
            seed: 0,
            base_address: Ipv4Addr::new(127, 0, 1, 1),
            http_port: 0,
            https_port: 0,
            ssh_port: 0,
            api_port: 0,
            api_ssl_port: 0,
            api_limits: ApiLimits::default(),
            control_address: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            time_scale: 1.0,
            faults: Faults::default(),
            username: "admin".into(),
            password: None,
            key_seed: None,
        }
    }
}

impl FleetOptions {
    /// Checks the options; every problem is reported in one message.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut problems = Vec::new();
        if self.count == 0 {
            problems.push("count must be at least 1".to_string());
        }
        if self.count > 100_000 {
            problems.push(format!("count must be at most 100000, got {}", self.count));
        }
        if self.profiles.is_empty() {
            problems.push("at least one profile is required (home, switch48, edge)".into());
        }
        if !self.base_address.is_loopback() {
            problems.push(format!(
                "base address must be a loopback address (127.x.y.z), got {}",
                self.base_address
            ));
        } else if self.count > 0
            && device_address(self.base_address, (self.count - 1) as u32).is_none()
        {
            problems.push(format!(
                "{} devices from {} run past 127.255.255.253",
                self.count, self.base_address
            ));
        }
        if !self.control_address.ip().is_loopback() {
            problems.push(format!(
                "the control API listens on loopback only, got {}",
                self.control_address
            ));
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0 && self.time_scale <= 100_000.0) {
            problems.push(format!(
                "time scale must be a positive number up to 100000, got {}",
                self.time_scale
            ));
        }
        if self.username.trim().is_empty() {
            problems.push("username must not be empty".into());
        }
        if let Err(e) = self.faults.validate() {
            problems.push(e);
        }
        if let Err(e) = self.api_limits.validate() {
            problems.push(e);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SimError::InvalidOptions(problems.join("; ")))
        }
    }

    /// The password of device `index`.
    pub fn password_for(&self, index: u32) -> String {
        match &self.password {
            Some(p) => p.clone(),
            None => {
                let h = mix(self.seed ^ mix(u64::from(index) ^ 0x7061_7373));
                format!("sim-{:012x}", h & 0xFFFF_FFFF_FFFF)
            }
        }
    }
}

/// A running fleet.
#[derive(Debug)]
pub struct Fleet {
    handle: FleetHandle,
    control_addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { what, addr, source })
}

fn local_port(l: &TcpListener, what: &'static str, addr: SocketAddr) -> Result<u16, SimError> {
    l.local_addr()
        .map(|a| a.port())
        .map_err(|source| SimError::Bind { what, addr, source })
}

impl Fleet {
    /// Starts every device and the control API; returns when all are listening.
    pub async fn start(opts: FleetOptions) -> Result<Fleet, SimError> {
        opts.validate()?;
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let runtime = tokio::runtime::Handle::current();
        let mut devices = Vec::with_capacity(opts.count);
        let mut listeners = Vec::with_capacity(opts.count);
        for i in 0..opts.count {
            let index = i as u32;
            let address = device_address(opts.base_address, index).ok_or_else(|| {
                SimError::InvalidOptions(format!("no loopback address left for device {i}"))
            })?;
            let profile = opts.profiles[i % opts.profiles.len()];
            let name = format!("sim-{:04}", i + 1);
            let o = address.octets();
            let params = ProfileParams {
                seed: opts.seed,
                index,
                identity: name.clone(),
                mgmt_address: address,
                mgmt_prefix: 24,
                mgmt_gateway: Ipv4Addr::new(o[0], o[1], o[2], 254),
                username: opts.username.clone(),
                password: opts.password_for(index),
            };
            let clock = SimClock::new(opts.time_scale);
            let state = profile
                .build(&params, clock.clone())
                .map_err(|source| SimError::Profile { profile, source })?;
            let key_source = match opts.key_seed {
                Some(seed) => KeySource::Seeded {
                    seed,
                    index,
                    generation: 0,
                },
                None => KeySource::Random,
            };
            let keys = DeviceKeys::generate(&name, address, key_source)?;
            let http_addr = SocketAddr::from((address, opts.http_port));
            let https_addr = SocketAddr::from((address, opts.https_port));
            let ssh_addr = SocketAddr::from((address, opts.ssh_port));
            let http = bind("http", http_addr).await?;
            let https = bind("https", https_addr).await?;
            let ssh = bind("ssh", ssh_addr).await?;
            let api_addr = SocketAddr::from((address, opts.api_port));
            let api_ssl_addr = SocketAddr::from((address, opts.api_ssl_port));
            let api = bind("api", api_addr).await?;
            let api_ssl = bind("api-ssl", api_ssl_addr).await?;
            let ports = Ports {
                http: local_port(&http, "http", http_addr)?,
                https: local_port(&https, "https", https_addr)?,
                ssh: local_port(&ssh, "ssh", ssh_addr)?,
                api: local_port(&api, "api", api_addr)?,
                api_ssl: local_port(&api_ssl, "api-ssl", api_ssl_addr)?,
            };
            let (boot, _) = watch::channel(BootStatus {
                epoch: 0,
                rebooting: false,
            });
            let device = Arc::new(SimDevice {
                name,
                index,
                profile,
                address,
                username: opts.username.clone(),
                password: params.password.clone(),
                ports,
                clock,
                state: RwLock::new(state),
                faults: Mutex::new(FaultState::new(opts.faults.clone(), params.device_seed())),
                counters: Counters::default(),
                keys: RwLock::new(keys),
                key_seed: opts.key_seed,
                key_generation: AtomicU64::new(0),
                changed: Notify::new(),
                boot,
                mgmt_cache: Mutex::new(None),
                path_cut: RwLock::new(None),
                runtime: runtime.clone(),
                shutdown: shutdown.child_token(),
            });
            devices.push(device);
            listeners.push((http, https, ssh, api, api_ssl));
        }
        for (device, (http, https, ssh, api, api_ssl)) in devices.iter().zip(listeners) {
            tasks.spawn(crate::rest::serve(
                Arc::clone(device),
                http,
                Transport::Http,
            ));
            tasks.spawn(crate::rest::serve(
                Arc::clone(device),
                https,
                Transport::Https,
            ));
            tasks.spawn(crate::api::serve(
                Arc::clone(device),
                api,
                Transport::Api,
                opts.api_limits,
            ));
            tasks.spawn(crate::api::serve(
                Arc::clone(device),
                api_ssl,
                Transport::ApiSsl,
                opts.api_limits,
            ));
            // The console (SSH sessions, scheduler scripts) shares one set of globals per device.
            let console = DeviceHost::new(Arc::clone(device), Globals::new());
            spawn_ssh(&tasks, Arc::clone(&console), ssh);
            spawn_scheduler(&tasks, console);
        }
        let by_name = devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        let control = bind("control", opts.control_address).await?;
        let control_addr = control.local_addr().map_err(|source| SimError::Bind {
            what: "control",
            addr: opts.control_address,
            source,
        })?;
        let fleet = Fleet {
            handle: FleetHandle {
                devices: Arc::new(devices),
                by_name: Arc::new(by_name),
                control_url: format!("http://{control_addr}"),
            },
            control_addr,
            shutdown,
            tasks,
        };
        let api = crate::control::router(fleet.handle());
        let stop = fleet.shutdown.clone();
        fleet.tasks.spawn(async move {
            if let Err(e) = axum::serve(control, api)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
            {
                tracing::warn!(error = %e, "control API stopped");
            }
        });
        Ok(fleet)
    }

    /// A cheap shared view of the fleet for servers (the control API).
    pub fn handle(&self) -> FleetHandle {
        self.handle.clone()
    }

    /// The manifest of the running fleet (current identities and keys).
    pub fn manifest(&self) -> Manifest {
        self.handle.manifest()
    }

    /// Base URL of the control API.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// The device called `name` (`sim-0001`).
    pub fn device(&self, name: &str) -> Option<Arc<SimDevice>> {
        self.handle.device(name)
    }

    /// Every device in fleet order.
    pub fn devices(&self) -> &[Arc<SimDevice>] {
        self.handle.devices()
    }

    /// Stops every listener and connection and waits for the tasks to finish.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // A fleet dropped without `shutdown()` still stops serving.
        self.shutdown.cancel();
    }
}

/// A cloneable view of a running fleet.
#[derive(Debug, Clone)]
pub struct FleetHandle {
    devices: Arc<Vec<Arc<SimDevice>>>,
    by_name: Arc<HashMap<String, usize>>,
    control_url: String,
}

impl FleetHandle {
    /// The device called `name`.
    pub fn device(&self, name: &str) -> Option<Arc<SimDevice>> {
        self.by_name
            .get(name)
            .map(|&i| Arc::clone(&self.devices[i]))
    }

    /// Every device.
    pub fn devices(&self) -> &[Arc<SimDevice>] {
        &self.devices
    }

    /// The manifest.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            control_url: self.control_url.clone(),
            devices: self.devices.iter().map(|d| d.manifest_entry()).collect(),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Start-up of the console side: the SSH server and the scheduler of each device.
// ------------------------------------------------------------------------------------------------

/// Starts the SSH server of a device on `listener` (see [`crate::ssh`]).
fn spawn_ssh(tasks: &TaskTracker, console: Arc<DeviceHost>, listener: TcpListener) {
    let shutdown = console.device().shutdown_token().clone();
    tasks.spawn(crate::ssh::run(listener, console, shutdown));
}

/// Starts the scheduler of a device (see [`crate::scheduler`]).
fn spawn_scheduler(tasks: &TaskTracker, console: Arc<DeviceHost>) {
    let shutdown = console.device().shutdown_token().clone();
    tasks.spawn(crate::scheduler::run(console, shutdown));
}

/// The IPv4 address a listener's peer is routed by (an IPv4-mapped IPv6 peer counts as IPv4; any
/// other IPv6 peer as loopback).
pub(crate) fn client_v4(peer: SocketAddr) -> Ipv4Addr {
    match peer.ip() {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST),
    }
}
