//! The menu table: every RouterOS menu the simulator serves, as data.
//!
//! Property names, defaults and types follow what RouterOS 7 prints over REST (field names as
//! in MikroTik's documentation and the community.routeros field inventory). Adding a menu here
//! makes it printable over REST and the console, writable where RouterOS allows it, and part of
//! the state dump.

use super::hooks;
use super::spec::{FlagSpec, MenuSpec, PropSpec, UniqueSpec};
use super::value::PropType;

const T: PropType = PropType::Text;
const B: PropType = PropType::Bool;
const DUR: PropType = PropType::Duration;
const CNT: PropType = PropType::COUNTER;
const IP: PropType = PropType::Ipv4;
const MAC: PropType = PropType::Mac;
const IFACE: PropType = PropType::reference("/interface");
const MTU: PropType = PropType::Int {
    min: 32,
    max: 65535,
};
const PORT: PropType = PropType::Int { min: 1, max: 65535 };
const KEY: PropType = PropType::Key;

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
const RUNNING: PropSpec = p("running", B).ro();
// VLAN handling shared by a bridge and its ports.
const PVID: PropSpec = p("pvid", PropType::Int { min: 1, max: 4094 }).def("1");
const FRAME_TYPES: PropSpec = p(
    "frame-types",
    PropType::Enum(&[
        "admit-all",
        "admit-only-untagged-and-priority-tagged",
        "admit-only-vlan-tagged",
    ]),
)
.def("admit-all");
const INGRESS_FILTERING: PropSpec = p("ingress-filtering", B).def("true");
const SLAVE: PropSpec = p("slave", B).ro();
const ACTUAL_MTU: PropSpec = p("actual-mtu", CNT).ro();
const LINK_UP: PropSpec = p("last-link-up-time", T).volatile();
const LINK_DOWNS: PropSpec = p("link-downs", CNT).volatile();
const TYPE_RO: PropSpec = p("type", T).ro();

const F_DISABLED: FlagSpec = flag('X', "disabled", "disabled");
const F_INVALID: FlagSpec = flag('I', "invalid", "invalid");
const F_DYNAMIC: FlagSpec = flag('D', "dynamic", "dynamic");
const F_RUNNING: FlagSpec = flag('R', "running", "running");
const F_SLAVE: FlagSpec = flag('S', "slave", "slave");
// Layer-2 passthrough of a bonding or container port; listed in 7.x `/interface print detail`
// legends (and given a column) although the simulator never sets it.
const F_PASSTHROUGH: FlagSpec = flag('P', "passthrough", "passthrough");

const U_IFACE_NAME: &[UniqueSpec] = &[UniqueSpec {
    keys: &["name"],
    message: "already have interface with such name",
}];

const IFACE_FLAGS: &[FlagSpec] = &[F_DYNAMIC, F_DISABLED, F_RUNNING, F_SLAVE, F_PASSTHROUGH];

/// Group policies RouterOS knows.
pub const POLICIES: &[&str] = &[
    "local",
    "telnet",
    "ssh",
    "ftp",
    "reboot",
    "read",
    "write",
    "policy",
    "test",
    "winbox",
    "password",
    "web",
    "sniff",
    "sensitive",
    "api",
    "romon",
    "rest-api",
];

const SCRIPT_POLICY_DEFAULT: &str =
    "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon";

// --------------------------------------------------------------------------------------------
// /interface
// --------------------------------------------------------------------------------------------

const INTERFACE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("default-name", T).ro(),
    TYPE_RO,
    p(
        "mtu",
        PropType::IntOr {
            min: 32,
            max: 65535,
            words: &["auto"],
        },
    ),
    ACTUAL_MTU,
    p("l2mtu", CNT).ro(),
    p("max-l2mtu", CNT).ro(),
    p("mac-address", MAC).ro(),
    // The Linux device behind the interface, as 7.x `print detail` shows it.
    p("ifname", T).ro(),
    p("ifindex", CNT).ro(),
    p("id", CNT).ro(),
    LINK_UP,
    LINK_DOWNS,
    p("rx-byte", CNT).volatile(),
    p("tx-byte", CNT).volatile(),
    p("rx-packet", CNT).volatile(),
    p("tx-packet", CNT).volatile(),
    p("rx-drop", CNT).volatile(),
    p("tx-drop", CNT).volatile(),
    p("tx-queue-drop", CNT).volatile(),
    p("rx-error", CNT).volatile(),
    p("tx-error", CNT).volatile(),
    p("fp-rx-byte", CNT).volatile(),
    p("fp-tx-byte", CNT).volatile(),
    p("fp-rx-packet", CNT).volatile(),
    p("fp-tx-packet", CNT).volatile(),
    RUNNING,
    SLAVE,
    p("passthrough", B).ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const ETHERNET_PROPS: &[PropSpec] = &[
    p("name", T),
    p("default-name", T).ro(),
    p("mtu", MTU).def("1500"),
    p("l2mtu", PropType::Int { min: 0, max: 65535 }),
    p("mac-address", MAC),
    p("orig-mac-address", MAC).ro(),
    p(
        "arp",
        PropType::Enum(&[
            "disabled",
            "enabled",
            "local-proxy-arp",
            "proxy-arp",
            "reply-only",
        ]),
    )
    .def("enabled"),
    p("arp-timeout", PropType::DurationOr(&["auto"])).def("auto"),
    p("auto-negotiation", B).def("true"),
    p("advertise", T),
    p("rx-flow-control", PropType::Enum(&["auto", "off", "on"])).def("off"),
    p("tx-flow-control", PropType::Enum(&["auto", "off", "on"])).def("off"),
    p("bandwidth", T).def("unlimited/unlimited"),
    p("loop-protect", PropType::Enum(&["default", "off", "on"])).def("default"),
    p("loop-protect-disable-time", DUR).def("5m"),
    p("loop-protect-send-interval", DUR).def("5s"),
    p("loop-protect-status", T).ro().def("off"),
    p("switch", T).ro(),
    RUNNING,
    SLAVE,
    DISABLED,
    COMMENT,
    p("link", B).hidden(),
];

