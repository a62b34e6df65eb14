//! The `firewall` tools.

mod list_rules;
mod plan_rules;

crate::toolkit::tools! {
    add_address_list_entry,
    list_address_lists,
    list_filter_rules,
    list_nat_rules,
    plan_filter_rule,
    plan_nat_rule,
    remove_address_list_entry,
}
