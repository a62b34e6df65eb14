//! Deterministic starting configurations: what a freshly started simulated router contains.
//!
//! - `home`: a small home/office router (hAP ax² class): five ports, a LAN bridge, DHCP,
//!   default firewall, a WireGuard tunnel.
//! - `switch48`: a 48-port switch (CRS354 class): every port in a VLAN-filtering bridge,
//!   access and trunk ports, a handful of VLANs.
//! - `edge`: an edge firewall (CCR2004 class) at scale: ≥ 5,000 filter rules, a 10,000-entry
//!   address list, 500 DHCP leases and ≥ 20,000 routes — what token budgets and pagination are
//!   tested against.
//!
//! Everything is derived from the fleet seed and the device index through [`SimRng`] streams,
//! so the same seed produces byte-identical state dumps on every run and every machine. Each
//! profile puts the management path in place realistically: the management address on `ether1`
//! (a `/24`) and a route covering the clients through a gateway in that `/24` (see
//! [`crate::model::management_path_ok`]).

mod edge;
mod extras;
mod home;
mod switch48;

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::clock::SimClock;
use crate::model::{RosError, RosId, RouterState, SimRng, mix};

/// The RouterOS version every profile reports.
pub const ROUTEROS_VERSION: &str = "7.19.4";

/// A starting configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Small home/office router.
    Home,
    /// 48-port switch.
    Switch48,
    /// Large edge firewall.
    Edge,
}

impl Profile {
    /// Every profile.
    pub const ALL: &'static [Profile] = &[Profile::Home, Profile::Switch48, Profile::Edge];

