//! The `ip` tools.

crate::toolkit::tools! {
    list_addresses,
    list_arp,
    list_neighbors,
    plan_address,
}
