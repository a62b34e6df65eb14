//! Checking a parsed runbook against the tool catalog, so a runbook that loads is one the server
//! can run: every tool exists and is within the runbook's tier, every placeholder names a
//! declared variable or an earlier tool step, write steps stand in Remediation, and every tool
//! step's arguments — with each variable's example value, `{env[key]}` as a placeholder string —
//! pass the tool's input schema.

use std::collections::BTreeMap;

use catalog::Catalog;
use domain::Tier;
use serde_json::{Map, Value};

use crate::format::{Runbook, Section, StepKind};
use crate::substitute::{self, Context, Env, Inputs, Placeholder};
use crate::{Problem, quote};

pub(crate) fn rank(t: Tier) -> u8 {
    match t {
        Tier::Free => 0,
        Tier::Basic => 1,
        Tier::Professional => 2,
    }
}

/// The text `{env[key]}` stands for while arguments are checked without an `env.yaml`.
pub const ENV_EXAMPLE: &str = "example";

/// Parses and validates a file: the one gate a runbook passes before it is offered.
pub fn check(file: &str, text: &str, catalog: &Catalog) -> Result<Runbook, Vec<Problem>> {
    let runbook = Runbook::parse(file, text)?;
    let problems = validate(&runbook, catalog);
    if problems.is_empty() {
        Ok(runbook)
    } else {
        Err(problems)
    }
}

/// A template string of the runbook, where it is, and what it belongs to.
struct Template<'r> {
    line: usize,
    step: usize,
    text: &'r str,
    /// A JSON object key (where placeholders are not allowed).
    is_key: bool,
    /// Prose or a description: several lines, already checked line by line when parsed.
    is_prose: bool,
}

fn templates(runbook: &Runbook) -> Vec<Template<'_>> {
    let mut out = Vec::new();
    for step in &runbook.steps {
        match &step.kind {
            StepKind::Prose { text } => out.push(Template {
                line: step.line,
                step: step.number,
                text,
                is_key: false,
                is_prose: true,
            }),
            StepKind::Tool(t) => {
                if let Some(d) = &t.description {
                    out.push(Template {
                        line: step.line,
                        step: step.number,
                        text: d,
                        is_key: false,
                        is_prose: true,
                    });
                }
                collect(&t.arguments, t.line, step.number, &mut out);
                for c in &t.expect {
                    if let Value::String(s) = &c.literal {
                        out.push(Template {
                            line: c.line,
                            step: step.number,
                            text: s,
                            is_key: false,
                            is_prose: false,
                        });
                    }
                }
            }
        }
    }
    out
}

fn collect<'r>(map: &'r Map<String, Value>, line: usize, step: usize, out: &mut Vec<Template<'r>>) {
    fn walk<'r>(v: &'r Value, line: usize, step: usize, out: &mut Vec<Template<'r>>) {
        match v {
            Value::String(s) => out.push(Template {
                line,
                step,
                text: s,
                is_key: false,
                is_prose: false,
            }),
            Value::Array(items) => items.iter().for_each(|i| walk(i, line, step, out)),
            Value::Object(m) => collect(m, line, step, out),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    for (k, v) in map {
        out.push(Template {
            line,
            step,
            text: k,
            is_key: true,
            is_prose: false,
        });
        walk(v, line, step, out);
    }
}

/// Every problem of a parsed runbook against the catalog.
/// Whether a tool may be a step. Approving, applying, cancelling and rolling back plans belong
/// to people and to the run itself, and runbooks do not call each other; every other write
/// tool proposes a plan, which a run gathers.
pub fn may_be_a_step(tool: &str) -> bool {
    !matches!(tool, "plan.apply" | "plan.cancel" | "plan.rollback") && !tool.starts_with("runbook.")
}

