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

/// The time `age` ago in storage form (the earliest representable time if `age` is absurd).
pub fn ago(age: std::time::Duration) -> String {
    let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
    format(
        Utc::now()
            .checked_sub_signed(age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}
