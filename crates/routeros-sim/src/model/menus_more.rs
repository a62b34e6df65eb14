//! The second part of the menu table: menus RouterOS 7.19 has beside the core ones of
//! [`super::menus`] — routing protocol configuration and sessions, routing tables, the logged-in
//! users, IPv6 neighbours and settings, licensing, queue trees, netwatch, system and tool
//! settings, and the `wifi` package's menus (present only on hardware that has radios).
//!
//! Property names and defaults follow what RouterOS 7 prints over REST (MikroTik's
//! documentation and the community field inventory). Status menus are read-only as on
//! RouterOS: `/user/active`, `/routing/bgp/session`, `/routing/ospf/interface`, `/ipv6/neighbor`, `/system/license`,
//! `/interface/wifi/registration-table` are filled by the device, never by a client.

use super::hooks;
use super::spec::{FlagSpec, MenuSpec, PropSpec, UniqueSpec};
use super::value::PropType;

const T: PropType = PropType::Text;
const B: PropType = PropType::Bool;
const DUR: PropType = PropType::Duration;
const CNT: PropType = PropType::COUNTER;
const IFACE: PropType = PropType::reference("/interface");
const PORT: PropType = PropType::Int { min: 1, max: 65535 };

/// The package the `/interface/wifi` menus belong to.
pub const WIFI_PACKAGE: &str = "wifi-qcom";

const fn p(name: &'static str, ty: PropType) -> PropSpec {
    PropSpec::new(name, ty)
}

const fn flag(letter: char, word: &'static str, prop: &'static str) -> FlagSpec {
    FlagSpec { letter, word, prop }
}

const COMMENT: PropSpec = p("comment", T);
const DISABLED: PropSpec = p("disabled", B).def("false");
const DYNAMIC: PropSpec = p("dynamic", B).def("false").ro();
const INVALID: PropSpec = p("invalid", B).def("false").ro();
const BUILTIN: PropSpec = p("builtin", B).def("false").ro();
const DEFAULT: PropSpec = p("default", B).def("false").ro();
const F_DISABLED: FlagSpec = flag('X', "disabled", "disabled");
const F_INVALID: FlagSpec = flag('I', "invalid", "invalid");
const F_DYNAMIC: FlagSpec = flag('D', "dynamic", "dynamic");
const F_RUNNING: FlagSpec = flag('R', "running", "running");

// --------------------------------------------------------------------------------------------
// /routing
// --------------------------------------------------------------------------------------------

const OSPF_INSTANCE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("version", PropType::Enum(&["2", "3"])).def("2"),
    p("vrf", T).def("main"),
    p("router-id", T).def("main"),
    p(
        "redistribute",
        PropType::EnumSet(&[
            "bgp",
            "connected",
            "copy",
            "dhcp",
            "fantasy",
            "modem",
            "ospf",
            "rip",
            "static",
            "vpn",
        ]),
    ),
    p(
        "originate-default",
        PropType::Enum(&["always", "if-installed", "never"]),
    )
    .def("never"),
    p("in-filter-chain", T),
    p("out-filter-chain", T),
    INVALID,
    DISABLED,
    COMMENT,
];

const OSPF_AREA_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("instance", PropType::reference("/routing/ospf/instance")).req(),
    p("area-id", PropType::Ipv4).def("0.0.0.0"),
    p("type", PropType::Enum(&["default", "nssa", "stub"])).def("default"),
    p(
        "default-cost",
        PropType::Int {
            min: 0,
            max: 16_777_215,
        },
    ),
    INVALID,
    DISABLED,
    COMMENT,
];

const OSPF_TEMPLATE_PROPS: &[PropSpec] = &[
    p("area", PropType::reference("/routing/ospf/area")).req(),
    p("interfaces", T),
    p("networks", T),
    p(
        "type",
        PropType::Enum(&[
            "broadcast",
            "nbma",
            "ptmp",
            "ptmp-broadcast",
            "ptp",
            "virtual-link",
        ]),
    )
    .def("broadcast"),
    p("cost", PropType::Int { min: 1, max: 65535 }).def("1"),
    p("priority", PropType::Int { min: 0, max: 255 }).def("128"),
    p("passive", B).def("false"),
    p("hello-interval", DUR).def("10s"),
    p("dead-interval", DUR).def("40s"),
    p(
        "auth",
        PropType::Enum(&["md5", "sha1", "sha256", "sha384", "sha512", "simple"]),
    ),
    INVALID,
    DISABLED,
    COMMENT,
];

