//! The `log` tools.

crate::toolkit::tools! {
    get_recent,
}