    /// The profile's name as used on the command line and in manifests.
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Home => "home",
            Profile::Switch48 => "switch48",
            Profile::Edge => "edge",
        }
    }

    /// Builds the configuration of one device.
    pub fn build(self, params: &ProfileParams, clock: SimClock) -> Result<RouterState, RosError> {
        let mut state = RouterState::new(clock, params.device_seed());
        let mut b = Builder::new(&mut state, params);
        match self {
            Profile::Home => home::build(&mut b)?,
            Profile::Switch48 => switch48::build(&mut b)?,
            Profile::Edge => edge::build(&mut b)?,
        }
        extras::build(self, &mut b)?;
        Ok(state)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown profile name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}` (expected one of: home, switch48, edge)")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, UnknownProfile> {
        match s.trim().to_ascii_lowercase().as_str() {
            "home" => Ok(Profile::Home),
            "switch48" => Ok(Profile::Switch48),
            "edge" => Ok(Profile::Edge),
            other => Err(UnknownProfile(other.to_string())),
        }
    }
}

/// What makes one device of a fleet different from the next.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileParams {
    /// The fleet seed.
    pub seed: u64,
    /// The device's position in the fleet (0-based).
    pub index: u32,
    /// `/system/identity` name (`sim-0001`).
    pub identity: String,
    /// The address the device is managed on (and listens on).
    pub mgmt_address: Ipv4Addr,
    /// Prefix length of the management network.
    pub mgmt_prefix: u8,
    /// The gateway in the management network that routes to clients.
    pub mgmt_gateway: Ipv4Addr,
    /// The administrator login.
    pub username: String,
    /// The administrator password.
    pub password: String,
}

impl fmt::Debug for ProfileParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileParams")
            .field("seed", &self.seed)
            .field("index", &self.index)
            .field("identity", &self.identity)
            .field("mgmt_address", &self.mgmt_address)
            .field("mgmt_prefix", &self.mgmt_prefix)
            .field("mgmt_gateway", &self.mgmt_gateway)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl ProfileParams {
    /// Parameters for a standalone device at `mgmt_address` (gateway `.254` of its `/24`).
    pub fn standalone(seed: u64, mgmt_address: Ipv4Addr, password: &str) -> Self {
        let o = mgmt_address.octets();
        ProfileParams {
            seed,
            index: 0,
            identity: "sim-0001".into(),
            mgmt_address,
            mgmt_prefix: 24,
            mgmt_gateway: Ipv4Addr::new(o[0], o[1], o[2], 254),
            username: "admin".into(),
            password: password.into(),
        }
    }

    /// The seed of this device's own generated values.
    pub fn device_seed(&self) -> u64 {
        mix(self.seed ^ mix(u64::from(self.index).wrapping_add(0x5EED)))
    }

    /// An independent random stream for one purpose.
    pub fn rng(&self, purpose: &str) -> SimRng {
        SimRng::derive(self.device_seed(), purpose)
    }
}

/// Hardware facts a profile reports in `/system/resource` and `/system/routerboard`.
pub(crate) struct Hardware {
    pub board: &'static str,
    pub model: &'static str,
    pub architecture: &'static str,
    pub cpu: &'static str,
    pub cpu_count: u32,
    pub cpu_frequency: u32,
    pub total_memory: u64,
    pub total_hdd: u64,
    pub firmware_type: &'static str,
    pub factory_software: &'static str,
    /// `(name, base value, unit)` sensors.
    pub health: &'static [(&'static str, &'static str, &'static str)],
}

/// Helper the profile builders write through.
pub(crate) struct Builder<'a> {
    pub state: &'a mut RouterState,
    pub params: &'a ProfileParams,
    mac_base: u64,
    mac_next: u64,
}

const MIKROTIK_OUIS: &[u32] = &[
    0x48A98A, 0x4C5E0C, 0x64D154, 0x744D28, 0xB869F4, 0xCC2DE0, 0xD4CA6D, 0xDC2C6E, 0xE48D8C,
    0x18FD74, 0x2CC81B,
];

impl<'a> Builder<'a> {
    fn new(state: &'a mut RouterState, params: &'a ProfileParams) -> Self {
        let mut rng = params.rng("mac");
        let oui = u64::from(*rng.pick(MIKROTIK_OUIS));
        let nic = rng.below(0x00FF_0000);
        Builder {
            state,
            params,
            mac_base: (oui << 24) | nic,
            mac_next: 0,
        }
    }

    /// Inserts a trusted item.
    pub fn add(&mut self, path: &str, props: &[(&str, &str)]) -> Result<RosId, RosError> {
        self.state.insert_raw(path, props)
    }

    /// The next MAC address of this device's consecutive block.
    pub fn mac(&mut self) -> String {
        let m = self.mac_base + self.mac_next;
        self.mac_next += 1;
        let b = m.to_be_bytes();
        format!(
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[2], b[3], b[4], b[5], b[6], b[7]
        )
    }

    /// A random-looking client MAC address (not from the device's block).
    pub fn client_mac(rng: &mut SimRng) -> String {
        let b: [u8; 6] = rng.bytes();
        format!(
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            (b[0] & 0xFC) | 0x02,
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        )
    }

    /// An ethernet port; `link` says whether a cable is plugged in.
    pub fn ether(
        &mut self,
        name: &str,
        link: bool,
        mtu: &str,
        l2mtu: &str,
    ) -> Result<RosId, RosError> {
        let mac = self.mac();
        self.add(
            "/interface/ethernet",
            &[
                ("name", name),
                ("default-name", name),
                ("mtu", mtu),
                ("l2mtu", l2mtu),
                ("mac-address", &mac),
                ("orig-mac-address", &mac),
                ("link", if link { "true" } else { "false" }),
                ("switch", "switch1"),
            ],
        )
    }

    /// Everything every RouterOS device has: identity, system facts, users and groups,
    /// services, logging, interface lists, the HTTPS certificate.
    pub fn base(&mut self, hw: &Hardware) -> Result<(), RosError> {
        let p = self.params;
        self.add("/system/identity", &[("name", &p.identity)])?;
        let total_mem = hw.total_memory.to_string();
        let total_hdd = hw.total_hdd.to_string();
        let free_hdd = (hw.total_hdd * 2 / 3).to_string();
        let cpu_count = hw.cpu_count.to_string();
        let cpu_freq = hw.cpu_frequency.to_string();
        let version = format!("{ROUTEROS_VERSION} (stable)");
        let sect_total = (10_000 + self.params.rng("sectors").below(500_000)).to_string();
        self.add(
            "/system/resource",
            &[
                ("version", &version),
                ("build-time", "2025-07-30 09:05:43"),
                ("factory-software", hw.factory_software),
                ("total-memory", &total_mem),
                ("cpu", hw.cpu),
                ("cpu-count", &cpu_count),
                ("cpu-frequency", &cpu_freq),
                ("free-hdd-space", &free_hdd),
                ("total-hdd-space", &total_hdd),
                ("write-sect-total", &sect_total),
                ("bad-blocks", "0"),
                ("architecture-name", hw.architecture),
                ("board-name", hw.board),
                ("platform", "MikroTik"),
            ],
        )?;
        let mut rng = self.params.rng("serial");
        let serial: String = (0..12)
            .map(|_| {
                let d = rng.below(36) as u8;
                char::from(if d < 10 { b'0' + d } else { b'A' + d - 10 })
            })
            .collect();
        self.add(
            "/system/routerboard",
            &[
                ("routerboard", "true"),
                ("board-name", hw.board),
                ("model", hw.model),
                ("revision", "r2"),
                ("serial-number", &serial),
                ("firmware-type", hw.firmware_type),
                ("factory-firmware", hw.factory_software),
                ("current-firmware", ROUTEROS_VERSION),
                ("upgrade-firmware", ROUTEROS_VERSION),
            ],
        )?;
        for (name, base, unit) in hw.health {
            self.add(
                "/system/health",
                &[
                    ("name", name),
                    ("base", base),
                    ("value", base),
                    ("type", unit),
                ],
            )?;
        }
        self.add(
            "/system/package",
            &[
                ("name", "routeros"),
                ("version", ROUTEROS_VERSION),
                ("build-time", "2025-07-30 09:05:43"),
                ("size", "13660160"),
            ],
        )?;
        self.add(
            "/system/ntp/client",
            &[("enabled", "true"), ("servers", "pool.ntp.org")],
        )?;
        for (name, target) in [
            ("memory", "memory"),
            ("disk", "disk"),
            ("echo", "echo"),
            ("remote", "remote"),
        ] {
            self.add(
                "/system/logging/action",
                &[("name", name), ("target", target), ("default", "true")],
            )?;
        }
        for (topics, action) in [
            ("info", "memory"),
            ("error", "memory"),
            ("warning", "memory"),
            ("critical", "echo"),
        ] {
            self.add(
                "/system/logging",
                &[("topics", topics), ("action", action), ("default", "true")],
            )?;
        }
        let all: String = crate::model::POLICIES.join(",");
        let read = "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api";
        let write = "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api";
        for (name, policy) in [("read", read), ("write", write), ("full", all.as_str())] {
            self.add(
                "/user/group",
                &[("name", name), ("policy", policy), ("builtin", "true")],
            )?;
        }
        self.add(
            "/user",
            &[
                ("name", &p.username),
                ("group", "full"),
                ("password", &p.password),
                ("comment", "system default user"),
            ],
        )?;
        self.add(
            "/certificate",
            &[
                ("name", "sim-https"),
                ("common-name", &p.identity),
                ("subject-alt-name", &format!("IP:{}", p.mgmt_address)),
                ("key-size", "prime256v1"),
                ("days-valid", "36500"),
                ("trusted", "true"),
                ("private-key", "true"),
                ("key-type", "ed25519"),
                ("issuer", &format!("CN={}", p.identity)),
                ("invalid-before", "1975-01-01 00:00:00"),
                ("invalid-after", "4096-01-01 00:00:00"),
            ],
        )?;
        for (name, port, disabled, cert) in [
            ("telnet", "23", "true", None),
            ("ftp", "21", "true", None),
            ("www", "80", "false", None),
            ("ssh", "22", "false", None),
            ("www-ssl", "443", "false", Some("sim-https")),
            ("api", "8728", "false", None),
            ("winbox", "8291", "false", None),
            ("api-ssl", "8729", "false", Some("sim-https")),
        ] {
            let mut props = vec![("name", name), ("port", port), ("disabled", disabled)];
            if let Some(c) = cert {
                props.push(("certificate", c));
                props.push(("tls-version", "any"));
            }
            self.add("/ip/service", &props)?;
        }
        for name in ["all", "none", "dynamic", "static"] {
            self.add("/interface/list", &[("name", name), ("builtin", "true")])?;
        }
        for (name, enc) in [("default", "default"), ("default-encryption", "yes")] {
            self.add(
                "/ppp/profile",
                &[("name", name), ("use-encryption", enc), ("default", "true")],
            )?;
        }
        self.add(
            "/snmp/community",
            &[("name", "public"), ("default", "true")],
        )?;
        Ok(())
    }

    /// The management path: `addr/prefix` on `iface`, and a route covering the clients
    /// (`dst`) through the management gateway.
    pub fn management(&mut self, iface: &str, dst: &str) -> Result<(), RosError> {
        let p = self.params;
        let addr = format!("{}/{}", p.mgmt_address, p.mgmt_prefix);
        let net = crate::model::mask(p.mgmt_address, p.mgmt_prefix).to_string();
        self.add(
            "/ip/address",
            &[
                ("address", &addr),
                ("network", &net),
                ("interface", iface),
                ("comment", "management"),
            ],
        )?;
        let gw = p.mgmt_gateway.to_string();
        self.add(
            "/ip/route",
            &[
                ("dst-address", dst),
                ("gateway", &gw),
                ("comment", "management"),
            ],
        )?;
        Ok(())
    }

    /// Boot messages in `/log`.
    pub fn boot_log(&mut self, up_links: &[&str]) {
        self.state.log("system,info", "router rebooted");
        for l in up_links {
            self.state.log(
                "interface,info",
                &format!("{l} link up (speed 1G, full duplex)"),
            );
        }
    }
}

/// The allocation rule for device addresses: consecutive from `base`, skipping host parts
/// `0`, `254` (the management gateway) and `255`.
pub fn device_address(base: Ipv4Addr, index: u32) -> Option<Ipv4Addr> {
    let mut a = u32::from(base);
    let mut left = index;
    loop {
        let last = a & 0xFF;
        if last != 0 && last != 254 && last != 255 {
            if left == 0 {
                break;
            }
            left -= 1;
        }
        a = a.checked_add(1)?;
    }
    let ip = Ipv4Addr::from(a);
    ip.is_loopback().then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_addresses_skip_gateway_and_broadcast() {
        let base = Ipv4Addr::new(127, 0, 1, 1);
        assert_eq!(device_address(base, 0), Some(Ipv4Addr::new(127, 0, 1, 1)));
        assert_eq!(
            device_address(base, 252),
            Some(Ipv4Addr::new(127, 0, 1, 253))
        );
        assert_eq!(device_address(base, 253), Some(Ipv4Addr::new(127, 0, 2, 1)));
        assert_eq!(device_address(Ipv4Addr::new(127, 255, 255, 253), 1), None);
    }

    #[test]
    fn profile_names_parse() {
        assert_eq!("Edge".parse::<Profile>(), Ok(Profile::Edge));
        assert!("router".parse::<Profile>().is_err());
    }
}
