//! Timestamps as stored: RFC 3339 UTC with exactly six fractional digits.
//!
//! A fixed textual form sorts correctly in both dialects and is what the audit chain hashes, so
//! a value read back is byte-identical to the value written.

use chrono::{DateTime, SecondsFormat, Utc};

/// The current time in storage form.
pub fn now() -> String {
    format(Utc::now())
}

/// `t` in storage form.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}
