//! What everything above the drivers uses: one [`DeviceClient`] per device, cached in
//! [`Connections`] so connections are reused across calls, with the protections of
//! [`crate::resilience`] around every call and the driver chosen by the device's preference.
//!
//! `auto` uses REST on RouterOS ≥ 7.1 (or when the version is not known yet) and the SSH CLI
//! otherwise; when a read cannot reach the device over REST (service disabled, port filtered) it
//! is made again over SSH. Writes never switch drivers mid-call: a write whose connection broke
//! may have been applied.
//!
//! Reads (`print`, `export`) go through [`crate::cache`]: identical reads in flight at once are
//! made once, and with a cache configured a repeated read within its TTL is answered without the
//! device. Every write invalidates the device's cached reads before it is sent and after it
//! completes. [`DeviceClient::print_many`] makes the independent reads of one tool call at once:
//! concurrently over REST, in one console command over SSH.
//!
//! The rate ceiling and the concurrency cap can be changed while the server runs
//! ([`Connections::set_rate_limits`], on a configuration reload); the other limits hold for the
//! life of the process.
//!
//! A client's drivers — and with them its open connections — are made on first use and dropped
//! once the device has had no call for [`Limits::idle`] ([`Connections::close_idle`], run
//! periodically by [`Connections::close_idle_in_background`]); the next call makes them again,
//! so a caller never notices. The client itself (breaker, concurrency cap) stays.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use domain::{DeviceId, DriverPreference};
use futures::future::join_all;
use governor::DefaultKeyedRateLimiter;
use secrecy::ExposeSecret;
use sha2::Digest;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::cache::{Answer, Freshness, ReadKey, Reads};
use crate::driver::{Driver, DriverKind, Target};
use crate::error::{DriverError, ErrorKind};
use crate::metrics::Metrics;
use crate::resilience::{Admission, Breaker, Limits, backoff, rate_limiter};
use crate::rest::RestDriver;
use crate::ssh::SshDriver;
use crate::types::{DeviceCommand, ExportOptions, MenuPath, PrintQuery, Props, Record, RosId};

/// Process-wide state shared by every device client.
#[derive(Debug)]
struct Shared {
    /// Behind a lock only because the rate ceiling and the concurrency cap can be changed live.
    limits: std::sync::RwLock<Limits>,
    /// `None`: no rate ceiling configured (the concurrency cap still holds). Replaced whole when
    /// the ceiling changes; a call holds its own `Arc` while it waits.
    limiter: std::sync::RwLock<Option<Arc<DefaultKeyedRateLimiter<DeviceId>>>>,
    metrics: Option<Metrics>,
    /// Coalesced and cached reads of every device.
    reads: Reads,
}