/// `/routing/ospf/interface`: the interfaces OSPF runs on, one per address an interface
/// template matches (by interface or by network), in RouterOS 7's terse order. Filled by the
/// device ([`super::state::RouterState::refresh_ospf_interfaces`]).
const OSPF_INTERFACE_PROPS: &[PropSpec] = &[
    p("address", T).ro(),
    p("area", T).ro(),
    p("state", T).ro(),
    p("network-type", T).ro(),
    p("cost", CNT).ro(),
    p("priority", CNT).ro(),
    p("use-bfd", B).def("false").ro(),
    p("retransmit-interval", DUR).def("5s").ro(),
    p("transmit-delay", DUR).def("1s").ro(),
    p("hello-interval", DUR).ro(),
    p("dead-interval", DUR).ro(),
    // Which template and address the entry comes from (`template-id/address-id`).
    p("origin", T).hidden(),
    DYNAMIC,
];

const BGP_TEMPLATE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("as", T),
    p("router-id", T),
    p("routing-table", T).def("main"),
    p("address-families", T).def("ip"),
    p("hold-time", PropType::DurationOr(&["infinity"])).def("3m"),
    p("keepalive-time", DUR).def("1m"),
    p("multihop", B).def("false"),
    p(
        "nexthop-choice",
        PropType::Enum(&["default", "force-self", "propagate"]),
    )
    .def("default"),
    p("input.filter", T),
    p("output.filter-chain", T),
    p("output.network", T),
    p("output.redistribute", T),
    DEFAULT,
    INVALID,
    DISABLED,
    COMMENT,
];

const BGP_SESSION_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("remote.address", T).ro(),
    p("remote.as", T).ro(),
    p("remote.id", T).ro(),
    p("remote.refused-cap-opt", B).ro(),
    p("remote.capabilities", T).ro(),
    p("remote.messages", CNT).ro(),
    p("remote.bytes", CNT).ro(),
    p("local.address", T).ro(),
    p("local.as", T).ro(),
    p("local.id", T).ro(),
    p("local.role", T).ro(),
    p("local.messages", CNT).ro(),
    p("output.procid", CNT).ro(),
    p("input.procid", CNT).ro(),
    p("prefix-count", CNT).ro(),
    p("hold-time", T).ro(),
    p("keepalive-time", T).ro(),
    p("established", B).def("false").ro(),
    p("inactive", B).def("false").ro(),
    p("uptime", T).volatile(),
    p("age", T).hidden(),
];

const ROUTING_TABLE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("fib", B).def("false"),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const ROUTING_RULE_PROPS: &[PropSpec] = &[
    p("src-address", T),
    p("dst-address", T),
    p("routing-mark", T),
    p("interface", IFACE),
    p(
        "action",
        PropType::Enum(&["drop", "lookup", "lookup-only-in-table", "unreachable"]),
    )
    .def("lookup"),
    p("table", T),
    p("min-prefix", PropType::Int { min: 0, max: 128 }),
    INVALID,
    DISABLED,
    COMMENT,
];

const ROUTING_FILTER_PROPS: &[PropSpec] = &[
    p("chain", T).req(),
    p("rule", T).req(),
    INVALID,
    DISABLED,
    COMMENT,
];

// --------------------------------------------------------------------------------------------
// /ip, /ipv6
// --------------------------------------------------------------------------------------------

