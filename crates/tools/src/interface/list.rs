//! `interface.list`: every interface with its type, state, MTU, MAC address, comment, link-down
//! count and traffic counters — the first look at a router's ports.
//!
//! Without `fields`, items carry a chosen set of properties (what a model needs to spot a down
//! port or an error counter); `fields` may name any `/interface` property, including the ones
//! left out by default (`actual-mtu`, `l2mtu`, `rx-drop`, `fp-rx-byte`, `last-link-up-time`, …).
//! The default set keeps a page of a 48-port switch near the token warning threshold.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

/// Properties returned when the client does not choose.
const DEFAULT_PROPERTIES: &[&str] = &[
    "name",
    "type",
    "running",
    "disabled",
    "slave",
    "mtu",
    "mac-address",
    "comment",
    "link-downs",
    "rx-byte",
    "tx-byte",
    "rx-packet",
    "tx-packet",
    "rx-error",
    "tx-error",
];

/// Without `fields`, the default set is what the page shows.
fn defaults() -> Vec<String> {
    DEFAULT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    running: Option<bool>,
    disabled: Option<bool>,
    name_contains: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("interface.list", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let scope_args = json!({"device_id": p.device_id, "type": p.kind, "running": p.running, "disabled": p.disabled, "name_contains": p.name_contains});
    let mut query = PrintQuery::all();
    if let Some(kind) = &p.kind {
        query = query.filter("type", kind.trim());
    }
    MenuList {
        tool: "interface.list",
        scope_args,
        device_id: &p.device_id,
        menu: "interface",
        query,
        window: window(p.limit, p.cursor, Some(p.fields.unwrap_or_else(defaults))),
    }
    .run(&ctx, |i| {
        p.running
            .is_none_or(|r| i.get("running") == Some(&Value::Bool(r)))
            && p.disabled
                .is_none_or(|d| i.get("disabled").unwrap_or(&Value::Bool(false)) == &Value::Bool(d))
            && p.name_contains
                .as_ref()
                .is_none_or(|n| contains(i.get("name"), n))
    })
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::testing::Harness;

    fn names(list: &Value) -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ports_of_a_switch_typed_and_filtered() {
        let h = Harness::start(&[Profile::Switch48]).await;
        let all = h.ok("interface.list", json!({"device_id": "r1"})).await;
        // 48 copper ports, 4 SFP+ ports, the bridge and the management VLAN.
        assert_eq!(all["total"], 54, "{}", all["total"]);
        let ether1 = &all["items"][0];
        assert_eq!(ether1["name"], "ether1");
        assert_eq!(ether1["type"], "ether");
        assert_eq!(ether1["running"], true);
        assert_eq!(ether1["mtu"], 1500);
        assert!(ether1["rx-byte"].is_u64(), "{ether1}");
        assert!(ether1["link-downs"].is_u64());
        assert!(ether1.get("fp-rx-byte").is_none(), "not in the default set");
        let mac = ether1["mac-address"].as_str().unwrap();
        assert_eq!(mac.len(), 17, "{mac}");

        let vlans = h
            .ok("interface.list", json!({"device_id": "r1", "type": "vlan"}))
            .await;
        assert_eq!(names(&vlans), ["vlan99-mgmt"]);

        // The simulator plugs a cable into some access ports only.
        let down = h
            .ok(
                "interface.list",
                json!({"device_id": "r1", "type": "ether", "running": false, "limit": 100}),
            )
            .await;
        let up = h
            .ok(
                "interface.list",
                json!({"device_id": "r1", "type": "ether", "running": true}),
            )
            .await;
        let (down_n, up_n) = (
            down["total"].as_u64().unwrap(),
            up["total"].as_u64().unwrap(),
        );
        assert!(down_n > 0 && up_n > 0, "{down_n} {up_n}");
        assert_eq!(down_n + up_n, 52);
        assert!(
            down["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["running"] == false && i["type"] == "ether")
        );

        let sfp = h
            .ok(
                "interface.list",
                json!({"device_id": "r1", "name_contains": "SFP", "fields": ["name", "l2mtu"]}),
            )
            .await;
        assert_eq!(
            names(&sfp),
            [
                "sfp-sfpplus1",
                "sfp-sfpplus2",
                "sfp-sfpplus3",
                "sfp-sfpplus4"
            ]
        );
        let first = sfp["items"][0].as_object().unwrap();
        let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["id", "l2mtu", "name"],
            "fields can name any property"
        );
        assert_eq!(first["l2mtu"], 1592);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn disabled_interfaces_and_paging() {
        let h = Harness::start(&[Profile::Switch48]).await;
        let sim = h.sim("r1");
        sim.write_state(|s| {
            let spec = routeros_sim::model::menu("/interface/ethernet").unwrap();
            let id = s.resolve(spec, "ether7").unwrap();
            s.disable(spec, &[id]).unwrap();
        });
        let disabled = h
            .ok(
                "interface.list",
                json!({"device_id": "r1", "disabled": true}),
            )
            .await;
        assert_eq!(names(&disabled), ["ether7"]);
        assert_eq!(disabled["items"][0]["running"], false);

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let mut args = json!({"device_id": "r1", "limit": 20, "fields": ["name"]});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = h.ok("interface.list", args).await;
            seen.extend(names(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 54);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 54, "every interface exactly once");
    }
}
