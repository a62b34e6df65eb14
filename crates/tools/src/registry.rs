//! The handler table: one entry per tool, collected from the category modules. The server
//! checks it against the catalog both ways at startup (a schema without a handler, or a handler
//! without a schema, is a build defect a test catches).

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::{Ctx, ToolError, ToolOutput};

pub type ToolFuture = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send>>;

/// Who is calling: recorded on what the call creates (plans) and in the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub audit: store::AuditContext,
    /// The tool tiers the server exposes to this caller (enabled and not above its session
    /// tier). Handlers consult it for what a tier unlocks inside a tool, such as script bodies
    /// in `routeros.print`.
    pub tiers: Vec<domain::Tier>,
}

impl Caller {
    /// A caller with only the `free` tier.
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            audit: store::AuditContext::new(actor),
            tiers: vec![domain::Tier::Free],
        }
    }

    /// The same caller with `tiers` exposed.
    pub fn with_tiers(mut self, tiers: Vec<domain::Tier>) -> Self {
        self.tiers = tiers;
        self
    }

    /// Whether the server exposes `tier` to this caller.
    pub fn allows(&self, tier: domain::Tier) -> bool {
        self.tiers.contains(&tier)
    }
}

/// One tool's entry point.
#[derive(Clone, Copy)]
pub struct Handler {
    pub name: &'static str,
    pub run: fn(Ctx, Value, Caller) -> ToolFuture,
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
            run: |ctx, args, _caller| Box::pin(async move { $f(ctx, $crate::params(args)?).await }),
        }
    };
}
pub(crate) use handler;

/// Declares a handler that needs to know its caller:
/// `async fn(Ctx, Params, Caller) -> Result<ToolOutput, ToolError>`.
macro_rules! handler_as_caller {
    ($name:literal, $f:path) => {
        $crate::registry::Handler {
            name: $name,
            run: |ctx, args, caller| {
                Box::pin(async move { $f(ctx, $crate::params(args)?, caller).await })
            },
        }
    };
}
pub(crate) use handler_as_caller;

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
    crate::fleet::register(&mut all);
    crate::plan::register(&mut all);
    crate::routeros::register(&mut all);
    all.sort_by_key(|h| h.name);
    all
}
