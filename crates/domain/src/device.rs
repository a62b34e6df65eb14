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

text_enum! {
    /// A per-device switch an admin sets on the device record: which plans the workflow may
    /// propose for the device.
    CapabilityFlag, "capability flag" {
        /// Plans of `basic` tools (low-risk writes), and plans of low or medium risk.
        BasicWrites = "allow_basic_writes",
        /// Plans of `professional` tools, and plans of high or critical risk.
        ProfessionalWorkflows = "allow_professional_workflows",
    }
}

/// What a device lets the workflow plan on it, resolved from its record: a flag the admin never
/// set follows the environment (lab and staging allow both; prod allows basic writes only, and
/// an admin enables professional workflows per device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    pub allow_basic_writes: bool,
    pub allow_professional_workflows: bool,
}

impl Capabilities {
    /// The flags of a device whose admin set neither.
    pub const fn default_for(environment: Environment) -> Self {
        match environment {
            Environment::Lab | Environment::Staging => Self {
                allow_basic_writes: true,
                allow_professional_workflows: true,
            },
            Environment::Prod => Self {
                allow_basic_writes: true,
                allow_professional_workflows: false,
            },
        }
    }

    /// The flags of a device: what its admin set, the environment's default otherwise.
    pub fn resolve(
        environment: Environment,
        allow_basic_writes: Option<bool>,
        allow_professional_workflows: Option<bool>,
    ) -> Self {
        let default = Self::default_for(environment);
        Self {
            allow_basic_writes: allow_basic_writes.unwrap_or(default.allow_basic_writes),
            allow_professional_workflows: allow_professional_workflows
                .unwrap_or(default.allow_professional_workflows),
        }
    }

    /// Whether a plan of `tier` may be proposed: the flags it needs that are off (none: yes).
    /// A `professional` plan is also a write, so it needs both flags.
    pub fn missing(&self, tier: Tier) -> Vec<CapabilityFlag> {
        let mut missing = Vec::new();
        match tier {
            Tier::Free => {}
            Tier::Basic => {
                if !self.allow_basic_writes {
                    missing.push(CapabilityFlag::BasicWrites);
                }
            }
            Tier::Professional => {
                if !self.allow_basic_writes {
                    missing.push(CapabilityFlag::BasicWrites);
                }
                if !self.allow_professional_workflows {
                    missing.push(CapabilityFlag::ProfessionalWorkflows);
                }
            }
        }
        missing
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
    fn capability_defaults_follow_the_environment_until_an_admin_sets_them() {
        let lab = Capabilities::resolve(Environment::Lab, None, None);
        let staging = Capabilities::resolve(Environment::Staging, None, None);
        let prod = Capabilities::resolve(Environment::Prod, None, None);
        assert!(lab.missing(Tier::Professional).is_empty());
        assert!(staging.missing(Tier::Professional).is_empty());
        assert!(prod.missing(Tier::Basic).is_empty());
        assert_eq!(
            prod.missing(Tier::Professional),
            vec![CapabilityFlag::ProfessionalWorkflows]
        );
        let enabled = Capabilities::resolve(Environment::Prod, None, Some(true));
        assert!(enabled.missing(Tier::Professional).is_empty());
        let frozen = Capabilities::resolve(Environment::Lab, Some(false), None);
        assert_eq!(
            frozen.missing(Tier::Basic),
            vec![CapabilityFlag::BasicWrites]
        );
        assert_eq!(
            frozen.missing(Tier::Professional),
            vec![CapabilityFlag::BasicWrites]
        );
        assert!(frozen.missing(Tier::Free).is_empty());
    }

    #[test]
    fn device_id_round_trips_through_text() {
        let id = DeviceId::new();
        assert_eq!(id.to_string().parse::<DeviceId>(), Ok(id));
        assert!("not-a-uuid".parse::<DeviceId>().is_err());
    }
}
