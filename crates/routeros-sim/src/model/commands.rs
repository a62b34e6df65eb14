//! Diagnostic and system commands that are not menu edits: `ping`, `traceroute`,
//! `interface monitor-traffic` and `system reboot`.
//!
//! Results follow from the configuration: a ping succeeds when the routing snapshot has a
//! path to the target (a connected network or an active route), and fails with `timeout` when a
//! blackhole or missing route drops it. Round-trip times are deterministic per device seed and
//! target. The model only computes replies; pacing (one probe per `interval` of simulated time)
//! is the caller's job, using [`ToolOutput::pacing`], because REST answers all at once while the
//! console prints as probes arrive.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::error::RosError;
use super::render::Record;
use super::rng::{hash_str, mix};
use super::routing::{Egress, Routing};
use super::spec::menu;
use super::state::RouterState;
use super::value::{format_duration, parse_bool, parse_duration};

/// A command outside the menu verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tool {
    /// `/ping` (also `/tool/ping`).
    Ping,
    /// `/tool/traceroute`.
    Traceroute,
    /// `/interface/monitor-traffic`.
    MonitorTraffic,
    /// `/system/reboot`.
    Reboot,
}

impl Tool {
    /// The tool a command path names (`/ping`, `/tool/traceroute`, …).
    pub fn from_path(path: &str) -> Option<Tool> {
        let canonical: Vec<&str> = path.split(['/', ' ']).filter(|s| !s.is_empty()).collect();
        match canonical.as_slice() {
            ["ping"] | ["tool", "ping"] => Some(Tool::Ping),
            ["tool", "traceroute"] => Some(Tool::Traceroute),
            ["interface", "monitor-traffic"] => Some(Tool::MonitorTraffic),
            ["system", "reboot"] => Some(Tool::Reboot),
            _ => None,
        }
    }
}

/// Something the device must do after a command (the model cannot reboot itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// Reboot the device.
    Reboot,
}

/// The reply of a tool.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolOutput {
    /// Reply records in order.
    pub records: Vec<Record>,
    /// Simulated time between consecutive records (a real router emits one probe per
    /// interval); zero when the reply is immediate.
    pub pacing: Duration,
    /// A device action to perform after replying.
    pub effect: Option<Effect>,
    /// The command would run until interrupted (no `count`, `once` or `duration`): REST
    /// cannot answer it (RouterOS ends such requests after 60 s with `Session closed`); the
    /// console keeps printing until Ctrl-C. `records` then holds the first few replies.
    pub unbounded: bool,
}

fn arg<'a, K: AsRef<str>, V: AsRef<str>>(args: &'a [(K, V)], name: &str) -> Option<&'a str> {
    args.iter()
        .find(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref())
}

fn check_known<K: AsRef<str>, V: AsRef<str>>(
    args: &[(K, V)],
    known: &[&str],
) -> Result<(), RosError> {
    for (k, _) in args {
        if !known.contains(&k.as_ref()) {
            return Err(RosError::UnknownParameter(k.as_ref().to_string()));
        }
    }
    Ok(())
}

fn count_arg<K: AsRef<str>, V: AsRef<str>>(args: &[(K, V)]) -> Result<Option<u32>, RosError> {
    match arg(args, "count") {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| RosError::InvalidValue("count".into())),
    }
}

/// How many replies an unbounded command returns up front.
const UNBOUNDED_PREVIEW: u32 = 3;

