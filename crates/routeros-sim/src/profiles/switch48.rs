//! The `switch48` profile: a CRS354-class 48-port switch. `ether1` is the dedicated
//! management port; `ether2`–`ether48` are access ports in three VLANs of a VLAN-filtering
//! bridge; the four SFP+ ports are trunks.

use super::{Builder, Hardware};
use crate::model::RosError;

const HW: Hardware = Hardware {
    board: "CRS354-48G-4S+2Q+",
    model: "CRS354-48G-4S+2Q+",
    architecture: "arm",
    cpu: "ARMv7",
    cpu_count: 2,
    cpu_frequency: 800,
    total_memory: 536_870_912,
    total_hdd: 16_777_216,
    firmware_type: "dx3230L",
    factory_software: "7.12",
    health: &[
        ("fan1-speed", "3870", "RPM"),
        ("fan2-speed", "3900", "RPM"),
        ("psu1-state", "ok", ""),
        ("switch-temperature", "52", "C"),
        ("voltage", "24.0", "V"),
    ],
};

/// `(vlan id, name, first access port, last access port)`.
const VLANS: &[(u16, &str, u32, u32)] = &[
    (10, "office", 2, 16),
    (20, "voice", 17, 32),
    (30, "cameras", 33, 48),
];

pub(super) fn build(b: &mut Builder<'_>) -> Result<(), RosError> {
    b.base(&HW)?;
    let mut rng = b.params.rng("switch-links");
    let mut up = vec!["ether1".to_string()];
    b.ether("ether1", true, "1500", "1592")?;
    for n in 2..=48 {
        let name = format!("ether{n}");
        let link = rng.chance(0.6);
        if link {
            up.push(name.clone());
        }
        b.ether(&name, link, "1500", "1592")?;
    }
    for n in 1..=4 {
        let name = format!("sfp-sfpplus{n}");
        b.ether(&name, n <= 2, "1500", "1592")?;
    }
    let bridge_mac = b.mac();
    b.add(
        "/interface/bridge",
        &[
            ("name", "bridge"),
            ("vlan-filtering", "true"),
            ("admin-mac", &bridge_mac),
            ("auto-mac", "false"),
            ("mac-address", &bridge_mac),
            ("igmp-snooping", "true"),
        ],
    )?;
    for (vid, label, first, last) in VLANS {
        let pvid = vid.to_string();
        for n in *first..=*last {
            b.add(
                "/interface/bridge/port",
                &[
                    ("bridge", "bridge"),
                    ("interface", &format!("ether{n}")),
                    ("pvid", &pvid),
                    ("frame-types", "admit-only-untagged-and-priority-tagged"),
                    ("comment", label),
                ],
            )?;
        }
    }
    for n in 1..=4 {
        b.add(
            "/interface/bridge/port",
            &[
                ("bridge", "bridge"),
                ("interface", &format!("sfp-sfpplus{n}")),
                ("frame-types", "admit-only-vlan-tagged"),
                ("comment", "trunk"),
            ],
        )?;
    }
    let trunks = "bridge,sfp-sfpplus1,sfp-sfpplus2,sfp-sfpplus3,sfp-sfpplus4";
    for (vid, label, first, last) in VLANS {
        let untagged: Vec<String> = (*first..=*last).map(|n| format!("ether{n}")).collect();
        b.add(
            "/interface/bridge/vlan",
            &[
                ("bridge", "bridge"),
                ("vlan-ids", &vid.to_string()),
                ("tagged", trunks),
                ("untagged", &untagged.join(",")),
                ("comment", label),
            ],
        )?;
    }
    b.add(
        "/interface/bridge/vlan",
        &[
            ("bridge", "bridge"),
            ("vlan-ids", "99"),
            ("tagged", "bridge,sfp-sfpplus1"),
            ("comment", "in-band management"),
        ],
    )?;
    let vlan_mac = bridge_mac.clone();
    b.add(
        "/interface/vlan",
        &[
            ("name", "vlan99-mgmt"),
            ("interface", "bridge"),
            ("vlan-id", "99"),
            ("mac-address", &vlan_mac),
        ],
    )?;
    b.management("ether1", "0.0.0.0/0")?;
    b.add(
        "/ip/address",
        &[
            ("address", "10.99.0.2/24"),
            ("network", "10.99.0.0"),
            ("interface", "vlan99-mgmt"),
            ("comment", "in-band management"),
        ],
    )?;
    b.add("/ip/dns", &[("servers", "10.99.0.1")])?;
    b.add(
        "/ip/firewall/filter",
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("connection-state", "established,related"),
        ],
    )?;
    b.add(
        "/ip/firewall/filter",
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("in-interface", "ether1"),
            ("comment", "management"),
        ],
    )?;
    b.add(
        "/ip/firewall/filter",
        &[
            ("chain", "input"),
            ("action", "accept"),
            ("in-interface", "vlan99-mgmt"),
            ("comment", "in-band management"),
        ],
    )?;
    b.add(
        "/ip/firewall/filter",
        &[
            ("chain", "input"),
            ("action", "drop"),
            ("comment", "drop everything else"),
        ],
    )?;
    b.add(
        "/snmp",
        &[
            ("enabled", "true"),
            ("contact", "noc@example.net"),
            ("location", "rack A3"),
        ],
    )?;
    let mut rng = b.params.rng("switch-neighbors");
    for (i, port) in up.iter().skip(1).take(6).enumerate() {
        let mac = Builder::client_mac(&mut rng);
        let (identity, platform, board) = if i == 0 {
            ("core-sw1", "MikroTik", "CRS326-24S+2Q+")
        } else {
            ("ap-floor", "MikroTik", "cAP ax")
        };
        let identity = if i == 0 {
            identity.to_string()
        } else {
            format!("{identity}{i}")
        };
        b.add(
            "/ip/neighbor",
            &[
                ("interface", &format!("{port},bridge")),
                ("mac-address", &mac),
                ("identity", &identity),
                ("platform", platform),
                ("version", "7.19.4 (stable)"),
                ("board", board),
                ("system-caps", "bridge,router"),
                ("system-caps-enabled", "bridge"),
                ("discovered-by", "lldp,mndp"),
                ("ipv6", "false"),
            ],
        )?;
    }
    let up_refs: Vec<&str> = up.iter().map(String::as_str).take(4).collect();
    b.boot_log(&up_refs);
    Ok(())
}