const IP_SETTINGS_PROPS: &[PropSpec] = &[
    p("ip-forward", B).def("true"),
    p("send-redirects", B).def("true"),
    p("accept-source-route", B).def("false"),
    p("accept-redirects", B).def("false"),
    p("secure-redirects", B).def("true"),
    p("rp-filter", PropType::Enum(&["loose", "no", "strict"])).def("no"),
    p("tcp-syncookies", B).def("false"),
    p(
        "tcp-timestamps",
        PropType::Enum(&["disabled", "enabled", "random-offset"]),
    )
    .def("random-offset"),
    p(
        "max-neighbor-entries",
        PropType::Int {
            min: 0,
            max: 4_294_967_295,
        },
    )
    .def("8192"),
    p("arp-timeout", DUR).def("30s"),
    p(
        "icmp-rate-limit",
        PropType::Int {
            min: 0,
            max: 4_294_967_295,
        },
    )
    .def("10"),
    p("icmp-rate-mask", T).def("0x1818"),
    p("icmp-errors-use-same-src-address", B).def("false"),
    p("route-cache", B).def("true"),
    p("allow-fast-path", B).def("true"),
    p(
        "ipv4-multipath-hash-policy",
        PropType::Enum(&["l3", "l3-inner", "l4"]),
    )
    .def("l3"),
    p("ipv4-fast-path-active", B).def("true").ro(),
    p("ipv4-fast-path-packets", CNT).volatile(),
    p("ipv4-fast-path-bytes", CNT).volatile(),
    p("ipv4-fasttrack-packets", CNT).volatile(),
    p("ipv4-fasttrack-bytes", CNT).volatile(),
];

const IP_SSH_PROPS: &[PropSpec] = &[
    p("strong-crypto", B).def("false"),
    p("allow-none-crypto", B).def("false"),
    p("always-allow-password-login", B).def("false"),
    p(
        "forwarding-enabled",
        PropType::Enum(&["both", "local", "no", "remote"]),
    )
    .def("no"),
    p(
        "host-key-size",
        PropType::Enum(&["1024", "1536", "2048", "4096", "8192"]),
    )
    .def("2048"),
    p("host-key-type", PropType::Enum(&["ed25519", "rsa"])).def("rsa"),
];

const IP_UPNP_PROPS: &[PropSpec] = &[
    p("enabled", B).def("false"),
    p("allow-disable-external-interface", B).def("false"),
    p("show-dummy-rule", B).def("true"),
];

const DISCOVERY_PROPS: &[PropSpec] = &[
    p("discover-interface-list", T).def("LAN"),
    p("protocol", PropType::EnumSet(&["cdp", "lldp", "mndp"])).def("cdp,lldp,mndp"),
    p("mode", PropType::Enum(&["rx-only", "tx-and-rx", "tx-only"])).def("tx-and-rx"),
    p("lldp-med-net-policy-vlan", T).def("disabled"),
    p("lldp-mac-phy-config", B).def("false"),
    p("lldp-max-frame-size", B).def("false"),
];

const VRF_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("interfaces", T).req(),
    p("running", B).ro(),
    BUILTIN,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const IPV6_NEIGHBOR_PROPS: &[PropSpec] = &[
    p("address", T).ro(),
    p("interface", T).ro(),
    p("mac-address", T).ro(),
    p("status", T).ro(),
    p("router", B).def("false").ro(),
];

const IPV6_SETTINGS_PROPS: &[PropSpec] = &[
    p("disable-ipv6", B).def("false"),
    p("forward", B).def("true"),
    p(
        "accept-redirects",
        PropType::Enum(&["no", "yes-if-forwarding-disabled"]),
    )
    .def("yes-if-forwarding-disabled"),
    p(
        "accept-router-advertisements",
        PropType::Enum(&["no", "yes", "yes-if-forwarding-disabled"]),
    )
    .def("yes-if-forwarding-disabled"),
    p(
        "max-neighbor-entries",
        PropType::Int {
            min: 0,
            max: 4_294_967_295,
        },
    )
    .def("8192"),
    p(
        "multipath-hash-policy",
        PropType::Enum(&["l3", "l3-inner", "l4"]),
    )
    .def("l3"),
    p("allow-fast-path", B).def("true"),
];

const IPV6_ND_PROPS: &[PropSpec] = &[
    p("interface", T).req(),
    p("ra-interval", T).def("3m20s-10m"),
    p("ra-lifetime", DUR).def("30m"),
    p("hop-limit", T).def("unspecified"),
    p("advertise-mac-address", B).def("true"),
    p("advertise-dns", B).def("true"),
    p("managed-address-configuration", B).def("false"),
    p("other-configuration", B).def("false"),
    DEFAULT,
    INVALID,
    DISABLED,
    COMMENT,
];

