//! `routeros.print`: read any menu on an allow-list of read-only RouterOS menus — breadth
//! without a tool per menu. Secrets hidden, script bodies withheld unless asked for with the
//! professional tier.

crate::toolkit::tools! {
    print,
}
