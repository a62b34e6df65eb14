//! The OAuth 2.0 Protected Resource Metadata document (RFC 9728) that tells an MCP client which
//! authorization server issues tokens for this server and how to present them.

use serde_json::{Value, json};

/// Where RFC 9728 §3 says the document lives, relative to the resource's origin.
pub const PROTECTED_RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The metadata document for `resource` (the MCP endpoint's canonical URL).
///
/// `scopes_supported` is left out when `scopes` is empty; tokens are only ever accepted in the
/// `Authorization` header (`bearer_methods_supported: ["header"]`).
pub fn protected_resource_metadata(
    resource: &str,
    authorization_servers: &[String],
    scopes: &[&str],
) -> Value {
    let mut doc = json!({
        "resource": resource,
        "authorization_servers": authorization_servers,
        "bearer_methods_supported": ["header"],
    });
    if !scopes.is_empty()
        && let Some(map) = doc.as_object_mut()
    {
        map.insert("scopes_supported".to_owned(), json!(scopes));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_the_resource_its_issuers_scopes_and_header_only() {
        let doc = protected_resource_metadata(
            "https://mcp.example.com/mcp",
            &["https://id.example.com/realms/ops".to_owned()],
            &["viewer", "operator"],
        );
        assert_eq!(
            doc,
            json!({
                "resource": "https://mcp.example.com/mcp",
                "authorization_servers": ["https://id.example.com/realms/ops"],
                "scopes_supported": ["viewer", "operator"],
                "bearer_methods_supported": ["header"],
            })
        );
        let bare = protected_resource_metadata("https://m/mcp", &[], &[]);
        assert!(bare.get("scopes_supported").is_none());
        assert_eq!(bare["authorization_servers"], json!([]));
    }
}
