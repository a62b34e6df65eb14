//! What a client announces that this server does not use (`MCP_LOG_UNKNOWN_CAPABILITIES`):
//! the names of its experimental capabilities and its extensions, logged at info once per
//! client name and set, so an operator learns which clients expect more than the server offers
//! without a line per request (2026-07-28 clients announce their capabilities on every request).
//!
//! Names come from the client: they are escaped and bounded before they reach a log line, and
//! the set of announcements already logged is bounded too.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use rmcp::model::ClientCapabilities;

/// Announcements remembered; past this the set starts over (a flood of made-up names costs
/// log lines at most once per name set until then).
const REMEMBER: usize = 1_024;
/// Names kept from one announcement, and characters kept from one name.
const MAX_NAMES: usize = 16;
const MAX_NAME_CHARS: usize = 64;

/// Capabilities the server knows but does not use either way are not reported: roots,
/// sampling and elicitation are part of the protocol (elicitation is used for approvals), and
/// the MCP Apps extension is one the server uses (see [`crate::apps`]).
#[derive(Debug, Default)]
pub(crate) struct UnknownCapabilities {
    seen: Mutex<HashSet<String>>,
}

impl UnknownCapabilities {
    /// Logs the experimental capabilities and extensions in `caps`, unless this client already
    /// announced the same set; returns what was logged, if anything.
    pub(crate) fn note(&self, client: &str, caps: &ClientCapabilities) -> Option<String> {
        let mut names: Vec<String> = caps
            .experimental
            .iter()
            .flat_map(|m| m.keys().map(|k| format!("experimental.{}", bounded(k))))
            .chain(
                caps.extensions
                    .iter()
                    .flat_map(|m| m.keys())
                    .filter(|k| k.as_str() != crate::apps::EXTENSION)
                    .map(|k| format!("extensions.{}", bounded(k))),
            )
            .collect();
        if names.is_empty() {
            return None;
        }
        let total = names.len();
        names.truncate(MAX_NAMES);
        let mut list = names.join(", ");
        if total > MAX_NAMES {
            list.push_str(&format!(" and {} more", total - MAX_NAMES));
        }
        let client = bounded(client);
        let key = format!("{client}\u{0}{list}");
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if seen.contains(&key) {
                return None;
            }
            if seen.len() >= REMEMBER {
                seen.clear();
            }
            seen.insert(key);
        }
        tracing::info!(
            client = %client,
            capabilities = %list,
            "the client announces capabilities this server does not use"
        );
        Some(list)
    }
}

fn bounded(text: &str) -> String {
    domain::text::escape(text)
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn caps(value: serde_json::Value) -> ClientCapabilities {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn experimental_and_extension_names_are_noted_once_per_client_and_set() {
        let noted = UnknownCapabilities::default();
        let announced = caps(serde_json::json!({
            "elicitation": {},
            "experimental": {"acme/telepathy": {}},
            "extensions": {"io.example/canvas": {}, "io.modelcontextprotocol/ui": {}}
        }));
        assert_eq!(
            noted.note("claude", &announced).as_deref(),
            Some("experimental.acme/telepathy, extensions.io.example/canvas"),
            "MCP Apps is used, so not reported"
        );
        assert_eq!(noted.note("claude", &announced), None, "once");
        assert!(noted.note("other", &announced).is_some(), "per client");
        assert_eq!(
            noted.note("claude", &caps(serde_json::json!({"elicitation": {}}))),
            None
        );
    }

    #[test]
    fn names_from_the_client_are_escaped_and_bounded() {
        let noted = UnknownCapabilities::default();
        let mut experimental = serde_json::Map::new();
        for i in 0..40 {
            experimental.insert(
                format!("x{i}\u{1b}[31m{}", "y".repeat(200)),
                serde_json::json!({}),
            );
        }
        let line = noted
            .note(
                "evil\nclient",
                &caps(serde_json::json!({"experimental": experimental})),
            )
            .unwrap();
        assert!(!line.contains('\u{1b}'), "{line}");
        assert!(line.ends_with("and 24 more"), "{line}");
        assert!(
            line.len() < MAX_NAMES * (MAX_NAME_CHARS + 20) + 20,
            "{}",
            line.len()
        );
    }
}