const BRIDGE_PROPS: &[PropSpec] = &[
    p("name", T),
    p(
        "mtu",
        PropType::IntOr {
            min: 32,
            max: 65535,
            words: &["auto"],
        },
    )
    .def("auto"),
    ACTUAL_MTU,
    p("l2mtu", CNT).ro(),
    p(
        "arp",
        PropType::Enum(&[
            "disabled",
            "enabled",
            "local-proxy-arp",
            "proxy-arp",
            "reply-only",
        ]),
    )
    .def("enabled"),
    p("arp-timeout", PropType::DurationOr(&["auto"])).def("auto"),
    p("mac-address", MAC).ro(),
    p(
        "protocol-mode",
        PropType::Enum(&["mstp", "none", "rstp", "stp"]),
    )
    .def("rstp"),
    p("fast-forward", B).def("true"),
    p("igmp-snooping", B).def("false"),
    p("auto-mac", B).def("true"),
    p("admin-mac", MAC),
    p("ageing-time", DUR).def("5m"),
    p("priority", T).def("0x8000"),
    p("max-message-age", DUR).def("20s"),
    p("forward-delay", DUR).def("15s"),
    p("transmit-hold-count", PropType::Int { min: 1, max: 10 }).def("6"),
    p("vlan-filtering", B).def("false"),
    p("ether-type", T).def("0x8100"),
    PVID,
    FRAME_TYPES,
    INGRESS_FILTERING,
    p("dhcp-snooping", B).def("false"),
    p("port-cost-mode", PropType::Enum(&["long", "short"])).def("long"),
    p("mvrp", B).def("false"),
    RUNNING,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const BRIDGE_PORT_PROPS: &[PropSpec] = &[
    p("interface", IFACE).req(),
    p("bridge", PropType::reference("/interface/bridge")).req(),
    p(
        "horizon",
        PropType::IntOr {
            min: 0,
            max: 429_496_729,
            words: &["none"],
        },
    )
    .def("none"),
    p("learn", PropType::Enum(&["auto", "no", "yes"])).def("auto"),
    p("unknown-unicast-flood", B).def("true"),
    p("unknown-multicast-flood", B).def("true"),
    p("broadcast-flood", B).def("true"),
    p("hw", B).def("true"),
    PVID,
    FRAME_TYPES,
    INGRESS_FILTERING,
    p("tag-stacking", B).def("false"),
    p(
        "edge",
        PropType::Enum(&["auto", "no", "no-discover", "yes", "yes-discover"]),
    )
    .def("auto"),
    p("point-to-point", PropType::Enum(&["auto", "no", "yes"])).def("auto"),
    p("priority", T).def("0x80"),
    p("trusted", B).def("false"),
    p("status", T).ro(),
    p("hw-offload", B).ro(),
    p("inactive", B).ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const BRIDGE_VLAN_PROPS: &[PropSpec] = &[
    p("bridge", PropType::reference("/interface/bridge")).req(),
    p("vlan-ids", T).req(),
    p("tagged", PropType::reference_list("/interface")).def(""),
    p("untagged", PropType::reference_list("/interface")).def(""),
    p("current-tagged", T).ro(),
    p("current-untagged", T).ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const VLAN_PROPS: &[PropSpec] = &[
    // Console order as RouterOS 7 prints it (`/interface vlan print detail`, recorded).
    p("name", T),
    p("mtu", MTU).def("1500"),
    p("l2mtu", CNT).ro(),
    p("mac-address", MAC).ro(),
    p(
        "arp",
        PropType::Enum(&[
            "disabled",
            "enabled",
            "local-proxy-arp",
            "proxy-arp",
            "reply-only",
        ]),
    )
    .def("enabled"),
    p("arp-timeout", PropType::DurationOr(&["auto"])).def("auto"),
    p("loop-protect", PropType::Enum(&["default", "off", "on"])).def("default"),
    p("loop-protect-status", T).def("off").ro(),
    p("loop-protect-send-interval", DUR).def("5s"),
    p("loop-protect-disable-time", DUR).def("5m"),
    p("vlan-id", PropType::Int { min: 1, max: 4095 }).req(),
    p("interface", IFACE).req(),
    p("use-service-tag", B).def("false"),
    RUNNING,
    COMMENT,
];

const WIREGUARD_PROPS: &[PropSpec] = &[
    p("name", T),
    p("mtu", MTU).def("1420"),
    p("listen-port", PORT),
    p("private-key", KEY).sensitive(),
    p("public-key", T).ro(),
    RUNNING,
    DISABLED,
    COMMENT,
];

const WG_PEER_PROPS: &[PropSpec] = &[
    // Console order as RouterOS 7.15+ prints it (`print terse`, recorded): the keys and the
    // client-* properties print even when empty, the responder flag and keepalives only when
    // set, the handshake only once there was one.
    p("interface", PropType::reference("/interface/wireguard")).req(),
    p("name", T),
    p("public-key", KEY).req(),
    p("private-key", KEY).def("").sensitive(),
    p("endpoint-address", T).def(""),
    p("endpoint-port", PropType::Int { min: 0, max: 65535 }).def("0"),
    p("current-endpoint-address", T).def("").ro(),
    p("current-endpoint-port", CNT).def("0").ro(),
    p("allowed-address", T).req(),
    p("preshared-key", KEY).def("").sensitive(),
    p("persistent-keepalive", DUR),
    p("responder", B),
    p("client-address", T).def(""),
    p("client-dns", T),
    p("client-endpoint", T).def(""),
    p("client-keepalive", DUR),
    p("client-listen-port", PropType::Int { min: 0, max: 65535 }),
    p("rx", CNT).volatile(),
    p("tx", CNT).volatile(),
    p("last-handshake", T).volatile(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const IFACE_LIST_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("include", PropType::reference_list("/interface/list")).def(""),
    p("exclude", PropType::reference_list("/interface/list")).def(""),
    p("builtin", B).def("false").ro(),
    DYNAMIC,
    COMMENT,
];

const IFACE_LIST_MEMBER_PROPS: &[PropSpec] = &[
    p("list", PropType::reference("/interface/list")).req(),
    p("interface", IFACE).req(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

// --------------------------------------------------------------------------------------------
// /ip
// --------------------------------------------------------------------------------------------

const IP_ADDRESS_PROPS: &[PropSpec] = &[
    p("address", PropType::Ipv4Prefix).req(),
    p("network", IP),
    p("interface", IFACE).req(),
    p("actual-interface", T).ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const IP_ROUTE_PROPS: &[PropSpec] = &[
    // Console order as RouterOS 7 prints it (`print terse`, `print detail`).
    p("dst-address", PropType::Ipv4Network).def("0.0.0.0/0"),
    p("routing-table", T).def("main"),
    p("pref-src", IP),
    p("gateway", PropType::Gateway),
    p("immediate-gw", T).ro(),
    p(
        "check-gateway",
        PropType::Enum(&["arp", "bfd", "bfd-multihop", "none", "ping"]),
    ),
    p("blackhole", B),
    p("distance", PropType::Int { min: 1, max: 255 }).def("1"),
    p("scope", PropType::Int { min: 0, max: 255 }).def("30"),
    p("target-scope", PropType::Int { min: 0, max: 255 }).def("10"),
    p("vrf-interface", IFACE),
    p("suppress-hw-offload", B).def("false"),
    p("local-address", T).ro(),
    p("active", B).ro(),
    p("inactive", B).ro(),
    p("static", B).ro(),
    p("connect", B).ro(),
    p("hw-offloaded", B).def("false").ro(),
    p("ecmp", B).def("false").ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
    p("origin", T).hidden(),
];

const ARP_PROPS: &[PropSpec] = &[
    p("address", IP).req(),
    p("mac-address", MAC),
    p("interface", IFACE).req(),
    p("published", B).def("false"),
    p("status", T).ro(),
    p("complete", B).def("true").ro(),
    p("DHCP", B).def("false").ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const NEIGHBOR_PROPS: &[PropSpec] = &[
    // In the order RouterOS 7.15+ prints a neighbour.
    p("interface", T).ro(),
    p("address", T).ro(),
    p("address4", T).ro(),
    p("mac-address", T).ro(),
    p("identity", T).ro(),
    p("platform", T).ro(),
    p("version", T).ro(),
    p("unpack", T).ro(),
    p("age", T).volatile(),
    p("uptime", T).volatile(),
    p("software-id", T).ro(),
    p("board", T).ro(),
    p("ipv6", B).ro(),
    p("interface-name", T).ro(),
    p("system-description", T).ro(),
    p("system-caps", T).ro(),
    p("system-caps-enabled", T).ro(),
    p("discovered-by", T).ro(),
];

const DNS_PROPS: &[PropSpec] = &[
    p("servers", PropType::Ipv4List).def(""),
    p("dynamic-servers", T).def("").ro(),
    p("use-doh-server", T).def(""),
    p("verify-doh-cert", B).def("false"),
    p(
        "doh-max-server-connections",
        PropType::Int { min: 1, max: 100 },
    )
    .def("5"),
    p(
        "doh-max-concurrent-queries",
        PropType::Int { min: 1, max: 1000 },
    )
    .def("50"),
    p("doh-timeout", DUR).def("5s"),
    p("allow-remote-requests", B).def("false"),
    p(
        "max-udp-packet-size",
        PropType::Int {
            min: 50,
            max: 65507,
        },
    )
    .def("4096"),
    p("query-server-timeout", DUR).def("2s"),
    p("query-total-timeout", DUR).def("10s"),
    p(
        "max-concurrent-queries",
        PropType::Int { min: 1, max: 10000 },
    )
    .def("100"),
    p(
        "max-concurrent-tcp-sessions",
        PropType::Int { min: 1, max: 1000 },
    )
    .def("20"),
    p(
        "cache-size",
        PropType::Int {
            min: 64,
            max: 4_294_967,
        },
    )
    .def("2048"),
    p("cache-max-ttl", DUR).def("1w"),
    p("address-list-extra-time", DUR).def("0s"),
    p("vrf", T).def("main"),
    p("mdns-repeat-ifaces", T).def(""),
    p("cache-used", CNT).volatile(),
];

const DNS_STATIC_PROPS: &[PropSpec] = &[
    p("name", T),
    p("regexp", T),
    p(
        "type",
        PropType::Enum(&[
            "A", "AAAA", "CNAME", "FWD", "MX", "NS", "NXDOMAIN", "SRV", "TXT",
        ]),
    ),
    p("address", IP),
    p("cname", T),
    p("forward-to", T),
    p("text", T),
    p("ttl", DUR).def("1d"),
    p("match-subdomain", B).def("false"),
    p("address-list", T),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const DHCP_SERVER_PROPS: &[PropSpec] = &[
    p("name", T),
    p("interface", IFACE).req(),
    p(
        "address-pool",
        PropType::reference_or("/ip/pool", &["static-only"]),
    )
    .def("static-only"),
    p("lease-time", DUR).def("30m"),
    p(
        "authoritative",
        PropType::Enum(&["after-10sec-delay", "after-2sec-delay", "no", "yes"]),
    )
    .def("yes"),
    p(
        "bootp-support",
        PropType::Enum(&["dynamic", "none", "static"]),
    )
    .def("static"),
    p("add-arp", B).def("false"),
    p("always-broadcast", B).def("false"),
    p("conflict-detection", B).def("true"),
    p("use-radius", PropType::Enum(&["accounting", "no", "yes"])).def("no"),
    p("lease-script", T).def(""),
    p("server-address", IP),
    p("relay", IP),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const DHCP_LEASE_PROPS: &[PropSpec] = &[
    // Console order as RouterOS 7 prints it (`print terse`, recorded).
    p("address", T).req(),
    p("mac-address", MAC),
    p("client-id", T),
    p("address-lists", T).def(""),
    p(
        "server",
        PropType::reference_or("/ip/dhcp-server", &["all"]),
    )
    .def("all"),
    p("dhcp-option", T).def(""),
    p("lease-time", DUR).def("0s"),
    p("always-broadcast", B),
    p("block-access", B).def("false"),
    p("rate-limit", T),
    p("use-src-mac", B).def("false"),
    p("insert-queue-before", T),
    p("status", T).def("waiting").ro(),
    p("expires-after", T).volatile(),
    p("last-seen", T).volatile(),
    p("age", T).volatile(),
    p("active-address", T).ro(),
    p("active-mac-address", T).ro(),
    p("active-client-id", T).ro(),
    p("active-server", T).ro(),
    p("host-name", T).ro(),
    p("radius", B).def("false").ro(),
    p("blocked", B).def("false").ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const DHCP_NETWORK_PROPS: &[PropSpec] = &[
    p("address", PropType::Ipv4Network).req(),
    p("gateway", PropType::Ipv4List),
    p("netmask", PropType::Int { min: 0, max: 32 }),
    p("dns-server", PropType::Ipv4List),
    p("domain", T),
    p("ntp-server", PropType::Ipv4List),
    p("wins-server", PropType::Ipv4List),
    p("dhcp-option", T),
    DYNAMIC,
    COMMENT,
];

const DHCP_CLIENT_PROPS: &[PropSpec] = &[
    p("interface", IFACE).req(),
    p(
        "add-default-route",
        PropType::Enum(&["no", "special-classless", "yes"]),
    )
    .def("yes"),
    p("default-route-distance", PropType::Int { min: 0, max: 255 }).def("1"),
    p("use-peer-dns", B).def("true"),
    p("use-peer-ntp", B).def("true"),
    p("script", T),
    p("status", T).def("searching...").ro(),
    p("address", T).ro(),
    p("gateway", T).ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const POOL_PROPS: &[PropSpec] = &[
    p("name", T),
    p("ranges", PropType::Ipv4Ranges).req(),
    p("next-pool", PropType::reference_or("/ip/pool", &["none"])),
    COMMENT,
];

const SERVICE_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("port", PORT),
    p("address", T).def(""),
    p(
        "certificate",
        PropType::reference_or("/certificate", &["none"]),
    ),
    p("tls-version", PropType::Enum(&["any", "only-1.2"])),
    p("vrf", T).def("main"),
    p("max-sessions", PropType::Int { min: 1, max: 1000 }).def("20"),
    INVALID,
    DYNAMIC,
    DISABLED,
];

macro_rules! firewall_props {
    ($action:expr, $($extra:expr),* $(,)?) => {
        // Console order as RouterOS prints it (`/ip firewall filter print`, recorded): the
        // action and its parameters, then the matchers.
        &[
            p("chain", T).req(),
            p("action", PropType::Enum($action)).def("accept"),
            $($extra,)*
            p("jump-target", T),
            p("address-list", T),
            p("address-list-timeout", PropType::DurationOr(&["none-dynamic", "none-static"])),
            p("connection-state", PropType::EnumSet(&[
                "established", "invalid", "new", "related", "untracked",
            ])),
            p("connection-nat-state", PropType::EnumSet(&["dstnat", "srcnat"])),
            p("protocol", T),
            p("src-address", PropType::Ipv4Match),
            p("dst-address", PropType::Ipv4Match),
            p("src-address-list", T),
            p("dst-address-list", T),
            p("in-interface-list", PropType::reference_match("/interface/list", &[])),
            p("out-interface-list", PropType::reference_match("/interface/list", &[])),
            p("src-port", PropType::Ports),
            p("dst-port", PropType::Ports),
            p("port", PropType::Ports),
            p("src-mac-address", MAC),
            p("in-interface", PropType::reference_match(
                "/interface",
                &["all-ethernet", "all-ppp", "all-vlan", "all-wireless"],
            )),
            p("out-interface", PropType::reference_match(
                "/interface",
                &["all-ethernet", "all-ppp", "all-vlan", "all-wireless"],
            )),
            p("ipsec-policy", T),
            p("src-address-type", T),
            p("dst-address-type", T),
            p("in-bridge-port", T),
            p("out-bridge-port", T),
            p("connection-mark", T),
            p("packet-mark", T),
            p("routing-mark", T),
            p("icmp-options", T),
            p("tcp-flags", T),
            p("tcp-mss", T),
            p("limit", T),
            p("dst-limit", T),
            p("connection-limit", T),
            p("connection-rate", T),
            p("connection-bytes", T),
            p("packet-size", T),
            p("layer7-protocol", T),
            p("content", T),
            p("tls-host", T),
            p("time", T),
            p("nth", T),
            p("random", PropType::Int { min: 1, max: 99 }),
            p("ttl", T),
            p("dscp", PropType::Int { min: 0, max: 63 }),
            p("priority", T),
            p("fragment", B),
            p("hotspot", T),
            p("log", B).def("false"),
            p("log-prefix", T).def(""),
            p("bytes", CNT).volatile(),
            p("packets", CNT).volatile(),
            INVALID,
            DYNAMIC,
            DISABLED,
            COMMENT,
        ]
    };
}

const FILTER_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "fasttrack-connection",
    "jump",
    "log",
    "passthrough",
    "reject",
    "return",
    "tarpit",
];

const NAT_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "dst-nat",
    "endpoint-independent-nat",
    "jump",
    "log",
    "masquerade",
    "netmap",
    "passthrough",
    "redirect",
    "return",
    "same",
    "src-nat",
];

const MANGLE_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "change-dscp",
    "change-mss",
    "change-ttl",
    "clear-df",
    "fasttrack-connection",
    "jump",
    "log",
    "mark-connection",
    "mark-packet",
    "mark-routing",
    "passthrough",
    "return",
    "route",
    "set-priority",
    "sniff-pc",
    "sniff-tzsp",
    "strip-ipv4-options",
];

const RAW_ACTIONS: &[&str] = &[
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "jump",
    "log",
    "notrack",
    "passthrough",
    "return",
];

const REJECT_WITH: PropType = PropType::Enum(&[
    "icmp-admin-prohibited",
    "icmp-host-prohibited",
    "icmp-host-unreachable",
    "icmp-net-prohibited",
    "icmp-network-unreachable",
    "icmp-port-unreachable",
    "icmp-protocol-unreachable",
    "tcp-reset",
]);

const FILTER_PROPS: &[PropSpec] = firewall_props!(
    FILTER_ACTIONS,
    p("reject-with", REJECT_WITH),
    p("hw-offload", B),
);

const NAT_PROPS: &[PropSpec] = firewall_props!(
    NAT_ACTIONS,
    p("to-addresses", PropType::Ipv4Match),
    p("to-ports", PropType::Ports),
);

const MANGLE_PROPS: &[PropSpec] = firewall_props!(
    MANGLE_ACTIONS,
    p("new-connection-mark", T),
    p("new-packet-mark", T),
    p("new-routing-mark", T),
    p("new-mss", T),
    p("new-ttl", T),
    p("new-dscp", PropType::Int { min: 0, max: 63 }),
    p("passthrough", B).def("true"),
);

const RAW_PROPS: &[PropSpec] = firewall_props!(RAW_ACTIONS,);

const FIREWALL_COLUMNS: &[&str] = &[
    "chain",
    "action",
    "src-address",
    "dst-address",
    "protocol",
    "dst-port",
    "in-interface",
    "in-interface-list",
    "out-interface-list",
];

const FIREWALL_FLAGS: &[FlagSpec] = &[F_DISABLED, F_INVALID, F_DYNAMIC];

const ADDRESS_LIST_PROPS: &[PropSpec] = &[
    p("list", T).req(),
    p("address", PropType::Host).req(),
    p("timeout", DUR),
    p("creation-time", T).volatile(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const CONNECTION_PROPS: &[PropSpec] = &[
    // Console order as RouterOS 7 prints it (`print terse`, recorded): addresses as `ip:port`
    // here and over REST; the console prints the port after each address.
    p("protocol", T).ro(),
    p("src-address", T).ro(),
    p("dst-address", T).ro(),
    p("reply-src-address", T).ro(),
    p("reply-dst-address", T).ro(),
    p("tcp-state", T).ro(),
    p("icmp-type", CNT).ro(),
    p("icmp-code", CNT).ro(),
    p("icmp-id", CNT).ro(),
    p("connection-type", T).ro(),
    p("connection-mark", T).ro(),
    p("timeout", T).volatile(),
    p("orig-packets", CNT).volatile(),
    p("orig-bytes", CNT).volatile(),
    p("orig-fasttrack-packets", CNT).def("0").volatile(),
    p("orig-fasttrack-bytes", CNT).def("0").volatile(),
    p("repl-packets", CNT).volatile(),
    p("repl-bytes", CNT).volatile(),
    p("repl-fasttrack-packets", CNT).def("0").volatile(),
    p("repl-fasttrack-bytes", CNT).def("0").volatile(),
    p("orig-rate", CNT).def("0").volatile(),
    p("repl-rate", CNT).def("0").volatile(),
    p("assured", B).ro(),
    p("seen-reply", B).ro(),
    p("confirmed", B).def("true").ro(),
    p("fasttrack", B).def("false").ro(),
    p("srcnat", B).ro(),
    p("dstnat", B).ro(),
    p("dying", B).def("false").ro(),
    p("expected", B).def("false").ro(),
];

const HOTSPOT_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("interface", IFACE).req(),
    p(
        "address-pool",
        PropType::reference_or("/ip/pool", &["none"]),
    )
    .def("none"),
    p("profile", T).def("default"),
    p("idle-timeout", PropType::DurationOr(&["none"])).def("5m"),
    p("keepalive-timeout", PropType::DurationOr(&["none"])).def("none"),
    p(
        "addresses-per-mac",
        PropType::IntOr {
            min: 1,
            max: 254,
            words: &["unlimited"],
        },
    )
    .def("2"),
    p("HTTPS", B).def("false").ro(),
    INVALID,
    DISABLED,
    COMMENT,
];

const CLOUD_PROPS: &[PropSpec] = &[
    p("ddns-enabled", PropType::Enum(&["auto", "no", "yes"])).def("no"),
    p("ddns-update-interval", PropType::DurationOr(&["none"])).def("none"),
    p("update-time", B).def("true"),
    p(
        "back-to-home-vpn",
        PropType::Enum(&["enabled", "revoked-and-disabled", "disabled"]),
    )
    .def("revoked-and-disabled"),
    p("public-address", T).ro(),
    p("dns-name", T).ro(),
    p("status", T).def("unknown").ro(),
];

// --------------------------------------------------------------------------------------------
// /ipv6, /queue, /ppp, /certificate, /routing, /snmp
// --------------------------------------------------------------------------------------------

const IPV6_ADDRESS_PROPS: &[PropSpec] = &[
    p("address", PropType::Ipv6Prefix).req(),
    p("from-pool", T),
    p("interface", IFACE).req(),
    p("actual-interface", T).ro(),
    p("eui-64", B).def("false"),
    p("advertise", B).def("true"),
    p("no-dad", B).def("false"),
    p("link-local", B).def("false").ro(),
    p("deprecated", B).def("false").ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const IPV6_ROUTE_PROPS: &[PropSpec] = &[
    p("dst-address", PropType::Ipv6Prefix).def("::/0"),
    p("gateway", T),
    p("distance", PropType::Int { min: 1, max: 255 }).def("1"),
    p("scope", PropType::Int { min: 0, max: 255 }).def("30"),
    p("target-scope", PropType::Int { min: 0, max: 255 }).def("10"),
    p("routing-table", T).def("main"),
    p("blackhole", B),
    p("active", B).ro(),
    p("static", B).ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const QUEUE_SIMPLE_PROPS: &[PropSpec] = &[
    p("name", T),
    p("target", T).req(),
    p("dst", T),
    p("parent", T).def("none"),
    p("packet-marks", T).def(""),
    p("priority", T).def("8/8"),
    p("queue", T).def("default-small/default-small"),
    p("limit-at", T).def("0/0"),
    p("max-limit", T).def("0/0"),
    p("burst-limit", T).def("0/0"),
    p("burst-threshold", T).def("0/0"),
    p("burst-time", T).def("0s/0s"),
    p("bucket-size", T).def("0.1/0.1"),
    p("bytes", T).def("0/0").volatile(),
    p("packets", T).def("0/0").volatile(),
    p("rate", T).def("0/0").volatile(),
    INVALID,
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const PPP_SECRET_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("password", T).sensitive(),
    p(
        "service",
        PropType::Enum(&["any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"]),
    )
    .def("any"),
    p("profile", PropType::reference("/ppp/profile")).def("default"),
    p("local-address", IP),
    p("remote-address", IP),
    p("routes", T),
    p("caller-id", T).def(""),
    p("limit-bytes-in", CNT).def("0"),
    p("limit-bytes-out", CNT).def("0"),
    p("last-logged-out", T).volatile(),
    p("last-caller-id", T).ro(),
    p("last-disconnect-reason", T).ro(),
    DISABLED,
    COMMENT,
];

const PPP_PROFILE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("local-address", T),
    p("remote-address", T),
    p("dns-server", PropType::Ipv4List),
    p(
        "use-encryption",
        PropType::Enum(&["default", "no", "required", "yes"]),
    )
    .def("default"),
    p("only-one", PropType::Enum(&["default", "no", "yes"])).def("default"),
    p("change-tcp-mss", PropType::Enum(&["default", "no", "yes"])).def("default"),
    p("rate-limit", T),
    p("default", B).def("false").ro(),
    COMMENT,
];

const PPP_ACTIVE_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("service", T).ro(),
    p("caller-id", T).ro(),
    p("address", T).ro(),
    p("encoding", T).ro(),
    p("session-id", T).ro(),
    p("limit-bytes-in", CNT).ro(),
    p("limit-bytes-out", CNT).ro(),
    p("radius", B).def("false").ro(),
    p("uptime", T).volatile(),
];

const CERTIFICATE_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("common-name", T),
    p("subject-alt-name", T),
    p("country", T),
    p("organization", T),
    p("unit", T),
    p(
        "key-size",
        PropType::Enum(&[
            "1024",
            "1536",
            "2048",
            "4096",
            "8192",
            "prime256v1",
            "secp384r1",
            "secp521r1",
        ]),
    )
    .def("2048"),
    p("days-valid", PropType::Int { min: 1, max: 36500 }).def("365"),
    p("key-usage", T),
    p("trusted", B).def("false"),
    p("key-type", T).def("rsa").ro(),
    p("digest-algorithm", T).def("sha256").ro(),
    p("issuer", T).ro(),
    p("serial-number", T).ro(),
    p("fingerprint", T).ro(),
    p("invalid-before", T).ro(),
    p("invalid-after", T).ro(),
    p("private-key", B).def("false").ro(),
    p("ca", B).def("false").ro(),
    p("expires-after", T).volatile(),
    COMMENT,
];

const BGP_CONNECTION_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("instance", T),
    p("as", T),
    p(
        "local.role",
        PropType::Enum(&[
            "ebgp",
            "ebgp-customer",
            "ebgp-peer",
            "ebgp-provider",
            "ebgp-rs",
            "ebgp-rs-client",
            "ibgp",
            "ibgp-rr",
            "ibgp-rr-client",
        ]),
    )
    .req(),
    p("local.address", T),
    p("remote.address", T),
    p("remote.as", T),
    p("router-id", T),
    p("routing-table", T).def("main"),
    p("hold-time", PropType::DurationOr(&["infinity"])).def("3m"),
    p("keepalive-time", DUR).def("1m"),
    p("multihop", B).def("false"),
    p("address-families", T).def("ip"),
    p("input.filter", T),
    p("output.filter-chain", T),
    p("output.network", T),
    p("connect", B).def("true"),
    p("listen", B).def("true"),
    p("templates", T).def("default"),
    p("inactive", B).def("false").ro(),
    DYNAMIC,
    DISABLED,
    COMMENT,
];

const OSPF_NEIGHBOR_PROPS: &[PropSpec] = &[
    p("instance", T).ro(),
    p("area", T).ro(),
    p("address", T).ro(),
    p("router-id", T).ro(),
    p("priority", CNT).ro(),
    p("dr", T).ro(),
    p("bdr", T).ro(),
    p("state", T).ro(),
    p("state-changes", CNT).ro(),
    p("adjacency", T).volatile(),
    p("timeout", T).volatile(),
];

const SNMP_PROPS: &[PropSpec] = &[
    p("enabled", B).def("false"),
    p("contact", T).def(""),
    p("location", T).def(""),
    p("engine-id-suffix", T).def(""),
    p("trap-community", T).def("public"),
    p("trap-version", PropType::Enum(&["1", "2", "3"])).def("1"),
    p("trap-generators", T).def("temp-exception"),
    p("trap-target", T).def(""),
    p("trap-interfaces", T).def(""),
    p("src-address", T).def("::"),
    p("vrf", T).def("main"),
];

const SNMP_COMMUNITY_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("addresses", T).def("::/0"),
    p(
        "security",
        PropType::Enum(&["authorized", "none", "private"]),
    )
    .def("none"),
    p("read-access", B).def("true"),
    p("write-access", B).def("false"),
    p("authentication-protocol", PropType::Enum(&["MD5", "SHA1"])).def("MD5"),
    p("encryption-protocol", PropType::Enum(&["AES", "DES"])).def("DES"),
    p("authentication-password", T).write_only().sensitive(),
    p("encryption-password", T).write_only().sensitive(),
    p("default", B).def("false").ro(),
    DISABLED,
    COMMENT,
];

// --------------------------------------------------------------------------------------------
// /system, /user, /log
// --------------------------------------------------------------------------------------------

const IDENTITY_PROPS: &[PropSpec] = &[p("name", T).def("MikroTik")];

const RESOURCE_PROPS: &[PropSpec] = &[
    p("uptime", T).volatile(),
    p("version", T).ro(),
    p("build-time", T).ro(),
    p("factory-software", T).ro(),
    p("free-memory", CNT).volatile(),
    p("total-memory", CNT).ro(),
    p("cpu", T).ro(),
    p("cpu-count", CNT).ro(),
    p("cpu-frequency", CNT).ro(),
    p("cpu-load", CNT).volatile(),
    p("free-hdd-space", CNT).ro(),
    p("total-hdd-space", CNT).ro(),
    p("write-sect-since-reboot", CNT).volatile(),
    p("write-sect-total", CNT).volatile(),
    p("bad-blocks", T).ro(),
    p("architecture-name", T).ro(),
    p("board-name", T).ro(),
    p("platform", T).ro(),
];

const ROUTERBOARD_PROPS: &[PropSpec] = &[
    p("routerboard", B).ro(),
    p("board-name", T).ro(),
    p("model", T).ro(),
    p("revision", T).ro(),
    p("serial-number", T).ro(),
    p("firmware-type", T).ro(),
    p("factory-firmware", T).ro(),
    p("current-firmware", T).ro(),
    p("upgrade-firmware", T).ro(),
];

const HEALTH_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("value", T).volatile(),
    p("type", T).ro(),
    p("base", T).hidden(),
];

const CLOCK_PROPS: &[PropSpec] = &[
    p("time", T).live(),
    p("date", T).live(),
    p("time-zone-autodetect", B).def("true"),
    p("time-zone-name", T).def("manual"),
    p("gmt-offset", T).volatile(),
    p("dst-active", B).volatile(),
];

const PACKAGE_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("version", T).ro(),
    p("build-time", T).ro(),
    p("scheduled", T).def("").ro(),
    p("size", CNT).ro(),
    p("available", B).def("false").ro(),
    p("disabled", B).def("false").ro(),
];

const SCHEDULER_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("start-date", T),
    p("start-time", T),
    p("interval", DUR).def("0s"),
    p("on-event", T).def(""),
    p("owner", T).ro(),
    p("policy", PropType::EnumSet(POLICIES)).def(SCRIPT_POLICY_DEFAULT),
    p("run-count", CNT).def("0").volatile(),
    p("next-run", T).volatile(),
    DISABLED,
    COMMENT,
];

const SCRIPT_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("owner", T),
    p("policy", PropType::EnumSet(POLICIES)).def(SCRIPT_POLICY_DEFAULT),
    p("dont-require-permissions", B).def("false"),
    p("source", T).def(""),
    p("last-started", T).volatile(),
    p("run-count", CNT).def("0").volatile(),
    INVALID,
    COMMENT,
];

const LOGGING_PROPS: &[PropSpec] = &[
    p("topics", T).req(),
    p("action", PropType::reference("/system/logging/action")).def("memory"),
    p("prefix", T).def(""),
    p("regex", T).def(""),
    p("default", B).def("false").ro(),
    INVALID,
    DYNAMIC,
    DISABLED,
];

const LOGGING_ACTION_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p(
        "target",
        PropType::Enum(&["disk", "echo", "email", "memory", "remote"]),
    )
    .req(),
    p("memory-lines", PropType::Int { min: 1, max: 65535 }).def("1000"),
    p("memory-stop-on-full", B).def("false"),
    p("disk-file-name", T).def("log"),
    p("disk-lines-per-file", PropType::Int { min: 1, max: 65535 }).def("1000"),
    p("disk-file-count", PropType::Int { min: 1, max: 65535 }).def("2"),
    p("remember", B).def("true"),
    p("remote", T).def("0.0.0.0"),
    p("remote-port", PORT).def("514"),
    p("src-address", IP).def("0.0.0.0"),
    p("bsd-syslog", B).def("false"),
    p("syslog-facility", T).def("daemon"),
    p("syslog-severity", T).def("auto"),
    p("default", B).def("false").ro(),
];

const HISTORY_PROPS: &[PropSpec] = &[
    p("action", T).ro(),
    p("by", T).ro(),
    p("policy", T).ro(),
    p("time", T).ro(),
    p("undoable", B).ro(),
    p("redoable", B).ro(),
    p("floating-undo", B).ro(),
];

const NTP_CLIENT_PROPS: &[PropSpec] = &[
    p("enabled", B).def("false"),
    p(
        "mode",
        PropType::Enum(&["broadcast", "manycast", "multicast", "unicast"]),
    )
    .def("unicast"),
    p("servers", T).def(""),
    p("vrf", T).def("main"),
    p("status", T).def("stopped").ro(),
];

const LOG_PROPS: &[PropSpec] = &[p("time", T).ro(), p("topics", T).ro(), p("message", T).ro()];

const USER_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("group", PropType::reference("/user/group")).req(),
    p("address", T).def(""),
    p("password", T).write_only().sensitive(),
    p("last-logged-in", T).volatile(),
    p("expired", B).def("false").ro(),
    p(
        "inactivity-policy",
        PropType::Enum(&["lockscreen", "logout", "none"]),
    )
    .def("none"),
    p("inactivity-timeout", DUR).def("10m"),
    DISABLED,
    COMMENT,
];

