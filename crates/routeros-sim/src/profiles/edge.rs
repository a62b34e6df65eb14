//! The `edge` profile: a CCR2004-class edge firewall at production scale — 5,000+ filter
//! rules, a 10,000-entry address list, 500 DHCP leases and 20,000+ routes.
//!
//! `ether1` is an out-of-band management port; a route for `127.0.0.0/8` (where simulator
//! clients live) points at the management gateway while the default route leaves through the
//! WAN port, as on a real router with a dedicated management network.

use std::net::Ipv4Addr;

use super::{Builder, Hardware};
use crate::model::RosError;

const HW: Hardware = Hardware {
    board: "CCR2004-1G-12S+2XS",
    model: "CCR2004-1G-12S+2XS",
    architecture: "arm64",
    cpu: "ARM64",
    cpu_count: 4,
    cpu_frequency: 1700,
    total_memory: 4_227_858_432,
    total_hdd: 134_217_728,
    firmware_type: "al52400",
    factory_software: "7.6",
    health: &[
        ("fan1-speed", "5100", "RPM"),
        ("fan2-speed", "5160", "RPM"),
        ("psu1-state", "ok", ""),
        ("psu2-state", "ok", ""),
        ("cpu-temperature", "55", "C"),
        ("sfp-temperature", "43", "C"),
        ("board-temperature1", "39", "C"),
    ],
};

/// Number of static customer routes (plus default, management and connected routes).
pub const ROUTES: u32 = 20_000;
/// Number of customer filter rules (plus the base rules around them).
pub const CUSTOMER_RULES: u32 = 5_000;
/// Entries of the `blocklist` address list (three smaller lists come with it).
pub const ADDRESS_LIST_ENTRIES: u32 = 10_000;
/// DHCP leases.
pub const LEASES: u32 = 500;

const SERVICES: &[(&str, &str, &str)] = &[
    ("ssh", "tcp", "22"),
    ("smtp", "tcp", "25"),
    ("dns", "udp", "53"),
    ("http", "tcp", "80"),
    ("ntp", "udp", "123"),
    ("https", "tcp", "443"),
    ("submission", "tcp", "587"),
    ("imaps", "tcp", "993"),
    ("rdp", "tcp", "3389"),
    ("alt-http", "tcp", "8080"),
];

fn customer_prefix(i: u32) -> Ipv4Addr {
    // An odd multiplier permutes 0..32768, so the 20,000 /24s inside 10.128.0.0/9 are distinct.
    let k = (i.wrapping_mul(7919)) % 32_768;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 128, 0, 0)) + (k << 8))
}

pub(super) fn build(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.base(&HW)?;
    b.ether("ether1", true, "1500", "1568")?;
    for n in 1..=12 {
        b.ether(&format!("sfp-sfpplus{n}"), n <= 3, "1500", "1580")?;
    }
    for n in 1..=2 {
        b.ether(&format!("sfp28-{n}"), false, "1500", "1580")?;
    }
    for v in 0..20u32 {
        let vid = (100 + v).to_string();
        b.add(
            "/interface/vlan",
            &[
                ("name", &format!("vlan{vid}")),
                ("interface", "sfp-sfpplus3"),
                ("vlan-id", &vid),
                ("comment", &format!("customer segment {v}")),
            ],
        )?;
    }
    for (name, members) in [
        ("WAN", &["sfp-sfpplus1"][..]),
        ("LAN", &["sfp-sfpplus2", "sfp-sfpplus3"][..]),
    ] {
        b.add("/interface/list", &[("name", name)])?;
        for m in members {
            b.add(
                "/interface/list/member",
                &[("list", name), ("interface", m)],
            )?;
        }
    }

    b.management("ether1", "127.0.0.0/8")?;
    b.add(
        "/ip/address",
        &[
            ("address", "203.0.113.2/30"),
            ("network", "203.0.113.0"),
            ("interface", "sfp-sfpplus1"),
            ("comment", "uplink"),
        ],
    )?;
    b.add(
        "/ip/address",
        &[
            ("address", "10.0.0.1/22"),
            ("network", "10.0.0.0"),
            ("interface", "sfp-sfpplus2"),
            ("comment", "LAN"),
        ],
    )?;
    for v in 0..20u32 {
        b.add(
            "/ip/address",
            &[
                ("address", &format!("10.100.{v}.1/24")),
                ("network", &format!("10.100.{v}.0")),
                ("interface", &format!("vlan{}", 100 + v)),
            ],
        )?;
    }
    b.add(
        "/ip/route",
        &[
            ("dst-address", "0.0.0.0/0"),
            ("gateway", "203.0.113.1"),
            ("comment", "uplink"),
        ],
    )?;
    routes(b)?;
    firewall(b)?;
    address_lists(b)?;
    dhcp(b)?;
    extras(b)?;
    b.boot_log(&["ether1", "sfp-sfpplus1", "sfp-sfpplus2", "sfp-sfpplus3"]);
    Ok(())
}

