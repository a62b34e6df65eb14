//! The `system` tools.

mod get_clock;
mod get_health;
mod get_overview;
mod list_packages;
mod set_identity;

use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("system.get_overview", get_overview::run));
    all.push(handler!("system.get_health", get_health::run));
    all.push(handler!("system.get_clock", get_clock::run));
    all.push(handler!("system.list_packages", list_packages::run));
    all.push(handler_as_caller!("system.set_identity", set_identity::run));
}