const USER_GROUP_PROPS: &[PropSpec] = &[
    p("name", T).req(),
    p("policy", PropType::EnumSet(POLICIES)).req(),
    p("skin", T).def("default"),
    COMMENT,
    p("builtin", B).hidden(),
];

/// The table. Order is stable (it orders dumps of equal paths nowhere, but keeps output
/// deterministic where menus are iterated).
pub static MENUS: &[MenuSpec] = &[
    // ---------------------------------------------------------------- /system
    MenuSpec::singleton("/system/identity", IDENTITY_PROPS),
    MenuSpec::singleton("/system/resource", RESOURCE_PROPS)
        .read_only()
        .compute(hooks::resource),
    MenuSpec::singleton("/system/routerboard", ROUTERBOARD_PROPS).read_only(),
    MenuSpec::list("/system/health", HEALTH_PROPS)
        .read_only()
        .columns(&["name", "value", "type"])
        .compute(hooks::health),
    MenuSpec::singleton("/system/clock", CLOCK_PROPS)
        .compute(hooks::clock)
        .on_write(hooks::write_clock),
    MenuSpec::list("/system/package", PACKAGE_PROPS)
        .read_only()
        .named()
        .columns(&["name", "version", "build-time", "size"])
        .flags(&[F_DISABLED]),
    MenuSpec::list("/system/scheduler", SCHEDULER_PROPS)
        .named()
        .columns(&[
            "name",
            "start-date",
            "start-time",
            "interval",
            "on-event",
            "run-count",
        ])
        .flags(&[F_DISABLED])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have scheduler item with such name",
        }])
        .on_write(hooks::write_scheduler),
    MenuSpec::list("/system/script", SCRIPT_PROPS)
        .named()
        .columns(&["name", "owner", "last-started", "run-count"])
        .flags(&[F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have script with such name",
        }])
        .on_write(hooks::write_script),
    MenuSpec::list("/system/logging", LOGGING_PROPS)
        .columns(&["topics", "action", "prefix"])
        .flags(&[F_DISABLED, F_INVALID, flag('*', "default", "default")]),
    MenuSpec::list("/system/logging/action", LOGGING_ACTION_PROPS)
        .named()
        .columns(&["name", "target", "remote"])
        .flags(&[flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "action with the same name already exists",
        }]),
    MenuSpec::list("/system/history", HISTORY_PROPS)
        .read_only()
        .columns(&["action", "by", "policy", "time"]),
    MenuSpec::singleton("/system/ntp/client", NTP_CLIENT_PROPS),
    // ---------------------------------------------------------------- /interface
    MenuSpec::list("/interface", INTERFACE_PROPS)
        .fixed()
        .named()
        .columns(&[
            "name",
            "type",
            "actual-mtu",
            "l2mtu",
            "max-l2mtu",
            "mac-address",
        ])
        .flags(IFACE_FLAGS)
        .unique(U_IFACE_NAME)
        .compute(hooks::interface)
        .not_dumped(),
    MenuSpec::list("/interface/ethernet", ETHERNET_PROPS)
        .view_of("/interface", "ether")
        .fixed()
        .named()
        .columns(&["name", "mtu", "mac-address", "arp", "switch"])
        .flags(&[F_RUNNING, F_SLAVE, F_DISABLED])
        .unique(U_IFACE_NAME)
        .compute(hooks::interface),
    MenuSpec::list("/interface/bridge", BRIDGE_PROPS)
        .view_of("/interface", "bridge")
        .named()
        .columns(&["name", "mtu", "actual-mtu", "l2mtu", "mac-address"])
        .flags(&[F_DISABLED, F_RUNNING])
        .unique(U_IFACE_NAME)
        .compute(hooks::interface)
        .on_write(hooks::write_bridge),
    MenuSpec::list("/interface/bridge/port", BRIDGE_PORT_PROPS)
        .columns(&["interface", "bridge", "hw", "pvid", "priority", "horizon"])
        .flags(&[
            F_DISABLED,
            F_INVALID,
            flag('I', "inactive", "inactive"),
            F_DYNAMIC,
            flag('H', "hw-offload", "hw-offload"),
        ])
        .unique(&[UniqueSpec {
            keys: &["interface"],
            message: "device already added as bridge port",
        }])
        .compute(hooks::bridge_port),
    MenuSpec::list("/interface/bridge/vlan", BRIDGE_VLAN_PROPS)
        .columns(&["bridge", "vlan-ids", "current-tagged", "current-untagged"])
        .flags(&[F_DISABLED, F_DYNAMIC])
        .compute(hooks::bridge_vlan),
    MenuSpec::list("/interface/vlan", VLAN_PROPS)
        .view_of("/interface", "vlan")
        .named()
        .columns(&["name", "mtu", "arp", "vlan-id", "interface"])
        .flags(&[F_DISABLED, F_RUNNING])
        .unique(U_IFACE_NAME)
        .compute(hooks::interface)
        .on_write(hooks::write_vlan),
    MenuSpec::list("/interface/wireguard", WIREGUARD_PROPS)
        .view_of("/interface", "wg")
        .named()
        .columns(&["name", "mtu", "listen-port", "public-key"])
        .flags(&[F_DISABLED, F_RUNNING])
        .unique(U_IFACE_NAME)
        .compute(hooks::interface)
        .on_write(hooks::write_wireguard),
    MenuSpec::list("/interface/wireguard/peers", WG_PEER_PROPS)
        .named()
        .columns(&[
            "name",
            "interface",
            "public-key",
            "endpoint-address",
            "endpoint-port",
            "allowed-address",
        ])
        .flags(&[F_DISABLED, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["interface", "public-key"],
            message: "peer with the same public key already exists",
        }])
        .compute(hooks::wg_peer)
        .on_write(hooks::write_wg_peer),
    MenuSpec::list("/interface/list", IFACE_LIST_PROPS)
        .named()
        .columns(&["name", "include", "exclude"])
        .flags(&[F_DYNAMIC, flag('*', "builtin", "builtin")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have interface list with such name",
        }]),
    MenuSpec::list("/interface/list/member", IFACE_LIST_MEMBER_PROPS)
        .columns(&["list", "interface"])
        .flags(&[F_DISABLED, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["list", "interface"],
            message: "already have such entry",
        }]),
    // ---------------------------------------------------------------- /ip
    MenuSpec::list("/ip/address", IP_ADDRESS_PROPS)
        .columns(&["address", "network", "interface"])
        .flags(&[F_DISABLED, F_INVALID, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["address", "interface"],
            message: "already have such address",
        }])
        .compute(hooks::address)
        .on_write(hooks::write_address),
    MenuSpec::list("/ip/route", IP_ROUTE_PROPS)
        .columns(&["dst-address", "gateway", "routing-table", "distance"])
        .flags(&[
            F_DYNAMIC,
            F_DISABLED,
            flag('I', "inactive", "inactive"),
            flag('A', "active", "active"),
            flag('c', "connect", "connect"),
            flag('s', "static", "static"),
            flag('H', "hw-offloaded", "hw-offloaded"),
            flag('+', "ecmp", "ecmp"),
        ])
        .compute(hooks::route),
    MenuSpec::list("/ip/arp", ARP_PROPS)
        .columns(&["address", "mac-address", "interface", "status"])
        .flags(&[
            F_DISABLED,
            F_INVALID,
            flag('H', "DHCP", "DHCP"),
            F_DYNAMIC,
            flag('P', "published", "published"),
            flag('C', "complete", "complete"),
        ])
        .unique(&[UniqueSpec {
            keys: &["address", "interface"],
            message: "already have such entry",
        }]),
    MenuSpec::list("/ip/neighbor", NEIGHBOR_PROPS)
        .read_only()
        .columns(&[
            "interface",
            "address",
            "mac-address",
            "identity",
            "version",
            "board",
        ])
        .compute(hooks::uptime_since),
    MenuSpec::singleton("/ip/dns", DNS_PROPS).compute(hooks::dns),
    MenuSpec::list("/ip/dns/static", DNS_STATIC_PROPS)
        .columns(&["name", "regexp", "type", "address", "ttl"])
        .flags(&[F_DYNAMIC, F_DISABLED])
        .unique(&[UniqueSpec {
            keys: &["name", "regexp", "type", "address", "cname", "forward-to"],
            message: "entry already exists",
        }]),
    MenuSpec::list("/ip/dhcp-server", DHCP_SERVER_PROPS)
        .named()
        .columns(&["name", "interface", "address-pool", "lease-time"])
        .flags(&[F_DYNAMIC, F_DISABLED, F_INVALID])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have dhcp server with such name",
        }])
        .on_write(hooks::write_dhcp_server),
    MenuSpec::list("/ip/dhcp-server/lease", DHCP_LEASE_PROPS)
        .columns(&[
            "address",
            "mac-address",
            "host-name",
            "server",
            "rate-limit",
            "status",
            "last-seen",
        ])
        .flags(&[
            F_DISABLED,
            flag('R', "radius", "radius"),
            F_DYNAMIC,
            flag('B', "blocked", "blocked"),
        ])
        .unique(&[UniqueSpec {
            keys: &["address", "server"],
            message: "already have static lease with this IP address",
        }])
        .compute(hooks::lease),
    MenuSpec::list("/ip/dhcp-server/network", DHCP_NETWORK_PROPS)
        .columns(&["address", "gateway", "dns-server"])
        .flags(&[F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["address"],
            message: "already have such entry",
        }]),
    MenuSpec::list("/ip/dhcp-client", DHCP_CLIENT_PROPS)
        .columns(&[
            "interface",
            "use-peer-dns",
            "add-default-route",
            "status",
            "address",
        ])
        .flags(&[F_DISABLED, F_INVALID, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["interface"],
            message: "dhcp-client already exists on this interface",
        }]),
    MenuSpec::list("/ip/pool", POOL_PROPS)
        .named()
        .columns(&["name", "ranges"])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "pool with such name exists",
        }])
        .on_write(hooks::write_pool),
    MenuSpec::list("/ip/service", SERVICE_PROPS)
        .fixed()
        .named()
        .columns(&[
            "name",
            "port",
            "address",
            "certificate",
            "vrf",
            "max-sessions",
        ])
        .flags(&[F_DISABLED, F_INVALID]),
    MenuSpec::ordered("/ip/firewall/filter", FILTER_PROPS)
        .columns(FIREWALL_COLUMNS)
        .flags(FIREWALL_FLAGS)
        .compute(hooks::firewall),
    MenuSpec::ordered("/ip/firewall/nat", NAT_PROPS)
        .columns(FIREWALL_COLUMNS)
        .flags(FIREWALL_FLAGS)
        .compute(hooks::firewall),
    MenuSpec::ordered("/ip/firewall/mangle", MANGLE_PROPS)
        .columns(FIREWALL_COLUMNS)
        .flags(FIREWALL_FLAGS)
        .compute(hooks::firewall),
    MenuSpec::ordered("/ip/firewall/raw", RAW_PROPS)
        .columns(FIREWALL_COLUMNS)
        .flags(FIREWALL_FLAGS)
        .compute(hooks::firewall),
    MenuSpec::list("/ip/firewall/address-list", ADDRESS_LIST_PROPS)
        .columns(&["list", "address", "creation-time"])
        .flags(&[F_DISABLED, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["list", "address"],
            message: "already have such entry",
        }])
        .on_write(hooks::write_address_list)
        .compute(hooks::address_list),
    MenuSpec::list("/ip/firewall/connection", CONNECTION_PROPS)
        .read_only()
        .columns(&[
            "protocol",
            "src-address",
            "dst-address",
            "tcp-state",
            "timeout",
        ])
        .flags(&[
            flag('E', "expected", "expected"),
            flag('S', "seen-reply", "seen-reply"),
            flag('A', "assured", "assured"),
            flag('C', "confirmed", "confirmed"),
            flag('D', "dying", "dying"),
            flag('F', "fasttrack", "fasttrack"),
            flag('s', "srcnat", "srcnat"),
            flag('d', "dstnat", "dstnat"),
        ])
        .compute(hooks::connection),
    MenuSpec::list("/ip/hotspot", HOTSPOT_PROPS)
        .named()
        .columns(&[
            "name",
            "interface",
            "address-pool",
            "profile",
            "idle-timeout",
        ])
        .flags(&[F_DISABLED, F_INVALID, flag('S', "HTTPS", "HTTPS")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have hotspot server with such name",
        }]),
    MenuSpec::singleton("/ip/cloud", CLOUD_PROPS),
    // ---------------------------------------------------------------- /ipv6
    MenuSpec::list("/ipv6/address", IPV6_ADDRESS_PROPS)
        .columns(&["address", "from-pool", "interface", "advertise"])
        .flags(&[
            F_DISABLED,
            F_INVALID,
            F_DYNAMIC,
            flag('L', "link-local", "link-local"),
        ])
        .unique(&[UniqueSpec {
            keys: &["address", "interface"],
            message: "already have such address",
        }]),
    MenuSpec::list("/ipv6/route", IPV6_ROUTE_PROPS)
        .columns(&["dst-address", "gateway", "distance"])
        .flags(&[
            F_DYNAMIC,
            F_DISABLED,
            flag('A', "active", "active"),
            flag('s', "static", "static"),
        ])
        .compute(hooks::route6),
    // ---------------------------------------------------------------- /queue
    MenuSpec::ordered("/queue/simple", QUEUE_SIMPLE_PROPS)
        .named()
        .columns(&["name", "target", "max-limit"])
        .flags(&[F_DISABLED, F_INVALID, F_DYNAMIC])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "already have queue with such name",
        }])
        .on_write(hooks::write_queue),
    // ---------------------------------------------------------------- /ppp
    MenuSpec::list("/ppp/secret", PPP_SECRET_PROPS)
        .named()
        .columns(&[
            "name",
            "service",
            "caller-id",
            "password",
            "profile",
            "remote-address",
        ])
        .flags(&[F_DISABLED])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "secret with the same name already exists",
        }]),
    MenuSpec::list("/ppp/profile", PPP_PROFILE_PROPS)
        .named()
        .columns(&["name", "local-address", "remote-address", "only-one"])
        .flags(&[flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "profile with the same name already exists",
        }]),
    MenuSpec::list("/ppp/active", PPP_ACTIVE_PROPS)
        .read_only()
        .columns(&["name", "service", "caller-id", "address", "uptime"])
        .flags(&[flag('R', "radius", "radius")])
        .compute(hooks::uptime_since),
    // ---------------------------------------------------------------- /certificate
    MenuSpec::list("/certificate", CERTIFICATE_PROPS)
        .named()
        .columns(&["name", "common-name", "subject-alt-name", "fingerprint"])
        .flags(&[
            flag('K', "private-key", "private-key"),
            flag('T', "trusted", "trusted"),
        ])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "certificate with the same name already exists",
        }]),
    // ---------------------------------------------------------------- /routing
    MenuSpec::list("/routing/bgp/connection", BGP_CONNECTION_PROPS)
        .named()
        .columns(&["name", "remote.address", "remote.as", "local.role"])
        .flags(&[F_DISABLED, flag('I', "inactive", "inactive")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "connection with such name already exists",
        }]),
    MenuSpec::list("/routing/ospf/neighbor", OSPF_NEIGHBOR_PROPS)
        .read_only()
        .columns(&[
            "instance",
            "area",
            "address",
            "router-id",
            "state",
            "state-changes",
        ]),
    // ---------------------------------------------------------------- /snmp
    MenuSpec::singleton("/snmp", SNMP_PROPS),
    MenuSpec::list("/snmp/community", SNMP_COMMUNITY_PROPS)
        .named()
        .columns(&[
            "name",
            "addresses",
            "security",
            "read-access",
            "write-access",
        ])
        .flags(&[F_DISABLED, flag('*', "default", "default")])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "community with the same name already exists",
        }]),
    // ---------------------------------------------------------------- /user, /log
    MenuSpec::list("/user", USER_PROPS)
        .named()
        .columns(&["name", "group", "address", "last-logged-in"])
        .flags(&[F_DISABLED])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "user with the same name already exists",
        }]),
    MenuSpec::list("/user/group", USER_GROUP_PROPS)
        .named()
        .columns(&["name", "policy", "skin"])
        .unique(&[UniqueSpec {
            keys: &["name"],
            message: "group with the same name already exists",
        }]),
    MenuSpec::list("/log", LOG_PROPS)
        .read_only()
        .columns(&["time", "topics", "message"]),
    super::files::FILE_MENU,
];
