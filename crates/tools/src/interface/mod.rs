//! The `interface` tools.

crate::toolkit::tools! {
    get,
    get_traffic,
    list,
    plan_state,
    set_comment,
}
