//! RouterOS property types and the normalisation RouterOS applies when a value is written.
//!
//! Every value the model stores is already in the form RouterOS prints over REST: booleans
//! `true`/`false` (writes may say `yes`/`no`), durations `1w2d3h4m5s`, addresses with their
//! prefix length (`192.168.1.1` becomes `192.168.1.1/32`), MAC addresses in upper case, numbers
//! in decimal. Normalising once, on write, means print, export, query comparisons and the state
//! dump all see one canonical spelling, exactly like the router.
//!
//! References to other items (an interface name, a pool, a bridge) are typed here but checked
//! against the configuration by the state, which knows which items exist.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;

use super::error::RosError;

/// A reference from one property to the items of another menu, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefSpec {
    /// The menu whose item names are valid values (e.g. `/interface`).
    pub menu: &'static str,
    /// Extra words accepted besides item names (e.g. `static-only`, `all-ethernet`).
    pub also: &'static [&'static str],
    /// The value is a comma-separated list of names.
    pub list: bool,
    /// A leading `!` negates the match (firewall matchers).
    pub negatable: bool,
}

/// The RouterOS type of a property: decides what a write accepts and how it is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropType {
    /// Free text, stored as given.
    Text,
    /// `true`/`false`; writes may use `yes`/`no`.
    Bool,
    /// A decimal integer in a range (writes may use `0x` hex).
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// An integer in a range, or one of a few words (e.g. `auto` for a bridge MTU).
    IntOr {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// Accepted words.
        words: &'static [&'static str],
    },
    /// A RouterOS time interval (`1w2d3h4m5s`, `00:10:00`, `30` = seconds).
    Duration,
    /// A time interval or one of a few words (`none`, `never`, `auto`).
    DurationOr(&'static [&'static str]),
    /// One IPv4 address.
    Ipv4,
    /// An interface address: `a.b.c.d[/len]`, host bits kept, `/32` when no length is given.
    Ipv4Prefix,
    /// A network: `a.b.c.d[/len]` with host bits cleared (route destinations).
    Ipv4Network,
    /// A firewall address matcher: optional `!`, then an address, prefix or `a-b` range.
    Ipv4Match,
    /// Comma-separated IPv4 addresses (DNS servers, NTP servers).
    Ipv4List,
    /// Comma-separated address ranges `a-b` or prefixes (IP pools).
    Ipv4Ranges,
    /// An address-list entry: address, prefix, range or DNS name.
    Host,
    /// An IPv6 address with prefix length.
    Ipv6Prefix,
    /// A MAC address, printed upper case with colons.
    Mac,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// A comma-separated subset of a fixed set of words (policies, connection states).
    EnumSet(&'static [&'static str]),
    /// A reference to other items by name.
    Ref(RefSpec),
    /// A route gateway: addresses, `address%interface` or interface names, comma-separated.
    Gateway,
    /// Ports and port ranges, comma-separated, optional leading `!` (`80,443,8000-8080`).
    Ports,
    /// A 32-byte key in base64 (WireGuard).
    Key,
}

/// Shorthand constructors used by the menu table.
impl PropType {
    /// Any integer RouterOS prints as a counter or size.
    pub const COUNTER: PropType = PropType::Int {
        min: 0,
        max: i64::MAX,
    };

    /// A reference to one item of `menu` by name.
    pub const fn reference(menu: &'static str) -> Self {
        PropType::Ref(RefSpec {
            menu,
            also: &[],
            list: false,
            negatable: false,
        })
    }

