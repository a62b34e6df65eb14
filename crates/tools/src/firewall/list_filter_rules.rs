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
    let records = client.print(&crate::menu("ip/firewall/filter"), &PrintQuery::all()).await?;
    let items = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut item = crate::normalize::record(r);
            item.insert("position".into(), json!(i + 1));
            item
        })
        .filter(|i| {
            p.chain.as_ref().is_none_or(|c| i.get("chain") == Some(&json!(c)))
                && p.action.as_ref().is_none_or(|a| i.get("action") == Some(&json!(a)))
                && p.disabled.is_none_or(|d| i.get("disabled") == Some(&Value::Bool(d)))
                && p.comment_contains.as_ref().is_none_or(|c| contains(i.get("comment"), c))
        })
        .collect();
    crate::paging::list(
        crate::paging::scope("firewall.list_filter_rules", &scope_args),
        &window(p.limit, p.cursor, p.fields),
        items,
        crate::device_ref(&dev),
    )
}
