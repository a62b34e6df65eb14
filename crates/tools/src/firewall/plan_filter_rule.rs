//! `firewall.plan_filter_rule`: plan one change to the IPv4 filter table (`/ip/firewall/filter`) — add a rule (at the end or
//! before another), remove, enable, disable or move one (see [`super::plan_rules`]).

use super::plan_rules::{Params, Table};
use crate::{Caller, Ctx, ToolError, ToolOutput};

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("firewall.plan_filter_rule", run);

const TABLE: Table = Table {
    tool: "firewall.plan_filter_rule",
    menu: "ip/firewall/filter",
    noun: "filter rule",
};

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    super::plan_rules::run(TABLE, ctx, p, caller).await
}
