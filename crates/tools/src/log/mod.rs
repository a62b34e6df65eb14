//! The `log` tools.

mod get_recent;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("log.get_recent", get_recent::run));
}
