//! The `dhcp` tools: DHCP servers and their leases, read from `/ip/dhcp-server`.

crate::toolkit::tools! {
    list_leases,
    list_servers,
    make_lease_static,
}
