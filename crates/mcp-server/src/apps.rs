//! The MCP Apps extension (`io.modelcontextprotocol/ui`, MCP Apps 2026-01-26): a read-only view
//! of `plan.get` that hosts able to render it show the person next to the tool result.
//!
//! What it owns: whether a client declared the extension ([`supported`]), the `_meta.ui` a tool
//! carries for such a client ([`annotate`]), and the view itself, the `ui://` resource
//! [`PLAN_VIEW_URI`] (one self-contained HTML document, `text/html;profile=mcp-app`).
//!
//! Clients that do not declare the extension (with `text/html;profile=mcp-app` among its
//! `mimeTypes`) see every tool and resource exactly as without it. The view calls no tool: it
//! receives `plan.get`'s result from the host (`ui/notifications/tool-result`), renders it as
//! text, and can only ask the host to open the web console page where an approver decides
//! (`ui/open-link`). A host proxies a view's `tools/call` on the client's own connection with
//! nothing that tells the server where it came from, so the server cannot refuse a call because
//! a view made it; what it can do is mark every tool that changes something
//! `_meta.ui.visibility: ["model"]`, which the extension obliges hosts to enforce by refusing
//! such calls from views. Approval never depends on either: `plan.apply` needs an approval
//! token that only a person's decision mints.

use std::sync::LazyLock;

use base64::Engine;
use rmcp::model::{ClientCapabilities, MetaObject, ReadResourceResult, Resource, ResourceContents};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The extension's identifier in the `extensions` capability.
pub const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The MIME type of an MCP Apps HTML view.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";
/// The view of `plan.get`.
pub const PLAN_VIEW_URI: &str = "ui://routeros-mcp/plan-view";
/// The tool the view renders.
const VIEWED_TOOL: &str = "plan.get";

const TEMPLATE: &str = include_str!("apps/plan_view.html");
const HASH_SLOT: &str = "__SCRIPT_HASH__";
const CONSOLE_SLOT: &str = "__CONSOLE_BASE__";

/// Whether the client declared the extension and can render HTML views. The client's
/// announcement is read as sent on this request (2026-07-28) or at `initialize`.
pub fn supported(caps: Option<&ClientCapabilities>) -> bool {
    caps.and_then(|c| c.extensions.as_ref())
        .and_then(|e| e.get(EXTENSION))
        .and_then(|settings| settings.get("mimeTypes"))
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some(MIME_TYPE)))
}

/// Adds `_meta.ui` to a tool's `_meta` for a client that renders views: `plan.get` names its
/// view; a tool that changes something is for the model only (hosts refuse it to views).
pub(crate) fn annotate(spec: &catalog::ToolSpec, meta: &mut Map<String, Value>) {
    if spec.name == VIEWED_TOOL {
        meta.insert("ui".into(), json!({"resourceUri": PLAN_VIEW_URI}));
    } else if !spec.annotations.read_only_hint {
        meta.insert("ui".into(), json!({"visibility": ["model"]}));
    }
}

/// The `_meta.ui` of the view: no network, no external resources, no frames, no permissions;
/// a border around it.
fn resource_meta() -> MetaObject {
    let mut meta = Map::new();
    meta.insert(
        "ui".into(),
        json!({
            "csp": {"connectDomains": [], "resourceDomains": [], "frameDomains": [], "baseUriDomains": []},
            "prefersBorder": true,
        }),
    );
    MetaObject(meta)
}

/// The view as `resources/list` shows it to a client that renders views.
pub(crate) fn resource() -> Resource {
    Resource::new(PLAN_VIEW_URI, "plan-view")
        .with_title("Change plan view")
        .with_description(
            "How hosts that render MCP Apps show plan.get: the plan's changes per router, risk and why, state and the link to the web console where an approver decides. Read-only.",
        )
        .with_mime_type(MIME_TYPE)
        .with_meta(resource_meta())
}

/// The view's `resources/read` result.
pub(crate) fn read(console_base: Option<&str>) -> ReadResourceResult {
    ReadResourceResult::new(vec![
        ResourceContents::text(plan_view_html(console_base), PLAN_VIEW_URI)
            .with_mime_type(MIME_TYPE)
            .with_meta(resource_meta()),
    ])
}

/// The template with its script's hash in the document's own Content-Security-Policy: only
/// that script runs, so even markup that reached the page could not run an inline handler.
static TEMPLATE_WITH_HASH: LazyLock<String> = LazyLock::new(|| {
    let script = script_of(TEMPLATE);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    TEMPLATE.replacen(HASH_SLOT, &format!("sha256-{hash}"), 1)
});

/// The text of the document's one inline script.
fn script_of(html: &str) -> &str {
    let start = html.find("<script>").map_or(0, |i| i + "<script>".len());
    let end = html[start..]
        .find("</script>")
        .map_or(html.len(), |i| start + i);
    &html[start..end]
}