const IPV6_POOL_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("prefix", PropType::Ipv6Prefix).req(),
    p("prefix-length", PropType::Int { min: 1, max: 128 }).req(),
    p("expires-after", T).ro(),
    DYNAMIC,
    COMMENT,
];

const IPV6_DHCP_CLIENT_PROPS: &[PropSpec] = &[
    p("interface", IFACE).req(),
    p("request", PropType::EnumSet(&["address", "info", "prefix"])).req(),
    p("pool-name", T),
    p("pool-prefix-length", PropType::Int { min: 0, max: 128 }).def("64"),
    p("add-default-route", B).def("false"),
    p("use-peer-dns", B).def("true"),
    p("status", T).ro(),
    p("prefix", T).ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

// --------------------------------------------------------------------------------------------
// /system, /user, /queue, /tool
// --------------------------------------------------------------------------------------------

const LICENSE_PROPS: &[PropSpec] = &[
    p("software-id", T).ro(),
    p("nlevel", T).ro(),
    p("features", T).def("").ro(),
];

const NOTE_PROPS: &[PropSpec] = &[
    p("show-at-login", B).def("true"),
    p("show-at-cli-login", B).def("false"),
    p("note", T).def(""),
];

const RB_SETTINGS_PROPS: &[PropSpec] = &[
    p("auto-upgrade", B).def("false"),
    p(
        "boot-device",
        PropType::Enum(&[
            "flash-boot",
            "flash-boot-once-then-nand",
            "nand-if-fail-then-ethernet",
            "nand-only",
            "try-ethernet-once-then-nand",
        ]),
    )
    .def("nand-if-fail-then-ethernet"),
    p("boot-protocol", PropType::Enum(&["bootp", "dhcp"])).def("bootp"),
    p(
        "protected-routerboot",
        PropType::Enum(&["disabled", "enabled"]),
    )
    .def("disabled"),
    p("reformat-hold-button", DUR).def("20s"),
    p("silent-boot", B).def("false"),
    p("enter-setup-on", PropType::Enum(&["any-key", "delete-key"])).def("any-key"),
    p("baud-rate", T).def("115200"),
];

const WATCHDOG_PROPS: &[PropSpec] = &[
    p("watchdog-timer", B).def("true"),
    p("watch-address", T).def("none"),
    p("ping-start-after-boot", DUR).def("5m"),
    p("ping-timeout", DUR).def("1m"),
    p("automatic-supout", B).def("true"),
    p("auto-send-supout", B).def("false"),
];

const PACKAGE_UPDATE_PROPS: &[PropSpec] = &[
    p(
        "channel",
        PropType::Enum(&["development", "long-term", "stable", "testing"]),
    )
    .def("stable"),
    p("installed-version", T).ro(),
    p("latest-version", T).ro(),
    p("status", T).ro(),
];

const USER_ACTIVE_PROPS: &[PropSpec] = &[
    p("when", T).ro(),
    p("name", T).ro(),
    p("address", T).ro(),
    p("via", T).ro(),
    p("group", T).ro(),
    p("radius", B).def("false").ro(),
];

const QUEUE_TREE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("parent", T).req(),
    p("packet-mark", T).def(""),
    p("limit-at", T).def("0"),
    p("max-limit", T).def("0"),
    p("burst-limit", T).def("0"),
    p("burst-threshold", T).def("0"),
    p("burst-time", DUR).def("0s"),
    p("priority", PropType::Int { min: 1, max: 8 }).def("8"),
    p("queue", PropType::reference("/queue/type")).def("default-small"),
    p("bucket-size", T).def("0.1"),
    p("rate", CNT).volatile(),
    p("packet-rate", CNT).volatile(),
    p("bytes", CNT).volatile(),
    p("packets", CNT).volatile(),
    p("dropped", CNT).volatile(),
    INVALID,
    DISABLED,
    COMMENT,
];

const QUEUE_TYPE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p(
        "kind",
        PropType::Enum(&[
            "bfifo", "cake", "codel", "fq-codel", "mq-pfifo", "none", "pcq", "pfifo", "red", "sfq",
        ]),
    )
    .req(),
    p("pfifo-limit", T),
    p("pcq-rate", T),
    p("pcq-classifier", T),
    DEFAULT,
];

