//! What `firewall.plan_filter_rule` and `firewall.plan_nat_rule` share: plan one change to an
//! ordered firewall table — add a rule (at the end or before another), remove, enable, disable or move
//! one. Order is the meaning of a firewall, so adds and moves say where, and the plan records
//! the order it was made against. Returns the plan; nothing changes until it is approved and
//! applied.

use serde::Deserialize;
use serde_json::{Map, Value};
use workflow::{ChangeRequest, Op, Selector};

use crate::Caller;
use crate::args;
use crate::args::text_props;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Add,
    Remove,
    Enable,
    Disable,
    Move,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    action: Action,
    rule_id: Option<String>,
    rule: Option<Map<String, Value>>,
    place_before: Option<String>,
}

/// The table a tool plans on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub tool: &'static str,
    pub menu: &'static str,
    pub noun: &'static str,
}

fn invalid(message: String) -> ToolError {
    ToolError::InvalidArguments(message)
}

pub(crate) async fn run(
    table: Table,
    ctx: Ctx,
    p: Params,
    caller: Caller,
) -> Result<ToolOutput, ToolError> {
    let place_before = p
        .place_before
        .as_deref()
        .map(|i| args::item_id("place_before", i).map(Selector::Id))
        .transpose()?;
    let target = || -> Result<Selector, ToolError> {
        match &p.rule_id {
            Some(i) => Ok(Selector::Id(args::item_id("rule_id", i)?)),
            None => Err(invalid(format!(
                "rule_id is required to {} a {}: the .id that firewall.list_{}s prints",
                verb(p.action),
                table.noun,
                table.menu.rsplit('/').next().unwrap_or_default()
            ))),
        }
    };
    if !matches!(p.action, Action::Add) && p.rule.is_some() {
        return Err(invalid(format!(
            "rule (the properties of a new rule) is only for action add; to change a rule's properties use plan.create with action set on /{}",
            table.menu
        )));
    }
    if !matches!(p.action, Action::Add | Action::Move) && p.place_before.is_some() {
        return Err(invalid(
            "place_before is only for action add or move".into(),
        ));
    }
    let (op, what) = match p.action {
        Action::Add => {
            if p.rule_id.is_some() {
                return Err(invalid(
                    "rule_id names an existing rule; a new rule is described by rule".into(),
                ));
            }
            let Some(rule) = &p.rule else {
                return Err(invalid(format!(
                    "rule is required to add a {}: RouterOS properties such as {{\"chain\": \"forward\", \"action\": \"drop\", \"src-address\": \"203.0.113.0/24\", \"comment\": \"…\"}}",
                    table.noun
                )));
            };
            // RouterOS names properties with dashes; accept the underscores JSON habits bring.
            let dashed: Map<String, Value> = rule
                .iter()
                .map(|(k, v)| (k.trim().replace('_', "-"), v.clone()))
                .collect();
            let props = text_props(&dashed)?;
            if props.get("chain").is_none_or(|c| c.trim().is_empty()) {
                return Err(invalid(format!(
                    "rule.chain is required: every {} belongs to a chain (e.g. input, forward, output, srcnat, dstnat)",
                    table.noun
                )));
            }
            let label = props.get("comment").map_or_else(
                || format!("in chain {}", props["chain"]),
                |c| format!("\"{c}\""),
            );
            (
                Op::Add {
                    props,
                    place_before,
                },
                label,
            )
        }
        Action::Remove => (Op::Remove { target: target()? }, rule_label(&p)),
        Action::Enable => (Op::Enable { target: target()? }, rule_label(&p)),
        Action::Disable => (Op::Disable { target: target()? }, rule_label(&p)),
        Action::Move => (
            Op::Move {
                target: target()?,
                place_before,
            },
            rule_label(&p),
        ),
    };
    let verb = verb(p.action);
    crate::proposal::propose_on(
        &ctx,
        &caller,
        table.tool,
        format!(
            "{} {} {what} on {}",
            capitalised(verb),
            table.noun,
            p.device_id
        ),
        p.device_id,
        vec![ChangeRequest {
            menu: table.menu.into(),
            op,
        }],
    )
    .await
}

fn rule_label(p: &Params) -> String {
    p.rule_id.as_deref().unwrap_or_default().trim().to_owned()
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Add => "add",
        Action::Remove => "remove",
        Action::Enable => "enable",
        Action::Disable => "disable",
        Action::Move => "move",
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}
