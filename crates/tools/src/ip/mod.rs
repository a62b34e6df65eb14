//! The `ip` tools.

mod list_addresses;
mod list_arp;
mod list_neighbors;
mod plan_address;

use crate::registry::{Handler, handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("ip.list_addresses", list_addresses::run));
    all.push(handler!("ip.list_arp", list_arp::run));
    all.push(handler!("ip.list_neighbors", list_neighbors::run));
    all.push(handler_as_caller!("ip.plan_address", plan_address::run));
}
