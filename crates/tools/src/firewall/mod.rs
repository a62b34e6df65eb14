//! The `firewall` tools.

mod add_address_list_entry;
mod list_address_lists;
mod list_filter_rules;
mod list_nat_rules;
mod list_rules;
mod plan_rules;
mod remove_address_list_entry;

use crate::registry::{Handler, handler, handler_as_caller};

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
    all.push(handler_as_caller!(
        "firewall.add_address_list_entry",
        add_address_list_entry::run
    ));
    all.push(handler_as_caller!(
        "firewall.remove_address_list_entry",
        remove_address_list_entry::run
    ));
    all.push(handler_as_caller!(
        "firewall.plan_filter_rule",
        plan_rules::filter
    ));
    all.push(handler_as_caller!("firewall.plan_nat_rule", plan_rules::nat));
}
