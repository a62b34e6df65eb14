//! `interface.set_comment`: plans setting (or, with an empty comment, clearing) the comment of
//! one interface. Returns the plan; nothing changes until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props, Selector};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: String,
    comment: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("interface.set_comment", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let name = args::text("interface", &p.interface, true)?;
    let comment = args::text("comment", &p.comment, false)?;
    let target = Selector::Where(Props::from([("name".to_owned(), name.clone())]));
    let (op, title) = if comment.is_empty() {
        (
            Op::Set {
                target,
                props: Props::new(),
                unset: vec!["comment".into()],
            },
            format!("Clear the comment of {name} on {}", p.device_id),
        )
    } else {
        (
            Op::Set {
                target,
                props: Props::from([("comment".to_owned(), comment)]),
                unset: Vec::new(),
            },
            format!("Set the comment of {name} on {}", p.device_id),
        )
    };
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "interface.set_comment",
        title,
        p.device_id,
        vec![ChangeRequest {
            menu: "interface".into(),
            op,
        }],
    )
    .await
}
