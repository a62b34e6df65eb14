//! The handler table: every tool category's `HANDLERS`, in one list. The server checks it
//! against the catalog both ways at startup (a schema without a handler, or a handler without a
//! schema, is a build defect a test catches). A new category adds one line here; a new tool in
//! a category adds one line to that category's `tools!` list.

pub use crate::toolkit::{Caller, Handler, ToolFuture};

/// Every handler, sorted by tool name.
pub fn handlers() -> Vec<Handler> {
    let mut all: Vec<Handler> = [
        crate::config::HANDLERS,
        crate::device::HANDLERS,
        crate::dhcp::HANDLERS,
        crate::diagnostics::HANDLERS,
        crate::dns::HANDLERS,
        crate::firewall::HANDLERS,
        crate::fleet::HANDLERS,
        crate::interface::HANDLERS,
        crate::ip::HANDLERS,
        crate::log::HANDLERS,
        crate::plan::HANDLERS,
        crate::routeros::HANDLERS,
        crate::routing::HANDLERS,
        crate::system::HANDLERS,
        crate::wireguard::HANDLERS,
    ]
    .concat();
    all.sort_by_key(|h| h.name);
    all
}
