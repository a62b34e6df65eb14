//! The `dns` tools.

mod add_static_entry;
mod get_config;
mod list_static;
mod remove_static_entry;

use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler_as_caller!(
        "dns.add_static_entry",
        add_static_entry::run
    ));
    all.push(handler!("dns.get_config", get_config::run));
    all.push(handler!("dns.list_static", list_static::run));
    all.push(handler_as_caller!(
        "dns.remove_static_entry",
        remove_static_entry::run
    ));
}