pub fn validate(runbook: &Runbook, catalog: &Catalog) -> Vec<Problem> {
    let file = runbook.file.as_str();
    let mut problems = Vec::new();
    let mut add = |line: usize, reason: String| problems.push(Problem::new(file, line, reason));

    // Placeholders.
    let declared: Vec<&str> = runbook
        .meta
        .variables
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    let mut env_keys: Vec<String> = Vec::new();
    for t in templates(runbook) {
        if let Some(c) = domain::text::find_control(t.text).filter(|_| !t.is_prose) {
            add(
                t.line,
                format!(
                    "{c} in {}; arguments and expected values are plain text",
                    quote(t.text, 60)
                ),
            );
            continue;
        }
        let found = match substitute::placeholders(t.text) {
            Ok(found) => found,
            Err(reason) => {
                add(t.line, reason);
                continue;
            }
        };
        if t.is_key && !found.is_empty() {
            add(
                t.line,
                format!(
                    "placeholders go in argument values, not in keys ({})",
                    quote(t.text, 60)
                ),
            );
            continue;
        }
        for p in found {
            match &p {
                Placeholder::Var { name } => {
                    if !declared.contains(&name.as_str()) {
                        add(
                            t.line,
                            format!(
                                "unknown variable {p}; this runbook declares {}",
                                if declared.is_empty() {
                                    "no variables (add it under variables:)".to_owned()
                                } else {
                                    declared.join(", ")
                                }
                            ),
                        );
                    }
                }
                Placeholder::Env { key } => {
                    if !env_keys.contains(key) {
                        env_keys.push(key.clone());
                    }
                }
                Placeholder::Step { step, pointer } => {
                    let earlier_tool = *step < t.step
                        && runbook
                            .step(*step)
                            .is_some_and(|s| matches!(s.kind, StepKind::Tool(_)));
                    if !earlier_tool {
                        add(
                            t.line,
                            format!(
                                "{p} refers to step {step}, which is not a tool step before this one (step {}); a step can use the result of an earlier tool step",
                                t.step
                            ),
                        );
                    }
                    if pointer
                        .as_bytes()
                        .windows(2)
                        .any(|w| w[0] == b'~' && !matches!(w[1], b'0' | b'1'))
                        || pointer.ends_with('~')
                    {
                        add(
                            t.line,
                            format!("{p}: in a JSON pointer, write ~0 for ~ and ~1 for /"),
                        );
                    }
                }
            }
        }
    }

    // Tools, tiers, sections and schemas.
    let inputs = Inputs::examples(runbook);
    let mut env = Env::new();
    for k in &env_keys {
        env.insert(k, ENV_EXAMPLE, false);
    }
    let ctx = Context {
        inputs: &inputs,
        env: Some(&env),
        steps: None,
        keep_unset: false,
    };
    let examples: Vec<String> = runbook
        .meta
        .variables
        .iter()
        .map(|v| format!("{}={}", v.name, substitute::as_text(&v.example)))
        .collect();
    for (step, tool) in runbook.tool_steps() {
        let Some(spec) = catalog.get(&tool.tool) else {
            add(tool.line, unknown_tool(&tool.tool, catalog));
            continue;
        };
        if !may_be_a_step(&spec.name) {
            add(
                tool.line,
                format!(
                    "{} cannot be a runbook step: a run's writes are approved and applied through \
                     the run's own plan, and a runbook does not run runbooks",
                    spec.name
                ),
            );
            continue;
        }
        if rank(spec.tier) > rank(runbook.meta.tier) {
            add(
                tool.line,
                format!(
                    "{} is a {} tool, above the runbook's tier {}; set tier: {} (the highest tier its steps need)",
                    spec.name, spec.tier, runbook.meta.tier, spec.tier
                ),
            );
        }
        if !spec.is_read_only() {
            match step.section {
                Section::Remediation => {}
                Section::Symptom | Section::Diagnosis | Section::Verify => add(
                    tool.line,
                    format!(
                        "{} changes configuration; write steps belong under ## Remediation (## {} only reads)",
                        spec.name,
                        step.section.heading()
                    ),
                ),
            }
        }
        // Pointers whose value depends on an earlier step's result cannot be checked yet.
        let mut strings = Vec::new();
        substitute::strings(
            &Value::Object(tool.arguments.clone()),
            String::new(),
            &mut strings,
        );
        let deferred: Vec<String> = strings
            .iter()
            .filter(|(_, s, is_key)| {
                !is_key
                    && substitute::placeholders(s)
                        .is_ok_and(|ps| ps.iter().any(|p| matches!(p, Placeholder::Step { .. })))
            })
            .map(|(pointer, _, _)| pointer.clone())
            .collect();
        let Ok(arguments) = ctx.arguments(&tool.arguments) else {
            // A bad placeholder, already reported above.
            continue;
        };
        if let Err(violations) = catalog.validate_input(&tool.tool, &Value::Object(arguments)) {
            for v in violations {
                if deferred.contains(&v.pointer) {
                    continue;
                }
                add(
                    tool.line,
                    format!(
                        "the arguments of {} do not fit its input schema{}: {}",
                        spec.name,
                        if examples.is_empty() {
                            String::new()
                        } else {
                            format!(" (with the example values {})", examples.join(", "))
                        },
                        domain::text::escape(&v.to_string())
                    ),
                );
            }
        }
    }
    problems
}

pub(crate) fn unknown_tool(name: &str, catalog: &Catalog) -> String {
    let category = name.split_once('.').map_or(name, |(c, _)| c);
    let same: Vec<&str> = catalog
        .names()
        .filter(|n| n.split_once('.').is_some_and(|(c, _)| c == category))
        .collect();
    if same.is_empty() {
        let mut categories: Vec<&str> = catalog
            .names()
            .filter_map(|n| n.split_once('.').map(|(c, _)| c))
            .collect();
        categories.dedup();
        format!(
            "unknown tool {}; tool categories are {} (docs/tool-catalog.md lists every tool)",
            quote(name, 60),
            categories.join(", ")
        )
    } else {
        format!(
            "unknown tool {}; the {category} tools are {}",
            quote(name, 60),
            same.join(", ")
        )
    }
}

/// Problems with `{env[key]}` placeholders for a given `env.yaml`: every key used must exist.
pub fn check_env(runbook: &Runbook, env: &Env) -> Vec<Problem> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for t in templates(runbook) {
        for p in substitute::placeholders(t.text).unwrap_or_default() {
            if let Placeholder::Env { key } = p {
                seen.entry(key).or_insert(t.line);
            }
        }
    }
    let known: Vec<&str> = env.keys().collect();
    seen.into_iter()
        .filter(|(k, _)| env.get(k).is_none())
        .map(|(k, line)| {
            Problem::new(
                &runbook.file,
                line,
                format!(
                    "{{env[{k}]}}: env.yaml has no key {k}{}",
                    if known.is_empty() {
                        " (it is empty)".to_owned()
                    } else {
                        format!(" (it has {})", known.join(", "))
                    }
                ),
            )
        })
        .collect()
}
