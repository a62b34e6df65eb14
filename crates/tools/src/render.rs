//! The compact text rendering of a result (the `content` a model reads), derived from the
//! structured result: one `key: value` line per field, one line per list item.

use serde_json::Value;

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Object(o) if o.contains_key("text") && o.contains_key("seconds") => {
            o.get("text").map(scalar).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

fn item_line(item: &Value) -> String {
    match item {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| {
                let s = scalar(v);
                if s.contains(' ') || s.is_empty() {
                    format!("{k}={s:?}")
                } else {
                    format!("{k}={s}")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => scalar(other),
    }
}

/// Renders a structured result as compact text.
pub(crate) fn text(structured: &Value) -> String {
    let Value::Object(map) = structured else {
        return scalar(structured);
    };
    let mut lines = Vec::new();
    for (k, v) in map {
        if k == "items" {
            continue;
        }
        match v {
            Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
                lines.push(format!(
                    "{k}: {}",
                    a.iter().map(scalar).collect::<Vec<_>>().join(", ")
                ));
            }
            Value::Array(a) => {
                lines.push(format!("{k}:"));
                lines.extend(a.iter().map(|x| format!("  {}", item_line(x))));
            }
            Value::Object(o) if !(o.contains_key("text") && o.contains_key("seconds")) => {
                lines.push(format!("{k}: {}", item_line(v)));
            }
            other => lines.push(format!("{k}: {}", scalar(other))),
        }
    }
    if let Some(Value::Array(items)) = map.get("items") {
        lines.push("items:".into());
        lines.extend(items.iter().map(|x| format!("  {}", item_line(x))));
    }
    lines.join("\n")
}
