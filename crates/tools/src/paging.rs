//! `limit`, `cursor` and `fields` for list tools, and the list envelope every list tool returns:
//! `{"items": […], "total": N, "returned": n, "next_cursor": "…" | null}` (plus the tool's own
//! context such as `device`).
//!
//! A cursor is opaque to the client: the offset of the next item and a fingerprint of the query
//! it belongs to, so a cursor replayed with other filters is refused rather than silently
//! skipping or repeating items.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::Digest;

use crate::ToolError;
use crate::ToolOutput;

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 100;
/// The most items one page may ask for (budgets may cut further).
pub const MAX_LIMIT: usize = 1000;

/// What the client asked for besides filters.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub fields: Option<Vec<String>>,
}

/// Where a page sits in its list, for cutting it to a budget.
#[derive(Debug, Clone)]
pub struct Page {
    pub offset: usize,
    pub total: usize,
    pub scope: String,
}

/// Fingerprint of a query: the tool and every argument except the window.
pub fn scope(tool: &str, filters: &Value) -> String {
    let mut h = sha2::Sha256::new();
    h.update(tool.as_bytes());
    h.update(b"|");
    h.update(filters.to_string().as_bytes());
    hex::encode(&h.finalize()[..6])
}

pub fn encode_cursor(offset: usize, scope: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}:{scope}"))
}

pub fn decode_cursor(cursor: &str, scope: &str) -> Result<usize, ToolError> {
    let invalid = || {
        ToolError::InvalidArguments(
            "cursor is not one this server issued: pass the next_cursor of the previous page unchanged".into(),
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (offset, from) = text.split_once(':').ok_or_else(invalid)?;
    if from != scope {
        return Err(ToolError::InvalidArguments(
            "cursor belongs to a different query: repeat the same filters and fields, or start again without a cursor".into(),
        ));
    }
    offset.parse().map_err(|_| invalid())
}

/// Builds one page of `items` (already filtered) in the list envelope.
pub fn list(
    scope: String,
    window: &Window,
    items: Vec<Map<String, Value>>,
    mut context: Map<String, Value>,
) -> Result<ToolOutput, ToolError> {
    let total = items.len();
    let offset = match &window.cursor {
        Some(c) => decode_cursor(c, &scope)?,
        None => 0,
    };
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the list ({total} items): the list changed; start again without a cursor"
        )));
    }
    let limit = window
        .limit
        .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
        .clamp(1, MAX_LIMIT);
    let end = (offset + limit).min(total);
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(end - offset)
        .map(|i| Value::Object(crate::normalize::project(i, window.fields.as_deref())))
        .collect();
    context.insert("returned".into(), json!(page.len()));
    context.insert("total".into(), json!(total));
    context.insert(
        "next_cursor".into(),
        if end < total {
            Value::String(encode_cursor(end, &scope))
        } else {
            Value::Null
        },
    );
    context.insert("items".into(), Value::Array(page));
    Ok(ToolOutput {
        structured: Value::Object(context),
        page: Some(Page {
            offset,
            total,
            scope,
        }),
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Map<String, Value>> {
        (0..n)
            .map(|i| {
                let mut m = Map::new();
                m.insert("id".into(), json!(format!("*{i:X}")));
                m.insert("n".into(), json!(i));
                m.insert("x".into(), json!("y"));
                m
            })
            .collect()
    }

    #[test]
    fn pages_walk_the_list_once() {
        let scope = scope("t.list_x", &json!({"device_id": "r1"}));
        let mut cursor = None;
        let mut seen = Vec::new();
        loop {
            let w = Window {
                limit: Some(7),
                cursor: cursor.clone(),
                fields: Some(vec!["n".into()]),
            };
            let out = list(scope.clone(), &w, items(30), Map::new())
                .unwrap()
                .structured;
            for item in out["items"].as_array().unwrap() {
                assert!(item.get("x").is_none(), "fields projects");
                seen.push(item["n"].as_u64().unwrap());
            }
            match out["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, (0..30).collect::<Vec<u64>>());
    }

    #[test]
    fn foreign_or_forged_cursors_are_refused() {
        let a = scope("t.list_x", &json!({"chain": "input"}));
        let b = scope("t.list_x", &json!({"chain": "forward"}));
        let c = encode_cursor(5, &a);
        assert!(
            decode_cursor(&c, &b)
                .unwrap_err()
                .to_string()
                .contains("different query")
        );
        assert!(decode_cursor("garbage!", &a).is_err());
        let w = Window {
            cursor: Some(encode_cursor(99, &a)),
            ..Window::default()
        };
        assert!(list(a, &w, items(3), Map::new()).is_err());
    }
}
