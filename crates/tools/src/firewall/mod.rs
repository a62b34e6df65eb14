//! The `firewall` tools.

mod list_address_lists;
mod list_filter_rules;
mod list_nat_rules;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!(
        "firewall.list_filter_rules",
        list_filter_rules::run
    ));
    all.push(handler!("firewall.list_nat_rules", list_nat_rules::run));
    all.push(handler!(
        "firewall.list_address_lists",
        list_address_lists::run
    ));
}