fn routes(b: &mut Builder<'_>) -> Result<(), RosError> {
    let mut rng = b.params.rng("edge-routes");
    for i in 0..ROUTES {
        let dst = format!("{}/24", customer_prefix(i));
        let mut props: Vec<(&str, String)> = vec![("dst-address", dst)];
        if i % 97 == 96 {
            props.push(("blackhole", "true".into()));
        } else {
            let gw = Ipv4Addr::new(10, 0, 0, 2 + (rng.below(8) as u8));
            props.push(("gateway", gw.to_string()));
        }
        if i % 50 == 49 {
            props.push(("distance", "2".into()));
        }
        if i % 500 == 499 {
            props.push(("disabled", "true".into()));
        }
        if i % 10 == 0 {
            props.push(("comment", format!("cust-{i:05}")));
        }
        let refs: Vec<(&str, &str)> = props.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.add("/ip/route", &refs)?;
    }
    Ok(())
}

fn firewall(b: &mut Builder<'_>) -> Result<(), RosError> {
    let head: &[&[(&str, &str)]] = &[
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
            ("comment", "accept established,related,untracked"),
        ],
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("connection-state", "invalid"),
            ("comment", "drop invalid"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("in-interface", "ether1"),
            ("comment", "management"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("protocol", "icmp"),
            ("comment", "accept ICMP"),
        ],
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("src-address-list", "blocklist"),
            ("comment", "drop blocklisted"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("protocol", "tcp"),
            ("dst-port", "179"),
            ("src-address", "203.0.113.1"),
            ("comment", "BGP from upstream"),
        ],
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("in-interface-list", "!LAN"),
            ("comment", "drop all not coming from LAN"),
        ],
        &[
            ("chain", "forward"),
            ("action", "fasttrack-connection"),
            ("connection-state", "established,related"),
            ("hw-offload", "true"),
            ("comment", "fasttrack"),
        ],
        &[
            ("chain", "forward"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
            ("comment", "accept established,related,untracked"),
        ],
        &[
            ("chain", "forward"),
            ("action", "drop"),
            ("connection-state", "invalid"),
            ("comment", "drop invalid"),
        ],
        &[
            ("chain", "forward"),
            ("action", "drop"),
            ("src-address-list", "blocklist"),
            ("comment", "drop blocklisted sources"),
        ],
        &[
            ("chain", "forward"),
            ("action", "jump"),
            ("jump-target", "cust-fwd"),
            ("in-interface-list", "LAN"),
            ("comment", "per-customer policy"),
        ],
    ];
    for rule in head {
        b.add("/ip/firewall/filter", rule)?;
    }
    let mut rng = b.params.rng("edge-rules");
    for i in 0..CUSTOMER_RULES {
        let (svc, proto, port) = *rng.pick(SERVICES);
        let action = if i % 7 == 6 { "drop" } else { "accept" };
        let src = format!("{}/24", customer_prefix(i % ROUTES));
        let comment = format!("cust-{i:05} {action} {svc}");
        let mut rule: Vec<(&str, &str)> = vec![
            ("chain", "cust-fwd"),
            ("action", action),
            ("src-address", &src),
            ("protocol", proto),
            ("dst-port", port),
            ("comment", &comment),
        ];
        if i % 100 == 99 {
            rule.push(("disabled", "true"));
        }
        if i % 250 == 0 {
            rule.push(("log", "true"));
            rule.push(("log-prefix", "cust-"));
        }
        b.add("/ip/firewall/filter", &rule)?;
    }
    let tail: &[&[(&str, &str)]] = &[
        &[
            ("chain", "cust-fwd"),
            ("action", "return"),
            ("comment", "end of customer policy"),
        ],
        &[
            ("chain", "forward"),
            ("action", "drop"),
            ("connection-state", "new"),
            ("connection-nat-state", "!dstnat"),
            ("in-interface-list", "WAN"),
            ("comment", "drop all from WAN not DSTNATed"),
        ],
    ];
    for rule in tail {
        b.add("/ip/firewall/filter", rule)?;
    }
    b.add(
        "/ip/firewall/nat",
        &[
            ("chain", "srcnat"),
            ("action", "masquerade"),
            ("out-interface", "sfp-sfpplus1"),
            ("comment", "masquerade to uplink"),
        ],
    )?;
    for i in 0..50u32 {
        let port = (10_000 + i).to_string();
        let to = format!("10.0.0.{}", 20 + i);
        b.add(
            "/ip/firewall/nat",
            &[
                ("chain", "dstnat"),
                ("action", "dst-nat"),
                ("in-interface", "sfp-sfpplus1"),
                ("protocol", "tcp"),
                ("dst-port", &port),
                ("to-addresses", &to),
                ("to-ports", "22"),
                ("comment", &format!("port forward {i}")),
            ],
        )?;
    }
    for i in 0..20u32 {
        let mark = format!("cust-{i}");
        let src = format!("10.100.{i}.0/24");
        b.add(
            "/ip/firewall/mangle",
            &[
                ("chain", "prerouting"),
                ("action", "mark-connection"),
                ("src-address", &src),
                ("new-connection-mark", &mark),
                ("passthrough", "true"),
            ],
        )?;
    }
    for (i, list) in ["blocklist", "bogons"].iter().enumerate() {
        b.add(
            "/ip/firewall/raw",
            &[
                ("chain", "prerouting"),
                ("action", "drop"),
                ("src-address-list", list),
                ("in-interface", "sfp-sfpplus1"),
                ("comment", &format!("raw drop {list} ({i})")),
            ],
        )?;
    }
    Ok(())
}

