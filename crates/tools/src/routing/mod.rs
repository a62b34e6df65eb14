//! The `routing` tools.

crate::toolkit::tools! {
    list_routes,
    plan_route,
}
