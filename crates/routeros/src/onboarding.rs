//! What onboarding learns from a device: who it says it is (identity, RouterOS version, board,
//! architecture), how long a round trip takes, and the certificate / host key it presented.

use std::time::Duration;

use tokio::time::Instant;

use crate::client::DeviceClient;
use crate::driver::DriverKind;
use crate::error::DriverError;
use crate::types::{Fingerprint, MenuPath, PrintQuery, Record};

/// The device's own account of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeviceFacts {
    pub identity: Option<String>,
    pub version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
}

/// The outcome of probing one driver.
#[derive(Debug, Clone)]
pub struct Probe {
    pub driver: DriverKind,
    pub result: Result<DeviceFacts, DriverError>,
    /// Round trip of the identity read.
    pub rtt: Option<Duration>,
    /// What the device presented (certificate for REST, host key for SSH).
    pub presented: Option<Fingerprint>,
}

impl Probe {
    pub fn reachable(&self) -> bool {
        self.result.is_ok()
    }
}

fn menu(path: &str) -> MenuPath {
    // The paths below are constants known to be valid.
    MenuPath::parse(path).unwrap_or_else(|e| unreachable!("{e}"))
}

fn field(records: &[Record], key: &str) -> Option<String> {
    records
        .first()
        .and_then(|r| r.get(key))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// Reads identity and resource through one driver, with the client's protections.
pub async fn probe(client: &DeviceClient, kind: DriverKind) -> Probe {
    let started = Instant::now();
    let identity = client
        .via(kind, |d| {
            Box::pin(async move { d.print(&menu("system/identity"), &PrintQuery::all()).await })
        })
        .await;
    let rtt = started.elapsed();
    let presented = match client.driver(kind).await {
        Ok(d) => d.presented_fingerprint(),
        Err(_) => None,
    };
    let result = match identity {
        Err(e) => Err(e),
        Ok(identity) => client
            .via(kind, |d| {
                Box::pin(async move { d.print(&menu("system/resource"), &PrintQuery::all()).await })
            })
            .await
            .map(|resource| DeviceFacts {
                identity: field(&identity, "name"),
                version: field(&resource, "version"),
                board: field(&resource, "board-name"),
                architecture: field(&resource, "architecture-name"),
            }),
    };
    Probe {
        driver: kind,
        rtt: result.is_ok().then_some(rtt),
        result,
        presented,
    }
}
