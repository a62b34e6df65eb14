//! Token budgets: every result carries an estimate; over the warning threshold it says so; over
//! the error threshold a list is cut to fit, with a cursor to continue and a note on narrowing —
//! never an error, and never an unbounded dump.
//!
//! The estimate is the number of characters the client receives (compact text plus structured
//! JSON) divided by four, the usual rule of thumb for English and JSON with current tokenizers.

use serde_json::{Value, json};

use crate::ToolOutput;
use crate::paging::encode_cursor;

/// Thresholds from configuration (`MCP_TOKEN_BUDGET_*`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub warning: u64,
    pub error: u64,
}

impl Default for Budget {
    /// The documented defaults of `MCP_TOKEN_BUDGET_WARNING_THRESHOLD` and `…_ERROR_THRESHOLD`.
    fn default() -> Self {
        Self {
            warning: 5_000,
            error: 50_000,
        }
    }
}

/// A result ready to send.
#[derive(Debug, Clone)]
pub struct Finished {
    pub structured: Value,
    pub text: String,
    pub estimated_tokens: u64,
    /// Over the warning threshold (after any cut).
    pub warning: bool,
    /// Cut to fit the error threshold.
    pub cut: bool,
    /// Some of it came from the read cache (carried from [`ToolOutput::cache`]).
    pub cache: Option<crate::CacheNote>,
}

fn estimate(structured: &Value, text: &str) -> u64 {
    let chars = structured.to_string().chars().count() + text.chars().count();
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX)
}

fn render(structured: &Value) -> (String, u64) {
    let text = crate::render::text(structured);
    let tokens = estimate(structured, &text);
    (text, tokens)
}

/// The estimate [`finish`] will make of `structured` (its JSON and its text rendering), for a
/// handler that sizes its own answer.
pub fn estimate_tokens(structured: &Value) -> u64 {
    render(structured).1
}

/// Keeps the first `keep` items of the page and adds the continuation.
fn cut_to(
    full: &Value,
    keep: usize,
    offset: usize,
    total: usize,
    scope: &str,
    budget: &Budget,
) -> Value {
    let mut v = full.clone();
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        let shown = items.len();
        items.truncate(keep);
        let next = offset + keep;
        v["returned"] = json!(keep);
        v["next_cursor"] = if next < total {
            json!(encode_cursor(next, scope))
        } else {
            Value::Null
        };
        v["truncated"] = json!(true);
        v["note"] = json!(format!(
            "Cut to fit the token budget ({} tokens): {keep} of the {shown} items of this page are shown (items {}-{} of {total}). \
             Continue with the next_cursor, or narrow the query: fewer fields, filters, a smaller limit.",
            budget.error,
            offset + 1,
            offset + keep
        ));
    }
    v
}

/// Applies the budget to a handler's output.
pub fn finish(output: ToolOutput, budget: &Budget) -> Finished {
    let cache = output.cache;
    let (mut text, mut tokens) = render(&output.structured);
    let mut structured = output.structured;
    let mut cut = false;
    if tokens > budget.error
        && let Some(page) = &output.page
    {
        let len = structured
            .get("items")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if len > 1 {
            // The largest prefix that fits; at least one item so a walk always progresses.
            // The items' JSON alone bounds the search, so each trial renders a small page.
            let limit_chars = usize::try_from(budget.error.saturating_mul(4)).unwrap_or(usize::MAX);
            let mut json_chars = 0usize;
            let upper = structured
                .get("items")
                .and_then(Value::as_array)
                .map_or(len, |items| {
                    items
                        .iter()
                        .position(|item| {
                            json_chars += item.to_string().chars().count() + 1;
                            json_chars > limit_chars
                        })
                        .map_or(len, |over| over.max(1))
                });
            let (mut lo, mut hi) = (1usize, upper);
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                let candidate = cut_to(
                    &structured,
                    mid,
                    page.offset,
                    page.total,
                    &page.scope,
                    budget,
                );
                if render(&candidate).1 <= budget.error {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            structured = cut_to(
                &structured,
                lo,
                page.offset,
                page.total,
                &page.scope,
                budget,
            );
            (text, tokens) = render(&structured);
            cut = true;
        }
    }
    let warning = tokens > budget.warning;
    if warning {
        text = format!(
            "[about {tokens} tokens, over the {} token warning threshold: prefer fields, filters and a smaller limit]\n{text}",
            budget.warning
        );
    }
    Finished {
        structured,
        text,
        estimated_tokens: tokens,
        warning,
        cut,
        cache,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::{Window, list, scope};
    use serde_json::Map;

    fn big_list(n: usize) -> ToolOutput {
        let items = (0..n)
            .map(|i| {
                let mut m = Map::new();
                m.insert("id".into(), json!(format!("*{i:X}")));
                m.insert("comment".into(), json!("x".repeat(200)));
                m
            })
            .collect();
        let w = Window {
            limit: Some(1000),
            ..Window::default()
        };
        list(scope("t.list_x", &json!({})), &w, items, Map::new()).unwrap()
    }

    #[test]
    fn small_results_pass_untouched_with_an_estimate() {
        let f = finish(
            ToolOutput::new(json!({"name": "r1"})),
            &Budget {
                warning: 100,
                error: 1000,
            },
        );
        assert!(!f.warning && !f.cut);
        assert!(f.estimated_tokens > 0 && f.estimated_tokens < 20);
    }

    #[test]
    fn large_lists_are_cut_to_fit_with_a_cursor_and_a_note() {
        let budget = Budget {
            warning: 2_000,
            error: 5_000,
        };
        let f = finish(big_list(500), &budget);
        assert!(f.cut);
        assert!(f.estimated_tokens <= budget.error, "{}", f.estimated_tokens);
        let kept = f.structured["returned"].as_u64().unwrap();
        assert!(kept > 10 && kept < 500, "{kept}");
        assert!(f.structured["next_cursor"].is_string());
        assert!(
            f.structured["note"]
                .as_str()
                .unwrap()
                .contains("next_cursor")
        );
        assert!(
            f.text.starts_with("[about"),
            "warning first: {}",
            &f.text[..60]
        );
    }
}
