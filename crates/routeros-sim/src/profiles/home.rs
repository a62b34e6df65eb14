//! The `home` profile: a hAP ax²-class home/office router with RouterOS's default
//! configuration (`defconf`), a WireGuard tunnel and a few DHCP clients.

use super::{Builder, Hardware};
use crate::model::RosError;

const HW: Hardware = Hardware {
    board: "hAP ax^2",
    model: "C52iG-5HaxD2HaxD",
    architecture: "arm64",
    cpu: "ARM64",
    cpu_count: 4,
    cpu_frequency: 864,
    total_memory: 1_073_741_824,
    total_hdd: 134_217_728,
    firmware_type: "ipq6000",
    factory_software: "7.10",
    health: &[
        ("cpu-temperature", "48", "C"),
        ("board-temperature1", "41", "C"),
    ],
};

const HOSTS: &[&str] = &[
    "laptop-anna",
    "iphone-tom",
    "printer",
    "tv-living",
    "nas",
    "desktop",
    "tablet",
    "doorbell",
    "thermostat",
    "console",
];

pub(super) fn build(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.base(&HW)?;
    b.ether("ether1", true, "1500", "1568")?;
    b.ether("ether2", true, "1500", "1568")?;
    let mut rng = b.params.rng("home-links");
    for n in 3..=5 {
        let link = rng.chance(0.5);
        b.ether(&format!("ether{n}"), link, "1500", "1568")?;
    }
    let bridge_mac = b.mac();
    b.add(
        "/interface/bridge",
        &[
            ("name", "bridge"),
            ("admin-mac", &bridge_mac),
            ("auto-mac", "false"),
            ("mac-address", &bridge_mac),
            ("comment", "defconf"),
        ],
    )?;
    for n in 2..=5 {
        b.add(
            "/interface/bridge/port",
            &[
                ("bridge", "bridge"),
                ("interface", &format!("ether{n}")),
                ("comment", "defconf"),
            ],
        )?;
    }
    let wg_private = crate::model::wg_private_key(b.params.device_seed(), 1);
    let wg_public = crate::model::wg_public_key(&wg_private);
    b.add(
        "/interface/wireguard",
        &[
            ("name", "wg0"),
            ("listen-port", "13231"),
            ("private-key", &wg_private),
            ("public-key", &wg_public),
            ("comment", "road warriors"),
        ],
    )?;
    // Road warriors, connected: RouterOS shows where each last connected from.
    let mut rng = b.params.rng("home-wg-peers");
    for (i, name) in ["phone", "laptop"].iter().enumerate() {
        let key = crate::model::wg_public_key(&crate::model::wg_private_key(
            b.params.device_seed(),
            100 + i as u64,
        ));
        let allowed = format!("10.100.0.{}/32", i + 2);
        let from = format!("192.0.2.{}", 10 + rng.below(240));
        let port = (32_768 + rng.below(28_000)).to_string();
        b.add(
            "/interface/wireguard/peers",
            &[
                ("name", name),
                ("interface", "wg0"),
                ("public-key", &key),
                ("allowed-address", &allowed),
                ("client-address", &allowed),
                ("current-endpoint-address", &from),
                ("current-endpoint-port", &port),
            ],
        )?;
    }
    b.add(
        "/interface/list",
        &[("name", "WAN"), ("comment", "defconf")],
    )?;
    b.add(
        "/interface/list",
        &[("name", "LAN"), ("comment", "defconf")],
    )?;
    b.add(
        "/interface/list/member",
        &[
            ("list", "LAN"),
            ("interface", "bridge"),
            ("comment", "defconf"),
        ],
    )?;
    b.add(
        "/interface/list/member",
        &[
            ("list", "WAN"),
            ("interface", "ether1"),
            ("comment", "defconf"),
        ],
    )?;

    // Addresses and routes: ether1 is both the WAN and the management port.
    b.management("ether1", "0.0.0.0/0")?;
    b.add(
        "/ip/address",
        &[
            ("address", "192.168.88.1/24"),
            ("network", "192.168.88.0"),
            ("interface", "bridge"),
            ("comment", "defconf"),
        ],
    )?;
    b.add(
        "/ip/address",
        &[
            ("address", "10.100.0.1/24"),
            ("network", "10.100.0.0"),
            ("interface", "wg0"),
        ],
    )?;
    b.add(
        "/ip/dns",
        &[
            ("servers", "1.1.1.1,9.9.9.9"),
            ("allow-remote-requests", "true"),
        ],
    )?;
    b.add(
        "/ip/dns/static",
        &[
            ("name", "router.lan"),
            ("address", "192.168.88.1"),
            ("comment", "defconf"),
        ],
    )?;
    b.add(
        "/ip/pool",
        &[
            ("name", "default-dhcp"),
            ("ranges", "192.168.88.10-192.168.88.254"),
        ],
    )?;
    b.add(
        "/ip/dhcp-server",
        &[
            ("name", "defconf"),
            ("interface", "bridge"),
            ("address-pool", "default-dhcp"),
            ("lease-time", "30m"),
        ],
    )?;
    b.add(
        "/ip/dhcp-server/network",
        &[
            ("address", "192.168.88.0/24"),
            ("gateway", "192.168.88.1"),
            ("dns-server", "192.168.88.1"),
            ("comment", "defconf"),
        ],
    )?;
    let mut rng = b.params.rng("home-leases");
    let clients = 4 + rng.below(5) as usize;
    for (i, host) in HOSTS.iter().take(clients).enumerate() {
        let mac = Builder::client_mac(&mut rng);
        let ip = format!("192.168.88.{}", 254 - i);
        if i < 2 {
            b.add(
                "/ip/dhcp-server/lease",
                &[
                    ("address", &ip),
                    ("mac-address", &mac),
                    ("server", "defconf"),
                    ("comment", host),
                    ("status", "bound"),
                    ("active-address", &ip),
                    ("active-mac-address", &mac),
                    ("active-server", "defconf"),
                    ("host-name", host),
                ],
            )?;
        } else {
            b.add(
                "/ip/dhcp-server/lease",
                &[
                    ("address", &ip),
                    ("mac-address", &mac),
                    ("server", "defconf"),
                    ("dynamic", "true"),
                    ("status", "bound"),
                    ("active-address", &ip),
                    ("active-mac-address", &mac),
                    ("active-server", "defconf"),
                    ("host-name", host),
                ],
            )?;
        }
        b.add(
            "/ip/arp",
            &[
                ("address", &ip),
                ("mac-address", &mac),
                ("interface", "bridge"),
                ("dynamic", "true"),
                ("status", "reachable"),
                ("DHCP", "true"),
            ],
        )?;
    }
    let gw = b.params.mgmt_gateway.to_string();
    let gw_mac = Builder::client_mac(&mut rng);
    b.add(
        "/ip/arp",
        &[
            ("address", &gw),
            ("mac-address", &gw_mac),
            ("interface", "ether1"),
            ("dynamic", "true"),
            ("status", "reachable"),
        ],
    )?;
    b.add(
        "/ip/neighbor",
        &[
            ("interface", "ether1"),
            ("address", &gw),
            ("address4", &gw),
            ("mac-address", &gw_mac),
            ("identity", "upstream-gw"),
            ("platform", "MikroTik"),
            ("version", "7.18.2 (stable)"),
            ("unpack", "none"),
            ("software-id", "8QWE-7TZ2"),
            ("board", "CCR2004-1G-12S+2XS"),
            ("interface-name", "sfp-sfpplus3"),
            (
                "system-description",
                "MikroTik RouterOS 7.18.2 (stable) CCR2004-1G-12S+2XS",
            ),
            ("system-caps", "bridge,router"),
            ("system-caps-enabled", "bridge,router"),
            ("discovered-by", "mndp"),
            ("ipv6", "false"),
        ],
    )?;

    defconf_firewall(b)?;
    b.add(
        "/ip/firewall/address-list",
        &[
            ("list", "trusted"),
            ("address", "192.168.88.0/24"),
            ("creation-time", "2025-07-30 09:10:00"),
        ],
    )?;
    for (i, a) in ["198.51.100.23", "203.0.113.77", "192.0.2.200"]
        .iter()
        .enumerate()
    {
        b.add(
            "/ip/firewall/address-list",
            &[
                ("list", "blocklist"),
                ("address", a),
                ("comment", &format!("scanner {}", i + 1)),
                ("creation-time", "2025-07-30 09:10:00"),
            ],
        )?;
    }
    for (i, (proto, dst, port, state)) in [
        ("tcp", "142.250.74.46", "443", "established"),
        ("udp", "1.1.1.1", "53", ""),
        ("tcp", "140.82.121.4", "443", "established"),
        ("tcp", "17.253.144.10", "80", "time-wait"),
    ]
    .iter()
    .enumerate()
    {
        let src_port = 50_000 + i * 7;
        let src = format!("192.168.88.{}:{src_port}", 254 - i);
        let dst = format!("{dst}:{port}");
        // Masqueraded out of ether1: the reply comes back to the WAN address.
        let wan = format!("{}:{src_port}", b.params.mgmt_address);
        let mut props = vec![
            ("protocol", *proto),
            ("src-address", src.as_str()),
            ("dst-address", dst.as_str()),
            ("reply-src-address", dst.as_str()),
            ("reply-dst-address", wan.as_str()),
            ("assured", "true"),
            ("seen-reply", "true"),
            ("srcnat", "true"),
            ("dstnat", "false"),
        ];
        if !state.is_empty() {
            props.push(("tcp-state", state));
        }
        b.add("/ip/firewall/connection", &props)?;
    }
    b.add(
        "/ipv6/address",
        &[
            ("address", "fe80::1/64"),
            ("interface", "bridge"),
            ("dynamic", "true"),
            ("link-local", "true"),
            ("advertise", "false"),
        ],
    )?;
    b.boot_log(&["ether1", "ether2"]);
    Ok(())
}

