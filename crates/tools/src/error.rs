//! How a tool fails, written once: every failure becomes a tool result with `isError: true` and a
//! message that names the device and the cause and says what to do next. Only our own bugs are
//! opaque (logged with their cause; the client sees an id to quote).

use fleet::FleetError;
use routeros::{DriverError, ErrorKind};
use store::StoreError;

/// A tool call that did not produce a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// Arguments that passed the schema but make no sense (a cursor of another query, …).
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The device id or name does not exist.
    #[error("{0}")]
    UnknownDevice(String),
    /// The device answered with an error or did not answer.
    #[error("{}", device_message(.0))]
    Device(DriverError),
    /// The request cannot be served as asked (menu not allowed, device decommissioned, …).
    #[error("{0}")]
    Refused(String),
    /// A fault of this server; details are in its log under this id.
    #[error("internal error {0}: the server could not complete the call; its log has the details")]
    Internal(String),
}

impl ToolError {
    /// Short status label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::InvalidArguments(_) => "invalid_arguments",
            ToolError::UnknownDevice(_) => "unknown_device",
            ToolError::Device(e) => e.kind.code(),
            ToolError::Refused(_) => "refused",
            ToolError::Internal(_) => "internal",
        }
    }

    /// Logs an internal failure and returns the opaque error the client sees.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let id = format!("{:08x}", rand_id());
        tracing::error!(error_id = %id, error = %cause, "internal error in a tool");
        ToolError::Internal(id)
    }
}

fn rand_id() -> u32 {
    // Time-derived is enough to correlate a report with a log line.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32))
}

fn device_message(e: &DriverError) -> String {
    let advice = match &e.kind {
        ErrorKind::Unreachable(_) => {
            "The device did not answer: check that it is up and reachable from the server; fleet.get_health shows which devices answer."
        }
        ErrorKind::Timeout(_) => {
            "The device is slow or overloaded: try again later, or narrow the request (filters, fields, limit)."
        }
        ErrorKind::NotFound(_) => "Check the id or name: list the items first to see what exists.",
        ErrorKind::InvalidRequest(_) => "RouterOS refused the request: check the argument values.",
        ErrorKind::Conflict(_) => "The device already has such an item.",
        ErrorKind::RateLimited(_) => {
            "Too many calls to this device right now: try again in a moment."
        }
        ErrorKind::DeviceError(_) => {
            "The device reported an error; try again, and check its log (log.get_recent)."
        }
        ErrorKind::AuthFailed { .. }
        | ErrorKind::TrustMismatch { .. }
        | ErrorKind::NotPinned { .. } => {
            "An operator must fix this on the server; the assistant cannot."
        }
        _ => "",
    };
    format!("{e}. {advice}").trim_end().to_owned()
}

impl From<DriverError> for ToolError {
    fn from(e: DriverError) -> Self {
        ToolError::Device(e)
    }
}

impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DeviceNotFound { what, .. } => ToolError::UnknownDevice(format!(
                "no device \"{what}\": use device.list to see the registered devices and their ids"
            )),
            StoreError::AmbiguousDevice { name, projects } => ToolError::UnknownDevice(format!(
                "device name \"{name}\" exists in several projects ({projects}): pass the device id instead (device.list shows ids)"
            )),
            StoreError::Decommissioned(name) => ToolError::Refused(format!(
                "device {name} is decommissioned and is never contacted"
            )),
            e @ StoreError::ProjectNotFound(_) => ToolError::InvalidArguments(e.to_string()),
            other => ToolError::internal(&other),
        }
    }
}

impl From<workflow::WorkflowError> for ToolError {
    fn from(e: workflow::WorkflowError) -> Self {
        use workflow::WorkflowError as W;
        match e {
            W::Invalid(m) => ToolError::InvalidArguments(m),
            W::Device(d) => ToolError::Device(d),
            W::Fleet(f) => f.into(),
            W::Store(s) => s.into(),
            W::Database(d) => ToolError::internal(&d),
            other => ToolError::Refused(other.to_string()),
        }
    }
}

impl From<backup::BackupError> for ToolError {
    fn from(e: backup::BackupError) -> Self {
        use backup::BackupError as B;
        match e {
            B::Store(s) => s.into(),
            B::Fleet(f) => f.into(),
            B::Driver(d) => ToolError::Device(d),
            B::NotFound(id) => ToolError::InvalidArguments(format!(
                "no configuration snapshot \"{id}\": config.list_snapshots shows a device's snapshots and their ids"
            )),
            other => ToolError::internal(&other),
        }
    }
}

impl From<FleetError> for ToolError {
    fn from(e: FleetError) -> Self {
        match e {
            FleetError::Store(s) => s.into(),
            FleetError::Driver(d) => ToolError::Device(d),
            FleetError::Refused(r) => ToolError::Refused(r),
            other => ToolError::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_failures_say_what_to_do() {
        let e = ToolError::from(DriverError {
            device: "edge-1".into(),
            kind: ErrorKind::Unreachable("connection refused".into()),
        });
        let text = e.to_string();
        assert!(
            text.starts_with(
                "device edge-1: unreachable: connection refused. The device did not answer"
            ),
            "{text}"
        );
        assert_eq!(e.kind(), "unreachable");
    }

    #[test]
    fn unknown_devices_point_to_device_list() {
        let e = ToolError::from(StoreError::DeviceNotFound {
            what: "core9".into(),
            scope: "any project".into(),
        });
        assert!(e.to_string().contains("use device.list"));
    }
}