impl Shared {
    fn limits(&self) -> Limits {
        *self
            .limits
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn limiter(&self) -> Option<Arc<DefaultKeyedRateLimiter<DeviceId>>> {
        self.limiter
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The cache of device clients. Cheap to share (`Arc` it).
#[derive(Debug)]
pub struct Connections {
    shared: Arc<Shared>,
    clients: std::sync::Mutex<HashMap<DeviceId, (String, Arc<DeviceClient>)>>,
}

impl Connections {
    pub fn new(limits: Limits, metrics: Option<Metrics>) -> Self {
        Self {
            shared: Arc::new(Shared {
                limiter: std::sync::RwLock::new(rate_limiter(&limits).map(Arc::new)),
                reads: Reads::new(limits.cache),
                limits: std::sync::RwLock::new(limits),
                metrics,
            }),
            clients: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.shared.limits()
    }

    /// Changes the rate ceiling (`rate_per_second`, 0 = none; `burst`) and the concurrency cap
    /// of every device, for the next call. A new ceiling starts with a full burst; a lower cap
    /// lets calls already in flight finish and admits new ones only below it.
    pub fn set_rate_limits(&self, rate_per_second: u32, burst: u32, concurrency: usize) {
        let concurrency = concurrency.max(1);
        let limits = {
            let mut limits = self
                .shared
                .limits
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            limits.rate_per_second = rate_per_second;
            limits.burst = burst;
            limits.concurrency = concurrency;
            *limits
        };
        *self
            .shared
            .limiter
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            rate_limiter(&limits).map(Arc::new);
        for client in self.all_clients() {
            client.cap.resize(&client.in_flight, concurrency);
        }
    }

    /// The client for `target`: the cached one (with its open connections) unless anything that
    /// affects how to connect — address, ports, credentials, pins, preference — has changed.
    pub fn client(
        &self,
        target: Target,
        preference: DriverPreference,
        routeros_version: Option<&str>,
    ) -> Arc<DeviceClient> {
        let order = driver_order(preference, routeros_version);
        let generation = generation(&target, &order);
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((current, client)) = clients.get(&target.device_id)
            && *current == generation
        {
            return Arc::clone(client);
        }
        let client = Arc::new(DeviceClient::new(
            target,
            order,
            Arc::clone(&self.shared),
            true,
        ));
        clients.insert(client.target.device_id, (generation, Arc::clone(&client)));
        client
    }

    /// A client that is not cached (onboarding probes, credential checks, the check that a
    /// device is reachable over a new connection): its connections close when it is dropped, its
    /// reads always go to the device (never from the read cache, never shared), but it shares
    /// the rate limit and metrics of every other, and its writes invalidate the cache.
    pub fn uncached(
        &self,
        target: Target,
        preference: DriverPreference,
        routeros_version: Option<&str>,
    ) -> DeviceClient {
        DeviceClient::new(
            target,
            driver_order(preference, routeros_version),
            Arc::clone(&self.shared),
            false,
        )
    }

    /// Closes the connections of every device that has had no call for [`Limits::idle`]
    /// (connections in use by a call are left alone). Returns how many devices' connections
    /// were closed.
    pub fn close_idle(&self) -> usize {
        let idle = self.shared.limits().idle;
        self.all_clients()
            .iter()
            .filter(|c| c.close_if_idle(idle))
            .count()
    }

    /// How many devices have connections (or drivers ready to make them) open now.
    pub fn open_devices(&self) -> usize {
        self.all_clients().iter().filter(|c| c.is_open()).count()
    }

    /// Runs [`Connections::close_idle`] every quarter of the idle time (between 1 s and 30 s)
    /// until these connections are dropped. Needs a Tokio runtime; `None` outside one.
    pub fn close_idle_in_background(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let every = (self.limits().idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        let connections = Arc::downgrade(self);
        Some(runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(connections) = connections.upgrade() else {
                    return;
                };
                let closed = connections.close_idle();
                if closed > 0 {
                    tracing::debug!(closed, "closed the connections of idle devices");
                }
            }
        }))
    }

    fn all_clients(&self) -> Vec<Arc<DeviceClient>> {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|(_, c)| Arc::clone(c))
            .collect()
    }

    /// Drops a device's cached client (its connections close when the last user is done) and
    /// its cached reads.
    pub fn forget(&self, device: &DeviceId) {
        self.shared.reads.invalidate(device);
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(device);
    }
}

/// Which drivers to try, in order.
pub fn driver_order(preference: DriverPreference, version: Option<&str>) -> Vec<DriverKind> {
    match preference {
        DriverPreference::Rest => vec![DriverKind::Rest],
        DriverPreference::Ssh => vec![DriverKind::Ssh],
        DriverPreference::Auto => match version.map(supports_rest) {
            Some(false) => vec![DriverKind::Ssh],
            Some(true) | None => vec![DriverKind::Rest, DriverKind::Ssh],
        },
    }
}

/// REST exists from RouterOS 7.1 on.
pub fn supports_rest(version: &str) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (7, 1)
}

