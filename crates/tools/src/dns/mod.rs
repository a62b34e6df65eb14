//! The `dns` tools.

crate::toolkit::tools! {
    add_static_entry,
    get_config,
    list_static,
    remove_static_entry,
}
