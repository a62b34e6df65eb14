//! The `wireguard` tools.

mod list_peers;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("wireguard.list_peers", list_peers::run));
}
