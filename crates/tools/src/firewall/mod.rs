//! The `firewall` tools.

mod list_filter_rules;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!(
        "firewall.list_filter_rules",
        list_filter_rules::run
    ));
}