const NETWATCH_PROPS: &[PropSpec] = &[
    p("host", T).req(),
    p(
        "type",
        PropType::Enum(&["dns", "http-get", "https-get", "icmp", "simple", "tcp-conn"]),
    )
    .def("simple"),
    p("interval", DUR).def("10s"),
    p("timeout", DUR).def("1s"),
    p("name", T),
    p("up-script", T).def(""),
    p("down-script", T).def(""),
    p("test-script", T).def(""),
    p("startup-delay", DUR).def("5m"),
    p("status", T).ro(),
    p("since", T).volatile(),
    p("done-tests", CNT).volatile(),
    p("failed-tests", CNT).volatile(),
    DISABLED,
    COMMENT,
];

const MAC_SERVER_PROPS: &[PropSpec] = &[p("allowed-interface-list", T).def("all")];

const BANDWIDTH_SERVER_PROPS: &[PropSpec] = &[
    p("enabled", B).def("true"),
    p("authenticate", B).def("true"),
    p("allocate-udp-ports-from", PORT).def("2000"),
    p("max-sessions", PropType::Int { min: 1, max: 1000 }).def("100"),
];

// --------------------------------------------------------------------------------------------
// /interface/wifi (package wifi-qcom)
// --------------------------------------------------------------------------------------------

/// `/interface/wifi/registration-table`: the stations associated with the access point's
/// radios, as the wifi package prints them.
const WIFI_REGISTRATION_PROPS: &[PropSpec] = &[
    p("interface", T).ro(),
    p("ssid", T).ro(),
    p("mac-address", T).ro(),
    p("uptime", T).volatile(),
    p("last-activity", T).volatile(),
    p("signal", T).ro(),
    p("auth-type", T).ro(),
    p("band", T).ro(),
    p("tx-rate", T).ro(),
    p("rx-rate", T).ro(),
    p("packets", T).volatile(),
    p("bytes", T).volatile(),
];

const WIFI_PROPS: &[PropSpec] = &[
    p("name", T),
    p("default-name", T).ro(),
    p("mtu", PropType::Int { min: 32, max: 2290 }).def("1500"),
    p("l2mtu", CNT).def("1560").ro(),
    p("mac-address", PropType::Mac),
    p("arp-timeout", T).def("auto"),
    p("radio-mac", PropType::Mac).ro(),
    p(
        "configuration",
        PropType::reference("/interface/wifi/configuration"),
    ),
    p(
        "configuration.mode",
        PropType::Enum(&["ap", "station", "station-bridge"]),
    ),
    p("configuration.ssid", T),
    p("configuration.country", T),
    p("channel.band", T),
    p("channel.width", T),
    p("security.authentication-types", T),
    p("master", B).def("true").ro(),
    p("inactive", B).def("false").ro(),
    p("running", B).ro(),
    p("bound", B).def("true").ro(),
    DISABLED,
    COMMENT,
];

const WIFI_CONFIGURATION_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("mode", PropType::Enum(&["ap", "station", "station-bridge"])).def("ap"),
    p("ssid", T),
    p("country", T).def("Latvia"),
    p("security", PropType::reference("/interface/wifi/security")),
    p("channel", PropType::reference("/interface/wifi/channel")),
    p("tx-power", PropType::Int { min: 0, max: 40 }),
    p("hide-ssid", B).def("false"),
    COMMENT,
];

const WIFI_SECURITY_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p(
        "authentication-types",
        PropType::EnumSet(&[
            "owe",
            "wpa-eap",
            "wpa-psk",
            "wpa2-eap",
            "wpa2-psk",
            "wpa3-eap",
            "wpa3-eap-192",
            "wpa3-psk",
        ]),
    ),
    p("passphrase", T).sensitive(),
    p(
        "encryption",
        PropType::EnumSet(&["ccmp", "ccmp-256", "gcmp", "gcmp-256", "tkip"]),
    )
    .def("ccmp"),
    p("ft", B).def("false"),
    p("wps", PropType::Enum(&["disable", "push-button"])).def("push-button"),
    p(
        "management-protection",
        PropType::Enum(&["allowed", "disabled", "required"]),
    )
    .def("allowed"),
    COMMENT,
];

