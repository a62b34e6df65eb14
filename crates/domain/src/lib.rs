//! The product's vocabulary, parsed at the boundary into types that cannot be wrong.
//!
//! Every value an operator or a client hands us — a device name, an address, a port, an
//! environment, a tag — enters the system through one of these types. Each `FromStr` says
//! precisely what was wrong and what is allowed, so the CLI, the configuration loader and the
//! MCP layer all give the same clear message for the same mistake.

mod device;
mod names;
mod net;
pub mod text;

pub use device::{
    Capabilities, CapabilityFlag, DeviceId, DeviceStatus, DriverPreference, Environment, Tier,
};
pub use names::{CorrelationId, DeviceName, OrgName, ProjectName, ProjectRef, Tag, TagKey};
pub use net::{Host, Port};

/// A value that could not be parsed: what it was meant to be, what was given, what is allowed.
///
/// The given value is kept verbatim so the message can quote it; none of the types in this
/// crate carries a secret, so quoting is always safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} \"{given}\": {allowed}")]
pub struct ParseError {
    /// What the value was meant to be ("device name", "port", …).
    pub what: &'static str,
    /// The text that was given.
    pub given: String,
    /// What would have been accepted, phrased for a human.
    pub allowed: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, given: &str, allowed: impl Into<String>) -> Self {
        Self {
            what,
            given: given.to_owned(),
            allowed: allowed.into(),
        }
    }
}

/// Implements `Serialize`/`Deserialize` through `Display`/`FromStr`, so the wire form of a
/// vocabulary type is always the validated text form.
#[macro_export]
macro_rules! serde_via_str {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
