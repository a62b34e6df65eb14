//! The one definition of a secret RouterOS property, shared by every product crate.
//!
//! Two questions are answered here, purely (no I/O), from a menu path and a property name:
//!
//! - [`is_secret`]: does the property hold a credential or key — a password, a pre-shared key,
//!   a private key, a RADIUS or IPsec secret, a MD5 key, an SNMPv3 password, RoMON's secrets?
//!   A secret's value never leaves the server: results show [`HIDDEN`] instead, and a filter on
//!   it is refused (a `<password=m` comparison or an equality test is an oracle that recovers
//!   the value one question at a time).
//! - [`is_withheld`]: is the property a script body (`/system/script` `source`,
//!   `/system/scheduler` `on-event`, netwatch and VRRP hooks, DHCP lease scripts, …)? Script
//!   bodies routinely embed credentials (`/tool/fetch user=… password=…`), so they are shown as
//!   [`WITHHELD`] unless a caller explicitly asks for them with a tier that allows it, and are
//!   never accepted as a filter either.
//!
//! Names are matched as RouterOS prints them: exact names that are secrets in any menu, name
//! endings that mark one (`-password`, `-secret`, `-pre-shared-key`, …), dotted forms where the
//! last segment is such a name (`security.passphrase` of `/interface/wifi`), and a short table
//! of names that are secrets only in one menu (`pin` of an LTE modem, `cak` of MACsec). Menus
//! may be written `ip/ipsec/peer`, `/ip/ipsec/peer` or as an export header `/ip ipsec peer`.

/// What a secret's value is replaced by.
pub const HIDDEN: &str = "(hidden)";
/// What a withheld script body is replaced by.
pub const WITHHELD: &str = "(withheld)";

/// How a property's value may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// Shown and filterable.
    Plain,
    /// Never shown, never filterable.
    Secret,
    /// A script body: shown only when explicitly asked for, never filterable.
    Withheld,
}

impl Sensitivity {
    /// The placeholder a result shows instead of the value (`None` for plain properties).
    pub fn placeholder(self) -> Option<&'static str> {
        match self {
            Sensitivity::Plain => None,
            Sensitivity::Secret => Some(HIDDEN),
            Sensitivity::Withheld => Some(WITHHELD),
        }
    }
}

/// Property names that are secrets in every menu.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passphrase",
    "secret",
    "secrets",
    "psk",
    "key",
    "private-key",
    "preshared-key",
    "pre-shared-key",
    "auth-key",
    "enc-key",
    "authentication-key",
    "encryption-key",
    "authentication-password",
    "encryption-password",
    "tcp-md5-key",
    "ipsec-secret",
    "radius-secret",
    "shared-secret",
    "mschapv2-password",
    "eap-password",
    "wpa-pre-shared-key",
    "wpa2-pre-shared-key",
    "wpa3-pre-shared-key",
    "private-pre-shared-key",
    "management-protection-key",
];

/// Name endings that mark a secret in every menu (`sae-password`, `registry-password`,
/// `static-sta-private-key`, …).
const SECRET_SUFFIXES: &[&str] = &[
    "-password",
    "-passphrase",
    "-secret",
    "-secrets",
    "-psk",
    "-private-key",
    "-preshared-key",
    "-pre-shared-key",
    "-md5-key",
    "-auth-key",
    "-enc-key",
    "-authentication-key",
    "-encryption-key",
];

/// Name prefixes followed by a number (`static-key-0` … `static-key-3` of wireless WEP).
const SECRET_NUMBERED: &[&str] = &["static-key-", "static-algo-key-"];

/// Names that are secrets only in one menu (where the generic rules do not say so).
const MENU_SECRETS: &[(&str, &str)] = &[
    ("interface/lte", "pin"),
    ("interface/ppp-client", "pin"),
    ("interface/macsec", "cak"),
    ("container/envs", "value"),
];

/// Names the generic rules would take for secrets that are plain in one menu: a certificate's
/// `private-key` is only a flag saying whether the key is stored.
const MENU_PLAIN: &[(&str, &str)] = &[("certificate", "private-key")];

