//! `firewall.list_filter_rules`: the IPv4 filter rules in order, with their position, so a model
//! can reason about which rule matches first.

use super::list_rules::Params;
use crate::{Ctx, ToolError, ToolOutput};

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("firewall.list_filter_rules", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    super::list_rules::run("firewall.list_filter_rules", "ip/firewall/filter", ctx, p).await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_through_thousands_of_rules_in_order() {
        let h = Harness::start(&[Profile::Edge]).await;
        let first = h
            .ok(
                "firewall.list_filter_rules",
                json!({"device_id": "r1", "limit": 500, "fields": ["chain", "action"]}),
            )
            .await;
        let total = first["total"].as_u64().unwrap();
        assert!(total >= 5000, "{total}");
        assert_eq!(first["returned"], 500);
        assert!(first["items"][0].get("comment").is_none(), "fields narrows");
        let mut seen = 500;
        let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
        while let Some(c) = cursor {
            let page = h
                .ok(
                    "firewall.list_filter_rules",
                    json!({"device_id": "r1", "limit": 1000, "fields": ["chain"], "cursor": c}),
                )
                .await;
            seen += page["returned"].as_u64().unwrap();
            cursor = page["next_cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, total);
        let input = h
            .ok(
                "firewall.list_filter_rules",
                json!({"device_id": "r1", "chain": "input", "limit": 5}),
            )
            .await;
        assert!(
            input["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["chain"] == "input")
        );
        assert!(input["items"][0]["position"].as_u64().unwrap() >= 1);
        let foreign = h
            .call(
                "firewall.list_filter_rules",
                json!({"device_id": "r1", "chain": "forward", "cursor": first["next_cursor"]}),
            )
            .await;
        assert!(foreign.unwrap_err().to_string().contains("different query"));
    }
}
