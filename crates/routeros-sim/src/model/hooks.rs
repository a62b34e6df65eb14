//! Per-menu behaviour the table cannot express as data: live values computed at print time
//! (running flags, counters, uptime) and values RouterOS derives on write (an address's
//! `network`, a WireGuard public key, default names like `vlan1`).
//!
//! Counters grow with uptime at a rate derived from the device seed and the item id, so they
//! are plausible, monotonic between reboots, and deterministic under a paused Tokio clock.

use base64::Engine as _;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::error::RosError;
use super::item::Item;
use super::render::RenderCtx;
use super::rng::{SimRng, mix};
use super::spec::MenuSpec;
use super::state::WriteCtx;
use super::value::{format_secs, mask, parse_duration, parse_prefix};

type Out = Vec<(&'static str, String)>;

fn rate(ctx: &RenderCtx<'_>, item: &Item, salt: u64, lo: u64, hi: u64) -> u64 {
    let h = mix(ctx.state.seed() ^ mix(u64::from(item.id().get()) ^ salt));
    lo + h % (hi - lo + 1)
}

fn iso(ctx: &RenderCtx<'_>, secs_ago: u64) -> String {
    let t = ctx.now - chrono::Duration::seconds(i64::try_from(secs_ago).unwrap_or(0));
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `/interface` and its typed views: running/slave flags, MTU, traffic counters.
pub fn interface(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let name = item.get("name").unwrap_or_default();
    let info = ctx.routing().iface(name);
    let running = info.is_some_and(|i| i.running);
    out.push(("running", bool_s(running)));
    out.push(("slave", bool_s(info.is_some_and(|i| i.slave))));
    let mtu = item
        .get("mtu")
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(match item.get("type") {
            Some("wg") => 1420,
            _ => 1500,
        });
    out.push(("actual-mtu", mtu.to_string()));
    // What `print` shows when no MTU was set: `auto` on a bridge, the type's default elsewhere.
    if item.get("mtu").is_none() {
        let shown = match item.get("type") {
            Some("bridge") => "auto".to_string(),
            _ => mtu.to_string(),
        };
        out.push(("mtu", shown));
    }
    // A bridge's L2 MTU is the smallest of its ports' (65535 without ports).
    if item.get("type") == Some("bridge") && item.get("l2mtu").is_none() {
        let ports: Vec<&str> = ctx
            .state
            .items_of("/interface/bridge/port")
            .filter(|p| p.get("bridge") == Some(name))
            .filter_map(|p| p.get("interface"))
            .collect();
        let l2 = ctx
            .state
            .items_of("/interface")
            .filter(|i| i.get("name").is_some_and(|n| ports.contains(&n)))
            .filter_map(|i| i.get("l2mtu").and_then(|v| v.parse::<u32>().ok()))
            .min()
            .unwrap_or(65535);
        out.push(("l2mtu", l2.to_string()));
    }
    // A VLAN carries its parent's MAC address and 4 bytes less L2 MTU (the tag).
    if item.get("type") == Some("vlan") {
        let parent = ctx
            .state
            .items_of("/interface")
            .find(|i| i.get("name") == Some(name))
            .and_then(|i| i.get("interface"))
            .and_then(|p| {
                ctx.state
                    .items_of("/interface")
                    .find(|i| i.get("name") == Some(p))
            });
        if let Some(parent) = parent {
            if item.get("l2mtu").is_none()
                && let Some(l2) = parent.get("l2mtu").and_then(|v| v.parse::<u32>().ok())
            {
                out.push(("l2mtu", l2.saturating_sub(4).to_string()));
            }
            if item.get("mac-address").is_none()
                && let Some(mac) = parent.get("mac-address")
            {
                out.push(("mac-address", mac.to_string()));
            }
        }
    }
    // The Linux device: `eth0` for the first Ethernet port, `br1`, `vlan5`, `wg9` … and its
    // kernel index, both stable per item.
    let n = item.id().get();
    let ifname = match item.get("type") {
        Some("ether") => format!("eth{}", n.saturating_sub(1)),
        Some("bridge") => format!("br{n}"),
        Some("vlan") => format!("vlan{n}"),
        Some("wg") => format!("wg{n}"),
        Some("loopback") => "lo".to_string(),
        Some(other) => format!("{other}{n}"),
        None => format!("if{n}"),
    };
    out.push(("ifname", ifname));
    out.push(("ifindex", (u64::from(n) + 6).to_string()));
    out.push(("id", n.to_string()));
    let up = if running { ctx.uptime_secs() } else { 0 };
    let rx_bps = rate(ctx, item, 1, 2_000, 400_000);
    let tx_bps = rate(ctx, item, 2, 1_000, 200_000);
    let rx = rx_bps * up;
    let tx = tx_bps * up;
    out.push(("rx-byte", rx.to_string()));
    out.push(("tx-byte", tx.to_string()));
    out.push(("rx-packet", (rx / 700).to_string()));
    out.push(("tx-packet", (tx / 600).to_string()));
    out.push(("fp-rx-byte", (rx / 2).to_string()));
    out.push(("fp-tx-byte", (tx / 2).to_string()));
    out.push(("fp-rx-packet", (rx / 1400).to_string()));
    out.push(("fp-tx-packet", (tx / 1200).to_string()));
    for z in [
        "rx-drop",
        "tx-drop",
        "rx-error",
        "tx-error",
        "tx-queue-drop",
    ] {
        out.push((z, "0".into()));
    }
    out.push(("link-downs", "0".into()));
    if running {
        out.push(("last-link-up-time", iso(ctx, ctx.uptime_secs())));
    }
}

/// `/ip/address`: `actual-interface`, `invalid`.
pub fn address(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let iface = item.get("interface").unwrap_or_default();
    out.push(("actual-interface", iface.to_string()));
    out.push(("invalid", bool_s(ctx.routing().iface(iface).is_none())));
}

/// `/ip/route`: `active`, `inactive`, `static`, `immediate-gw`.
pub fn route(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let routing = ctx.routing();
    let active = routing.route_active(item);
    out.push(("active", bool_s(active)));
    out.push(("inactive", bool_s(!active)));
    let connect = item.is_true("connect");
    out.push(("connect", bool_s(connect)));
    out.push(("static", bool_s(!item.is_true("dynamic"))));
    if !connect && !item.is_true("blackhole") {
        let resolved = item
            .get("gateway")
            .and_then(|g| g.split(',').find_map(|w| routing.resolve_gateway(w.trim())));
        if let Some((_, iface)) = resolved {
            let gw = item.get("gateway").unwrap_or_default();
            let first = gw.split(',').next().unwrap_or_default();
            let immediate = if first.contains('%') || first.parse::<std::net::Ipv4Addr>().is_err() {
                iface
            } else {
                format!("{first}%{iface}")
            };
            out.push(("immediate-gw", immediate));
        }
    }
}

/// `/ipv6/route`: `active`, `static`.
pub fn route6(_ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    out.push(("active", bool_s(!item.is_true("disabled"))));
    out.push(("static", bool_s(!item.is_true("dynamic"))));
}

/// `/interface/bridge/port`: `inactive`, `status`.
pub fn bridge_port(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let routing = ctx.routing();
    let bridge_ok = item.get("bridge").is_some_and(|b| routing.running(b));
    let iface_ok = item.get("interface").is_some_and(|i| routing.running(i));
    let invalid = item
        .get("interface")
        .is_none_or(|i| routing.iface(i).is_none());
    let active = bridge_ok && iface_ok && !item.is_true("disabled");
    out.push(("inactive", bool_s(!active)));
    out.push(("invalid", bool_s(invalid)));
    out.push((
        "status",
        if active { "in-bridge" } else { "inactive" }.into(),
    ));
    out.push((
        "hw-offload",
        bool_s(active && item.get("hw") != Some("false")),
    ));
}

/// `/interface/bridge/vlan`: current membership mirrors configuration.
pub fn bridge_vlan(_ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    out.push((
        "current-tagged",
        item.get("tagged").unwrap_or_default().to_string(),
    ));
    out.push((
        "current-untagged",
        item.get("untagged").unwrap_or_default().to_string(),
    ));
}

/// Firewall rules: `bytes` and `packets` grow with uptime.
pub fn firewall(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let up = if item.is_true("disabled") {
        0
    } else {
        ctx.uptime_secs()
    };
    let pps = rate(ctx, item, 3, 0, 40);
    let packets = pps * up;
    out.push(("packets", packets.to_string()));
    out.push((
        "bytes",
        (packets * rate(ctx, item, 4, 60, 1400)).to_string(),
    ));
}

/// `/system/resource`: uptime, load and memory move.
pub fn resource(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let up = ctx.uptime_secs();
    out.push(("uptime", format_secs(up)));
    let bucket = up / 5;
    let mut rng = SimRng::new(ctx.state.seed() ^ mix(bucket));
    out.push(("cpu-load", rng.range(0, 12).to_string()));
    let total: u64 = item
        .get("total-memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_073_741_824);
    let used = total / 8 + rng.below(total / 32) + (up % 3600) * 1024;
    out.push(("free-memory", total.saturating_sub(used).to_string()));
    let sectors = 1200 + up / 30;
    out.push(("write-sect-since-reboot", sectors.to_string()));
    let base_total: u64 = item
        .get("write-sect-total")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    out.push(("write-sect-total", (base_total + sectors).to_string()));
}

/// `/system/clock`: the simulated wall time.
pub fn clock(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, _item: &Item, out: &mut Out) {
    out.push(("time", ctx.now.format("%H:%M:%S").to_string()));
    out.push(("date", ctx.now.format("%Y-%m-%d").to_string()));
    out.push(("gmt-offset", "+00:00".into()));
    out.push(("dst-active", "false".into()));
}

/// `/system/health`: measured values jitter a little; states (`psu1-state`: `ok`/`fail`, no
/// unit) are reported as they are. Temperatures and fan speeds are whole numbers, as RouterOS
/// prints them.
pub fn health(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let Some(base) = item.get("base").and_then(|v| v.parse::<f64>().ok()) else {
        out.push(("value", item.get("base").unwrap_or_default().to_string()));
        return;
    };
    let mut rng =
        SimRng::new(ctx.state.seed() ^ mix(ctx.uptime_secs() / 10) ^ u64::from(item.id().get()));
    let jitter = (rng.below(11) as f64 - 5.0) / 10.0;
    let v = base + jitter;
    let text = if matches!(item.get("type"), Some("C" | "RPM")) {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    };
    out.push(("value", text));
}

/// `/ip/dhcp-server/lease`: time left and last contact for bound leases.
pub fn lease(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    if item.get("status") != Some("bound") {
        out.push(("last-seen", "never".into()));
        return;
    }
    // The lease's own lease-time when set (static leases may carry one), else its server's,
    // as RouterOS hands out leases.
    let server_time = || {
        let server = item.get("server")?;
        ctx.state
            .items_of("/ip/dhcp-server")
            .find(|s| s.get("name") == Some(server))?
            .get("lease-time")
    };
    let lease = item
        .get("lease-time")
        .and_then(parse_duration)
        .filter(|d| *d > 0)
        .or_else(|| server_time().and_then(parse_duration))
        .filter(|d| *d > 0)
        .map(|d| d / 1_000_000)
        .unwrap_or(1800);
    let offset = rate(ctx, item, 5, 0, lease.max(1));
    let elapsed = (ctx.uptime_secs() + offset) % lease.max(1);
    out.push(("expires-after", format_secs(lease - elapsed)));
    out.push(("last-seen", format_secs(elapsed)));
    if item.is_true("dynamic") {
        // A dynamic lease exists since the client first asked: some renewals ago.
        let renewals = rate(ctx, item, 9, 1, 40);
        out.push(("age", format_secs(renewals * lease + elapsed)));
    }
}

/// `/interface/wireguard/peers`: traffic and handshakes for peers with an endpoint.
pub fn wg_peer(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let configured = item.get("endpoint-address").filter(|e| !e.is_empty());
    let current = item
        .get("current-endpoint-address")
        .filter(|e| !e.is_empty());
    let has_endpoint = configured.is_some() || current.is_some();
    let iface_ok = item
        .get("interface")
        .is_some_and(|i| ctx.routing().running(i));
    if !(has_endpoint && iface_ok) || item.is_true("disabled") {
        out.push(("rx", "0".into()));
        out.push(("tx", "0".into()));
        return;
    }
    // A peer reached at its configured endpoint shows that endpoint as the current one; a
    // road warrior (no endpoint) shows where it last connected from (kept in the item).
    if let (Some(endpoint), None) = (configured, current) {
        out.push(("current-endpoint-address", endpoint.to_string()));
        let port = item.get("endpoint-port").unwrap_or("0");
        out.push(("current-endpoint-port", port.to_string()));
    }
    let up = ctx.uptime_secs();
    out.push(("rx", (rate(ctx, item, 6, 10, 5_000) * up).to_string()));
    out.push(("tx", (rate(ctx, item, 7, 10, 5_000) * up).to_string()));
    // WireGuard handshakes every two minutes while traffic flows.
    let phase = rate(ctx, item, 10, 0, 119);
    out.push(("last-handshake", format_secs((up + phase) % 120)));
}

/// `/routing/ospf/interface`: an interface that does not run is `down`, whatever its role.
pub fn ospf_interface(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let iface = item
        .get("address")
        .and_then(|a| a.split_once('%'))
        .map(|(_, i)| i);
    if iface.is_some_and(|i| !ctx.routing().running(i)) {
        out.push(("state", "down".into()));
    }
}

/// `/ip/dns`: cache use grows to a plateau.
pub fn dns(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, _item: &Item, out: &mut Out) {
    let used = (ctx.uptime_secs() / 10).min(1800) + 24;
    out.push(("cache-used", used.to_string()));
}

/// Uptime-like counters for status menus (`/ppp/active`, `/ip/neighbor`).
pub fn uptime_since(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let offset = rate(ctx, item, 8, 0, 3600);
    let up = ctx
        .uptime_secs()
        .saturating_sub(offset.min(ctx.uptime_secs()));
    out.push(("uptime", format_secs(up)));
    out.push(("age", format_secs(up % 60)));
}

/// `/interface/wifi/registration-table`: a station's time associated, its last frame and its
/// traffic (`tx,rx`) grow with uptime.
pub fn wifi_station(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    // Associated for part of the router's uptime (stations come and go).
    let up = ctx.uptime_secs() * rate(ctx, item, 14, 30, 100) / 100;
    out.push(("uptime", format_secs(up)));
    let ms = rate(ctx, item, 11, 10, 2_990);
    out.push(("last-activity", format!("{ms}ms")));
    let (tx, rx) = (
        rate(ctx, item, 12, 200, 40_000),
        rate(ctx, item, 13, 100, 8_000),
    );
    out.push(("bytes", format!("{},{}", tx * up, rx * up)));
    out.push(("packets", format!("{},{}", tx * up / 900, rx * up / 600)));
}

/// Connection tracking: timeouts count down, counters grow.
pub fn connection(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let t = rate(ctx, item, 9, 10, 86_400);
    out.push(("timeout", format_secs(t - (ctx.uptime_secs() % t))));
    let up = ctx.uptime_secs();
    let pps = rate(ctx, item, 10, 1, 20);
    out.push(("orig-packets", (pps * up).to_string()));
    out.push(("repl-packets", (pps * up * 9 / 10).to_string()));
    out.push(("orig-bytes", (pps * up * 120).to_string()));
    out.push(("repl-bytes", (pps * up * 900).to_string()));
    // Bits per second over the last second, from the same packet rate (none before the first).
    if up > 0 {
        out.push(("orig-rate", (pps * 120 * 8).to_string()));
        out.push(("repl-rate", (pps * 900 * 8).to_string()));
    }
}

/// `/ip/firewall/address-list`: an entry's `timeout` is what remains of it, counting down
/// from when it was added (RouterOS prints the remaining time, not the time given).
pub fn address_list(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let (Some(total), Some(created)) = (
        item.get("timeout")
            .and_then(parse_duration)
            .map(|us| us / 1_000_000),
        item.get("creation-time")
            .and_then(|c| chrono::NaiveDateTime::parse_from_str(c, "%Y-%m-%d %H:%M:%S").ok()),
    ) else {
        return;
    };
    let elapsed = (ctx.now.naive_utc() - created).num_seconds();
    let elapsed = u64::try_from(elapsed).unwrap_or(0);
    out.push(("timeout", format_secs(total.saturating_sub(elapsed))));
}

fn bool_s(b: bool) -> String {
    if b { "true".into() } else { "false".into() }
}

// --------------------------------------------------------------------------------------------
// Write hooks
// --------------------------------------------------------------------------------------------

/// `/ip/address`: `network` follows `address` unless set explicitly.
pub fn write_address(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    if (ctx.adding || ctx.sets("address"))
        && !ctx.sets("network")
        && let Some((ip, len)) = item.get("address").and_then(parse_prefix)
    {
        item.set("network", mask(ip, len).to_string());
    }
    Ok(())
}

/// A free default name `prefix1`, `prefix2`, … in the storage of `ctx.menu`.
fn default_name(ctx: &WriteCtx<'_>, prefix: &str) -> String {
    let mut n = 1;
    loop {
        let candidate = format!("{prefix}{n}");
        let taken = ctx
            .state
            .items_of(super::spec::storage_of(ctx.menu).path)
            .any(|it| it.get("name") == Some(candidate.as_str()));
        if !taken {
            return candidate;
        }
        n += 1;
    }
}

fn name_default(ctx: &WriteCtx<'_>, item: &mut Item, prefix: &str) {
    if ctx.adding && item.get("name").is_none() {
        item.set("name", default_name(ctx, prefix));
    }
}

/// A MAC address the router would assign to a new virtual interface.
pub fn generated_mac(seed: u64, salt: u64) -> String {
    let h = mix(seed ^ mix(salt ^ 0x4D41_4300));
    let b = h.to_be_bytes();
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

/// `/interface/bridge`: default name `bridge1`, a MAC address.
pub fn write_bridge(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "bridge");
    if ctx.adding && item.get("mac-address").is_none() {
        item.set(
            "mac-address",
            generated_mac(ctx.state.seed(), u64::from(item.id().get())),
        );
    }
    Ok(())
}

/// `/interface/vlan`: default name `vlan1`, MAC of the parent.
pub fn write_vlan(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "vlan");
    if ctx.adding || ctx.sets("interface") {
        let parent_mac = item.get("interface").and_then(|p| {
            ctx.state
                .items_of("/interface")
                .find(|it| it.get("name") == Some(p))
                .and_then(|it| it.get("mac-address"))
                .map(str::to_string)
        });
        let mac = parent_mac
            .unwrap_or_else(|| generated_mac(ctx.state.seed(), u64::from(item.id().get())));
        item.set("mac-address", mac);
    }
    Ok(())
}

/// Derives the simulator's stand-in for a WireGuard public key from a private key. Real
/// RouterOS computes Curve25519; clients only need it to be stable and 32 bytes of base64.
pub fn wg_public_key(private_b64: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"wireguard-public-key");
    h.update(private_b64.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A WireGuard private key generated from the device seed.
pub fn wg_private_key(seed: u64, salt: u64) -> String {
    let mut rng = SimRng::new(seed ^ mix(salt ^ 0x5747));
    let bytes: [u8; 32] = rng.bytes();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `/interface/wireguard`: default name, generated private key, derived public key, listen
/// port.
pub fn write_wireguard(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "wireguard");
    if ctx.adding && item.get("private-key").is_none_or(str::is_empty) {
        item.set(
            "private-key",
            wg_private_key(ctx.state.seed(), u64::from(item.id().get())),
        );
    }
    if ctx.adding || ctx.sets("private-key") {
        let public = wg_public_key(item.get("private-key").unwrap_or_default());
        item.set("public-key", public);
    }
    if ctx.adding && item.get("listen-port").is_none() {
        let mut port = 13231u32;
        while ctx
            .state
            .items_of("/interface/wireguard")
            .any(|it| it.get("listen-port") == Some(port.to_string().as_str()))
        {
            port += 1;
        }
        item.set("listen-port", port.to_string());
    }
    Ok(())
}

/// `/interface/wireguard/peers`: default name `peer1`, ….
pub fn write_wg_peer(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "peer");
    Ok(())
}

/// `/ip/dhcp-server`: default name `dhcp1`.
pub fn write_dhcp_server(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "dhcp");
    Ok(())
}

/// `/ip/pool`: default name `pool1`.
pub fn write_pool(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "pool");
    Ok(())
}

