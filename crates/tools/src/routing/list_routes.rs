//! `routing.list_routes`: the IPv4 routing table — destination, gateway, distance, routing
//! table, and whether each route is active, dynamic (connected, BGP, OSPF) or disabled.
//!
//! Edge routers carry tens of thousands of routes, so the device is asked only for the
//! properties the answer needs (`.proplist`), and `fields` may name only properties RouterOS
//! has (a misspelt one would otherwise come back silently empty). The routing table filter is
//! evaluated by RouterOS; destination, gateway and active are matched here, exactly and
//! the same way for both drivers.

use std::net::Ipv4Addr;

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

/// Properties returned when the client does not choose.
const DEFAULT_PROPERTIES: &[&str] = &[
    "dst-address",
    "gateway",
    "distance",
    "routing-table",
    "active",
    "dynamic",
    "blackhole",
    "disabled",
    "comment",
];

/// Routes per page when the client does not say: a page of 50 default routes stays well
/// under the token warning threshold.
const DEFAULT_LIMIT: u32 = 50;

/// Other `/ip/route` properties `fields` may name.
const OTHER_PROPERTIES: &[&str] = &[
    "bgp",
    "check-gateway",
    "connect",
    "dhcp",
    "ecmp",
    "gateway-status",
    "hw-offloaded",
    "immediate-gw",
    "inactive",
    "local-address",
    "ospf",
    "pref-src",
    "routing-mark",
    "scope",
    "static",
    "suppress-hw-offload",
    "target-scope",
    "vrf-interface",
];

