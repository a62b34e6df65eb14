//! The `routing` tools.

mod list_routes;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("routing.list_routes", list_routes::run));
}
