//! The handler table: one entry per tool, collected from the category modules. The server
//! checks it against the catalog both ways at startup (a schema without a handler, or a handler
//! without a schema, is a build defect a test catches).

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::{Ctx, ToolError, ToolOutput};

pub type ToolFuture = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send>>;

/// One tool's entry point.
#[derive(Clone, Copy)]
pub struct Handler {
    pub name: &'static str,
    pub run: fn(Ctx, Value) -> ToolFuture,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Declares a handler from an `async fn(Ctx, Params) -> Result<ToolOutput, ToolError>`.
macro_rules! handler {
    ($name:literal, $f:path) => {
        $crate::registry::Handler {
            name: $name,
            run: |ctx, args| Box::pin(async move { $f(ctx, $crate::params(args)?).await }),
        }
    };
}
pub(crate) use handler;

/// Every handler.
pub fn handlers() -> Vec<Handler> {
    let mut all = Vec::new();
    crate::device::register(&mut all);
    crate::system::register(&mut all);
    crate::interface::register(&mut all);
    crate::ip::register(&mut all);
    crate::routing::register(&mut all);
    crate::dns::register(&mut all);
    crate::dhcp::register(&mut all);
    crate::firewall::register(&mut all);
    crate::wireguard::register(&mut all);
    crate::log::register(&mut all);
    crate::diagnostics::register(&mut all);
    crate::config::register(&mut all);
    crate::fleet_ops::register(&mut all);
    crate::print_any::register(&mut all);
    all.sort_by_key(|h| h.name);
    all
}
