//! The `interface` tools.

mod get;
mod get_traffic;
mod list;
mod plan_state;
mod set_comment;

use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("interface.list", list::run));
    all.push(handler!("interface.get", get::run));
    all.push(handler!("interface.get_traffic", get_traffic::run));
    all.push(handler_as_caller!(
        "interface.set_comment",
        set_comment::run
    ));
    all.push(handler_as_caller!("interface.plan_state", plan_state::run));
}