/// RouterOS's default firewall for a home router, with an accept rule for management traffic
/// arriving on the WAN port (how these routers are managed remotely).
fn defconf_firewall(b: &mut Builder<'_>) -> Result<(), RosError> {
    let filter: &[&[(&str, &str)]] = &[
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
            ("comment", "defconf: accept established,related,untracked"),
        ],
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("connection-state", "invalid"),
            ("comment", "defconf: drop invalid"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("protocol", "icmp"),
            ("comment", "defconf: accept ICMP"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("dst-address", "127.0.0.1"),
            ("comment", "defconf: accept to local loopback (for CAPsMAN)"),
        ],
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("in-interface", "ether1"),
            ("protocol", "tcp"),
            ("dst-port", "22,80,443"),
            ("comment", "management"),
        ],
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("in-interface-list", "!LAN"),
            ("comment", "defconf: drop all not coming from LAN"),
        ],
        &[
            ("chain", "forward"),
            ("action", "accept"),
            ("ipsec-policy", "in,ipsec"),
            ("comment", "defconf: accept in ipsec policy"),
        ],
        &[
            ("chain", "forward"),
            ("action", "accept"),
            ("ipsec-policy", "out,ipsec"),
            ("comment", "defconf: accept out ipsec policy"),
        ],
        &[
            ("chain", "forward"),
            ("action", "fasttrack-connection"),
            ("connection-state", "established,related"),
            ("hw-offload", "true"),
            ("comment", "defconf: fasttrack"),
        ],
        &[
            ("chain", "forward"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
            ("comment", "defconf: accept established,related, untracked"),
        ],
        &[
            ("chain", "forward"),
            ("action", "drop"),
            ("connection-state", "invalid"),
            ("comment", "defconf: drop invalid"),
        ],
        &[
            ("chain", "forward"),
            ("action", "drop"),
            ("connection-state", "new"),
            ("connection-nat-state", "!dstnat"),
            ("in-interface-list", "WAN"),
            ("comment", "defconf: drop all from WAN not DSTNATed"),
        ],
    ];
    for rule in filter {
        b.add("/ip/firewall/filter", rule)?;
    }
    b.add(
        "/ip/firewall/nat",
        &[
            ("chain", "srcnat"),
            ("action", "masquerade"),
            ("out-interface-list", "WAN"),
            ("ipsec-policy", "out,none"),
            ("comment", "defconf: masquerade"),
        ],
    )?;
    Ok(())
}
