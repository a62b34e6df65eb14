//! The `system` tools.

mod get_overview;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("system.get_overview", get_overview::run));
}