fn address_lists(b: &mut Builder<'_>) -> Result<(), RosError> {
    let created = "2025-07-30 09:12:00";
    for i in 0..ADDRESS_LIST_ENTRIES {
        // Odd multiplier modulo 2^24: distinct addresses inside 45.0.0.0/8.
        let off = i.wrapping_mul(2_654_435_761) & 0x00FF_FFFF;
        let ip = Ipv4Addr::from(0x2D00_0000 | off);
        b.add(
            "/ip/firewall/address-list",
            &[
                ("list", "blocklist"),
                ("address", &ip.to_string()),
                ("creation-time", created),
            ],
        )?;
    }
    for i in 0..500u32 {
        let k = (i.wrapping_mul(37)) % 4096;
        let net = Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 0, 0)) + (k << 8));
        b.add(
            "/ip/firewall/address-list",
            &[
                ("list", "allowlist"),
                ("address", &format!("{net}/24")),
                ("creation-time", created),
            ],
        )?;
    }
    for i in 0..500u32 {
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 1)) + i * 3);
        b.add(
            "/ip/firewall/address-list",
            &[
                ("list", "customers"),
                ("address", &ip.to_string()),
                ("comment", &format!("cust-{i:05}")),
                ("creation-time", created),
            ],
        )?;
    }
    for bogon in [
        "0.0.0.0/8",
        "169.254.0.0/16",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "224.0.0.0/4",
    ] {
        b.add(
            "/ip/firewall/address-list",
            &[
                ("list", "bogons"),
                ("address", bogon),
                ("creation-time", created),
            ],
        )?;
    }
    Ok(())
}