impl RouterState {
    /// Resolves a ping/traceroute target as the router's resolver does: an IPv4 address as is;
    /// a name from `/ip/dns/static` first (an enabled entry answers before anything upstream is
    /// asked); otherwise through the first upstream server (`servers`, else `dynamic-servers`)
    /// when one answers from the router. The simulated internet's answer is a stable address in
    /// 203.0.113.0/24 derived from the name; names under the reserved `.invalid` top-level
    /// domain do not exist. Without an upstream server that answers, a name that is not static
    /// does not resolve, as on RouterOS.
    pub fn resolve_target(&self, target: &str) -> Result<Ipv4Addr, RosError> {
        let target = target.trim();
        if let Ok(ip) = target.parse::<Ipv4Addr>() {
            return Ok(ip);
        }
        let no_record = || RosError::Failure("dns name exists, but no appropriate record".into());
        if let Some(ip) = self
            .items_of("/ip/dns/static")
            .filter(|it| !it.is_true("disabled"))
            .find(|it| it.get("name") == Some(target))
            .and_then(|it| it.get("address"))
            .and_then(|a| a.parse().ok())
        {
            return Ok(ip);
        }
        let Some(dns) = self.items_of("/ip/dns").next() else {
            return Err(no_record());
        };
        let first = |key: &str| {
            dns.get(key)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .find_map(|s| s.parse::<Ipv4Addr>().ok())
        };
        let Some(upstream) = first("servers").or_else(|| first("dynamic-servers")) else {
            return Err(no_record());
        };
        let routing = Routing::build(self);
        if self.probe_rtt(&routing, upstream, 0).is_none() {
            return Err(RosError::Failure(
                "could not get answer from dns server".into(),
            ));
        }
        let name = target.trim_end_matches('.').to_ascii_lowercase();
        if name.ends_with(".invalid") || name == "invalid" || !name.contains('.') {
            return Err(no_record());
        }
        let host = 1 + (hash_str(&name) % 254) as u8;
        Ok(Ipv4Addr::new(203, 0, 113, host))
    }

    /// Whether the device is one of the router's own addresses.
    fn is_local(&self, routing: &Routing, ip: Ipv4Addr) -> bool {
        ip.is_loopback() && routing.connected.is_empty()
            || routing.connected.iter().any(|c| c.address == ip)
    }

    /// Round-trip time of one probe to `dst`, or `None` when it would time out.
    fn probe_rtt(&self, routing: &Routing, dst: Ipv4Addr, seq: u32) -> Option<u64> {
        let jitter = mix(self.seed() ^ u64::from(u32::from(dst)) ^ (u64::from(seq) << 40));
        if self.is_local(routing, dst) {
            return Some(20 + jitter % 30);
        }
        match routing.egress(self, dst)? {
            Egress::Blackhole => None,
            Egress::Connected { .. } => Some(300 + jitter % 400),
            Egress::Via { .. } => {
                let base = 2_000 + mix(self.seed() ^ u64::from(u32::from(dst))) % 38_000;
                Some(base + jitter % 2_000)
            }
        }
    }

    /// Runs a tool with console-style arguments (`address`, `count`, `interface`, `once`, …).
    pub fn run_tool<K: AsRef<str>, V: AsRef<str>>(
        &self,
        tool: Tool,
        args: &[(K, V)],
    ) -> Result<ToolOutput, RosError> {
        match tool {
            Tool::Ping => self.ping(args),
            Tool::Traceroute => self.traceroute(args),
            Tool::MonitorTraffic => self.monitor_traffic(args),
            Tool::Reboot => {
                check_known(args, &[])?;
                Ok(ToolOutput {
                    effect: Some(Effect::Reboot),
                    ..ToolOutput::default()
                })
            }
        }
    }