    /// A reference to one item of `menu`, or one of the `also` words.
    pub const fn reference_or(menu: &'static str, also: &'static [&'static str]) -> Self {
        PropType::Ref(RefSpec {
            menu,
            also,
            list: false,
            negatable: false,
        })
    }

    /// A comma-separated list of item names of `menu`.
    pub const fn reference_list(menu: &'static str) -> Self {
        PropType::Ref(RefSpec {
            menu,
            also: &[],
            list: true,
            negatable: false,
        })
    }

    /// A firewall matcher on item names of `menu`: optional `!`, then a name or an `also` word.
    pub const fn reference_match(menu: &'static str, also: &'static [&'static str]) -> Self {
        PropType::Ref(RefSpec {
            menu,
            also,
            list: false,
            negatable: true,
        })
    }

    /// Whether the console prints this type as `yes`/`no` (REST prints `true`/`false`).
    pub fn is_bool(&self) -> bool {
        matches!(self, PropType::Bool)
    }
}

/// Normalises `raw` as a value of type `ty` for the argument `arg`, without checking references
/// (the state does that). The result is the canonical REST spelling.
pub fn normalize(ty: &PropType, arg: &str, raw: &str) -> Result<String, RosError> {
    let invalid = || RosError::InvalidValue(arg.to_string());
    let v = raw.trim();
    match ty {
        PropType::Text => Ok(raw.to_string()),
        PropType::Bool => parse_bool(v)
            .map(bool_str)
            .map(str::to_string)
            .ok_or_else(invalid),
        PropType::Int { min, max } => normalize_int(arg, v, *min, *max),
        PropType::IntOr { min, max, words } => {
            if words.contains(&v) {
                Ok(v.to_string())
            } else {
                normalize_int(arg, v, *min, *max)
            }
        }
        PropType::Duration => parse_duration(v).map(format_duration).ok_or_else(invalid),
        PropType::DurationOr(words) => {
            if words.contains(&v) {
                Ok(v.to_string())
            } else {
                parse_duration(v).map(format_duration).ok_or_else(invalid)
            }
        }
        PropType::Ipv4 => v
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| invalid()),
        PropType::Ipv4Prefix => parse_prefix(v)
            .map(|(a, len)| format!("{a}/{len}"))
            .ok_or_else(invalid),
        PropType::Ipv4Network => parse_prefix(v)
            .map(|(a, len)| format!("{}/{len}", mask(a, len)))
            .ok_or_else(invalid),
        PropType::Ipv4Match => {
            let (neg, body) = split_neg(v);
            normalize_ip_match(body)
                .map(|s| format!("{neg}{s}"))
                .ok_or_else(invalid)
        }
        PropType::Ipv4List => {
            if v.is_empty() {
                return Ok(String::new());
            }
            let mut out = Vec::new();
            for part in v.split(',') {
                let a: Ipv4Addr = part.trim().parse().map_err(|_| invalid())?;
                out.push(a.to_string());
            }
            Ok(out.join(","))
        }
        PropType::Ipv4Ranges => {
            let mut out = Vec::new();
            for part in v.split(',') {
                out.push(normalize_ip_match(part.trim()).ok_or_else(invalid)?);
            }
            Ok(out.join(","))
        }
        PropType::Host => {
            if let Some(s) = normalize_ip_match(v) {
                Ok(s)
            } else if is_dns_name(v) {
                Ok(v.to_string())
            } else {
                Err(invalid())
            }
        }
        PropType::Ipv6Prefix => {
            let (addr, len) = match v.split_once('/') {
                Some((a, l)) => (a, l.parse::<u8>().map_err(|_| invalid())?),
                None => (v, 128),
            };
            if len > 128 {
                return Err(invalid());
            }
            let a: Ipv6Addr = addr.parse().map_err(|_| invalid())?;
            Ok(format!("{a}/{len}"))
        }
        PropType::Mac => parse_mac(v).ok_or_else(invalid),
        PropType::Enum(words) => {
            if words.contains(&v) {
                Ok(v.to_string())
            } else {
                Err(invalid())
            }
        }
        PropType::EnumSet(words) => {
            if v.is_empty() {
                return Ok(String::new());
            }
            let mut out: Vec<&str> = Vec::new();
            for part in v.split(',') {
                let part = part.trim();
                let (_, w) = split_neg(part);
                if !words.contains(&w) {
                    return Err(invalid());
                }
                if !out.contains(&part) {
                    out.push(part);
                }
            }
            Ok(out.join(","))
        }
        PropType::Ref(r) => {
            if r.list {
                Ok(v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(","))
            } else {
                Ok(v.to_string())
            }
        }
        PropType::Gateway => Ok(v.split(',').map(str::trim).collect::<Vec<_>>().join(",")),
        PropType::Ports => {
            let (neg, body) = split_neg(v);
            let mut out = Vec::new();
            for part in body.split(',') {
                let part = part.trim();
                let ok = match part.split_once('-') {
                    Some((a, b)) => matches!(
                        (a.parse::<u16>(), b.parse::<u16>()),
                        (Ok(a), Ok(b)) if a <= b
                    ),
                    None => part.parse::<u16>().is_ok(),
                };
                if !ok {
                    return Err(invalid());
                }
                out.push(part);
            }
            Ok(format!("{neg}{}", out.join(",")))
        }
        PropType::Key => {
            if v.is_empty() {
                return Ok(String::new());
            }
            match base64::engine::general_purpose::STANDARD.decode(v) {
                Ok(bytes) if bytes.len() == 32 => Ok(v.to_string()),
                _ => Err(invalid()),
            }
        }
    }
}

fn normalize_int(arg: &str, v: &str, min: i64, max: i64) -> Result<String, RosError> {
    let n = parse_int(v).ok_or_else(|| RosError::InvalidValue(arg.to_string()))?;
    if n < min || n > max {
        return Err(RosError::OutOfRange {
            arg: arg.to_string(),
            min,
            max,
        });
    }
    Ok(n.to_string())
}

/// Parses a decimal or `0x` hex integer.
pub fn parse_int(v: &str) -> Option<i64> {
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()
    } else {
        v.parse::<i64>().ok()
    }
}

