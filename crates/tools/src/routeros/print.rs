//! `routeros.print`: any allow-listed read-only menu, with equality filters and paging.
//!
//! Secrets that some menus carry (PPP passwords, WireGuard private keys, SNMP passwords, …) are
//! never returned and never accepted as a `where` key (a filter on a secret is an oracle for
//! it); `where` keys must be plain property names. Script bodies (`system/script` `source`,
//! `system/scheduler` `on-event`, …) are `"(withheld)"` unless the caller sets
//! `include_scripts` and the server exposes the professional tier to it. All of it by the one
//! definition in `routeros::secret`.

use domain::Tier;
use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::redact::{self, Scripts};
use crate::Caller;
use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

/// Menus this tool may read: every one is read-only by nature (print never changes anything),
/// and the list keeps the tool to configuration and status rather than files or secrets stores.
pub(crate) const MENUS: &[&str] = &[
    "certificate",
    "interface",
    "interface/bonding",
    "interface/bridge",
    "interface/bridge/host",
    "interface/bridge/port",
    "interface/bridge/vlan",
    "interface/eoip",
    "interface/ethernet",
    "interface/gre",
    "interface/l2tp-client",
    "interface/list",
    "interface/list/member",
    "interface/lte",
    "interface/ovpn-client",
    "interface/pppoe-client",
    "interface/pppoe-server/server",
    "interface/sstp-client",
    "interface/vlan",
    "interface/vrrp",
    "interface/wifi",
    "interface/wireguard",
    "interface/wireguard/peers",
    "interface/wireless",
    "ip/address",
    "ip/arp",
    "ip/cloud",
    "ip/dhcp-client",
    "ip/dhcp-relay",
    "ip/dhcp-server",
    "ip/dhcp-server/lease",
    "ip/dhcp-server/network",
    "ip/dns",
    "ip/dns/cache",
    "ip/dns/static",
    "ip/firewall/address-list",
    "ip/firewall/connection",
    "ip/firewall/filter",
    "ip/firewall/mangle",
    "ip/firewall/nat",
    "ip/firewall/raw",
    "ip/firewall/service-port",
    "ip/hotspot",
    "ip/hotspot/active",
    "ip/hotspot/host",
    "ip/ipsec/active-peers",
    "ip/ipsec/peer",
    "ip/ipsec/policy",
    "ip/neighbor",
    "ip/pool",
    "ip/route",
    "ip/service",
    "ip/traffic-flow",
    "ip/upnp",
    "ip/vrf",
    "ipv6/address",
    "ipv6/dhcp-client",
    "ipv6/firewall/filter",
    "ipv6/nd",
    "ipv6/neighbor",
    "ipv6/route",
    "log",
    "ppp/active",
    "ppp/profile",
    "ppp/secret",
    "queue/simple",
    "queue/tree",
    "queue/type",
    "routing/bgp/connection",
    "routing/bgp/session",
    "routing/filter/rule",
    "routing/ospf/instance",
    "routing/ospf/interface",
    "routing/ospf/neighbor",
    "routing/table",
    "snmp",
    "snmp/community",
    "system/clock",
    "system/health",
    "system/history",
    "system/identity",
    "system/license",
    "system/logging",
    "system/logging/action",
    "system/note",
    "system/ntp/client",
    "system/package",
    "system/resource",
    "system/routerboard",
    "system/scheduler",
    "system/script",
    "tool/netwatch",
    "tool/romon",
    "user",
    "user/active",
    "user/group",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    menu: String,
    #[serde(rename = "where")]
    filters: Option<Map<String, Value>>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
    include_scripts: Option<bool>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("routeros.print", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let menu = p.menu.trim().trim_matches('/').to_owned();
    if !MENUS.contains(&menu.as_str()) {
        return Err(ToolError::Refused(format!(
            "menu \"{}\" is not on the read-only allow-list of routeros.print; allowed: {}",
            p.menu,
            MENUS.join(", ")
        )));
    }
    let scripts = match p.include_scripts {
        Some(true) if caller.allows(Tier::Professional) => Scripts::Shown,
        Some(true) => {
            return Err(ToolError::Refused(
                "include_scripts: script bodies (system/script source, system/scheduler on-event, netwatch and DHCP scripts, …) are shown only to callers with the professional tier, which this server does not expose to this caller; leave include_scripts out to read everything else".into(),
            ));
        }
        Some(false) | None => Scripts::Withheld,
    };
    let mut query = PrintQuery::all();
    for (k, v) in p.filters.iter().flatten() {
        redact::filter_key("where", &menu, k)?;
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(ToolError::InvalidArguments(format!(
                    "where.{k}: expected a string, number or boolean, got {other}"
                )));
            }
        };
        query = query.filter(k, &value);
    }
    let scope_args = json!({"device_id": p.device_id, "menu": menu, "where": p.filters, "include_scripts": p.include_scripts});
    let mut out = MenuList {
        tool: "routeros.print",
        scope_args,
        device_id: &p.device_id,
        menu: &menu,
        query,
        window: window(p.limit, p.cursor, p.fields),
    }
    .run_with(&ctx, |_| true, scripts)
    .await?;
    if let Value::Object(m) = &mut out.structured {
        m.insert("menu".into(), json!(menu));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allow_list_is_broad_and_clean() {
        assert!(super::MENUS.len() >= 60);
        let mut sorted = super::MENUS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), super::MENUS.len(), "no duplicates");
        for m in super::MENUS {
            assert!(routeros::MenuPath::parse(m).is_ok(), "{m}");
        }
    }
}

#[cfg(test)]
mod harness_tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_allowed_menus_hides_secrets_and_refuses_others() {
        let h = Harness::start(&[Profile::Home]).await;
        let ports = h
            .ok(
                "routeros.print",
                json!({"device_id": "r1", "menu": "interface/bridge/port"}),
            )
            .await;
        assert!(ports["total"].as_u64().unwrap() >= 1);
        assert_eq!(ports["menu"], "interface/bridge/port");
        let wg = h
            .ok(
                "routeros.print",
                json!({"device_id": "r1", "menu": "interface/wireguard"}),
            )
            .await;
        assert_eq!(wg["items"][0]["private-key"], "(hidden)", "{wg}");
        let only = h
            .ok(
                "routeros.print",
                json!({"device_id": "r1", "menu": "ip/address", "where": {"interface": "bridge"}}),
            )
            .await;
        assert!(
            only["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["interface"] == "bridge")
        );
        let refused = h
            .call("routeros.print", json!({"device_id": "r1", "menu": "file"}))
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("not on the read-only allow-list")
                || refused.to_string().contains("invalid arguments"),
            "{refused}"
        );
    }
}
