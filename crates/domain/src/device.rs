//! Device-level enumerations and the device id.
//!
//! The enumerations are closed sets with a fixed text form (`lab`, `rest`, `active`, …) that
//! appears in configuration, in the database and on the wire; `FromStr` is the only way in.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::{ParseError, serde_via_str};

/// Declares a closed text enumeration with its `Display`, `FromStr` and serde forms.
///
/// The first text of each variant is canonical; further texts after `|` are accepted aliases.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)*),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical text form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The accepted values, for error messages and `--help`.
            pub fn allowed() -> String {
                [$($text),+].join("|")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::ParseError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text $(| $alias)* => Ok($name::$variant),)+
                    _ => Err($crate::ParseError {
                        what: $what,
                        given: s.to_owned(),
                        allowed: format!("expected one of {}", Self::allowed()),
                    }),
                }
            }
        }

        $crate::serde_via_str!($name);
    };
}

text_enum! {
    /// Where a device (or the deployment itself) sits in the promotion path. Policy follows
    /// it: lab is permissive, prod is restrictive.
    Environment, "environment" {
        Lab = "lab",
        Staging = "staging",
        /// `production` is accepted as an alias because operations documents spell it so.
        Prod = "prod" | "production",
    }
}

text_enum! {
    /// Which RouterOS interface the server talks to a device through.
    DriverPreference, "driver" {
        /// REST on RouterOS ≥ 7.1, the SSH CLI otherwise.
        Auto = "auto",
        Rest = "rest",
        Ssh = "ssh",
    }
}

text_enum! {
    /// A tool tier: `free` tools only read, `basic` tools make low-risk changes, `professional`
    /// tools make high-risk changes (always through plan and approval).
    Tier, "tool tier" {
        Free = "free",
        Basic = "basic",
        Professional = "professional",
    }
}

text_enum! {
    /// Lifecycle state of a registered device. Decommissioned devices keep their audit history
    /// but are never contacted again.
    DeviceStatus, "device status" {
        Active = "active",
        Inactive = "inactive",
        Decommissioned = "decommissioned",
    }
}

/// The stable identity of a registered device (a UUIDv7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(Uuid);

impl DeviceId {
    /// A fresh id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for DeviceId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for DeviceId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| ParseError::new("device id", s, "expected a UUID"))
    }
}

serde_via_str!(DeviceId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_parses_aliases_and_rejects_unknown_values() {
        assert_eq!("PROD".parse::<Environment>(), Ok(Environment::Prod));
        assert_eq!("production".parse::<Environment>(), Ok(Environment::Prod));
        let err = "qa".parse::<Environment>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid environment \"qa\": expected one of lab|staging|prod"
        );
    }

    #[test]
    fn device_id_round_trips_through_text() {
        let id = DeviceId::new();
        assert_eq!(id.to_string().parse::<DeviceId>(), Ok(id));
        assert!("not-a-uuid".parse::<DeviceId>().is_err());
    }
}
