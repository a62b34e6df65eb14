//! The MCP tools.
//!
//! One module per tool, named after it (`system.get_overview` is `system/get_overview.rs` ↔
//! `tool-schemas/system/get_overview.json`), holding its typed parameters, its `HANDLER` and
//! its tests; a category's `mod.rs` lists its tools in one `tools!` line each. The shared
//! machinery lives beside them, in leaf modules that import no tool:
//!
//! - [`registry`]: the handler table the server dispatches on (one-to-one with the catalog);
//! - `toolkit`: what a handler may use ([`ToolContext`]: the fleet, the workflow, limits), its
//!   [`Caller`], the [`Handler`] type, [`ToolOutput`], the device lookup and `MenuList`, the one
//!   way a list tool reads a menu;
//! - `args`: checking what callers ask to write (ids, addresses, durations, properties);
//! - `proposal`: turning a write into a stored plan and showing plans;
//! - [`normalize`]: RouterOS strings into typed JSON (numbers, booleans, durations);
//! - [`paging`]: `limit`, `cursor` and `fields` for list tools;
//! - [`budget`]: token estimates, warnings, and cutting results to fit with a cursor;
//! - `redact`: secrets hidden and script bodies withheld in every result, and refused as
//!   filters, by the one definition in `routeros::secret`;
//! - [`ToolError`]: failures turned into messages that say what happened and what to do next.

mod args;
pub mod budget;
mod error;
pub mod normalize;
pub mod paging;
mod redact;
pub mod registry;
mod render;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod testing;
mod toolkit;

mod config;
mod device;
mod dhcp;
mod diagnostics;
mod dns;
mod firewall;
mod fleet;
mod interface;
mod ip;
mod log;
pub mod plan;
mod proposal;
mod routeros;
mod routing;
pub mod runbook;
mod system;
mod wireguard;

pub use budget::{Budget, Finished};
pub use config::hide_in_export;
pub use config::restore::propose_restore;
pub use error::ToolError;
pub use registry::handlers;
pub use toolkit::{
    Access, CacheNote, Caller, Ctx, Gather, Handler, ToolContext, ToolFuture, ToolOutput,
};
pub(crate) use toolkit::{MenuList, contains, device, device_ref, menu, plan, registered, window};
pub use toolkit::{device as resolve_device, plan as resolve_plan, visible_devices};
