//! The vocabulary of a RouterOS call: menu paths, item ids, records, queries, commands and
//! fingerprints — all validated on construction so a driver never sends something malformed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// One RouterOS item as both drivers return it: every value a string (RouterOS's own typing),
/// keys sorted, `.id` included where the menu has ids.
pub type Record = BTreeMap<String, String>;

/// Properties to write.
pub type Props = BTreeMap<String, String>;

/// A menu command name (`unset`, `make-static`): lowercase letters and `-`.
pub fn check_command(name: &str) -> Result<&str, String> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !name.starts_with('-');
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "invalid menu command \"{name}\": expected lowercase letters and '-'"
        ))
    }
}

/// What a property name may look like, for messages.
const PROPERTY_NAME_RULE: &str = "expected a property name: lowercase letters, digits, '-' and '.' (such as src-address or security.passphrase; a leading '.' only for .id-style names); comparison operators and query words (<, >, =, !, #, spaces) are not accepted";

/// A plain RouterOS property name: lowercase letters, digits, `-` and `.` (dotted forms such
/// as `security.passphrase`), starting with a letter or digit — or `.` and letters for the
/// item's own attributes (`.id`, `.nextid`). Anything else (`<password`, `-name`, `#|`,
/// `name=x`, a space) would be read by RouterOS as a query word, not a name.
pub fn check_property_name(name: &str) -> Result<&str, String> {
    let valid = match name.strip_prefix('.') {
        Some(attr) => !attr.is_empty() && attr.chars().all(|c| c.is_ascii_lowercase()),
        None => {
            name.len() <= 64
                && name.split('.').all(|seg| {
                    !seg.is_empty()
                        && !seg.starts_with('-')
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
        }
    };
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "invalid property name \"{name}\": {PROPERTY_NAME_RULE}"
        ))
    }
}

/// A menu such as `ip/address` or `interface/wireguard/peers`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MenuPath(String);

impl MenuPath {
    /// Segments separated by `/`, each lowercase letters, digits and `-`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim().trim_matches('/');
        let valid = !trimmed.is_empty()
            && trimmed.split('/').all(|seg| {
                !seg.is_empty()
                    && seg
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if valid {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(format!(
                "invalid RouterOS menu \"{text}\": expected a path such as ip/address (lowercase letters, digits, '-', separated by '/')"
            ))
        }
    }

    /// `ip/address`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/ip/address`, as the console writes it.
    pub fn console(&self) -> String {
        format!("/{}", self.0)
    }
}

impl fmt::Display for MenuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MenuPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// A RouterOS internal id: `*` and uppercase hex (`*1`, `*8000001B`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RosId(String);

impl RosId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text.strip_prefix('*').unwrap_or_default();
        if !hex.is_empty() && hex.len() <= 8 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(format!("*{}", hex.to_ascii_uppercase())))
        } else {
            Err(format!(
                "invalid RouterOS id \"{text}\": expected '*' followed by hex digits, such as *1A"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RosId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RosId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// What to print: which properties, and equality filters (all must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintQuery {
    /// `None` prints every property.
    pub proplist: Option<Vec<String>>,
    /// `(property, value)` pairs, AND-ed.
    pub filters: Vec<(String, String)>,
}

impl PrintQuery {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn filter(mut self, key: &str, value: &str) -> Self {
        self.filters.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn proplist(mut self, props: &[&str]) -> Self {
        self.proplist = Some(props.iter().map(|p| (*p).to_owned()).collect());
        self
    }

    /// Refuses what no driver may send for `menu`: a filter key or proplist entry that is not
    /// a plain property name ([`check_property_name`]), and a filter on a secret or a script
    /// body ([`crate::secret`]) — a comparison on a secret is an oracle for its value.
    pub fn check(&self, menu: &MenuPath) -> Result<(), String> {
        for (key, _) in &self.filters {
            check_property_name(key).map_err(|e| format!("filter key: {e}"))?;
            if let Some(refusal) = crate::secret::filter_refusal(menu.as_str(), key) {
                return Err(format!("filter key \"{key}\": {refusal}"));
            }
        }
        for prop in self.proplist.iter().flatten() {
            check_property_name(prop).map_err(|e| format!("proplist entry: {e}"))?;
        }
        Ok(())
    }

    /// Keeps only what the query asked for (for drivers that filter locally).
    pub fn apply(&self, records: Vec<Record>) -> Vec<Record> {
        records
            .into_iter()
            .filter(|r| {
                self.filters
                    .iter()
                    .all(|(k, v)| r.get(k).map(String::as_str) == Some(v.as_str()))
            })
            .map(|r| match &self.proplist {
                None => r,
                Some(props) => r
                    .into_iter()
                    .filter(|(k, _)| props.iter().any(|p| p == k))
                    .collect(),
            })
            .collect()
    }
}

/// Commands that are not plain reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceCommand {
    /// `/ping address=… count=…`: one record per probe plus RouterOS's summary fields.
    Ping {
        address: String,
        count: u32,
        interface: Option<String>,
    },
    /// `/tool/traceroute address=… count=…`: one record per hop.
    Traceroute { address: String, count: u32 },
    /// `/interface/monitor-traffic interface=… once`: one record per interface.
    MonitorTraffic { interfaces: Vec<String> },
    /// `/system/script/run` of a stored script, by id or name.
    RunScript { script: String },
}

/// How to export the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// All values, not only non-defaults.
    pub verbose: bool,
    /// Keys and passwords included (`show-sensitive`); such an export is never cached and is
    /// for the encrypted backup store only, never for a client.
    pub show_sensitive: bool,
}

/// A SHA-256 fingerprint of a TLS certificate (DER) or an SSH public key (wire blob).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// Lowercase hex, no separators: the stored form.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `SHA256:<base64>`, as `ssh-keygen -l` prints host keys.
    pub fn openssh(&self) -> String {
        format!("SHA256:{}", STANDARD_NO_PAD.encode(self.0))
    }

    /// Accepts 64 hex digits (with or without `:` separators, any case) or `SHA256:<base64>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if let Some(b64) = text.strip_prefix("SHA256:") {
            STANDARD_NO_PAD
                .decode(b64.trim_end_matches('='))
                .map_err(|_| ())
        } else {
            hex::decode(text.replace(':', "")).map_err(|_| ())
        };
        bytes
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .map(Self)
            .ok_or_else(|| {
                format!(
                    "invalid SHA-256 fingerprint \"{text}\": expected 64 hex digits (colons allowed) or SHA256:<base64>"
                )
            })
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl FromStr for Fingerprint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// Turns any JSON value RouterOS (or a script) returned into RouterOS's string form, so both
/// drivers agree on types: strings stay, numbers and booleans become their text, arrays are
/// comma-joined, null is empty.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(items) => {
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        }
        serde_json::Value::Object(_) => v.to_string(),
    }
}

