//! The `dns` tools.

mod get_config;
mod list_static;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("dns.get_config", get_config::run));
    all.push(handler!("dns.list_static", list_static::run));
}
