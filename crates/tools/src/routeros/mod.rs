//! `routeros.print`: read any menu on an allow-list of read-only RouterOS menus — breadth
//! without a tool per menu. Secrets hidden, script bodies withheld unless asked for with the
//! professional tier.

mod print;

use crate::registry::{Handler, handler_as_caller};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler_as_caller!("routeros.print", print::run));
}
