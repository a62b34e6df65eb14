//! Management addresses and ports.
//!
//! A device's management address is either an IP literal or a DNS hostname (RFC 1123). Text
//! that looks numeric but is not a valid IPv4 address (`10.0.0.300`) is rejected rather than
//! treated as a hostname, because that is always a typo.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::{ParseError, serde_via_str};

/// A management address: an IP address or a hostname.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    /// The text form, suitable for URLs once IPv6 is bracketed (see [`Host::url_host`]).
    pub fn as_text(&self) -> String {
        self.to_string()
    }

    /// The form that goes into a URL authority: IPv6 literals are bracketed.
    pub fn url_host(&self) -> String {
        match self {
            Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
            Host::Ip(ip) => ip.to_string(),
            Host::Name(name) => name.clone(),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => ip.fmt(f),
            Host::Name(name) => f.write_str(name),
        }
    }
}

const HOST_RULE: &str =
    "expected an IPv4/IPv6 address or a hostname (letters, digits and '-' in dot-separated labels)";

fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // An all-numeric final label means the text was meant as an IPv4 address.
        && !s.rsplit('.').next().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

impl FromStr for Host {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bare = s
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(s);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if is_hostname(s) {
            return Ok(Host::Name(s.to_ascii_lowercase()));
        }
        Err(ParseError::new("address", s, HOST_RULE))
    }
}

serde_via_str!(Host);

/// A TCP port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(u16);

impl Port {
    /// A port known to be valid at compile time.
    pub const fn new_const(port: u16) -> Self {
        assert!(port != 0, "port 0 is not a valid port");
        Self(port)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<i64> for Port {
    type Error = ParseError;
    fn try_from(v: i64) -> Result<Self, ParseError> {
        u16::try_from(v)
            .ok()
            .filter(|p| *p != 0)
            .map(Port)
            .ok_or_else(|| ParseError::new("port", &v.to_string(), PORT_RULE))
    }
}

const PORT_RULE: &str = "expected a port number between 1 and 65535";

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Port {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .map(Port)
            .ok_or_else(|| ParseError::new("port", s, PORT_RULE))
    }
}

impl serde::Serialize for Port {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Port {
    /// Accepts a number or its text form (environment variables and RouterOS deliver text).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw<'a> {
            Number(i64),
            Text(std::borrow::Cow<'a, str>),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Port::try_from(n).map_err(serde::de::Error::custom),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_accept_ips_and_hostnames() {
        assert_eq!(
            "192.0.2.1".parse::<Host>(),
            Ok(Host::Ip("192.0.2.1".parse().unwrap()))
        );
        assert!(matches!("[2001:db8::1]".parse::<Host>(), Ok(Host::Ip(_))));
        assert_eq!(
            "Router1.Example.NET".parse::<Host>(),
            Ok(Host::Name("router1.example.net".into()))
        );
    }

    #[test]
    fn hosts_reject_what_is_neither() {
        for bad in [
            "10.0.0.300",
            "1.2.3",
            "",
            "under_score.example",
            "-bad.example",
            "a..b",
            "http://x",
            "host name",
        ] {
            let err = bad.parse::<Host>().unwrap_err();
            assert!(err.to_string().contains("hostname"), "{bad}: {err}");
        }
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert_eq!("443".parse::<Port>().map(Port::get), Ok(443));
        for bad in ["0", "65536", "-1", "https"] {
            let err = bad.parse::<Port>().unwrap_err();
            assert!(err.to_string().contains("between 1 and 65535"), "{bad}");
        }
        assert!(Port::try_from(70000_i64).is_err());
    }
}