/// A JSON object as a [`Record`].
pub fn record_from_json(v: &serde_json::Value) -> Option<Record> {
    v.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), value_text(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_and_ids_are_validated() {
        assert_eq!(
            MenuPath::parse("/ip/address/").unwrap().as_str(),
            "ip/address"
        );
        assert_eq!(
            MenuPath::parse("ip/address").unwrap().console(),
            "/ip/address"
        );
        for bad in [
            "",
            "ip address",
            "ip/Address",
            "ip//x",
            "ip/add;ress",
            "../etc",
        ] {
            assert!(MenuPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RosId::parse("*1a").unwrap().as_str(), "*1A");
        for bad in ["1", "*", "*xyz", "*1;/system reboot", "*123456789"] {
            assert!(RosId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_read_both_common_forms() {
        let fp = Fingerprint::of(b"key");
        assert_eq!(Fingerprint::parse(&fp.hex()).unwrap(), fp);
        assert_eq!(Fingerprint::parse(&fp.hex().to_uppercase()).unwrap(), fp);
        let colons: Vec<String> = fp
            .hex()
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert_eq!(Fingerprint::parse(&colons.join(":")).unwrap(), fp);
        assert_eq!(Fingerprint::parse(&fp.openssh()).unwrap(), fp);
        assert!(Fingerprint::parse("abcd").is_err());
    }

    #[test]
    fn only_plain_property_names_are_names() {
        for good in [
            "name",
            "src-address",
            "security.passphrase",
            "static-key-0",
            "802.1x",
            ".id",
            ".nextid",
        ] {
            assert_eq!(check_property_name(good), Ok(good), "{good}");
        }
        for bad in [
            "",
            "<password",
            ">password",
            "password=x",
            "!password",
            "-password",
            "#|",
            "#!",
            "pass word",
            "Password",
            ".",
            "..id",
            ".id2",
            "a..b",
            "a.",
            ".id=*1",
            "name\n",
        ] {
            let e = check_property_name(bad).unwrap_err();
            assert!(e.contains("expected a property name"), "{bad}: {e}");
        }
    }

    #[test]
    fn queries_refuse_query_words_and_secrets_before_anything_is_sent() {
        let ppp = MenuPath::parse("ppp/secret").unwrap();
        assert_eq!(PrintQuery::all().filter("name", "a").check(&ppp), Ok(()));
        for key in ["<password", "password", ">secret", "-password", "name=x"] {
            let e = PrintQuery::all().filter(key, "m").check(&ppp).unwrap_err();
            assert!(e.contains(key), "{key}: {e}");
        }
        let e = PrintQuery::all()
            .filter("source", "x")
            .check(&MenuPath::parse("system/script").unwrap())
            .unwrap_err();
        assert!(e.contains("script body"), "{e}");
        let e = PrintQuery::all()
            .proplist(&["name", "<password"])
            .check(&ppp)
            .unwrap_err();
        assert!(
            e.contains("proplist entry") && e.contains("<password"),
            "{e}"
        );
        // Reading a secret column is not refused here: results are redacted by the tools.
        assert_eq!(
            PrintQuery::all().proplist(&[".id", "password"]).check(&ppp),
            Ok(())
        );
    }

    #[test]
    fn local_query_application() {
        let r = |a: &str, b: &str| Record::from([("a".into(), a.into()), ("b".into(), b.into())]);
        let q = PrintQuery::all().filter("a", "1").proplist(&["b"]);
        assert_eq!(
            q.apply(vec![r("1", "x"), r("2", "y")]),
            vec![Record::from([("b".into(), "x".into())])]
        );
    }
}
