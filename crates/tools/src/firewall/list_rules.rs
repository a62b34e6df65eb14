//! What the ordered-table list tools (`firewall.list_filter_rules`, `firewall.list_nat_rules`)
//! share: every rule numbered by its place in the whole table, then filtered and paged.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

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

pub(crate) async fn run(
    tool: &str,
    menu: &str,
    ctx: Ctx,
    p: Params,
) -> Result<ToolOutput, ToolError> {
    // Filters are applied after numbering so `position` is the rule's place in the whole
    // table, as RouterOS evaluates it.
    let scope_args = json!({"device_id": p.device_id, "chain": p.chain, "action": p.action, "disabled": p.disabled, "comment_contains": p.comment_contains});
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
    MenuList {
        tool,
        scope_args,
        device_id: &p.device_id,
        menu,
        query,
        window: window(p.limit, p.cursor, p.fields.clone()),
    }
    .run_shaped(
        &ctx,
        |i, _, item| {
            item.insert("position".into(), json!(i + 1));
        },
        |i| {
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
        },
    )
    .await
}
