//! The one driver interface, and what a driver needs to reach a device.
//!
//! Both implementations return the same [`Record`]s for the same device state — string values,
//! sorted keys, `.id` — so nothing above this layer knows or cares which one answered.

use std::fmt;

use async_trait::async_trait;
use domain::{DeviceId, Host};
use secrecy::SecretString;

use crate::error::DriverError;
use crate::types::{
    DeviceCommand, ExportOptions, Fingerprint, MenuPath, PrintQuery, Props, Record, RosId,
};

/// Which implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DriverKind {
    Rest,
    Ssh,
}

impl DriverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverKind::Rest => "rest",
            DriverKind::Ssh => "ssh",
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to treat the identity a device presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Accept exactly this fingerprint; anything else is a `TrustMismatch`.
    Pinned(Fingerprint),
    /// Accept whatever is presented and report it (onboarding only).
    FirstUse,
    /// Nothing recorded: refuse (`NotPinned`).
    Unknown,
}

impl Trust {
    pub fn from_stored(fingerprint: Option<&str>) -> Self {
        fingerprint
            .and_then(|f| Fingerprint::parse(f).ok())
            .map_or(Trust::Unknown, Trust::Pinned)
    }
}

/// Everything needed to reach one device. `Debug` never shows the password.
#[derive(Clone)]
pub struct Target {
    pub device_id: DeviceId,
    /// Registry name, used in every error message.
    pub name: String,
    pub host: Host,
    /// HTTPS port of the REST API (`www-ssl`).
    pub rest_port: u16,
    /// Plain HTTP port, used only when `insecure_http` is set.
    pub http_port: u16,
    pub ssh_port: u16,
    pub username: String,
    pub password: SecretString,
    pub tls: Trust,
    pub ssh: Trust,
    /// Talk REST over plain HTTP (lab only; refused for prod devices by the caller).
    pub insecure_http: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("device_id", &self.device_id)
            .field("name", &self.name)
            .field("host", &self.host)
            .field("rest_port", &self.rest_port)
            .field("ssh_port", &self.ssh_port)
            .field("username", &self.username)
            .field("tls", &self.tls)
            .field("ssh", &self.ssh)
            .field("insecure_http", &self.insecure_http)
            .finish_non_exhaustive()
    }
}

/// One way of talking to one device.
#[async_trait]
pub trait Driver: Send + Sync + fmt::Debug {
    fn kind(&self) -> DriverKind;

    /// Items of a menu (one record for singleton menus such as `system/resource`).
    async fn print(&self, menu: &MenuPath, query: &PrintQuery) -> Result<Vec<Record>, DriverError>;

    /// Several independent reads, each with its own result. `Err` only when none could be made
    /// (the connection failed). By default one after another; a driver that can do better (the
    /// SSH console: one command for all) overrides it.
    async fn print_many(
        &self,
        reads: &[(MenuPath, PrintQuery)],
    ) -> Result<Vec<Result<Vec<Record>, DriverError>>, DriverError> {
        let mut out = Vec::with_capacity(reads.len());
        for (menu, query) in reads {
            out.push(self.print(menu, query).await);
        }
        Ok(out)
    }

    /// One item by id.
    async fn get(&self, menu: &MenuPath, id: &RosId) -> Result<Record, DriverError>;

    /// Creates an item (before `place_before` in ordered menus) and returns it as stored.
    async fn add(
        &self,
        menu: &MenuPath,
        props: &Props,
        place_before: Option<&RosId>,
    ) -> Result<Record, DriverError>;

    /// Changes properties of an item, or of a singleton menu when `id` is `None`.
    async fn set(
        &self,
        menu: &MenuPath,
        id: Option<&RosId>,
        props: &Props,
    ) -> Result<(), DriverError>;

    async fn remove(&self, menu: &MenuPath, id: &RosId) -> Result<(), DriverError>;

    /// Moves items of an ordered menu before `destination` (to the end when `None`).
    async fn move_items(
        &self,
        menu: &MenuPath,
        ids: &[RosId],
        destination: Option<&RosId>,
    ) -> Result<(), DriverError>;

    /// A menu command on one item, or on the menu when `id` is `None`: `unset` (with
    /// `value-name`), `make-static`, … `command` is lowercase letters and `-`.
    async fn item_command(
        &self,
        menu: &MenuPath,
        command: &str,
        id: Option<&RosId>,
        args: &Props,
    ) -> Result<(), DriverError>;

    /// Runs a command and returns its records.
    async fn run(&self, command: &DeviceCommand) -> Result<Vec<Record>, DriverError>;

    /// The configuration as `/export` prints it, sensitive values hidden.
    async fn export(&self, options: &ExportOptions) -> Result<String, DriverError>;

    /// The identity the device presented on its current connection (for onboarding).
    fn presented_fingerprint(&self) -> Option<Fingerprint>;

    /// `/system backup save name=<name> password=<password> encryption=aes-sha256`: writes
    /// `<name>.backup` to the device's files. The password is sent to the device only.
    async fn save_backup(&self, name: &str, password: &SecretString) -> Result<(), DriverError>;
}
