//! The `routing` tools.

mod list_routes;
mod plan_route;

use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("routing.list_routes", list_routes::run));
    all.push(handler_as_caller!("routing.plan_route", plan_route::run));
}