/// `yes`/`true` → `true`, `no`/`false` → `false`, anything else → `None`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// The REST spelling of a boolean.
pub const fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn split_neg(v: &str) -> (&'static str, &str) {
    match v.strip_prefix('!') {
        Some(rest) => ("!", rest),
        None => ("", v),
    }
}

/// Parses `a.b.c.d`, `a.b.c.d/len` or `a.b.c.d/m.m.m.m`; no length means `/32`.
pub fn parse_prefix(v: &str) -> Option<(Ipv4Addr, u8)> {
    match v.split_once('/') {
        None => v.parse().ok().map(|a| (a, 32)),
        Some((a, l)) => {
            let addr: Ipv4Addr = a.parse().ok()?;
            let len = if l.contains('.') {
                let m = u32::from(l.parse::<Ipv4Addr>().ok()?);
                let len = m.leading_ones();
                if m.checked_shl(len).unwrap_or(0) != 0 {
                    return None;
                }
                u8::try_from(len).ok()?
            } else {
                l.parse::<u8>().ok()?
            };
            (len <= 32).then_some((addr, len))
        }
    }
}

/// The network address of `a/len`.
pub fn mask(a: Ipv4Addr, len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a) & netmask_bits(len))
}

/// The netmask of a prefix length as a 32-bit value.
pub fn netmask_bits(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// Whether `ip` lies in `net/len`.
pub fn contains(net: Ipv4Addr, len: u8, ip: Ipv4Addr) -> bool {
    let m = netmask_bits(len);
    u32::from(net) & m == u32::from(ip) & m
}

fn normalize_ip_match(v: &str) -> Option<String> {
    if let Some((a, b)) = v.split_once('-') {
        let a: Ipv4Addr = a.trim().parse().ok()?;
        let b: Ipv4Addr = b.trim().parse().ok()?;
        return (a <= b).then(|| format!("{a}-{b}"));
    }
    let (a, len) = parse_prefix(v)?;
    if len == 32 {
        Some(a.to_string())
    } else {
        Some(format!("{}/{len}", mask(a, len)))
    }
}

fn is_dns_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn parse_mac(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split([':', '-']).collect();
    if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let mut out = Vec::with_capacity(6);
    for p in parts {
        let b = u8::from_str_radix(p, 16).ok()?;
        out.push(format!("{b:02X}"));
    }
    Some(out.join(":"))
}

/// Parses a RouterOS time interval into microseconds: `1w2d3h4m5s`, `500ms`, `10us`,
/// `[Nd]hh:mm:ss[.fff]`, or a bare number of seconds.
pub fn parse_duration(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if v.contains(':') {
        let (days, clock) = match v.split_once('d') {
            Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
            None => (0, v),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let (s, frac_us) = match parts[2].split_once('.') {
            Some((s, f)) => {
                let mut digits: String = f.chars().take(6).collect();
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                while digits.len() < 6 {
                    digits.push('0');
                }
                (s.parse::<u64>().ok()?, digits.parse::<u64>().ok()?)
            }
            None => (parts[2].parse::<u64>().ok()?, 0),
        };
        if m >= 60 || s >= 60 {
            return None;
        }
        let secs = days
            .checked_mul(86_400)?
            .checked_add(h.checked_mul(3600)?)?
            .checked_add(m * 60 + s)?;
        return secs.checked_mul(1_000_000)?.checked_add(frac_us);
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok()?.checked_mul(1_000_000);
    }
    let bytes = v.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u64 = v[start..i].parse().ok()?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &v[ustart..i];
        let factor: u64 = match unit {
            "w" => 604_800_000_000,
            "d" => 86_400_000_000,
            "h" => 3_600_000_000,
            "m" => 60_000_000,
            "s" | "" => 1_000_000,
            "ms" => 1_000,
            "us" => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(factor)?)?;
    }
    Some(total)
}

/// Formats microseconds the way RouterOS prints intervals: `1w2d3h4m5s`, `1s500ms`, `453us`,
/// `0s` for zero.
pub fn format_duration(us: u64) -> String {
    if us == 0 {
        return "0s".into();
    }
    let units: [(u64, &str); 7] = [
        (604_800_000_000, "w"),
        (86_400_000_000, "d"),
        (3_600_000_000, "h"),
        (60_000_000, "m"),
        (1_000_000, "s"),
        (1_000, "ms"),
        (1, "us"),
    ];
    let mut rest = us;
    let mut out = String::new();
    for (size, name) in units {
        if rest >= size {
            out.push_str(&(rest / size).to_string());
            out.push_str(name);
            rest %= size;
        }
    }
    out
}

/// Formats a whole number of seconds as a RouterOS interval.
pub fn format_secs(secs: u64) -> String {
    format_duration(secs.saturating_mul(1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_normalise_to_rest_spelling() {
        assert_eq!(
            normalize(&PropType::Bool, "disabled", "yes").as_deref(),
            Ok("true")
        );
        assert_eq!(
            normalize(&PropType::Bool, "disabled", "no").as_deref(),
            Ok("false")
        );
        assert_eq!(
            normalize(&PropType::Bool, "disabled", "maybe"),
            Err(RosError::InvalidValue("disabled".into()))
        );
    }

    #[test]
    fn addresses_gain_prefix_and_networks_lose_host_bits() {
        assert_eq!(
            normalize(&PropType::Ipv4Prefix, "address", "192.168.111.111").as_deref(),
            Ok("192.168.111.111/32")
        );
        assert_eq!(
            normalize(&PropType::Ipv4Prefix, "address", "10.0.0.1/255.255.255.0").as_deref(),
            Ok("10.0.0.1/24")
        );
        assert_eq!(
            normalize(&PropType::Ipv4Network, "dst-address", "10.1.2.3/16").as_deref(),
            Ok("10.1.0.0/16")
        );
        assert!(normalize(&PropType::Ipv4Prefix, "address", "10.0.0.256").is_err());
        assert!(normalize(&PropType::Ipv4Prefix, "address", "10.0.0.1/33").is_err());
        assert_eq!(
            normalize(&PropType::Ipv4Match, "src-address", "!10.0.0.9/8").as_deref(),
            Ok("!10.0.0.0/8")
        );
    }

    #[test]
    fn durations_round_trip_in_routeros_form() {
        assert_eq!(
            parse_duration("1w2d3h4m5s"),
            Some(((7 + 2) * 86_400 + 3 * 3600 + 4 * 60 + 5) * 1_000_000)
        );
        assert_eq!(
            format_duration(parse_duration("00:10:00").unwrap_or(0)),
            "10m"
        );
        assert_eq!(format_duration(parse_duration("90").unwrap_or(0)), "1m30s");
        assert_eq!(
            format_duration(parse_duration("1500ms").unwrap_or(0)),
            "1s500ms"
        );
        assert_eq!(format_duration(453), "453us");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn integers_are_range_checked() {
        let ty = PropType::Int { min: 1, max: 4094 };
        assert_eq!(normalize(&ty, "vlan-id", "0x10").as_deref(), Ok("16"));
        assert_eq!(
            normalize(&ty, "vlan-id", "4095"),
            Err(RosError::OutOfRange {
                arg: "vlan-id".into(),
                min: 1,
                max: 4094
            })
        );
        assert_eq!(
            normalize(&ty, "vlan-id", "ten"),
            Err(RosError::InvalidValue("vlan-id".into()))
        );
    }

    #[test]
    fn macs_ports_and_sets() {
        assert_eq!(
            normalize(&PropType::Mac, "mac-address", "aa-bb-cc-00-11-22").as_deref(),
            Ok("AA:BB:CC:00:11:22")
        );
        assert_eq!(
            normalize(&PropType::Ports, "dst-port", "80,443,8000-8080").as_deref(),
            Ok("80,443,8000-8080")
        );
        assert!(normalize(&PropType::Ports, "dst-port", "70000").is_err());
        let states = PropType::EnumSet(&["established", "related", "new", "invalid"]);
        assert_eq!(
            normalize(&states, "connection-state", "established,related").as_deref(),
            Ok("established,related")
        );
        assert!(normalize(&states, "connection-state", "bogus").is_err());
    }
}
