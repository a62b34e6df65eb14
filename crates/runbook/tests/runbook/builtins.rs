//! Every built-in runbook parses and validates against the embedded tool catalog, and keeps the
//! conventions built-ins follow: published, named after its file, listed in runbooks/README.md,
//! gates on fields the tools declare, and only real tools, settings and metrics named in prose.

use std::collections::BTreeSet;
use std::path::PathBuf;

use runbook::{Index, Runbook, Section, Status, StepKind, validate};
use serde_json::Value;

use crate::catalog;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn built_ins() -> Vec<Runbook> {
    let catalog = catalog();
    Index::built_in_files()
        .iter()
        .map(|(file, text)| {
            validate::check(&format!("runbooks/{file}"), text, &catalog).unwrap_or_else(|p| {
                panic!(
                    "{}",
                    p.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })
        })
        .collect()
}

const EXPECTED: &[&str] = &[
    "configuration-drift",
    "credential-rotation-failure",
    "device-unreachable",
    "dhcp-pool-exhausted",
    "dns-not-resolving",
    "high-cpu",
    "interface-down",
    "mcp-protocol-errors",
    "routing-neighbor-down",
    "session-storm",
    "token-budget-violations",
    "token-refresh-cascade",
    "tool-execution-failures",
    "tool-timeout-spiral",
    "wan-failover",
];

#[test]
fn every_built_in_parses_validates_and_is_published_under_its_file_name() {
    let runbooks = built_ins();
    let names: Vec<&str> = runbooks.iter().map(|r| r.meta.name.as_str()).collect();
    assert_eq!(names, EXPECTED);
    for (r, (file, _)) in runbooks.iter().zip(Index::built_in_files()) {
        assert_eq!(format!("{}.md", r.meta.name), *file);
        assert_eq!(r.meta.status, Status::Published, "{file}");
        assert!(!r.symptom.is_empty(), "{file}");
        for section in [Section::Diagnosis, Section::Remediation, Section::Verify] {
            assert!(
                r.steps.iter().any(|s| s.section == section),
                "{file} has no steps in {section}"
            );
        }
    }
    let index = Index::load(catalog(), None);
    assert!(index.problems().is_empty(), "{:?}", index.problems());
    assert_eq!(index.len(), EXPECTED.len());
}

#[test]
fn the_readme_names_exactly_the_files_in_the_folder() {
    let dir = repo().join("runbooks");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    on_disk.sort();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut named: Vec<String> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(link, _)| link.to_owned()))
        .collect();
    named.sort();
    named.dedup();
    assert_eq!(named, on_disk);
    let embedded: Vec<String> = Index::built_in_files()
        .iter()
        .map(|(f, _)| (*f).to_owned())
        .collect();
    assert_eq!(embedded, on_disk);
}

/// Follows a JSON pointer through an output schema: every property it names must be declared,
/// except below an object whose properties the schema leaves open. Returns the leaf schema.
fn schema_at<'s>(schema: &'s Value, pointer: &str) -> Result<Option<&'s Value>, String> {
    let mut node = schema;
    for token in pointer.split('/').skip(1) {
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            match props.get(token) {
                Some(p) => node = p,
                None => return Err(format!("{token} is not a declared property")),
            }
        } else if let Some(items) = node.get("items") {
            token
                .parse::<usize>()
                .map_err(|_| format!("{token} indexes a list"))?;
            node = items;
        } else {
            return Ok(None);
        }
    }
    Ok(Some(node))
}

