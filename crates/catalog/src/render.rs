//! `docs/tool-catalog.md`, generated from the catalog (a test compares it with the file).

use std::fmt::Write as _;

use serde_json::Value;

use crate::Catalog;

fn arguments(spec: &crate::ToolSpec) -> String {
    let required: Vec<&str> = spec
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = spec
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
    else {
        return "none".into();
    };
    if props.is_empty() {
        return "none".into();
    }
    props
        .keys()
        .map(|k| {
            if required.contains(&k.as_str()) {
                format!("`{k}`*")
            } else {
                format!("`{k}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn markdown(catalog: &Catalog) -> String {
    let mut out = String::from(
        "# Tool catalog\n\n\
         Generated from `tool-schemas/` by `routeros-mcp catalog docs`; do not edit by hand (a test \
         fails when this file and the schemas disagree). Arguments marked * are required. Each \
         tool's full input and output schema is in its file and in `dist/mcp-tool-catalog.json` \
         (`routeros-mcp catalog export`).\n",
    );
    let mut category = String::new();
    for spec in catalog.iter() {
        if spec.category() != category {
            category = spec.category().to_owned();
            let _ = write!(
                out,
                "\n## {category}\n\n| tool | tier | arguments | what it does |\n|---|---|---|---|\n"
            );
        }
        let _ = writeln!(
            out,
            "| `{}` | {}{} | {} | {} |",
            spec.name,
            spec.tier,
            if spec.is_read_only() { "" } else { ", writes" },
            arguments(spec),
            spec.description.replace('|', "\\|").replace('\n', " ")
        );
    }
    out
}
