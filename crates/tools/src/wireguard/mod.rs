//! The `wireguard` tools.

crate::toolkit::tools! {
    list_peers,
}