#[test]
fn gates_check_fields_the_tools_declare_in_their_output_schema() {
    let catalog = catalog();
    let export = catalog.export();
    let tools = export["tools"].as_array().unwrap();
    for r in built_ins() {
        let with_tools = r.tool_steps().count() > 0;
        let verify_gate = r
            .tool_steps()
            .any(|(s, t)| s.section == Section::Verify && t.is_gate());
        assert!(
            !with_tools || verify_gate,
            "{}: a runbook with tool steps has a gate in Verify",
            r.meta.name
        );
        for (_, t) in r.tool_steps() {
            let spec = tools.iter().find(|x| x["name"] == t.tool.as_str()).unwrap();
            for c in &t.expect {
                let leaf = schema_at(&spec["outputSchema"], &c.pointer)
                    .unwrap_or_else(|e| panic!("{}:{}: {}: {e}", r.file, c.line, c.pointer));
                if let Some(leaf) = leaf
                    && matches!(
                        c.op,
                        runbook::Op::Lt | runbook::Op::Le | runbook::Op::Gt | runbook::Op::Ge
                    )
                {
                    let types = leaf["type"].to_string();
                    assert!(
                        types.contains("integer") || types.contains("number"),
                        "{}:{}: {} is {types}, not a number",
                        r.file,
                        c.line,
                        c.pointer
                    );
                }
            }
        }
    }
}

/// Words in backquotes or plain text that look like a setting, a metric or a tool.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|t| t.trim_matches('.').to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn all_text(r: &Runbook) -> String {
    let mut text = format!("{}\n{}\n", r.meta.description, r.symptom);
    for s in &r.steps {
        match &s.kind {
            StepKind::Prose { text: t } => text.push_str(t),
            StepKind::Tool(t) => text.push_str(t.description.as_deref().unwrap_or_default()),
        }
        text.push('\n');
    }
    text
}

#[test]
fn prose_names_only_real_settings_metrics_tools_and_runbooks() {
    let root = repo();
    let settings = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let mut metrics = String::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let path = krate.unwrap().path().join("src/metrics.rs");
        if let Ok(t) = std::fs::read_to_string(path) {
            metrics.push_str(&t);
        }
    }
    let catalog = catalog();
    let categories: BTreeSet<&str> = catalog
        .names()
        .filter_map(|n| n.split_once('.').map(|(c, _)| c))
        .collect();
    let runbooks = built_ins();
    let mut checked = (0, 0, 0);
    for r in &runbooks {
        for t in tokens(&all_text(r)) {
            let is_setting = [
                "MCP_",
                "ROUTEROS_",
                "OIDC_",
                "CF_ACCESS_",
                "DATABASE_",
                "LOG_",
            ]
            .iter()
            .any(|p| t.starts_with(p))
                || t == "MAX_INIT_PER_SECOND";
            if is_setting {
                checked.0 += 1;
                assert!(
                    settings.contains(&format!("`{t}`")),
                    "{}: {t} is not a setting in docs/configuration.md",
                    r.meta.name
                );
            }
            let is_metric = ["mcp_", "routeros_", "auth_failures", "rbac_"]
                .iter()
                .any(|p| t.starts_with(p))
                && !t.contains('.')
                && !t.ends_with('_');
            if is_metric {
                checked.1 += 1;
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| t.strip_suffix(s))
                    .unwrap_or(&t);
                assert!(
                    metrics.contains(&format!("\"{base}\"")),
                    "{}: {t} is not a metric registered in crates/*/src/metrics.rs",
                    r.meta.name
                );
            }
            if let Some((category, action)) = t.split_once('.')
                && categories.contains(category)
                && !action.is_empty()
                && !action.ends_with("md")
            {
                checked.2 += 1;
                assert!(
                    catalog.get(&t).is_some(),
                    "{}: names the tool {t}, which does not exist",
                    r.meta.name
                );
            }
        }
    }
    assert!(
        checked.0 > 20 && checked.1 > 20 && checked.2 > 20,
        "{checked:?}"
    );
    // Runbooks named in prose ("the high-cpu runbook", "see tool-execution-failures") exist.
    let names: BTreeSet<&str> = runbooks.iter().map(|r| r.meta.name.as_str()).collect();
    for r in &runbooks {
        let text = all_text(r);
        for word in text.split(|c: char| !(c.is_ascii_lowercase() || c == '-')) {
            if word.contains('-') && word.len() > 8 && !names.contains(word) {
                let mentioned_as_runbook = text.contains(&format!("the {word} runbook"))
                    || text.contains(&format!("see {word})"))
                    || text.contains(&format!("(see {word}"));
                assert!(!mentioned_as_runbook, "{}: no runbook {word}", r.meta.name);
            }
        }
    }
}