/// `/queue/simple`: default name `queue1`.
pub fn write_queue(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    name_default(ctx, item, "queue");
    Ok(())
}

/// `/ip/firewall/address-list`: creation time.
pub fn write_address_list(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    if ctx.adding {
        let now = ctx
            .state
            .clock()
            .now()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        item.set("creation-time", now);
    }
    Ok(())
}

/// `/system/script`: owner defaults to `admin`.
pub fn write_script(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    if ctx.adding && item.get("owner").is_none() {
        item.set("owner", "admin");
    }
    Ok(())
}

/// `/system/scheduler`: owner, and start date/time default to now, as on RouterOS.
pub fn write_scheduler(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    if ctx.adding {
        if item.get("owner").is_none() {
            item.set("owner", "admin");
        }
        let now = ctx.state.clock().now();
        if item.get("start-date").is_none() && item.get("start-time") != Some("startup") {
            item.set("start-date", now.format("%Y-%m-%d").to_string());
        }
        if item.get("start-time").is_none() {
            item.set("start-time", now.format("%H:%M:%S").to_string());
        }
    }
    if let Some(t) = item.get("start-time")
        && t != "startup"
        && parse_clock_time(t).is_none()
    {
        return Err(RosError::InvalidValue("start-time".into()));
    }
    if let Some(d) = item.get("start-date")
        && parse_date(d).is_none()
    {
        return Err(RosError::InvalidValue("start-date".into()));
    }
    Ok(())
}

