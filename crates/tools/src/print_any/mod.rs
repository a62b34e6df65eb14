//! `routeros.print`: read any menu on an allow-list of read-only RouterOS menus — breadth
//! without a tool per menu.

mod print;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("routeros.print", print::run));
}
