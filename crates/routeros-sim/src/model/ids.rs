//! RouterOS internal item ids (`*1`, `*1A`, `*8000001B`).
//!
//! An id is `*` followed by uppercase hex. It is internal to the router, not the console's item
//! number, and is never reused within a menu: removing `*5` and adding again yields `*6`.
//! Dynamic items the router creates itself (connected routes, learned leases) are numbered from
//! [`RosId::DYNAMIC_BASE`], which is why they look like `*80000002` on a real router.

use std::fmt;
use std::str::FromStr;

/// A RouterOS item id. Display and parse use the `*HEX` form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RosId(u32);

impl RosId {
    /// First id handed to items the router creates itself.
    pub const DYNAMIC_BASE: u32 = 0x8000_0000;

    /// The id with the given number.
    pub const fn new(n: u32) -> Self {
        RosId(n)
    }

    /// The number behind the id.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Parses `*1A` (case-insensitive hex). Returns `None` for anything else, including a
    /// bare number (console item numbers are not ids).
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix('*')?;
        if hex.is_empty() || hex.len() > 8 {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().map(RosId)
    }
}

impl fmt::Display for RosId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "*{:X}", self.0)
    }
}

impl fmt::Debug for RosId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "*{:X}", self.0)
    }
}

/// The error of parsing a string that is not a `*HEX` id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a RouterOS id (expected `*` and hex digits, like *1A)")]
pub struct BadId;

impl FromStr for RosId {
    type Err = BadId;
    fn from_str(s: &str) -> Result<Self, BadId> {
        RosId::parse(s).ok_or(BadId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_routeros_does() {
        assert_eq!(RosId::new(0x1A).to_string(), "*1A");
        assert_eq!(
            RosId::new(RosId::DYNAMIC_BASE + 0x1B).to_string(),
            "*8000001B"
        );
        assert_eq!(RosId::parse("*1a"), Some(RosId::new(26)));
        assert_eq!(RosId::parse("1A"), None);
        assert_eq!(RosId::parse("*"), None);
        assert_eq!(RosId::parse("*123456789"), None);
    }
}
