//! `ip.list_addresses`: the router's IPv4 addresses with their interface and network, and
//! whether each is dynamic (DHCP client, PPP), disabled or invalid (its interface is gone).

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("ip.list_addresses", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let mut query = PrintQuery::all();
    if let Some(i) = &p.interface {
        query = query.filter("interface", i.trim());
    }
    MenuList {
        tool: "ip.list_addresses",
        scope_args: json!({"device_id": p.device_id, "interface": p.interface}),
        device_id: &p.device_id,
        menu: "ip/address",
        query,
        window: window(p.limit, p.cursor, p.fields),
    }
    .run(&ctx, |_| true)
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn addresses_by_interface() {
        let h = Harness::start(&[Profile::Home, Profile::Edge]).await;
        let home = h.ok("ip.list_addresses", json!({"device_id": "r1"})).await;
        assert_eq!(home["total"], 3);
        let lan = home["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["interface"] == "bridge")
            .unwrap();
        assert_eq!(lan["address"], "192.168.88.1/24");
        assert_eq!(lan["network"], "192.168.88.0");
        assert_eq!(lan["dynamic"], false);
        assert_eq!(lan["disabled"], false);
        assert_eq!(lan["comment"], "defconf");
        let mgmt = &home["items"][0];
        assert_eq!(mgmt["interface"], "ether1");
        assert_eq!(
            mgmt["address"],
            format!("{}/24", h.sims.manifest().devices[0].address).as_str()
        );

        let edge = h.ok("ip.list_addresses", json!({"device_id": "r2"})).await;
        assert_eq!(edge["total"], 23);
        let vlan = h
            .ok(
                "ip.list_addresses",
                json!({"device_id": "r2", "interface": "vlan107"}),
            )
            .await;
        assert_eq!(vlan["total"], 1);
        assert_eq!(vlan["items"][0]["address"], "10.100.7.1/24");
        let none = h
            .ok(
                "ip.list_addresses",
                json!({"device_id": "r2", "interface": "no-such"}),
            )
            .await;
        assert_eq!(
            (none["total"].as_u64(), none["next_cursor"].is_null()),
            (Some(0), true)
        );
    }
}
