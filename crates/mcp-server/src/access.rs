//! Who an MCP request acts for, and what their role lets them see and call.
//!
//! Over HTTP the transport's authentication puts the verified [`Principal`] on the request (as
//! an `http` extension); over stdio every request acts for the local user with `MCP_STDIO_ROLE`.
//! A request that carries no principal acts for nobody and reaches nothing (fail closed).
//!
//! Read-only (`free`) tools need `viewer`; tools that propose or apply changes (`basic`,
//! `professional`) need `operator`, in the project of every device they touch. `tools/list`
//! shows a caller only the tools its roles allow somewhere; no tool approves plans.

use std::sync::Arc;

use auth::{Principal, Role};
use domain::Tier;
use rmcp::RoleServer;
use rmcp::service::RequestContext;

/// The role a tool of `tier` needs.
pub fn role_for(tier: Tier) -> Role {
    match tier {
        Tier::Free => Role::Viewer,
        Tier::Basic | Tier::Professional => Role::Operator,
    }
}

/// The principal an HTTP request was authenticated as, if the transport put one on it.
pub(crate) fn from_request(context: &RequestContext<RoleServer>) -> Option<Arc<Principal>> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Principal>>())
        .cloned()
}

/// A principal that holds nothing.
pub(crate) fn nobody() -> Arc<Principal> {
    Arc::new(Principal {
        subject: "nobody".into(),
        display: "nobody".into(),
        kind: auth::PrincipalKind::Local,
        grants: Vec::new(),
    })
}

/// The highest role `principal` holds anywhere, as a metric label (`none` without any).
pub fn role_label(principal: &Principal) -> &'static str {
    [Role::Admin, Role::Operator, Role::Approver, Role::Viewer]
        .into_iter()
        .find(|r| principal.has_anywhere(*r))
        .map_or("none", Role::as_str)
}

/// How a principal is named in audit records and logs: `kind:subject`, escaped and bounded.
pub fn actor_name(principal: &Principal) -> String {
    let subject: String = domain::text::escape(&principal.subject)
        .chars()
        .take(128)
        .collect();
    format!("{}:{subject}", principal.kind.as_str())
}
