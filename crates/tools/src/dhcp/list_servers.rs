//! `dhcp.list_servers`: the DHCP servers of one router with the interface they serve, their
//! address pool, lease time and a one-word `state`, so a model does not have to combine the
//! `disabled` and `invalid` flags itself to know whether a server hands out addresses. A
//! server's `lease-script` is a script body and shows as `"(withheld)"`.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

/// `disabled` wins over `invalid` (a disabled server is not serving whatever its config says);
/// everything else serves.
fn state(item: &Map<String, Value>) -> &'static str {
    if item.get("disabled") == Some(&Value::Bool(true)) {
        "disabled"
    } else if item.get("invalid") == Some(&Value::Bool(true)) {
        "invalid"
    } else {
        "enabled"
    }
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("dhcp.list_servers", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let scope_args = json!({"device_id": p.device_id});
    MenuList {
        tool: "dhcp.list_servers",
        scope_args,
        device_id: &p.device_id,
        menu: "ip/dhcp-server",
        query: PrintQuery::all(),
        window: window(p.limit, p.cursor, p.fields),
    }
    .run_shaped(
        &ctx,
        |_, _, item| {
            let s = state(item);
            item.insert("state".into(), json!(s));
        },
        |_| true,
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn servers_with_pool_lease_time_and_state() {
        let h = Harness::start(&[Profile::Home, Profile::Edge]).await;
        let home = h.ok("dhcp.list_servers", json!({"device_id": "r1"})).await;
        assert_eq!(home["total"], 1);
        let s = &home["items"][0];
        assert_eq!(s["name"], "defconf");
        assert_eq!(s["interface"], "bridge");
        assert_eq!(s["address-pool"], "default-dhcp");
        assert_eq!(s["lease-time"], json!({"seconds": 1800, "text": "30m"}));
        assert_eq!(s["state"], "enabled");
        assert_eq!(home["device"]["name"], "r1");

        // A server disabled on the device shows as such.
        h.sim("r2").write_state(|st| {
            st.insert_raw(
                "/ip/dhcp-server",
                &[
                    ("name", "guest"),
                    ("interface", "sfp-sfpplus4"),
                    ("disabled", "true"),
                ],
            )
            .unwrap();
        });
        let edge = h
            .ok(
                "dhcp.list_servers",
                json!({"device_id": "r2", "fields": ["name", "state"]}),
            )
            .await;
        let states: Vec<(String, String)> = edge["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert!(s.get("interface").is_none(), "fields narrows: {s}");
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            states,
            vec![
                ("lan-dhcp".to_owned(), "enabled".to_owned()),
                ("guest".to_owned(), "disabled".to_owned())
            ]
        );

        h.sim("r1").reboot(Duration::from_secs(30));
        let e = h
            .call("dhcp.list_servers", json!({"device_id": "r1"}))
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("device r1: "), "{e}");
    }
}
