//! Names an operator chooses: devices, organizations, projects, tags; and the correlation id
//! that ties together everything one request did.
//!
//! Names are deliberately conservative (no spaces, no shell or URI metacharacters) because
//! they are typed on command lines, appear in URIs such as `device://{name}` and in log lines.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::{ParseError, serde_via_str};

const NAME_RULE: &str =
    "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";
const SLUG_RULE: &str =
    "1-63 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit";

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $what:literal, $check:ident, $rule:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                if $check(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(ParseError::new($what, s, $rule))
                }
            }
        }

        serde_via_str!($name);
    };
}

checked_string!(
    /// A device's name, unique among the live devices of a project.
    DeviceName, "device name", is_name, NAME_RULE
);
checked_string!(
    /// An organization's name (tenancy root; `default` always exists).
    OrgName, "organization name", is_slug, SLUG_RULE
);
checked_string!(
    /// A project's name, unique within its organization (`default` always exists).
    ProjectName, "project name", is_slug, SLUG_RULE
);
checked_string!(
    /// A tag key such as `site` or `role`.
    TagKey, "tag key", is_name, NAME_RULE
);

impl OrgName {
    /// The organization every installation starts with.
    pub fn default_org() -> Self {
        Self("default".to_owned())
    }
}

impl ProjectName {
    /// The project every installation starts with.
    pub fn default_project() -> Self {
        Self("default".to_owned())
    }
}

/// `ORG/PROJECT`, the way operators name a project on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectRef {
    pub org: OrgName,
    pub project: ProjectName,
}

impl Default for ProjectRef {
    fn default() -> Self {
        Self {
            org: OrgName::default_org(),
            project: ProjectName::default_project(),
        }
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.project)
    }
}

impl FromStr for ProjectRef {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let invalid = || {
            ParseError::new(
                "project",
                s,
                format!("expected ORG/PROJECT, each {SLUG_RULE}"),
            )
        };
        let (org, project) = s.split_once('/').ok_or_else(invalid)?;
        Ok(Self {
            org: org.parse().map_err(|_| invalid())?,
            project: project.parse().map_err(|_| invalid())?,
        })
    }
}

serde_via_str!(ProjectRef);

/// A `KEY=VALUE` tag. Values are free text up to 256 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub key: TagKey,
    pub value: String,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl FromStr for Tag {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let rule = || {
            ParseError::new(
                "tag",
                s,
                format!(
                    "expected KEY=VALUE; KEY is {NAME_RULE}; VALUE is at most 256 printable characters"
                ),
            )
        };
        let (key, value) = s.split_once('=').ok_or_else(rule)?;
        if value.chars().count() > 256 || value.chars().any(char::is_control) {
            return Err(rule());
        }
        Ok(Self {
            key: key.parse().map_err(|_| rule())?,
            value: value.to_owned(),
        })
    }
}

/// Ties together every log line, audit event and device call made for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CorrelationId(Uuid);

impl CorrelationId {
    /// A fresh id (UUIDv7: sortable by time).
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for CorrelationId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for CorrelationId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| ParseError::new("correlation id", s, "expected a UUID"))
    }
}

serde_via_str!(CorrelationId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_accept_common_router_names_and_reject_metacharacters() {
        for ok in ["core-1", "edge.fra1", "R1", "sim-0001", "a_b"] {
            assert!(ok.parse::<DeviceName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-lead",
            "has space",
            "semi;colon",
            "x/y",
            &"a".repeat(65),
        ] {
            assert!(bad.parse::<DeviceName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn project_refs_need_both_halves() {
        let p: ProjectRef = "acme/branch-offices".parse().unwrap();
        assert_eq!(p.to_string(), "acme/branch-offices");
        let err = "acme".parse::<ProjectRef>().unwrap_err();
        assert!(err.to_string().contains("expected ORG/PROJECT"));
        assert!("Acme/x".parse::<ProjectRef>().is_err());
    }

    #[test]
    fn tags_split_on_the_first_equals_sign() {
        let t: Tag = "note=a=b".parse().unwrap();
        assert_eq!(t.key.as_str(), "note");
        assert_eq!(t.value, "a=b");
        assert!("novalue".parse::<Tag>().is_err());
        assert!("=x".parse::<Tag>().is_err());
        assert!("k=line\nbreak".parse::<Tag>().is_err());
    }
}