    fn ping<K: AsRef<str>, V: AsRef<str>>(&self, args: &[(K, V)]) -> Result<ToolOutput, RosError> {
        check_known(
            args,
            &[
                "address",
                "count",
                "interval",
                "size",
                "ttl",
                "src-address",
                "interface",
                "routing-table",
                "do-not-fragment",
                "arp-ping",
                "vrf",
                "dscp",
            ],
        )?;
        let address =
            arg(args, "address").ok_or_else(|| RosError::MissingValues(vec!["address".into()]))?;
        let dst = self.resolve_target(address)?;
        let count = count_arg(args)?;
        let interval = match arg(args, "interval") {
            Some(v) => parse_duration(v)
                .filter(|us| *us >= 10_000)
                .ok_or_else(|| RosError::InvalidValue("interval".into()))?,
            None => 1_000_000,
        };
        let size = match arg(args, "size") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|s| (14..=65535).contains(s))
                .ok_or_else(|| RosError::InvalidValue("size".into()))?,
            None => 56,
        };
        let routing = Routing::build(self);
        let n = count.unwrap_or(UNBOUNDED_PREVIEW);
        let mut records = Vec::with_capacity(n as usize);
        let (mut sent, mut received) = (0u32, 0u32);
        let (mut min, mut max, mut sum) = (u64::MAX, 0u64, 0u64);
        for seq in 0..n {
            sent += 1;
            let mut rec = Record::new()
                .with("seq", seq.to_string())
                .with("host", dst.to_string())
                .with("size", size.to_string());
            match self.probe_rtt(&routing, dst, seq) {
                Some(rtt) => {
                    received += 1;
                    min = min.min(rtt);
                    max = max.max(rtt);
                    sum += rtt;
                    rec = rec.with("ttl", "64").with("time", format_duration(rtt));
                }
                None => rec = rec.with("status", "timeout"),
            }
            rec = rec
                .with("sent", sent.to_string())
                .with("received", received.to_string())
                .with("packet-loss", ((sent - received) * 100 / sent).to_string());
            if received > 0 {
                rec = rec
                    .with("min-rtt", format_duration(min))
                    .with("avg-rtt", format_duration(sum / u64::from(received)))
                    .with("max-rtt", format_duration(max));
            }
            records.push(rec);
        }
        Ok(ToolOutput {
            records,
            pacing: Duration::from_micros(interval),
            effect: None,
            unbounded: count.is_none(),
        })
    }

    fn traceroute<K: AsRef<str>, V: AsRef<str>>(
        &self,
        args: &[(K, V)],
    ) -> Result<ToolOutput, RosError> {
        check_known(
            args,
            &[
                "address",
                "count",
                "duration",
                "max-hops",
                "size",
                "timeout",
                "src-address",
                "interface",
                "routing-table",
                "use-dns",
                "protocol",
                "port",
                "vrf",
            ],
        )?;
        let address =
            arg(args, "address").ok_or_else(|| RosError::MissingValues(vec!["address".into()]))?;
        let dst = self.resolve_target(address)?;
        let count = count_arg(args)?;
        let duration = arg(args, "duration")
            .map(|d| parse_duration(d).ok_or_else(|| RosError::InvalidValue("duration".into())))
            .transpose()?;
        let max_hops = match arg(args, "max-hops") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|h| (1..=255).contains(h))
                .ok_or_else(|| RosError::InvalidValue("max-hops".into()))?,
            None => 30,
        };
        let rounds = match (count, duration) {
            (Some(c), _) => c,
            (None, Some(d)) => u32::try_from((d / 1_000_000).max(1)).unwrap_or(u32::MAX),
            (None, None) => UNBOUNDED_PREVIEW,
        };
        let routing = Routing::build(self);
        // The hop list: gateway, a few transit hops derived from the target, the target.
        let mut hops: Vec<Option<Ipv4Addr>> = Vec::new();
        match routing.egress(self, dst) {
            _ if self.is_local(&routing, dst) => hops.push(Some(dst)),
            Some(Egress::Connected { .. }) => hops.push(Some(dst)),
            Some(Egress::Via { gateway, .. }) => {
                hops.push(Some(gateway));
                let transit = 1 + mix(self.seed() ^ u64::from(u32::from(dst))) % 4;
                for i in 0..transit {
                    let h = mix(u64::from(u32::from(dst)) ^ hash_str("hop") ^ i);
                    let b = h.to_be_bytes();
                    hops.push(Some(Ipv4Addr::new(
                        100,
                        64 + (b[0] & 0x3F),
                        b[1],
                        b[2].max(1),
                    )));
                }
                hops.push(Some(dst));
            }
            Some(Egress::Blackhole) | None => {
                hops.extend(std::iter::repeat_n(None, 3));
            }
        }
        hops.truncate(max_hops as usize);
        let mut records = Vec::new();
        for round in 0..rounds {
            for (i, hop) in hops.iter().enumerate() {
                let sent = round + 1;
                let mut rec = Record::new().with(".section", round.to_string());
                match hop {
                    Some(ip) => {
                        let base = 300 + (i as u64) * 3_000;
                        let j = |r: u32| base + mix(u64::from(u32::from(*ip)) ^ u64::from(r)) % 900;
                        let last = j(round);
                        let samples: Vec<u64> = (0..sent).map(j).collect();
                        let best = samples.iter().copied().min().unwrap_or(last);
                        let worst = samples.iter().copied().max().unwrap_or(last);
                        let avg = samples.iter().sum::<u64>() / u64::from(sent.max(1));
                        rec = rec
                            .with("address", ip.to_string())
                            .with("loss", "0")
                            .with("sent", sent.to_string())
                            .with("last", ms(last))
                            .with("avg", ms(avg))
                            .with("best", ms(best))
                            .with("worst", ms(worst))
                            .with("std-dev", ms((worst - best) / 4))
                            .with("status", "");
                    }
                    None => {
                        rec = rec
                            .with("address", "")
                            .with("loss", "100")
                            .with("sent", sent.to_string())
                            .with("status", "timeout");
                    }
                }
                records.push(rec);
            }
        }
        // A round probes every hop within about a second, as RouterOS does: the records of
        // one round are spread over that second rather than a second each.
        let per_round = u32::try_from(hops.len().max(1)).unwrap_or(u32::MAX);
        Ok(ToolOutput {
            records,
            pacing: Duration::from_secs(1) / per_round,
            effect: None,
            unbounded: count.is_none() && duration.is_none(),
        })
    }

    fn monitor_traffic<K: AsRef<str>, V: AsRef<str>>(
        &self,
        args: &[(K, V)],
    ) -> Result<ToolOutput, RosError> {
        check_known(
            args,
            &[
                "interface",
                "once",
                "duration",
                "interval",
                "numbers",
                "aggregate",
            ],
        )?;
        let names = arg(args, "interface")
            .or_else(|| arg(args, "numbers"))
            .ok_or_else(|| RosError::MissingValues(vec!["interface".into()]))?;
        let iface_menu = menu("/interface").ok_or(RosError::NoSuchCommandPrefix)?;
        let mut ifaces = Vec::new();
        for n in names.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let id = self
                .resolve(iface_menu, n)
                .map_err(|_| RosError::InputDoesNotMatch("interface".into()))?;
            let name = self
                .item(iface_menu, id)
                .and_then(|it| it.get("name"))
                .unwrap_or(n)
                .to_string();
            ifaces.push((id, name));
        }
        // `once` counts as set for any value except "false".
        let once = arg(args, "once").is_some_and(|v| parse_bool(v) != Some(false));
        let duration = arg(args, "duration")
            .map(|d| parse_duration(d).ok_or_else(|| RosError::InvalidValue("duration".into())))
            .transpose()?;
        let sections: u32 = if once {
            1
        } else if let Some(d) = duration {
            u32::try_from((d / 1_000_000).max(1)).unwrap_or(u32::MAX)
        } else {
            UNBOUNDED_PREVIEW
        };
        let routing = Routing::build(self);
        let uptime = self.clock().uptime().as_secs();
        let mut records = Vec::new();
        for s in 0..sections {
            for (id, name) in &ifaces {
                let running = routing.running(name);
                let h = |salt: u64| {
                    if running {
                        mix(self.seed()
                            ^ u64::from(id.get())
                            ^ salt
                            ^ ((uptime + u64::from(s)) << 20))
                    } else {
                        0
                    }
                };
                let rx_bps = h(1) % 50_000_000;
                let tx_bps = h(2) % 20_000_000;
                let rx_pps = rx_bps / 8 / 700;
                let tx_pps = tx_bps / 8 / 600;
                let mut rec = Record::new();
                if !once {
                    rec = rec.with(".section", s.to_string());
                }
                rec = rec
                    .with("name", name.clone())
                    .with("rx-packets-per-second", rx_pps.to_string())
                    .with("rx-bits-per-second", rx_bps.to_string())
                    .with("fp-rx-packets-per-second", (rx_pps / 2).to_string())
                    .with("fp-rx-bits-per-second", (rx_bps / 2).to_string())
                    .with("rx-drops-per-second", "0")
                    .with("rx-errors-per-second", "0")
                    .with("tx-packets-per-second", tx_pps.to_string())
                    .with("tx-bits-per-second", tx_bps.to_string())
                    .with("fp-tx-packets-per-second", (tx_pps / 2).to_string())
                    .with("fp-tx-bits-per-second", (tx_bps / 2).to_string())
                    .with("tx-drops-per-second", "0")
                    .with("tx-queue-drops-per-second", "0")
                    .with("tx-errors-per-second", "0");
                records.push(rec);
            }
        }
        Ok(ToolOutput {
            records,
            pacing: Duration::from_secs(1),
            effect: None,
            unbounded: !once && duration.is_none(),
        })
    }
}

fn ms(us: u64) -> String {
    format!("{}.{}ms", us / 1000, (us % 1000) / 100)
}
