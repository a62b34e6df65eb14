//! RouterOS drivers behind one interface.
//!
//! - [`Driver`]: read a menu, get one item, add, set, remove, move, run a command, export —
//!   implemented by [`rest::RestDriver`] (RouterOS ≥ 7.1, HTTPS with a pinned certificate) and
//!   the SSH CLI driver (all versions, pinned host key). Both return the same records for the
//!   same device state.
//! - [`DriverError`]: one taxonomy (unreachable, timeout, auth_failed, trust_mismatch, not_found,
//!   invalid_request, conflict, rate_limited, device_error), always naming the device and
//!   carrying RouterOS's own detail text, never a credential.
//! - [`secret`]: the one definition of which properties are secrets (never shown, never
//!   filtered on) and which are script bodies (withheld unless asked for); both drivers refuse
//!   filters on them and any filter key or proplist entry that is not a plain property name.
//! - [`value`]: RouterOS durations, ids, booleans and sizes, read and written one way for the
//!   whole product (drivers and tools).

pub mod cache;
pub mod client;
pub mod driver;
pub mod error;
pub mod metrics;
pub mod onboarding;
pub mod resilience;
pub mod rest;
pub mod secret;
pub mod ssh;
pub mod types;
pub mod value;

pub use cache::{Freshness, observe};
pub use client::{Connections, DeviceClient};
pub use driver::{Driver, DriverKind, Target, Trust};
pub use error::{DriverError, ErrorKind, TrustKind};
pub use metrics::Metrics;
pub use resilience::{CacheLimits, Limits};
pub use ssh::sftp::{DownloadLimits, MAX_FILE_BYTES, TransferError, check_file_name};
pub use ssh::{ReadFormat, SshDriver};
pub use types::{
    DeviceCommand, ExportOptions, Fingerprint, MenuPath, PrintQuery, Props, Record, RosId,
    check_property_name,
};