/// Everything that decides how to connect, hashed (the password never leaves this function).
fn generation(t: &Target, order: &[DriverKind]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(format!(
        "{}|{}|{}|{}|{}|{:?}|{:?}|{}|{:?}|",
        t.host,
        t.rest_port,
        t.http_port,
        t.ssh_port,
        t.username,
        t.tls,
        t.ssh,
        t.insecure_http,
        order
    ));
    h.update(t.password.expose_secret().as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Idempotent: retried on transient failures.
    Read,
    /// Never retried.
    Write,
}

type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DriverError>> + Send + 'a>>;

/// One device, its drivers and its protections.
#[derive(Debug)]
pub struct DeviceClient {
    target: Target,
    order: Vec<DriverKind>,
    /// Made on first use, dropped when idle ([`DeviceClient::close_if_idle`]).
    rest: std::sync::Mutex<Option<Arc<RestDriver>>>,
    ssh: std::sync::Mutex<Option<Arc<SshDriver>>>,
    /// When a call last started or ended (or a driver was handed out).
    last_used: std::sync::Mutex<Instant>,
    breaker: Breaker,
    in_flight: Semaphore,
    /// How many permits `in_flight` should have (the concurrency cap, changeable live).
    cap: Cap,
    shared: Arc<Shared>,
    /// Reads go through the shared reads (coalesced, cached); `false` for uncached clients.
    shared_reads: bool,
}

impl DeviceClient {
    fn new(
        target: Target,
        order: Vec<DriverKind>,
        shared: Arc<Shared>,
        shared_reads: bool,
    ) -> Self {
        let limits = shared.limits();
        let concurrency = limits.concurrency.max(1);
        Self {
            shared_reads,
            breaker: Breaker::new(&limits),
            in_flight: Semaphore::new(concurrency),
            cap: Cap::new(concurrency),
            target,
            order,
            rest: std::sync::Mutex::new(None),
            ssh: std::sync::Mutex::new(None),
            last_used: std::sync::Mutex::new(Instant::now()),
            shared,
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The drivers this client will try, in order.
    pub fn driver_order(&self) -> &[DriverKind] {
        &self.order
    }

    /// One specific driver (built on first use), bypassing the preference order.
    pub async fn driver(&self, kind: DriverKind) -> Result<Arc<dyn Driver>, DriverError> {
        let timeout = self.shared.limits().timeout;
        self.touch();
        match kind {
            DriverKind::Rest => {
                let mut slot = lock(&self.rest);
                if let Some(d) = slot.as_ref() {
                    return Ok(Arc::clone(d) as Arc<dyn Driver>);
                }
                let d = Arc::new(RestDriver::new(&self.target, timeout)?);
                *slot = Some(Arc::clone(&d));
                Ok(d as Arc<dyn Driver>)
            }
            DriverKind::Ssh => {
                let mut slot = lock(&self.ssh);
                let d = slot.get_or_insert_with(|| Arc::new(SshDriver::new(&self.target, timeout)));
                Ok(Arc::clone(d) as Arc<dyn Driver>)
            }
        }
    }

    /// Drops the drivers (closing their connections) when no call has used them for `idle`
    /// and none holds one now. Returns whether anything was closed.
    fn close_if_idle(&self, idle: Duration) -> bool {
        if lock(&self.last_used).elapsed() < idle {
            return false;
        }
        fn unused<D>(slot: &std::sync::Mutex<Option<Arc<D>>>) -> bool {
            let mut slot = lock(slot);
            // Held by someone else: a call in flight (or a caller of `driver`) is using it.
            if slot.as_ref().is_some_and(|d| Arc::strong_count(d) == 1) {
                *slot = None;
                return true;
            }
            false
        }
        let rest = unused(&self.rest);
        let ssh = unused(&self.ssh);
        rest || ssh
    }

    /// Whether a driver (and so perhaps an open connection) exists.
    fn is_open(&self) -> bool {
        lock(&self.rest).is_some() || lock(&self.ssh).is_some()
    }

    fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }

    /// Items of a menu: from the read cache when it holds a young enough answer, else from the
    /// device (shared with identical reads in flight).
    pub async fn print(
        &self,
        menu: &MenuPath,
        query: &PrintQuery,
    ) -> Result<Vec<Record>, DriverError> {
        self.print_with_age(menu, query).await.map(|(r, _)| r)
    }

    /// [`DeviceClient::print`], saying whether the answer came from the cache and how old it is.
    pub async fn print_with_age(
        &self,
        menu: &MenuPath,
        query: &PrintQuery,
    ) -> Result<(Vec<Record>, Freshness), DriverError> {
        let fetch = async {
            self.call(Op::Read, None, |d| {
                Box::pin(async move { d.print(menu, query).await })
            })
            .await
            .map(|r| Answer::Records(Arc::new(r)))
        };
        if !self.shared_reads {
            return Ok((records_of(fetch.await?), Freshness::Fresh));
        }
        let (answer, freshness) = self
            .shared
            .reads
            .read(self.target.device_id, ReadKey::print(menu, query), fetch)
            .await?;
        Ok((records_of(answer), freshness))
    }

    /// Several independent reads, made at once: concurrently over REST; over SSH in one console
    /// command (one exec channel) for those the cache cannot answer. Each read has its own
    /// result, in the order asked.
    pub async fn print_many(
        &self,
        reads: &[(MenuPath, PrintQuery)],
    ) -> Vec<Result<Vec<Record>, DriverError>> {
        if self.order.first() != Some(&DriverKind::Ssh) || reads.len() < 2 || !self.shared_reads {
            return join_all(reads.iter().map(|(m, q)| self.print(m, q))).await;
        }
        let device = self.target.device_id;
        let mut out: Vec<Option<Result<Vec<Record>, DriverError>>> = reads
            .iter()
            .map(|(m, q)| {
                self.shared
                    .reads
                    .peek(device, ReadKey::print(m, q))
                    .map(|(answer, _)| Ok(records_of(answer)))
            })
            .collect();
        let missing: Vec<usize> = (0..reads.len()).filter(|i| out[*i].is_none()).collect();
        match missing.as_slice() {
            [] => {}
            [only] => out[*only] = Some(self.print(&reads[*only].0, &reads[*only].1).await),
            _ => {
                let generation = self.shared.reads.generation(&device);
                let batch: Vec<(MenuPath, PrintQuery)> =
                    missing.iter().map(|i| reads[*i].clone()).collect();
                let batch = &batch;
                let answers = self
                    .call(Op::Read, None, |d| {
                        Box::pin(async move { d.print_many(batch).await })
                    })
                    .await;
                match answers {
                    Ok(answers) => {
                        for ((i, read), answer) in missing.iter().zip(batch).zip(answers) {
                            if let Ok(records) = &answer {
                                self.shared.reads.store(
                                    device,
                                    generation,
                                    ReadKey::print(&read.0, &read.1),
                                    Answer::Records(Arc::new(records.clone())),
                                );
                            }
                            out[*i] = Some(answer);
                        }
                    }
                    Err(e) => {
                        for i in &missing {
                            out[*i] = Some(Err(e.clone()));
                        }
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(self.err(ErrorKind::DeviceError("read not made".into()))))
            })
            .collect()
    }

    /// [`DeviceClient::print_many`] for a fixed number of reads, so a caller can name each
    /// answer: `let [a, b] = client.print_each([(m1, q1), (m2, q2)]).await;`
    pub async fn print_each<const N: usize>(
        &self,
        reads: [(MenuPath, PrintQuery); N],
    ) -> [Result<Vec<Record>, DriverError>; N] {
        let mut answers = self.print_many(&reads).await.into_iter();
        std::array::from_fn(|_| {
            answers
                .next()
                .unwrap_or_else(|| Err(self.err(ErrorKind::DeviceError("read not made".into()))))
        })
    }

    /// Forgets this device's cached reads, so the next read goes to the device (before a drift
    /// check, for example). Writes through the client do this themselves.
    pub fn invalidate_cache(&self) {
        self.shared.reads.invalidate(&self.target.device_id);
    }

    pub async fn get(&self, menu: &MenuPath, id: &RosId) -> Result<Record, DriverError> {
        self.call(Op::Read, None, |d| {
            Box::pin(async move { d.get(menu, id).await })
        })
        .await
    }

    pub async fn add(
        &self,
        menu: &MenuPath,
        props: &Props,
        place_before: Option<&RosId>,
    ) -> Result<Record, DriverError> {
        self.call(Op::Write, None, |d| {
            Box::pin(async move { d.add(menu, props, place_before).await })
        })
        .await
    }

    pub async fn set(
        &self,
        menu: &MenuPath,
        id: Option<&RosId>,
        props: &Props,
    ) -> Result<(), DriverError> {
        self.call(Op::Write, None, |d| {
            Box::pin(async move { d.set(menu, id, props).await })
        })
        .await
    }

    pub async fn remove(&self, menu: &MenuPath, id: &RosId) -> Result<(), DriverError> {
        self.call(Op::Write, None, |d| {
            Box::pin(async move { d.remove(menu, id).await })
        })
        .await
    }

    pub async fn move_items(
        &self,
        menu: &MenuPath,
        ids: &[RosId],
        destination: Option<&RosId>,
    ) -> Result<(), DriverError> {
        self.call(Op::Write, None, |d| {
            Box::pin(async move { d.move_items(menu, ids, destination).await })
        })
        .await
    }

    /// A menu command on an item (`unset`, `make-static`, …): a write, never retried.
    pub async fn item_command(
        &self,
        menu: &MenuPath,
        command: &str,
        id: Option<&RosId>,
        args: &Props,
    ) -> Result<(), DriverError> {
        self.call(Op::Write, None, |d| {
            Box::pin(async move { d.item_command(menu, command, id, args).await })
        })
        .await
    }

    /// Runs a command. Pings and traceroutes only read, so they are retried like reads; a
    /// script may change anything, so it is not.
    pub async fn run(&self, command: &DeviceCommand) -> Result<Vec<Record>, DriverError> {
        let op = match command {
            DeviceCommand::RunScript { .. } => Op::Write,
            DeviceCommand::Ping { .. }
            | DeviceCommand::Traceroute { .. }
            | DeviceCommand::MonitorTraffic { .. } => Op::Read,
        };
        // A ping of N probes legitimately takes about N seconds.
        let extra = match command {
            DeviceCommand::Ping { count, .. } | DeviceCommand::Traceroute { count, .. } => {
                Some(Duration::from_secs(u64::from(*count) * 2))
            }
            DeviceCommand::MonitorTraffic { .. } | DeviceCommand::RunScript { .. } => None,
        };
        self.call(op, extra, |d| Box::pin(async move { d.run(command).await }))
            .await
    }

    /// The configuration as `/export` prints it (through the read cache, like `print`, unless
    /// it shows secrets).
    pub async fn export(&self, options: &ExportOptions) -> Result<String, DriverError> {
        let fetch = async {
            self.call(Op::Read, None, |d| {
                Box::pin(async move { d.export(options).await })
            })
            .await
        };
        // An export with secrets is never kept in the shared cache.
        if !self.shared_reads || options.show_sensitive {
            return fetch.await;
        }
        let key = ReadKey::Export {
            verbose: options.verbose,
        };
        let (answer, _) = self
            .shared
            .reads
            .read(self.target.device_id, key, async {
                fetch.await.map(|t| Answer::Text(Arc::new(t)))
            })
            .await?;
        Ok(text_of(answer))
    }

    /// `/system backup save` of `<name>.backup` with `password` (a write: never retried).
    pub async fn save_backup(
        &self,
        name: &str,
        password: &secrecy::SecretString,
    ) -> Result<(), DriverError> {
        // Saving a large configuration takes a while on small routers.
        self.call(Op::Write, Some(Duration::from_secs(60)), |d| {
            Box::pin(async move { d.save_backup(name, password).await })
        })
        .await
    }

    /// Downloads a device file over SFTP on a connection of its own, with the SSH driver's
    /// pinned host key and credentials.
    pub async fn download(
        &self,
        path: &str,
        limits: crate::DownloadLimits,
    ) -> Result<Vec<u8>, crate::TransferError> {
        self.touch();
        let driver = SshDriver::new(&self.target, self.shared.limits().timeout);
        driver.download(path, limits).await
    }

    /// The same call through one given driver (parity tests, `device test`), with the same
    /// protections. It may write, so it invalidates the device's cached reads like a write.
    pub async fn via<'c, T: Send>(
        &self,
        kind: DriverKind,
        f: impl Fn(Arc<dyn Driver>) -> CallFuture<'c, T> + Send + Sync,
    ) -> Result<T, DriverError> {
        let driver = self.driver(kind).await?;
        self.invalidate_cache();
        let result = self.attempt(kind, driver, None, &f).await;
        self.invalidate_cache();
        result
    }

    fn err(&self, kind: ErrorKind) -> DriverError {
        kind.on(&self.target.name)
    }

    async fn call<'c, T: Send>(
        &self,
        op: Op,
        extra_time: Option<Duration>,
        f: impl Fn(Arc<dyn Driver>) -> CallFuture<'c, T> + Send + Sync,
    ) -> Result<T, DriverError> {
        let limits = self.shared.limits();
        if op == Op::Write {
            // Nobody may be served (or keep) an answer from before this write…
            self.invalidate_cache();
        }
        let mut attempt = 0;
        loop {
            let result = self.through_drivers(op, extra_time, &f).await;
            if op == Op::Write {
                // …nor one read while it was under way.
                self.invalidate_cache();
            }
            match result {
                Err(e)
                    if op == Op::Read
                        && e.kind.is_transient()
                        && attempt < limits.read_retries
                        && !self.breaker.is_open().await =>
                {
                    attempt += 1;
                    tracing::debug!(device = %self.target.name, attempt, error = %e, "retrying read");
                    tokio::time::sleep(backoff(limits.retry_base, attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// One attempt: the breaker decides, then each driver in order (falling through only when a
    /// driver could not connect at all).
    async fn through_drivers<'c, T: Send>(
        &self,
        op: Op,
        extra_time: Option<Duration>,
        f: &(impl Fn(Arc<dyn Driver>) -> CallFuture<'c, T> + Send + Sync),
    ) -> Result<T, DriverError> {
        if let Admission::Refused(wait) = self.breaker.admit().await {
            let e = self.err(ErrorKind::Unreachable(format!(
                "not tried: {} consecutive failures opened the circuit breaker; next attempt in {} s",
                self.shared.limits().breaker_failures,
                wait.as_secs().max(1)
            )));
            self.count(None, Err(&e), Duration::ZERO);
            return Err(e);
        }
        let mut last = None;
        for (i, kind) in self.order.iter().enumerate() {
            let driver = match self.driver(*kind).await {
                Ok(d) => d,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let result = self.attempt(*kind, driver, extra_time, f).await;
            // Only reads fall through: a write whose connection broke may have been applied.
            let fall_through = op == Op::Read
                && matches!(&result, Err(e) if matches!(e.kind, ErrorKind::Unreachable(_)))
                && i + 1 < self.order.len();
            if fall_through {
                tracing::debug!(device = %self.target.name, driver = %kind, "falling back to the next driver");
                last = result.err();
                continue;
            }
            let available = !matches!(&result, Err(e) if e.kind.is_availability_failure());
            self.breaker.record(available).await;
            return result;
        }
        self.breaker.record(false).await;
        Err(last.unwrap_or_else(|| self.err(ErrorKind::Unreachable("no driver available".into()))))
    }

    /// One call through one driver: concurrency cap, rate limit, deadline, metrics.
    async fn attempt<'c, T: Send>(
        &self,
        kind: DriverKind,
        driver: Arc<dyn Driver>,
        extra_time: Option<Duration>,
        f: &(impl Fn(Arc<dyn Driver>) -> CallFuture<'c, T> + Send + Sync),
    ) -> Result<T, DriverError> {
        let limits = self.shared.limits();
        let _permit = tokio::time::timeout(limits.queue_timeout, self.permit())
            .await
            .map_err(|_| {
                self.err(ErrorKind::RateLimited(format!(
                    "{} calls already in flight to this device for {} s",
                    limits.concurrency,
                    limits.queue_timeout.as_secs()
                )))
            })?
            .map_err(|_| self.err(ErrorKind::Unreachable("client is shutting down".into())))?;
        if let Some(limiter) = self.shared.limiter() {
            tokio::time::timeout(
                limits.queue_timeout,
                limiter.until_key_ready(&self.target.device_id),
            )
            .await
            .map_err(|_| {
                self.err(ErrorKind::RateLimited(format!(
                    "waited {} s for the device's rate limit ({} requests/s)",
                    limits.queue_timeout.as_secs(),
                    limits.rate_per_second
                )))
            })?;
        }
        let deadline = limits.timeout + extra_time.unwrap_or_default();
        let started = Instant::now();
        self.touch();
        let result = match tokio::time::timeout(deadline, f(driver)).await {
            Ok(r) => r,
            Err(_) => Err(self.err(ErrorKind::Timeout(deadline))),
        };
        self.touch();
        self.count(Some(kind), result.as_ref().map(|_| ()), started.elapsed());
        result
    }

    /// A place under the concurrency cap. A permit that a lowered cap no longer has room for is
    /// retired instead of used, and the caller waits for the next.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, tokio::sync::AcquireError> {
        loop {
            let permit = self.in_flight.acquire().await?;
            if self.cap.retire_one() {
                permit.forget();
                continue;
            }
            return Ok(permit);
        }
    }

    fn count(&self, kind: Option<DriverKind>, result: Result<(), &DriverError>, elapsed: Duration) {
        let Some(m) = &self.shared.metrics else {
            return;
        };
        let device = self.target.device_id.to_string();
        let driver = kind.map_or("none", DriverKind::as_str);
        let status = match result {
            Ok(()) => "ok",
            Err(e) => e.kind.code(),
        };
        m.requests
            .with_label_values(&[&device, driver, status])
            .inc();
        if kind.is_some() {
            m.latency
                .with_label_values(&[driver])
                .observe(elapsed.as_secs_f64());
        }
        match result {
            Ok(()) => m.reachable.with_label_values(&[&device]).set(1.0),
            Err(e) => {
                m.errors.with_label_values(&[&device, e.kind.code()]).inc();
                if e.kind.is_availability_failure() {
                    m.reachable.with_label_values(&[&device]).set(0.0);
                } else {
                    m.reachable.with_label_values(&[&device]).set(1.0);
                }
            }
        }
    }
}

/// The size of one client's concurrency cap, which can change while permits are held: lowering
/// it retires free permits at once and the others as they come back.
#[derive(Debug)]
struct Cap(std::sync::Mutex<CapState>);

#[derive(Debug, Clone, Copy)]
struct CapState {
    /// Permits that exist (free or held).
    total: usize,
    /// Of those, how many are to be retired when next acquired.
    owed: usize,
}

impl Cap {
    fn new(total: usize) -> Self {
        Self(std::sync::Mutex::new(CapState { total, owed: 0 }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CapState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn resize(&self, semaphore: &Semaphore, wanted: usize) {
        let mut s = self.state();
        let current = s.total - s.owed;
        if wanted >= current {
            let more = wanted - current;
            let cancelled = more.min(s.owed);
            s.owed -= cancelled;
            semaphore.add_permits(more - cancelled);
            s.total += more - cancelled;
        } else {
            let fewer = current - wanted;
            let forgotten = semaphore.forget_permits(fewer);
            s.total -= forgotten;
            s.owed += fewer - forgotten;
        }
    }

    /// Whether a just-acquired permit is owed (and so is now retired).
    fn retire_one(&self) -> bool {
        let mut s = self.state();
        if s.owed == 0 {
            return false;
        }
        s.owed -= 1;
        s.total -= 1;
        true
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The records of a print's answer (a print's key only ever holds records).
fn records_of(answer: Answer) -> Vec<Record> {
    match answer {
        Answer::Records(r) => Arc::unwrap_or_clone(r),
        Answer::Text(_) => Vec::new(),
    }
}

/// The text of an export's answer (an export's key only ever holds text).
fn text_of(answer: Answer) -> String {
    match answer {
        Answer::Text(t) => Arc::unwrap_or_clone(t),
        Answer::Records(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_rest_from_7_1() {
        assert!(supports_rest("7.1"));
        assert!(supports_rest("7.16.2 (stable)"));
        assert!(!supports_rest("7.0beta8"));
        assert!(!supports_rest("6.49.10"));
        assert_eq!(
            driver_order(DriverPreference::Auto, Some("6.48.6")),
            [DriverKind::Ssh]
        );
        assert_eq!(
            driver_order(DriverPreference::Auto, None),
            [DriverKind::Rest, DriverKind::Ssh]
        );
        assert_eq!(
            driver_order(DriverPreference::Ssh, Some("7.12")),
            [DriverKind::Ssh]
        );
    }
}
