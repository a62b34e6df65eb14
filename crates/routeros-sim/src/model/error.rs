//! The one error type of the model, carrying RouterOS's own wording.
//!
//! RouterOS reports every failure of a console command as a short line (`no such item`,
//! `failure: already have such address`, …) and the REST API copies that line verbatim into
//! the `detail` of its error body. Keeping the wording here, in one enum, is what lets the REST
//! server and the CLI interpreter agree byte for byte: REST maps a variant to a status code, the
//! CLI prints [`RosError::detail`].

use std::fmt;

/// A RouterOS command failure, with the detail text RouterOS itself prints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RosError {
    /// The referenced item does not exist: `no such item`.
    NoSuchItem,
    /// The path names no menu: `no such command prefix`.
    NoSuchCommandPrefix,
    /// A path word that is neither a menu nor a command at its place (REST
    /// `GET /rest/nonexistent/path`): `no such command or directory (nonexistent)`, 400.
    NoSuchDirectory(String),
    /// The menu exists but has no such command: `no such command`.
    NoSuchCommand,
    /// The command exists elsewhere but not in this menu, e.g. `remove` on `/interface`:
    /// `no such command or directory (remove)`. REST answers 406 Not Acceptable.
    NotAcceptable(String),
    /// A parameter the command does not take (also read-only properties):
    /// `unknown parameter <name>`.
    UnknownParameter(String),
    /// A value that does not parse as the property's type:
    /// `invalid value for argument <name>`.
    InvalidValue(String),
    /// A reference to an item that does not exist (an interface name, a pool, …):
    /// `input does not match any value of <name>`.
    InputDoesNotMatch(String),
    /// A number outside the property's range: `value of <name> out of range (<min>..<max>)`.
    OutOfRange {
        /// The property.
        arg: String,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// Required properties missing on `add`: `missing value(s) of argument(s) <a>, <b>`.
    MissingValues(Vec<String>),
    /// A refused operation: `failure: <message>` (duplicates, dynamic items, …).
    Failure(String),
    /// The user's group lacks the policy the command needs: `not enough permissions (9)`.
    NotEnoughPermissions,
}

impl RosError {
    /// `failure: already have such address` (duplicate `/ip/address`).
    pub fn already_have_address() -> Self {
        RosError::Failure("already have such address".into())
    }

    /// `failure: already have such entry` (duplicate address-list entry and similar).
    pub fn already_have_entry() -> Self {
        RosError::Failure("already have such entry".into())
    }

    /// `failure: entry already exists` (duplicate DNS static entry and similar).
    pub fn entry_exists() -> Self {
        RosError::Failure("entry already exists".into())
    }

    /// The line RouterOS prints for this failure; REST puts it in `detail`.
    pub fn detail(&self) -> String {
        match self {
            RosError::NoSuchItem => "no such item".into(),
            RosError::NoSuchCommandPrefix => "no such command prefix".into(),
            RosError::NoSuchCommand => "no such command".into(),
            RosError::NotAcceptable(cmd) | RosError::NoSuchDirectory(cmd) => {
                format!("no such command or directory ({cmd})")
            }
            RosError::UnknownParameter(name) => format!("unknown parameter {name}"),
            RosError::InvalidValue(name) => format!("invalid value for argument {name}"),
            RosError::InputDoesNotMatch(name) => {
                format!("input does not match any value of {name}")
            }
            RosError::OutOfRange { arg, min, max } => {
                format!("value of {arg} out of range ({min}..{max})")
            }
            RosError::MissingValues(names) => {
                format!("missing value(s) of argument(s) {}", names.join(", "))
            }
            RosError::Failure(msg) => format!("failure: {msg}"),
            RosError::NotEnoughPermissions => "not enough permissions (9)".into(),
        }
    }

    /// The HTTP status RouterOS's REST API answers with for this failure when it is the
    /// result of a command (`400`, or `406` for commands a menu does not have). A missing item
    /// addressed by URL is a `404`; the REST layer decides that from the request shape.
    pub fn rest_status(&self) -> u16 {
        match self {
            RosError::NotAcceptable(_) => 406,
            RosError::NoSuchItem
            | RosError::NoSuchDirectory(_)
            | RosError::NoSuchCommandPrefix
            | RosError::NoSuchCommand
            | RosError::UnknownParameter(_)
            | RosError::InvalidValue(_)
            | RosError::InputDoesNotMatch(_)
            | RosError::OutOfRange { .. }
            | RosError::MissingValues(_)
            | RosError::Failure(_)
            | RosError::NotEnoughPermissions => 400,
        }
    }
}

impl fmt::Display for RosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl std::error::Error for RosError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_use_routeros_wording() {
        assert_eq!(RosError::NoSuchItem.detail(), "no such item");
        assert_eq!(
            RosError::already_have_address().detail(),
            "failure: already have such address"
        );
        assert_eq!(
            RosError::NotAcceptable("remove".into()).detail(),
            "no such command or directory (remove)"
        );
        assert_eq!(
            RosError::MissingValues(vec!["address".into(), "interface".into()]).detail(),
            "missing value(s) of argument(s) address, interface"
        );
        assert_eq!(RosError::NotAcceptable("remove".into()).rest_status(), 406);
        assert_eq!(RosError::InvalidValue("mtu".into()).rest_status(), 400);
    }
}