/// What the local filters read, fetched whatever `fields` says.
const FILTERED: &[&str] = &["dst-address", "gateway", "active"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    dst_address: Option<String>,
    gateway: Option<String>,
    active: Option<bool>,
    routing_table: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

/// `10.1.2.3/24` → `10.1.2.0/24`; a bare address is a `/32`.
fn network(text: &str) -> Option<String> {
    let (addr, len) = match text.trim().split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= 32)?),
        None => (text.trim(), 32),
    };
    let addr: Ipv4Addr = addr.parse().ok()?;
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    Some(format!("{}/{len}", Ipv4Addr::from(u32::from(addr) & mask)))
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("routing.list_routes", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let dst = p
        .dst_address
        .as_deref()
        .map(|d| {
            network(d).ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "dst_address: \"{d}\" is not an IPv4 destination such as 0.0.0.0/0 or 10.0.0.0/24"
                ))
            })
        })
        .transpose()?;
    if let Some(unknown) = p.fields.iter().flatten().find(|f| {
        let f = f.as_str();
        f != "id" && !DEFAULT_PROPERTIES.contains(&f) && !OTHER_PROPERTIES.contains(&f)
    }) {
        return Err(ToolError::InvalidArguments(format!(
            "fields: \"{unknown}\" is not a route property; known: {}, {}",
            DEFAULT_PROPERTIES.join(", "),
            OTHER_PROPERTIES.join(", ")
        )));
    }
    let fields: Vec<String> = p
        .fields
        .unwrap_or_else(|| DEFAULT_PROPERTIES.iter().map(|f| (*f).to_owned()).collect());
    let mut proplist: Vec<&str> = vec![".id"];
    proplist.extend(fields.iter().map(String::as_str).filter(|f| *f != "id"));
    for f in FILTERED {
        if !proplist.contains(f) {
            proplist.push(f);
        }
    }
    let mut query = PrintQuery::all().proplist(&proplist);
    if let Some(table) = &p.routing_table {
        query = query.filter("routing-table", table.trim());
    }
    let gateway = p.gateway.as_deref().map(str::trim);
    MenuList {
        tool: "routing.list_routes",
        scope_args: json!({"device_id": p.device_id, "dst_address": dst, "gateway": gateway, "active": p.active, "routing_table": p.routing_table}),
        device_id: &p.device_id,
        menu: "ip/route",
        query,
        window: window(
            Some(p.limit.unwrap_or(DEFAULT_LIMIT)),
            p.cursor,
            Some(fields),
        ),
    }
    .run(&ctx, |item| {
        let text = |k: &str| item.get(k).and_then(Value::as_str);
        dst.as_ref()
            .is_none_or(|d| text("dst-address").and_then(network).as_ref() == Some(d))
            && gateway.is_none_or(|g| {
                // ECMP routes list several gateways; `10.0.0.2%ether1` names the interface too.
                text("gateway").is_some_and(|gw| {
                    gw.split(',')
                        .any(|x| x.trim() == g || x.split('%').next() == Some(g))
                })
            })
            && p.active
                .is_none_or(|a| item.get("active").unwrap_or(&Value::Bool(false)) == &Value::Bool(a))
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_thousand_routes_page_exactly_once() {
        let h = Harness::start(&[Profile::Edge]).await;
        let mut ids = HashSet::new();
        let mut total = None;
        let mut cursor: Option<String> = None;
        let started = std::time::Instant::now();
        for page in 0..40 {
            let mut args = json!({"device_id": "r1", "limit": 1000, "fields": ["dst-address"]});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let out = h.ok("routing.list_routes", args).await;
            total = out["total"].as_u64();
            for r in out["items"].as_array().unwrap() {
                assert!(r.get("gateway").is_none(), "fields narrows: {r}");
                assert!(
                    ids.insert(r["id"].as_str().unwrap().to_owned()),
                    "page {page} repeats {r}"
                );
            }
            match out["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let total = total.unwrap();
        assert!(total >= 20_000, "{total}");
        assert_eq!(ids.len() as u64, total, "every route exactly once");
        println!("walked {total} routes in {:?}", started.elapsed());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn filters_narrow_the_edge_table() {
        let h = Harness::start(&[Profile::Edge]).await;
        let default = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "dst_address": "0.0.0.0/0"}),
            )
            .await;
        assert_eq!(default["total"], 1);
        let d = &default["items"][0];
        assert_eq!(d["gateway"], "203.0.113.1");
        assert_eq!(d["active"], true);
        assert_eq!(d["distance"], 1);
        assert_eq!(d["routing-table"], "main");
        assert_eq!(d["comment"], "uplink");
        assert!(d.get("scope").is_none(), "not in the default set");

        // Host bits and a bare address are read as RouterOS stores destinations.
        let mgmt = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "dst_address": "127.1.2.3/8"}),
            )
            .await;
        assert_eq!(mgmt["items"][0]["comment"], "management");

        let via = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "gateway": "10.0.0.2", "limit": 3}),
            )
            .await;
        let via_total = via["total"].as_u64().unwrap();
        assert!(via_total > 1_000 && via_total < 5_000, "{via_total}");
        assert!(
            via["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["gateway"] == "10.0.0.2")
        );

        // Every 500th customer route is disabled, so not active.
        let inactive = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "active": false, "limit": 1000}),
            )
            .await;
        let items = inactive["items"].as_array().unwrap();
        assert!(items.len() >= 40, "{}", items.len());
        assert!(items.iter().all(|r| r["active"] == false));
        assert!(items.iter().any(|r| r["disabled"] == true));

        let other_table = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "routing_table": "vpn"}),
            )
            .await;
        assert_eq!(other_table["total"], 0);
        let main = h
            .ok(
                "routing.list_routes",
                json!({"device_id": "r1", "routing_table": "main", "limit": 1, "fields": ["scope"]}),
            )
            .await;
        assert!(main["total"].as_u64().unwrap() >= 20_000);
        let keys: Vec<&String> = main["items"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "scope"]);

        let misspelt = h
            .call(
                "routing.list_routes",
                json!({"device_id": "r1", "fields": ["dst_address"]}),
            )
            .await
            .unwrap_err();
        let text = misspelt.to_string();
        assert!(
            text.contains("\"dst_address\" is not a route property")
                && text.contains("dst-address"),
            "{text}"
        );
        let bad_dst = h
            .call(
                "routing.list_routes",
                json!({"device_id": "r1", "dst_address": "10.0.0.0/33"}),
            )
            .await
            .unwrap_err();
        assert!(
            bad_dst.to_string().contains("not an IPv4 destination"),
            "{bad_dst}"
        );
    }

    #[test]
    fn destinations_are_compared_as_networks() {
        assert_eq!(super::network("10.1.2.3/24").unwrap(), "10.1.2.0/24");
        assert_eq!(super::network("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(super::network("192.0.2.7").unwrap(), "192.0.2.7/32");
        assert!(super::network("10.0.0.0/40").is_none());
        assert!(super::network("fe80::/64").is_none());
    }
}
