//! `firewall.list_filter_rules`: the IPv4 filter rules in order, with their position, so a model
//! can reason about which rule matches first.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, ToolError, ToolOutput, contains, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    chain: Option<String>,
    action: Option<String>,
    disabled: Option<bool>,
    comment_contains: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    // Filters are applied after numbering so `position` is the rule's place in the whole chain
    // list, as RouterOS evaluates it.
    let scope_args = json!({"device_id": p.device_id, "chain": p.chain, "action": p.action, "disabled": p.disabled, "comment_contains": p.comment_contains});
    let (dev, client) = crate::device(&ctx, &p.device_id).await?;
    // With `fields`, only those properties (and the ones filters need) cross the wire: on a
    // 5,000-rule firewall that is most of the cost of a page.
    let query = match &p.fields {
        Some(fields) => {
            let mut props: Vec<&str> = vec![".id", "chain", "action", "disabled", "comment"];
            for f in fields.iter().map(String::as_str) {
                if f != "id" && f != "position" && !props.contains(&f) {
                    props.push(f);
                }
            }
            PrintQuery::all().proplist(&props)
        }
        None => PrintQuery::all(),
    };
    let records = client
        .print(&crate::menu("ip/firewall/filter"), &query)
        .await?;
    let items = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut item = crate::normalize::record(r);
            item.insert("position".into(), json!(i + 1));
            item
        })
        .filter(|i| {
            p.chain
                .as_ref()
                .is_none_or(|c| i.get("chain") == Some(&json!(c)))
                && p.action
                    .as_ref()
                    .is_none_or(|a| i.get("action") == Some(&json!(a)))
                && p.disabled
                    .is_none_or(|d| i.get("disabled") == Some(&Value::Bool(d)))
                && p.comment_contains
                    .as_ref()
                    .is_none_or(|c| contains(i.get("comment"), c))
        })
        .collect();
    crate::paging::list(
        crate::paging::scope("firewall.list_filter_rules", &scope_args),
        &window(p.limit, p.cursor, p.fields),
        items,
        crate::device_ref(&dev),
    )
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
