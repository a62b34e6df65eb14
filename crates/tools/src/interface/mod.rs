//! The `interface` tools.

mod get;
mod get_traffic;
mod list;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("interface.list", list::run));
    all.push(handler!("interface.get", get::run));
    all.push(handler!("interface.get_traffic", get_traffic::run));
}
