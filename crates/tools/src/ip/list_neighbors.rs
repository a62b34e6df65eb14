//! `ip.list_neighbors`: the devices this router discovered on its links (MNDP, CDP, LLDP): their
//! identity, address, MAC, platform, board, RouterOS version and the local interface they were
//! seen on — how a model maps the topology around a router.
//!
//! A neighbour seen through a bridge port is reported on `port,bridge` (`ether5,bridge`); the
//! `interface` filter matches either name.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

/// Properties returned when the client does not choose (`fields` may name any other:
/// `uptime`, `age`, `system-caps`, `ipv6`, `software-id`, …).
const DEFAULT_PROPERTIES: &[&str] = &[
    "identity",
    "address",
    "mac-address",
    "interface",
    "interface-name",
    "platform",
    "board",
    "version",
    "discovered-by",
];

fn defaults() -> Vec<String> {
    DEFAULT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: Option<String>,
    identity_contains: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("ip.list_neighbors", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let interface = p.interface.as_deref().map(str::trim);
    MenuList {
        tool: "ip.list_neighbors",
        scope_args: json!({"device_id": p.device_id, "interface": p.interface, "identity_contains": p.identity_contains}),
        device_id: &p.device_id,
        menu: "ip/neighbor",
        query: routeros::PrintQuery::all(),
        window: window(p.limit, p.cursor, Some(p.fields.unwrap_or_else(defaults))),
    }
    .run(&ctx, |item| {
        interface.is_none_or(|want| {
            item.get("interface")
                .and_then(Value::as_str)
                .is_some_and(|i| i.split(',').any(|x| x.trim() == want))
        }) && p
            .identity_contains
            .as_ref()
            .is_none_or(|n| contains(item.get("identity"), n))
    })
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn neighbours_of_a_home_router_and_a_switch() {
        let h = Harness::start(&[Profile::Home, Profile::Switch48]).await;
        let home = h.ok("ip.list_neighbors", json!({"device_id": "r1"})).await;
        assert_eq!(home["total"], 1);
        let gw = &home["items"][0];
        assert_eq!(gw["identity"], "upstream-gw");
        assert_eq!(gw["interface"], "ether1");
        assert_eq!(gw["platform"], "MikroTik");
        assert_eq!(gw["board"], "CCR2004-1G-12S+2XS");
        assert_eq!(gw["version"], "7.18.2 (stable)");
        assert_eq!(gw["discovered-by"], "mndp");
        assert_eq!(
            gw["interface-name"], "sfp-sfpplus3",
            "the neighbour's own port"
        );
        assert!(gw.get("uptime").is_none(), "not in the default set");
        let timing = h
            .ok(
                "ip.list_neighbors",
                json!({"device_id": "r1", "fields": ["uptime", "age"]}),
            )
            .await;
        assert!(timing["items"][0]["uptime"]["seconds"].is_u64(), "{timing}");
        assert!(timing["items"][0]["age"]["seconds"].is_u64(), "{timing}");

        let sw = h.ok("ip.list_neighbors", json!({"device_id": "r2"})).await;
        assert_eq!(sw["total"], 6);
        let core = h
            .ok(
                "ip.list_neighbors",
                json!({"device_id": "r2", "identity_contains": "CORE"}),
            )
            .await;
        assert_eq!(core["total"], 1);
        let port_and_bridge = core["items"][0]["interface"].as_str().unwrap().to_owned();
        let (port, bridge) = port_and_bridge.split_once(',').unwrap();
        assert_eq!(bridge, "bridge");
        let on_port = h
            .ok(
                "ip.list_neighbors",
                json!({"device_id": "r2", "interface": port}),
            )
            .await;
        assert_eq!(on_port["total"], 1);
        assert_eq!(on_port["items"][0]["identity"], "core-sw1");
        let on_bridge = h
            .ok(
                "ip.list_neighbors",
                json!({"device_id": "r2", "interface": "bridge"}),
            )
            .await;
        assert_eq!(on_bridge["total"], 6);
    }
}