/// Parses a console time of day `HH:MM:SS`.
pub fn parse_clock_time(t: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(t, "%H:%M:%S").ok()
}

/// Parses a date in the ISO form of RouterOS ≥ 7.10 (`2025-01-15`) or the older `jan/15/2025`.
pub fn parse_date(d: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().or_else(|| {
        let mut s = d.to_string();
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        NaiveDate::parse_from_str(&s, "%b/%d/%Y").ok()
    })
}

/// `/system/clock set time=… date=…` moves the device clock instead of storing values.
pub fn write_clock(ctx: &WriteCtx<'_>, item: &mut Item) -> Result<(), RosError> {
    let now = ctx.state.clock().now();
    let mut date = now.date_naive();
    let mut time = now.time();
    let mut changed = false;
    if let Some(d) = item.get("date") {
        date = parse_date(d).ok_or_else(|| RosError::InvalidValue("date".into()))?;
        changed = true;
    }
    if let Some(t) = item.get("time") {
        time = parse_clock_time(t).ok_or_else(|| RosError::InvalidValue("time".into()))?;
        changed = true;
    }
    item.unset("date");
    item.unset("time");
    if changed && let Some(t) = Utc.from_local_datetime(&date.and_time(time)).single() {
        ctx.state.clock().set_now(t);
    }
    Ok(())
}

