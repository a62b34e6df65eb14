//! `interface.plan_state`: plans enabling or disabling one interface. Disabling the interface
//! the server reaches the router through is critical: the router is then armed to undo it by
//! itself. Returns the plan; nothing changes until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props, Selector};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Enabled,
    Disabled,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: String,
    state: State,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("interface.plan_state", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let name = args::text("interface", &p.interface, true)?;
    let target = Selector::Where(Props::from([("name".to_owned(), name.clone())]));
    let (op, verb) = match p.state {
        State::Enabled => (Op::Enable { target }, "Enable"),
        State::Disabled => (Op::Disable { target }, "Disable"),
    };
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "interface.plan_state",
        format!("{verb} {name} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "interface".into(),
            op,
        }],
    )
    .await
}
