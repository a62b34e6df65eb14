//! The one error taxonomy of every driver.
//!
//! Whatever went wrong — a refused TCP connection, an HTTP 400 with RouterOS's `detail`, a CLI
//! `failure:` line, a certificate that is not the pinned one — becomes one [`DriverError`] that
//! names the device and carries RouterOS's own words. Tools turn the kind into a message that
//! says what to do next; metrics count it by [`ErrorKind::code`]. No constructor takes a
//! credential, so no error can carry one.

use std::fmt;
use std::time::Duration;

/// A failed call to a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device {device}: {kind}")]
pub struct DriverError {
    /// The device's registry name.
    pub device: String,
    pub kind: ErrorKind,
}

/// What kind of failure, with RouterOS's detail text where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The device could not be reached (connection refused or reset, no route, circuit open).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No answer within the deadline.
    #[error("timed out after {}", humantime(*.0))]
    Timeout(Duration),
    /// The device rejected the stored credentials.
    #[error(
        "authentication failed for user \"{user}\"; check the stored credentials (routeros-mcp device rotate-credentials)"
    )]
    AuthFailed { user: String },
    /// The device presented a certificate or host key other than the pinned one.
    #[error(
        "{what} mismatch: expected {expected}, presented {presented}; refusing to connect (re-pin only if the device was legitimately re-keyed)"
    )]
    TrustMismatch {
        what: TrustKind,
        expected: String,
        presented: String,
    },
    /// No pin is recorded, so the device cannot be trusted yet.
    #[error(
        "no pinned {what} recorded; run `routeros-mcp device test NAME --trust-on-first-use` or pin it explicitly"
    )]
    NotPinned { what: TrustKind },
    /// The item or menu does not exist (RouterOS: `no such item`, HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// RouterOS refused the request as malformed (invalid value, unknown parameter, …).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The change conflicts with existing state (RouterOS: `already have such …`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The per-device rate limit or concurrency cap refused the call.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// The device reported an error of its own (HTTP 500, `failure: …`, unexpected output).
    #[error("device error: {0}")]
    DeviceError(String),
}

/// Which pinned identity a trust error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustKind {
    TlsCertificate,
    SshHostKey,
}

impl fmt::Display for TrustKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrustKind::TlsCertificate => "TLS certificate",
            TrustKind::SshHostKey => "SSH host key",
        })
    }
}

impl ErrorKind {
    /// Stable short name for metrics and tool output.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Unreachable(_) => "unreachable",
            ErrorKind::Timeout(_) => "timeout",
            ErrorKind::AuthFailed { .. } => "auth_failed",
            ErrorKind::TrustMismatch { .. } | ErrorKind::NotPinned { .. } => "trust_mismatch",
            ErrorKind::NotFound(_) => "not_found",
            ErrorKind::InvalidRequest(_) => "invalid_request",
            ErrorKind::Conflict(_) => "conflict",
            ErrorKind::RateLimited(_) => "rate_limited",
            ErrorKind::DeviceError(_) => "device_error",
        }
    }

    /// Whether retrying the same read could succeed (transport trouble, not a refusal).
    pub fn is_transient(&self) -> bool {
        match self {
            ErrorKind::Unreachable(_) | ErrorKind::Timeout(_) | ErrorKind::DeviceError(_) => true,
            ErrorKind::AuthFailed { .. }
            | ErrorKind::TrustMismatch { .. }
            | ErrorKind::NotPinned { .. }
            | ErrorKind::NotFound(_)
            | ErrorKind::InvalidRequest(_)
            | ErrorKind::Conflict(_)
            | ErrorKind::RateLimited(_) => false,
        }
    }

    /// Whether the failure says the device is not answering (counts against its circuit
    /// breaker); a refusal from a healthy device does not.
    pub fn is_availability_failure(&self) -> bool {
        matches!(self, ErrorKind::Unreachable(_) | ErrorKind::Timeout(_))
    }

    /// Classifies RouterOS's `detail`/`failure:` text the way the console words it.
    pub fn from_routeros_detail(detail: &str) -> Self {
        let lower = detail.to_ascii_lowercase();
        // The console's "bad command name" is its "no such command": the driver builds commands
        // only from checked menu paths, so it means the device has no such menu (REST: 404).
        if lower.contains("no such item")
            || lower.contains("no such entry")
            || lower.contains("no such command")
            || lower.contains("bad command name")
            || lower.contains("not found")
        {
            ErrorKind::NotFound(detail.to_owned())
        } else if lower.contains("already have")
            || lower.contains("already exists")
            || lower.contains("entry already")
        {
            ErrorKind::Conflict(detail.to_owned())
        } else if lower.contains("invalid value")
            || lower.contains("unknown parameter")
            || lower.contains("missing value")
            || lower.contains("expected")
            || lower.contains("syntax error")
            || lower.contains("bad command")
            || lower.contains("bad parameter")
            || lower.contains("input does not match")
            || lower.contains("value of")
        {
            ErrorKind::InvalidRequest(detail.to_owned())
        } else {
            ErrorKind::DeviceError(detail.to_owned())
        }
    }

    /// An answer that grew past `limit` bytes; reading stopped there.
    pub fn too_large(limit: usize) -> Self {
        ErrorKind::DeviceError(format!(
            "the answer is larger than the {} limit for one answer, so reading it was stopped; \
             ask for less (filters, fewer fields, a smaller limit)",
            byte_size(limit)
        ))
    }

    pub(crate) fn on(self, device: &str) -> DriverError {
        DriverError {
            device: device.to_owned(),
            kind: self,
        }
    }
}

/// Most bytes one answer from a device may have (a REST body, the output of one console
/// command). The largest answer of the simulator's edge profile (20,000 routes) is about a
/// quarter of this; a bigger answer fails as a `device_error` instead of filling memory.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

fn byte_size(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n}-byte")
    }
}

fn humantime(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routeros_wording_is_classified() {
        for (detail, code) in [
            ("no such item", "not_found"),
            ("failure: already have such address", "conflict"),
            ("failure: entry already exists", "conflict"),
            ("invalid value for argument address", "invalid_request"),
            ("unknown parameter bogus", "invalid_request"),
            ("missing value(s) of argument(s) address", "invalid_request"),
            ("failure: cannot remove builtin", "device_error"),
            (
                "bad command name routerboard (line 1 column 9)",
                "not_found",
            ),
        ] {
            assert_eq!(
                ErrorKind::from_routeros_detail(detail).code(),
                code,
                "{detail}"
            );
        }
    }

    #[test]
    fn an_oversized_answer_names_the_limit() {
        let e = ErrorKind::too_large(MAX_ANSWER_BYTES).on("edge-1");
        assert_eq!(e.kind.code(), "device_error");
        assert!(
            e.to_string().starts_with(
                "device edge-1: device error: the answer is larger than the 32 MiB limit"
            ),
            "{e}"
        );
        assert!(
            ErrorKind::too_large(1000)
                .to_string()
                .contains("1000-byte limit")
        );
    }

    #[test]
    fn messages_name_the_device_and_say_what_to_do() {
        let e = ErrorKind::TrustMismatch {
            what: TrustKind::TlsCertificate,
            expected: "aa".into(),
            presented: "bb".into(),
        }
        .on("core-1");
        assert_eq!(
            e.to_string(),
            "device core-1: TLS certificate mismatch: expected aa, presented bb; refusing to connect (re-pin only if the device was legitimately re-keyed)"
        );
        assert_eq!(
            ErrorKind::Timeout(Duration::from_millis(1500))
                .on("r")
                .to_string(),
            "device r: timed out after 1.5 s"
        );
    }
}