/// Script bodies in every menu that has them: scheduler and traffic-monitor `on-event`, PPP
/// profile `on-up`/`on-down`, VRRP `on-backup`/`on-master`/`on-fail`, hotspot `on-login`/
/// `on-logout`, DHCP `lease-script` and alert `on-alert`, netwatch `up-script`/`down-script`/
/// `test-script`.
const WITHHELD_NAMES: &[&str] = &[
    "on-event",
    "on-up",
    "on-down",
    "on-backup",
    "on-master",
    "on-fail",
    "on-login",
    "on-logout",
    "on-alert",
    "lease-script",
    "up-script",
    "down-script",
    "test-script",
];

/// Script bodies whose name means something else in other menus.
const MENU_WITHHELD: &[(&str, &str)] = &[
    ("system/script", "source"),
    ("system/script/environment", "value"),
    ("ip/dhcp-client", "script"),
    ("ipv6/dhcp-client", "script"),
];

/// `ip/ipsec/peer`, `/ip/ipsec/peer`, `/ip ipsec peer` → `ip/ipsec/peer`.
fn normal_menu(menu: &str) -> String {
    menu.split(|c: char| c == '/' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("/")
}

fn secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
        || SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
        || SECRET_NUMBERED.iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
}

/// How property `property` of menu `menu` may be shown.
pub fn classify(menu: &str, property: &str) -> Sensitivity {
    let menu = normal_menu(menu);
    let property = property.trim().to_ascii_lowercase();
    // `security.passphrase`: the dotted segments each name a property of a nested object.
    let segments: Vec<&str> = property.split('.').filter(|s| !s.is_empty()).collect();
    let in_menu = |table: &[(&str, &str)]| {
        table
            .iter()
            .any(|(m, p)| *m == menu && segments.iter().any(|s| s == p))
    };
    if in_menu(MENU_PLAIN) {
        Sensitivity::Plain
    } else if segments.iter().any(|s| secret_name(s)) || in_menu(MENU_SECRETS) {
        Sensitivity::Secret
    } else if segments.iter().any(|s| WITHHELD_NAMES.contains(s)) || in_menu(MENU_WITHHELD) {
        Sensitivity::Withheld
    } else {
        Sensitivity::Plain
    }
}

/// Whether the value of `property` in `menu` is a secret (never shown, never filterable).
pub fn is_secret(menu: &str, property: &str) -> bool {
    classify(menu, property) == Sensitivity::Secret
}

/// Whether `property` in `menu` is a script body, withheld unless explicitly asked for.
pub fn is_withheld(menu: &str, property: &str) -> bool {
    classify(menu, property) == Sensitivity::Withheld
}

