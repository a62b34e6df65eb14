//! The `system` tools.

crate::toolkit::tools! {
    get_clock,
    get_health,
    get_overview,
    list_packages,
    set_identity,
}