const WIFI_CHANNEL_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p(
        "band",
        PropType::Enum(&[
            "2ghz-ax", "2ghz-g", "2ghz-n", "5ghz-a", "5ghz-ac", "5ghz-ax", "5ghz-n",
        ]),
    ),
    p(
        "width",
        PropType::Enum(&[
            "20mhz",
            "20/40mhz",
            "20/40mhz-Ce",
            "20/40mhz-eC",
            "20/40/80mhz",
            "20/40/80/160mhz",
        ]),
    ),
    p("frequency", T),
    p(
        "skip-dfs-channels",
        PropType::Enum(&["10min-cac", "all", "disabled"]),
    )
    .def("disabled"),
    COMMENT,
];

/// The menus of this part of the table, appended to the core table's.
pub static MENUS: &[MenuSpec] = &[
    // ---------------------------------------------------------------- /routing
    MenuSpec::list("/routing/ospf/instance", OSPF_INSTANCE_PROPS)
        .named()
        .columns(&["name", "version", "vrf", "router-id"])
        .flags(&[F_DISABLED, F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "instance with such name already exists",
        }]),
    MenuSpec::list("/routing/ospf/area", OSPF_AREA_PROPS)
        .named()
        .columns(&["name", "instance", "area-id", "type"])
        .flags(&[F_DISABLED, F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "area with such name already exists",
        }]),
    MenuSpec::list("/routing/ospf/interface-template", OSPF_TEMPLATE_PROPS)
        .columns(&["area", "interfaces", "networks", "type", "cost"])
        .flags(&[F_DISABLED, F_INVALID]),
    MenuSpec::list("/routing/ospf/interface", OSPF_INTERFACE_PROPS)
        .read_only()
        .columns(&["address", "area", "state", "network-type", "cost"])
        .flags(&[F_DYNAMIC])
        .compute(hooks::ospf_interface),
    MenuSpec::list("/routing/bgp/template", BGP_TEMPLATE_PROPS)
        .named()
        .columns(&["name", "as", "router-id", "routing-table"])
        .flags(&[F_DISABLED, F_INVALID, flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "template with such name already exists",
        }]),
    MenuSpec::list("/routing/bgp/session", BGP_SESSION_PROPS)
        .read_only()
        .columns(&[
            "name",
            "remote.address",
            "remote.as",
            "local.role",
            "uptime",
        ])
        .flags(&[
            flag('E', "established", "established"),
            flag('I', "inactive", "inactive"),
        ])
        .compute(hooks::uptime_since),
    MenuSpec::list("/routing/table", ROUTING_TABLE_PROPS)
        .named()
        .columns(&["name", "fib"])
        .flags(&[F_DYNAMIC, F_DISABLED, F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "table with such name already exists",
        }]),
    MenuSpec::ordered("/routing/rule", ROUTING_RULE_PROPS)
        .columns(&["src-address", "dst-address", "action", "table"])
        .flags(&[F_DISABLED, F_INVALID]),
    MenuSpec::ordered("/routing/filter/rule", ROUTING_FILTER_PROPS)
        .columns(&["chain", "rule"])
        .flags(&[F_DISABLED, F_INVALID]),
    // ---------------------------------------------------------------- /ip, /ipv6
    MenuSpec::singleton("/ip/settings", IP_SETTINGS_PROPS).compute(hooks::ip_settings),
    MenuSpec::singleton("/ip/ssh", IP_SSH_PROPS),
    MenuSpec::singleton("/ip/upnp", IP_UPNP_PROPS),
    MenuSpec::singleton("/ip/neighbor/discovery-settings", DISCOVERY_PROPS),
    MenuSpec::list("/ip/vrf", VRF_PROPS)
        .named()
        .columns(&["name", "interfaces"])
        .flags(&[
            F_DISABLED,
            F_INVALID,
            F_DYNAMIC,
            flag('*', "builtin", "builtin"),
        ]),
    MenuSpec::list("/ipv6/neighbor", IPV6_NEIGHBOR_PROPS)
        .read_only()
        .columns(&["address", "interface", "mac-address", "status"])
        .flags(&[flag('R', "router", "router")]),
    MenuSpec::singleton("/ipv6/settings", IPV6_SETTINGS_PROPS),
    MenuSpec::list("/ipv6/nd", IPV6_ND_PROPS)
        .columns(&["interface", "ra-interval", "ra-lifetime", "hop-limit"])
        .flags(&[F_DISABLED, F_INVALID, flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["interface"],
            message: "entry for this interface already exists",
        }]),
    MenuSpec::list("/ipv6/pool", IPV6_POOL_PROPS)
        .named()
        .columns(&["name", "prefix", "prefix-length", "expires-after"])
        .flags(&[F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "pool with such name exists",
        }]),
    MenuSpec::list("/ipv6/dhcp-client", IPV6_DHCP_CLIENT_PROPS)
        .columns(&["interface", "status", "prefix"])
        .flags(&[F_DISABLED, F_INVALID, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["interface"],
            message: "dhcp-client already exists on this interface",
        }]),
    // ---------------------------------------------------------------- /system, /user
    MenuSpec::singleton("/system/license", LICENSE_PROPS).read_only(),
    MenuSpec::singleton("/system/note", NOTE_PROPS),
    MenuSpec::singleton("/system/routerboard/settings", RB_SETTINGS_PROPS),
    MenuSpec::singleton("/system/watchdog", WATCHDOG_PROPS),
    MenuSpec::singleton("/system/package/update", PACKAGE_UPDATE_PROPS),
    MenuSpec::list("/user/active", USER_ACTIVE_PROPS)
        .read_only()
        .columns(&["when", "name", "address", "via"])
        .flags(&[flag('R', "radius", "radius")]),
    // ---------------------------------------------------------------- /queue, /tool
    MenuSpec::list("/queue/tree", QUEUE_TREE_PROPS)
        .named()
        .columns(&["name", "parent", "packet-mark", "limit-at", "max-limit"])
        .flags(&[F_DISABLED, F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have queue with such name",
        }])
        .compute(hooks::queue_tree),
    MenuSpec::list("/queue/type", QUEUE_TYPE_PROPS)
        .named()
        .columns(&["name", "kind"])
        .flags(&[flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "queue type with such name already exists",
        }]),
    MenuSpec::list("/tool/netwatch", NETWATCH_PROPS)
        .columns(&["host", "type", "interval", "timeout", "status", "since"])
        .flags(&[F_DISABLED])
        .compute(hooks::netwatch),
    MenuSpec::singleton("/tool/mac-server", MAC_SERVER_PROPS),
    MenuSpec::singleton("/tool/mac-server/mac-winbox", MAC_SERVER_PROPS),
    MenuSpec::singleton("/tool/bandwidth-server", BANDWIDTH_SERVER_PROPS),
    // ---------------------------------------------------------------- /interface/wifi
    MenuSpec::list("/interface/wifi", WIFI_PROPS)
        .view_of("/interface", "wifi")
        .fixed()
        .named()
        .package(WIFI_PACKAGE)
        .columns(&[
            "name",
            "mac-address",
            "configuration.ssid",
            "channel.band",
            "configuration",
        ])
        .flags(&[
            F_DISABLED,
            F_RUNNING,
            flag('M', "master", "master"),
            flag('B', "bound", "bound"),
            flag('I', "inactive", "inactive"),
        ])
        .compute(hooks::interface),
    MenuSpec::list(
        "/interface/wifi/registration-table",
        WIFI_REGISTRATION_PROPS,
    )
    .read_only()
    .package(WIFI_PACKAGE)
    .columns(&["interface", "ssid", "mac-address", "uptime", "signal"])
    .compute(hooks::wifi_station),
    MenuSpec::list("/interface/wifi/configuration", WIFI_CONFIGURATION_PROPS)
        .named()
        .package(WIFI_PACKAGE)
        .columns(&["name", "mode", "ssid", "country", "security", "channel"])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "configuration with such name already exists",
        }]),
    MenuSpec::list("/interface/wifi/security", WIFI_SECURITY_PROPS)
        .named()
        .package(WIFI_PACKAGE)
        .columns(&["name", "authentication-types", "encryption"])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "security with such name already exists",
        }]),
    MenuSpec::list("/interface/wifi/channel", WIFI_CHANNEL_PROPS)
        .named()
        .package(WIFI_PACKAGE)
        .columns(&["name", "band", "width", "frequency"])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "channel with such name already exists",
        }]),
];