/// Why a filter on `property` of `menu` is refused, or `None` when it may be filtered on.
pub fn filter_refusal(menu: &str, property: &str) -> Option<String> {
    match classify(menu, property) {
        Sensitivity::Plain => None,
        Sensitivity::Secret => Some(format!(
            "filtering on a secret property is refused (\"{property}\" of /{}): a comparison on a secret reveals it; filter on a name or another plain property instead",
            normal_menu(menu)
        )),
        Sensitivity::Withheld => Some(format!(
            "filtering on a script body is refused (\"{property}\" of /{}): filter on the name or another plain property instead",
            normal_menu(menu)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Sensitivity::{Plain, Secret, Withheld};

    #[test]
    fn every_known_secret_withheld_and_plain_property_is_classified() {
        let table: &[(&str, &str, Sensitivity)] = &[
            // Credentials by name, in the menus RouterOS has them.
            ("ppp/secret", "password", Secret),
            ("user", "password", Secret),
            ("ip/hotspot/user", "password", Secret),
            ("interface/pppoe-client", "password", Secret),
            ("interface/l2tp-client", "password", Secret),
            ("interface/l2tp-client", "ipsec-secret", Secret),
            ("interface/sstp-client", "password", Secret),
            ("interface/ovpn-client", "password", Secret),
            ("interface/eoip", "ipsec-secret", Secret),
            ("interface/gre", "ipsec-secret", Secret),
            ("interface/vrrp", "password", Secret),
            ("interface/lte/apn", "password", Secret),
            ("tool/e-mail", "password", Secret),
            ("radius", "secret", Secret),
            ("ip/ipsec/peer", "secret", Secret),
            ("ip/ipsec/identity", "secret", Secret),
            ("ip/ipsec/identity", "password", Secret),
            ("ip/ipsec/installed-sa", "auth-key", Secret),
            ("ip/ipsec/installed-sa", "enc-key", Secret),
            ("routing/bgp/connection", "tcp-md5-key", Secret),
            ("routing/ospf/interface-template", "auth-key", Secret),
            ("snmp/community", "authentication-password", Secret),
            ("snmp/community", "encryption-password", Secret),
            ("tool/romon", "secrets", Secret),
            ("tool/romon/port", "secrets", Secret),
            ("interface/wireguard", "private-key", Secret),
            ("interface/wireguard/peers", "preshared-key", Secret),
            ("interface/wireguard/peers", "private-key", Secret),
            (
                "interface/wireless/security-profiles",
                "wpa-pre-shared-key",
                Secret,
            ),
            (
                "interface/wireless/security-profiles",
                "wpa2-pre-shared-key",
                Secret,
            ),
            (
                "interface/wireless/security-profiles",
                "static-key-0",
                Secret,
            ),
            (
                "interface/wireless/security-profiles",
                "static-sta-private-key",
                Secret,
            ),
            (
                "interface/wireless/security-profiles",
                "mschapv2-password",
                Secret,
            ),
            (
                "interface/wireless/access-list",
                "private-pre-shared-key",
                Secret,
            ),
            ("interface/wifi", "security.passphrase", Secret),
            ("interface/wifi", "security.sae-password", Secret),
            ("interface/wifi/security", "passphrase", Secret),
            ("interface/wifi/access-list", "passphrase", Secret),
            ("caps-man/security", "passphrase", Secret),
            ("system/ntp/key", "key", Secret),
            ("container/config", "registry-password", Secret),
            ("container/envs", "value", Secret),
            ("interface/lte", "pin", Secret),
            ("interface/macsec", "cak", Secret),
            // Menus written as the console and the export write them.
            ("/ppp/secret", "password", Secret),
            (
                "/interface wireless security-profiles",
                "wpa2-pre-shared-key",
                Secret,
            ),
            // Script bodies.
            ("system/script", "source", Withheld),
            ("/system script", "source", Withheld),
            ("system/scheduler", "on-event", Withheld),
            ("tool/traffic-monitor", "on-event", Withheld),
            ("tool/netwatch", "up-script", Withheld),
            ("tool/netwatch", "down-script", Withheld),
            ("tool/netwatch", "test-script", Withheld),
            ("ppp/profile", "on-up", Withheld),
            ("ppp/profile", "on-down", Withheld),
            ("interface/vrrp", "on-master", Withheld),
            ("ip/dhcp-server", "lease-script", Withheld),
            ("ip/dhcp-client", "script", Withheld),
            ("ip/hotspot/user/profile", "on-login", Withheld),
            // What stays visible and filterable.
            ("interface/wireguard", "public-key", Plain),
            ("interface/wireguard/peers", "public-key", Plain),
            ("certificate", "private-key", Plain),
            ("certificate", "key-size", Plain),
            ("certificate", "key-usage", Plain),
            ("certificate", "key-type", Plain),
            ("ppp/secret", "name", Plain),
            ("ppp/secret", "service", Plain),
            ("snmp/community", "authentication-protocol", Plain),
            ("user", "group", Plain),
            ("user/group", "policy", Plain),
            ("system/script", "name", Plain),
            ("system/script/job", "script", Plain),
            ("system/logging", "topics", Plain),
            ("ip/firewall/filter", "src-address", Plain),
            ("interface", ".id", Plain),
            ("interface/lte/apn", "pin", Plain),
            ("interface/ethernet", "source", Plain),
            ("user/settings", "minimum-password-length", Plain),
        ];
        for (menu, property, expected) in table {
            assert_eq!(classify(menu, property), *expected, "{menu} {property}");
        }
    }

    #[test]
    fn case_and_surrounding_space_do_not_hide_a_secret() {
        assert!(is_secret("PPP/Secret", "Password"));
        assert!(is_secret("ppp/secret", " password "));
        assert!(is_secret("interface/wifi", "SECURITY.PASSPHRASE"));
        assert!(is_withheld("System/Script", "SOURCE"));
    }

    #[test]
    fn refusals_name_the_property_and_say_what_to_do() {
        let m = filter_refusal("ppp/secret", "password").unwrap();
        assert!(
            m.contains("secret property") && m.contains("password"),
            "{m}"
        );
        let m = filter_refusal("system/script", "source").unwrap();
        assert!(m.contains("script body"), "{m}");
        assert_eq!(filter_refusal("ppp/secret", "name"), None);
    }
}