/// The view's HTML, linking to `{console_base}/console/plans/{plan_id}` when the server knows
/// its public URL (`MCP_HTTP_PUBLIC_URL`).
pub fn plan_view_html(console_base: Option<&str>) -> String {
    let base = console_base
        .filter(|b| b.starts_with("https://") || b.starts_with("http://"))
        .map(|b| attribute(b.trim_end_matches('/')))
        .unwrap_or_default();
    TEMPLATE_WITH_HASH.replacen(CONSOLE_SLOT, &base, 1)
}

/// `text` escaped for a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn caps(value: Value) -> ClientCapabilities {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn only_a_client_that_renders_mcp_app_html_is_supported() {
        assert!(supported(Some(&caps(json!({
            "extensions": {EXTENSION: {"mimeTypes": ["text/plain", MIME_TYPE]}}
        })))));
        for refused in [
            json!({}),
            json!({"extensions": {}}),
            json!({"extensions": {EXTENSION: {}}}),
            json!({"extensions": {EXTENSION: {"mimeTypes": "text/html;profile=mcp-app"}}}),
            json!({"extensions": {EXTENSION: {"mimeTypes": ["text/html"]}}}),
            json!({"extensions": {"io.modelcontextprotocol/uix": {"mimeTypes": [MIME_TYPE]}}}),
            json!({"experimental": {EXTENSION: {"mimeTypes": [MIME_TYPE]}}}),
        ] {
            assert!(!supported(Some(&caps(refused.clone()))), "{refused}");
        }
        assert!(!supported(None));
    }

    #[test]
    fn the_script_hash_in_the_policy_is_the_hash_of_the_served_script() {
        let html = plan_view_html(None);
        assert!(!html.contains(HASH_SLOT) && !html.contains(CONSOLE_SLOT));
        let script = script_of(&html);
        assert!(script.len() > 1_000, "the script is found");
        let hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
        assert!(
            html.contains(&format!("script-src 'sha256-{hash}'")),
            "the policy allows exactly the view's script"
        );
        assert_eq!(html.matches("<script").count(), 1, "one script");
    }

    #[test]
    fn the_console_address_is_an_escaped_attribute_and_only_http() {
        let html = plan_view_html(Some("https://ops.example.net/mcp/"));
        assert!(html.contains(r#"content="https://ops.example.net/mcp""#));
        let html = plan_view_html(Some(r#"https://x.example/"><script>alert(1)</script>"#));
        assert!(html.contains("https://x.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(html.matches("<script").count(), 1);
        let html = plan_view_html(Some("javascript:alert(1)"));
        assert!(html.contains(r#"name="routeros-mcp-console" content="""#));
        assert!(!html.contains("javascript:alert"));
    }

    /// The view is a viewer: it reaches nothing, calls no tool, asks the host for nothing but
    /// its start and opening the console, and never parses text as HTML.
    #[test]
    fn the_view_calls_no_tool_and_inserts_text_only() {
        let html = plan_view_html(Some("https://ops.example.net"));
        for forbidden in [
            "tools/call",
            "resources/read",
            "ui/message",
            "ui/update-model-context",
            "sampling/",
            "plan.apply",
            "plan.approve",
            "approval_token",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "Function(",
            "setTimeout(\"",
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "EventSource",
            "sendBeacon",
            "<form",
            "<iframe",
            "<img",
            "<a ",
            "src=",
            "href=",
            "localStorage",
            "cookie",
        ] {
            assert!(!html.contains(forbidden), "the view contains {forbidden}");
        }
        // Every request the view makes goes through `request(...)`: only these two.
        let requested: Vec<&str> = html
            .split("request(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(requested, ["ui/open-link", "ui/initialize"]);
        let notified: Vec<&str> = html
            .split("notify(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(
            notified,
            [
                "ui/notifications/size-changed",
                "ui/notifications/initialized"
            ]
        );
        assert_eq!(
            html.matches("<button").count(),
            0,
            "buttons are built as text"
        );
        assert_eq!(
            html.matches("el(\"button\"").count(),
            1,
            "one button: the link"
        );
    }

    #[test]
    fn tools_that_change_things_are_for_the_model_only_and_plan_get_names_its_view() {
        let catalog = catalog::Catalog::embedded().unwrap();
        let mut named = 0;
        for spec in catalog.iter() {
            let mut meta = Map::new();
            annotate(spec, &mut meta);
            if spec.name == "plan.get" {
                named += 1;
                assert_eq!(meta["ui"], json!({"resourceUri": PLAN_VIEW_URI}));
            } else if spec.annotations.read_only_hint {
                assert!(meta.is_empty(), "{}", spec.name);
            } else {
                assert_eq!(meta["ui"]["visibility"], json!(["model"]), "{}", spec.name);
            }
        }
        assert_eq!(named, 1);
    }
}