fn dhcp(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.add(
        "/ip/pool",
        &[("name", "lan-pool"), ("ranges", "10.0.1.10-10.0.3.250")],
    )?;
    b.add(
        "/ip/dhcp-server",
        &[
            ("name", "lan-dhcp"),
            ("interface", "sfp-sfpplus2"),
            ("address-pool", "lan-pool"),
            ("lease-time", "1h"),
        ],
    )?;
    b.add(
        "/ip/dhcp-server/network",
        &[
            ("address", "10.0.0.0/22"),
            ("gateway", "10.0.0.1"),
            ("dns-server", "10.0.0.1"),
            ("domain", "lan.example.net"),
        ],
    )?;
    let mut rng = b.params.rng("edge-leases");
    let base = u32::from(Ipv4Addr::new(10, 0, 1, 10));
    for i in 0..LEASES {
        let ip = Ipv4Addr::from(base + i).to_string();
        let mac = Builder::client_mac(&mut rng);
        let host = format!("host-{i:03}");
        let mut props: Vec<(&str, &str)> = vec![
            ("address", &ip),
            ("mac-address", &mac),
            ("server", "lan-dhcp"),
            ("status", "bound"),
            ("active-address", &ip),
            ("active-mac-address", &mac),
            ("active-server", "lan-dhcp"),
            ("host-name", &host),
        ];
        let comment = format!("reserved {host}");
        if i < 100 {
            props.push(("comment", &comment));
        } else {
            props.push(("dynamic", "true"));
        }
        b.add("/ip/dhcp-server/lease", &props)?;
        if i % 8 == 0 {
            b.add(
                "/ip/arp",
                &[
                    ("address", &ip),
                    ("mac-address", &mac),
                    ("interface", "sfp-sfpplus2"),
                    ("dynamic", "true"),
                    ("status", "reachable"),
                    ("DHCP", "true"),
                ],
            )?;
        }
    }
    Ok(())
}