/// `/ip/settings`: fast-path counters grow with uptime.
pub fn ip_settings(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let up = ctx.uptime_secs();
    let pps = rate(ctx, item, 21, 50, 4000);
    out.push(("ipv4-fast-path-packets", (pps * up).to_string()));
    out.push(("ipv4-fast-path-bytes", (pps * up * 700).to_string()));
    out.push(("ipv4-fasttrack-packets", (pps * up / 2).to_string()));
    out.push(("ipv4-fasttrack-bytes", (pps * up * 350).to_string()));
}

/// `/queue/tree`: rates and counters of an enabled queue.
pub fn queue_tree(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let up = if item.is_true("disabled") {
        0
    } else {
        ctx.uptime_secs()
    };
    let pps = rate(ctx, item, 22, 0, 900);
    let size = rate(ctx, item, 23, 80, 1400);
    out.push(("rate", if up == 0 { 0 } else { pps * size * 8 }.to_string()));
    out.push(("packet-rate", if up == 0 { 0 } else { pps }.to_string()));
    out.push(("packets", (pps * up).to_string()));
    out.push(("bytes", (pps * up * size).to_string()));
    out.push(("dropped", (pps * up / 5000).to_string()));
}

/// `/tool/netwatch`: a host is `up` when the routing table reaches it (a connected network or
/// an active route, not a blackhole), `down` otherwise; `unknown` while disabled. Test counts
/// grow with uptime at the entry's interval.
pub fn netwatch(ctx: &RenderCtx<'_>, _menu: &'static MenuSpec, item: &Item, out: &mut Out) {
    let up_secs = ctx.uptime_secs();
    if item.is_true("disabled") {
        out.push(("status", "unknown".to_string()));
        return;
    }
    let reachable = item
        .get("host")
        .and_then(|h| h.parse::<std::net::Ipv4Addr>().ok())
        .and_then(|dst| ctx.routing().egress(ctx.state, dst))
        .is_some_and(|e| !matches!(e, super::routing::Egress::Blackhole));
    out.push(("status", if reachable { "up" } else { "down" }.to_string()));
    out.push(("since", iso(ctx, up_secs)));
    let interval = item
        .get("interval")
        .and_then(parse_duration)
        .map_or(10, |d| d.max(1));
    let tests = up_secs / interval;
    out.push(("done-tests", tests.to_string()));
    out.push((
        "failed-tests",
        if reachable { 0 } else { tests }.to_string(),
    ));
}
