//! Which tools a deployment shows, and why a hidden tool cannot be called.
//!
//! Applied once to shape what `tools/list` returns, and again on every call (a hidden tool must
//! also be uncallable). `MCP_READ_ONLY` wins over everything; then `MCP_DISABLE_TOOLS`; then the
//! tiers: a tool is shown when its tier is enabled (`MCP_TOOL_TIERS`) and not above the
//! session's tier (`MCP_DEFAULT_TOOL_TIER`; tiers rank free < basic < professional).

use domain::Tier;

use crate::{Catalog, ToolSpec};

/// The deployment's tool policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub tiers: Vec<Tier>,
    pub session_tier: Tier,
    pub read_only: bool,
    pub disabled: Vec<String>,
}

/// Whether a tool is shown, and if not, the sentence that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Visible,
    Hidden(String),
}

fn rank(t: Tier) -> u8 {
    match t {
        Tier::Free => 0,
        Tier::Basic => 1,
        Tier::Professional => 2,
    }
}

impl Policy {
    /// Names in `MCP_DISABLE_TOOLS` must exist: a typo would silently leave a tool enabled.
    pub fn check(&self, catalog: &Catalog) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .disabled
            .iter()
            .map(String::as_str)
            .filter(|n| catalog.get(n).is_none())
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "MCP_DISABLE_TOOLS names tools that do not exist: {}; see `routeros-mcp catalog list`",
                unknown.join(", ")
            ))
        }
    }

    pub fn visibility(&self, spec: &ToolSpec) -> Visibility {
        if self.read_only && !spec.is_read_only() {
            return Visibility::Hidden(format!(
                "tool {} changes configuration and the server runs read-only (MCP_READ_ONLY=true)",
                spec.name
            ));
        }
        if self.disabled.iter().any(|d| d == &spec.name) {
            return Visibility::Hidden(format!(
                "tool {} is disabled on this server (MCP_DISABLE_TOOLS)",
                spec.name
            ));
        }
        if !self.tiers.contains(&spec.tier) {
            return Visibility::Hidden(format!(
                "tool {} is in tier {}, which this server does not enable (MCP_TOOL_TIERS={})",
                spec.name,
                spec.tier,
                self.tiers
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        if rank(spec.tier) > rank(self.session_tier) {
            return Visibility::Hidden(format!(
                "tool {} is in tier {}, above this session's tier {} (MCP_DEFAULT_TOOL_TIER)",
                spec.name, spec.tier, self.session_tier
            ));
        }
        Visibility::Visible
    }

    /// The tools to list, in catalog order.
    pub fn visible<'c>(&self, catalog: &'c Catalog) -> Vec<&'c ToolSpec> {
        catalog
            .iter()
            .filter(|s| self.visibility(s) == Visibility::Visible)
            .collect()
    }
}
