//! `system.set_identity`: plans renaming a router (`/system/identity`, the name in its prompt
//! and neighbour announcements). Returns the plan; nothing changes until it is approved and
//! applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props, Selector};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    name: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("system.set_identity", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let name = args::text("name", &p.name, true)?;
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "system.set_identity",
        format!("Rename {} to {name}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "system/identity".into(),
            op: Op::Set {
                target: Selector::Singleton,
                props: Props::from([("name".to_owned(), name)]),
                unset: Vec::new(),
            },
        }],
    )
    .await
}
