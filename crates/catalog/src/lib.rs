//! The MCP tool catalog: one JSON file per tool under `tool-schemas/<category>/<action>.json`.
//!
//! The catalog is a contract: what `tools/list` serves is exactly these files (embedded at build
//! time), arguments are validated against each tool's `inputSchema` before any handler runs, and
//! tests validate every result against its `outputSchema`. [`Catalog::check`] enforces the rules
//! CI relies on — valid JSON Schema 2020-12, `category.action` names matching their paths, known
//! tiers, no duplicates, descriptions that say what the tool returns and when to use it, honest
//! annotations — and [`Policy`] decides which tools a deployment shows.

mod policy;
mod render;

pub use policy::{Policy, Visibility};

use std::collections::BTreeMap;
use std::path::Path;

use domain::Tier;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Hints a client may use to decide how carefully to treat a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Annotations {
    pub read_only_hint: bool,
    pub destructive_hint: bool,
    pub idempotent_hint: bool,
    pub open_world_hint: bool,
}

/// One tool as its file defines it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub tier: Tier,
    pub version: String,
    pub annotations: Annotations,
    pub input_schema: Map<String, Value>,
    pub output_schema: Map<String, Value>,
}

impl ToolSpec {
    /// The category (`firewall` of `firewall.list_filter_rules`).
    pub fn category(&self) -> &str {
        self.name
            .split_once('.')
            .map_or(self.name.as_str(), |(c, _)| c)
    }

    /// Whether the tool only reads.
    pub fn is_read_only(&self) -> bool {
        self.annotations.read_only_hint
    }
}

/// A problem with the catalog files.
#[derive(Debug, thiserror::Error)]
#[error("invalid tool catalog:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct CatalogError(pub Vec<String>);

/// A violation of a tool's schema by some arguments or a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer to the offending value (`/limit`; empty for the whole document).
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            self.pointer.as_str()
        };
        write!(f, "{at}: {}", self.message)
    }
}

struct Compiled {
    spec: ToolSpec,
    input: jsonschema::Validator,
    output: jsonschema::Validator,
}

/// The validated catalog.
pub struct Catalog {
    tools: BTreeMap<String, Compiled>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Minimum description length, and the phrases that show it says what the tool returns and
/// when to use it.
const MIN_DESCRIPTION: usize = 40;
const RETURNS_WORDS: &[&str] = &["returns", "lists", "shows", "gives"];
const WHEN_WORDS: &[&str] = &["use ", "use it", "use this", "when "];

impl Catalog {
    /// The catalog built into this binary.
    pub fn embedded() -> Result<Self, CatalogError> {
        Self::from_files(
            EMBEDDED
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        )
    }

    /// The catalog in a directory (for `routeros-mcp catalog validate --dir`).
    pub fn from_dir(dir: &Path) -> Result<Self, CatalogError> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files)
            .map_err(|e| CatalogError(vec![format!("{}: {e}", dir.display())]))?;
        files.sort();
        Self::from_files(files)
    }

    /// Parses, checks and compiles; every problem is reported at once.
    pub fn from_files(files: Vec<(String, String)>) -> Result<Self, CatalogError> {
        let mut problems = Vec::new();
        let mut tools = BTreeMap::new();
        if files.is_empty() {
            problems.push("no tool schema files found".to_owned());
        }
        for (path, text) in files {
            match check_file(&path, &text) {
                Ok(compiled) => {
                    if tools.contains_key(&compiled.spec.name) {
                        problems.push(format!(
                            "{path}: duplicate tool name {}",
                            compiled.spec.name
                        ));
                    } else {
                        tools.insert(compiled.spec.name.clone(), compiled);
                    }
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(Self { tools })
        } else {
            Err(CatalogError(problems))
        }
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.get(name).map(|c| &c.spec)
    }

    /// Every tool, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.values().map(|c| &c.spec)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    /// Checks arguments against the tool's `inputSchema`, reporting every violation.
    pub fn validate_input(&self, name: &str, arguments: &Value) -> Result<(), Vec<Violation>> {
        let Some(c) = self.tools.get(name) else {
            return Err(vec![Violation {
                pointer: String::new(),
                message: format!("unknown tool {name}"),
            }]);
        };
        violations(&c.input, arguments)
    }

    /// Checks a result's `structuredContent` against the tool's `outputSchema`.
    pub fn validate_output(&self, name: &str, result: &Value) -> Result<(), Vec<Violation>> {
        let Some(c) = self.tools.get(name) else {
            return Err(vec![Violation {
                pointer: String::new(),
                message: format!("unknown tool {name}"),
            }]);
        };
        violations(&c.output, result)
    }

    /// The catalog as one JSON document (`dist/mcp-tool-catalog.json`).
    pub fn export(&self) -> Value {
        serde_json::json!({
            "catalog_version": 1,
            "server": "routeros-mcp",
            "server_version": env!("CARGO_PKG_VERSION"),
            "tools": self.iter().collect::<Vec<_>>(),
        })
    }

    /// `docs/tool-catalog.md`.
    pub fn markdown(&self) -> String {
        render::markdown(self)
    }
}

fn violations(validator: &jsonschema::Validator, instance: &Value) -> Result<(), Vec<Violation>> {
    let found: Vec<Violation> = validator
        .iter_errors(instance)
        .map(|e| Violation {
            pointer: e.instance_path().to_string(),
            message: match e.kind() {
                jsonschema::error::ValidationErrorKind::Enum { options } => {
                    enum_message(e.instance(), options)
                }
                _ => e.to_string(),
            },
        })
        .collect();
    if found.is_empty() { Ok(()) } else { Err(found) }
}

/// An enum violation that lists what is allowed (the validator's own message shows only two
/// candidates) and catches the usual slip of a RouterOS menu written with its leading slash.
fn enum_message(given: &Value, options: &Value) -> String {
    let allowed: Vec<String> = options
        .as_array()
        .map(|a| a.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    if let Some(bare) = given.as_str().and_then(|g| g.strip_prefix('/'))
        && options
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some(bare)))
    {
        return format!("{given} is written without the leading slash: \"{bare}\"");
    }
    format!("{given} is not one of {}", allowed.join(", "))
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, root, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((rel, std::fs::read_to_string(&path)?));
        }
    }
    Ok(())
}

fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// All the rules for one file.
fn check_file(path: &str, text: &str) -> Result<Compiled, Vec<String>> {
    let raw: Value =
        serde_json::from_str(text).map_err(|e| vec![format!("{path}: not JSON: {e}")])?;
    if let Some(tier) = raw.get("tier").and_then(Value::as_str)
        && tier.parse::<Tier>().is_err()
    {
        return Err(vec![format!(
            "{path}: tier \"{tier}\" is not one of free, basic, professional"
        )]);
    }
    let spec: ToolSpec = serde_json::from_value(raw).map_err(|e| vec![format!("{path}: {e}")])?;
    let mut problems = Vec::new();
    let expected = path
        .strip_suffix(".json")
        .and_then(|p| p.split_once('/'))
        .map(|(c, a)| format!("{c}.{a}"));
    match spec.name.split_once('.') {
        Some((c, a)) if is_segment(c) && is_segment(a) => {
            if expected.as_deref() != Some(spec.name.as_str()) {
                problems.push(format!(
                    "{path}: tool {} must live at {}/{}.json",
                    spec.name, c, a
                ));
            }
        }
        _ => problems.push(format!(
            "{path}: name \"{}\" is not category.action (lowercase letters, digits, '_')",
            spec.name
        )),
    }
    let d = spec.description.to_ascii_lowercase();
    if spec.description.chars().count() < MIN_DESCRIPTION {
        problems.push(format!(
            "{path}: description has {} characters; at least {MIN_DESCRIPTION} are needed to say what it returns and when to use it",
            spec.description.chars().count()
        ));
    }
    if !RETURNS_WORDS.iter().any(|w| d.contains(w)) {
        problems.push(format!(
            "{path}: description must say what the tool returns (\"Returns …\")"
        ));
    }
    if !WHEN_WORDS.iter().any(|w| d.contains(w)) {
        problems.push(format!(
            "{path}: description must say when to use the tool (\"Use when …\")"
        ));
    }
    if spec.title.trim().is_empty() {
        problems.push(format!("{path}: title is empty"));
    }
    match (spec.tier, spec.annotations.read_only_hint) {
        (Tier::Free, false) => problems.push(format!(
            "{path}: tier free tools only read; set annotations.readOnlyHint to true"
        )),
        (Tier::Basic | Tier::Professional, true) => problems.push(format!(
            "{path}: tier {} tools change configuration; readOnlyHint must be false",
            spec.tier
        )),
        _ => {}
    }
    if spec.annotations.read_only_hint && spec.annotations.destructive_hint {
        problems.push(format!("{path}: a read-only tool cannot be destructive"));
    }
    for (which, schema) in [
        ("inputSchema", &spec.input_schema),
        ("outputSchema", &spec.output_schema),
    ] {
        let value = Value::Object(schema.clone());
        if let Err(e) = jsonschema::draft202012::meta::validate(&value) {
            problems.push(format!(
                "{path}: {which} is not valid JSON Schema 2020-12: {e}"
            ));
        }
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            problems.push(format!(
                "{path}: {which} must describe an object (\"type\": \"object\")"
            ));
        }
    }
    if spec.input_schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        problems.push(format!(
            "{path}: inputSchema must set \"additionalProperties\": false so invented arguments are refused"
        ));
    }
    let action = spec.name.split_once('.').map_or("", |(_, a)| a);
    if action.starts_with("list_") {
        let props = spec
            .input_schema
            .get("properties")
            .and_then(Value::as_object);
        for required in ["limit", "cursor", "fields"] {
            if !props.is_some_and(|p| p.contains_key(required)) {
                problems.push(format!(
                    "{path}: list tools take \"{required}\" (with limit, cursor and fields)"
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let compile = |which: &str, schema: &Map<String, Value>| {
        jsonschema::draft202012::new(&Value::Object(schema.clone()))
            .map_err(|e| format!("{path}: {which} does not compile: {e}"))
    };
    match (
        compile("inputSchema", &spec.input_schema),
        compile("outputSchema", &spec.output_schema),
    ) {
        (Ok(input), Ok(output)) => Ok(Compiled {
            spec,
            input,
            output,
        }),
        (a, b) => Err(a.err().into_iter().chain(b.err()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, tier: &str, read_only: bool, description: &str) -> String {
        serde_json::json!({
            "name": name, "title": "T", "description": description, "tier": tier, "version": "1.0.0",
            "annotations": {"readOnlyHint": read_only, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true},
            "inputSchema": {"type": "object", "properties": {"device_id": {"type": "string"}}, "required": ["device_id"], "additionalProperties": false},
            "outputSchema": {"type": "object"}
        })
        .to_string()
    }

    const GOOD: &str =
        "Returns the device's identity. Use when you need to know which router this is.";

    #[test]
    fn a_good_file_passes_and_validates_arguments_with_pointers() {
        let c = Catalog::from_files(vec![(
            "system/get_x.json".into(),
            tool("system.get_x", "free", true, GOOD),
        )])
        .unwrap();
        assert!(
            c.validate_input("system.get_x", &serde_json::json!({"device_id": "r1"}))
                .is_ok()
        );
        let v = c
            .validate_input(
                "system.get_x",
                &serde_json::json!({"device_id": 7, "bogus": 1}),
            )
            .unwrap_err();
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().any(|x| x.pointer == "/device_id"));
        assert!(v.iter().any(|x| x.message.contains("bogus")));
    }

    #[test]
    fn every_rule_is_enforced_and_reported_at_once() {
        let files = vec![
            (
                "system/get_x.json".to_owned(),
                tool("system.get_y", "free", true, GOOD),
            ),
            (
                "system/bad.json".to_owned(),
                tool("System", "free", true, GOOD),
            ),
            ("a/b.json".to_owned(), tool("a.b", "gold", true, GOOD)),
            (
                "c/d.json".to_owned(),
                tool("c.d", "free", true, "too short"),
            ),
            ("e/f.json".to_owned(), tool("e.f", "free", false, GOOD)),
            ("g/h.json".to_owned(), tool("g.h", "basic", true, GOOD)),
            (
                "i/list_x.json".to_owned(),
                tool("i.list_x", "free", true, GOOD),
            ),
            ("j/k.json".to_owned(), "{not json".to_owned()),
        ];
        let err = Catalog::from_files(files).unwrap_err().to_string();
        for expected in [
            "tool system.get_y must live at system/get_y.json",
            "is not category.action",
            "tier \"gold\" is not one of free, basic, professional",
            "at least 40 are needed",
            "set annotations.readOnlyHint to true",
            "readOnlyHint must be false",
            "list tools take \"limit\"",
            "j/k.json: not JSON",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in\n{err}");
        }
    }

    #[test]
    fn invalid_schemas_and_duplicates_are_refused() {
        let mut bad = serde_json::from_str::<Value>(&tool("a.b", "free", true, GOOD)).unwrap();
        bad["inputSchema"]["properties"]["device_id"]["type"] = serde_json::json!("strnig");
        let files = vec![
            ("a/b.json".to_owned(), bad.to_string()),
            ("c/d.json".to_owned(), tool("c.d", "free", true, GOOD)),
            ("c/d2.json".to_owned(), tool("c.d", "free", true, GOOD)),
        ];
        let err = Catalog::from_files(files).unwrap_err().to_string();
        assert!(
            err.contains("inputSchema is not valid JSON Schema 2020-12"),
            "{err}"
        );
        assert!(
            err.contains("duplicate tool name c.d") || err.contains("must live at"),
            "{err}"
        );
    }
}