fn extras(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.add(
        "/ip/dns",
        &[
            ("servers", "203.0.113.53,198.51.100.53"),
            ("allow-remote-requests", "true"),
            ("cache-size", "8192"),
        ],
    )?;
    for i in 0..20u32 {
        b.add(
            "/ip/dns/static",
            &[
                ("name", &format!("srv{i}.lan.example.net")),
                ("address", &format!("10.0.0.{}", 100 + i)),
            ],
        )?;
    }
    b.add(
        "/routing/bgp/connection",
        &[
            ("name", "upstream-a"),
            ("as", "64512"),
            ("local.role", "ebgp"),
            ("remote.address", "203.0.113.1"),
            ("remote.as", "64500"),
            ("router-id", "203.0.113.2"),
        ],
    )?;
    b.add(
        "/routing/bgp/connection",
        &[
            ("name", "upstream-b"),
            ("as", "64512"),
            ("local.role", "ebgp"),
            ("remote.address", "198.51.100.1"),
            ("remote.as", "64501"),
            ("router-id", "203.0.113.2"),
            ("disabled", "true"),
        ],
    )?;
    for (i, addr) in ["10.0.0.2", "10.0.0.3"].iter().enumerate() {
        b.add(
            "/routing/ospf/neighbor",
            &[
                ("instance", "default-v2"),
                ("area", "backbone"),
                ("address", addr),
                ("router-id", &format!("10.255.0.{}", i + 1)),
                ("priority", "1"),
                ("state", "Full"),
                ("state-changes", "6"),
                ("dr", "10.0.0.2"),
                ("bdr", "10.0.0.3"),
            ],
        )?;
    }
    let mut rng = b.params.rng("edge-ppp");
    for i in 0..50u32 {
        let pw: [u8; 6] = rng.bytes();
        let name = format!("pppoe-{i:03}");
        let remote = format!("100.96.0.{}", 10 + i);
        b.add(
            "/ppp/secret",
            &[
                ("name", &name),
                ("password", &hex::encode(pw)),
                ("service", "pppoe"),
                ("remote-address", &remote),
                ("local-address", "100.96.0.1"),
            ],
        )?;
        if i < 20 {
            let mac = Builder::client_mac(&mut rng);
            b.add(
                "/ppp/active",
                &[
                    ("name", &name),
                    ("service", "pppoe"),
                    ("caller-id", &mac),
                    ("address", &remote),
                    ("encoding", ""),
                    ("session-id", &format!("0x{:X}", 0x8100 + i)),
                ],
            )?;
        }
    }
    for i in 0..100u32 {
        let target = format!("{}/24", customer_prefix(i));
        b.add(
            "/queue/simple",
            &[
                ("name", &format!("cust-{i:05}")),
                ("target", &target),
                ("max-limit", "100M/100M"),
            ],
        )?;
    }
    b.add(
        "/system/script",
        &[
            ("name", "health-check"),
            ("owner", "admin"),
            ("source", ":log info \"health check ok\""),
        ],
    )?;
    b.add(
        "/system/script",
        &[
            ("name", "report-uptime"),
            ("owner", "admin"),
            ("source", ":log info [/system resource get uptime]"),
        ],
    )?;
    b.add(
        "/system/scheduler",
        &[
            ("name", "hourly-health"),
            ("start-date", "2025-07-30"),
            ("start-time", "00:00:00"),
            ("interval", "1h"),
            ("on-event", "/system script run health-check"),
            ("owner", "admin"),
        ],
    )?;
    b.add(
        "/snmp",
        &[
            ("enabled", "true"),
            ("contact", "noc@example.net"),
            ("location", "edge POP 1"),
        ],
    )?;
    let mut rng = b.params.rng("edge-neighbors");
    for i in 0..10u32 {
        let mac = Builder::client_mac(&mut rng);
        let addr = format!("10.0.0.{}", 2 + i);
        b.add(
            "/ip/neighbor",
            &[
                ("interface", "sfp-sfpplus2"),
                ("address", &addr),
                ("address4", &addr),
                ("mac-address", &mac),
                ("identity", &format!("dist-sw{i}")),
                ("platform", "MikroTik"),
                ("version", "7.19.4 (stable)"),
                ("unpack", "none"),
                (
                    "software-id",
                    &format!("{:04X}-{:04X}", 0x5A10 + i, 0x3C00 + i),
                ),
                ("board", "CRS326-24G-2S+"),
                ("interface-name", "sfp-sfpplus1"),
                (
                    "system-description",
                    "MikroTik RouterOS 7.19.4 (stable) CRS326-24G-2S+",
                ),
                ("system-caps", "bridge,router"),
                ("system-caps-enabled", "bridge"),
                ("discovered-by", "lldp,mndp"),
                ("ipv6", "false"),
            ],
        )?;
        b.add(
            "/ip/arp",
            &[
                ("address", &addr),
                ("mac-address", &mac),
                ("interface", "sfp-sfpplus2"),
                ("dynamic", "true"),
                ("status", "reachable"),
            ],
        )?;
    }
    let mut rng = b.params.rng("edge-conns");
    for i in 0..100u32 {
        let src_port = 40_000 + rng.below(20_000);
        let src = format!("10.0.{}.{}:{src_port}", 1 + i % 3, 10 + i);
        // Masqueraded out of the uplink.
        let wan = format!("203.0.113.2:{src_port}");
        let dst = format!(
            "{}:{}",
            Ipv4Addr::from(0x0808_0000 | (rng.below(65_536) as u32)),
            rng.pick(&["443", "80", "53"])
        );
        b.add(
            "/ip/firewall/connection",
            &[
                ("protocol", "tcp"),
                ("src-address", &src),
                ("dst-address", &dst),
                ("reply-src-address", &dst),
                ("reply-dst-address", &wan),
                ("tcp-state", "established"),
                ("assured", "true"),
                ("seen-reply", "true"),
                ("srcnat", "true"),
                ("dstnat", "false"),
            ],
        )?;
    }
    b.add(
        "/ipv6/address",
        &[
            ("address", "2001:db8:0:1::1/64"),
            ("interface", "sfp-sfpplus2"),
            ("advertise", "true"),
        ],
    )?;
    b.add(
        "/ipv6/route",
        &[
            ("dst-address", "::/0"),
            ("gateway", "2001:db8::1"),
            ("comment", "uplink"),
        ],
    )?;
    Ok(())
}
