//! The dry run: what following a runbook with given inputs would do, before anything runs.
//!
//! Every step in order, with its arguments substituted (secrets redacted): prose or a tool call,
//! whether the tool reads or writes (its `readOnlyHint`), its tier, whether a person must
//! approve it (every write goes through plan → approve → apply), and its gate conditions. Write
//! steps whose arguments are known from the variables alone can be gathered into one plan up
//! front; a write step that uses an earlier step's result (`{step.N./pointer}`) can only be
//! planned once that step has run.

use std::collections::BTreeSet;
use std::fmt;

use catalog::Catalog;
use domain::Tier;
use serde::Serialize;
use serde_json::Value;

use crate::format::{Risk, Runbook, Section, StepKind};
use crate::substitute::{self, Context, Env, Inputs, Placeholder, SubstituteError};

/// Whether a tool step reads or changes configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// One step of the dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    pub number: usize,
    pub section: Section,
    pub line: usize,
    #[serde(flatten)]
    pub action: Planned,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Planned {
    /// Text for a person or the assistant to follow (placeholders filled, secrets redacted).
    Prose { text: String },
    Tool {
        tool: String,
        /// What the call is for (placeholders filled, secrets redacted).
        description: Option<String>,
        access: Access,
        tier: Tier,
        /// Writes need a person's approval before they change anything.
        needs_approval: bool,
        /// Substituted and redacted; `{step.N./…}` placeholders are left as written.
        arguments: Value,
        /// The earlier tool steps whose results the arguments or gate use.
        depends_on: Vec<usize>,
        /// Optional variables the step uses that were given no value (left as written).
        needs_inputs: Vec<String>,
        /// The expect conditions (substituted, redacted); non-empty for a gate.
        gate: Vec<String>,
        /// A write whose arguments are known now, so it can go into the up-front plan.
        up_front: bool,
    },
}

/// The whole dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DryRun {
    pub runbook: String,
    pub title: String,
    pub version: String,
    pub hash: String,
    pub tier: Tier,
    pub risk: Risk,
    pub steps: Vec<PlannedStep>,
    /// Write steps whose changes can be proposed together before anything runs.
    pub up_front_writes: Vec<usize>,
    /// Write steps that need an earlier step's result (or an input not given yet) first.
    pub deferred_writes: Vec<usize>,
    /// Steps with expect conditions.
    pub gates: Vec<usize>,
}

/// Why a dry run could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("step {step}: unknown tool {tool}")]
    UnknownTool { step: usize, tool: String },
    #[error("step {step}: {source}")]
    Substitute {
        step: usize,
        #[source]
        source: SubstituteError,
    },
}

/// What is still unknown in a substituted value: step results and unset variables.
#[derive(Default)]
struct Unknowns {
    steps: BTreeSet<usize>,
    inputs: BTreeSet<String>,
}

impl Unknowns {
    /// Scans a template (never a substituted value: a caller's value that happens to contain
    /// `{step.1./x}` is text, not a dependency).
    fn scan(&mut self, v: &Value, inputs: &Inputs) {
        let mut strings = Vec::new();
        substitute::strings(v, String::new(), &mut strings);
        for (_, s, _) in strings {
            for p in substitute::placeholders(&s).unwrap_or_default() {
                match p {
                    Placeholder::Step { step, .. } => {
                        self.steps.insert(step);
                    }
                    Placeholder::Var { name } => {
                        if inputs.get(&name).is_none() {
                            self.inputs.insert(name);
                        }
                    }
                    Placeholder::Env { .. } => {}
                }
            }
        }
    }
}

/// The dry run of `runbook` with resolved `inputs` and, if the runbook uses `{env[key]}`, the
/// `env.yaml` values.
pub fn dry_run(
    runbook: &Runbook,
    catalog: &Catalog,
    inputs: &Inputs,
    env: Option<&Env>,
) -> Result<DryRun, PlanError> {
    let mut redactor = inputs.redactor();
    if let Some(env) = env {
        redactor.extend(&env.redactor());
    }
    let ctx = Context {
        inputs,
        env,
        steps: None,
        keep_unset: true,
    };
    let mut steps = Vec::new();
    let (mut up_front_writes, mut deferred_writes, mut gates) =
        (Vec::new(), Vec::new(), Vec::new());
    for step in &runbook.steps {
        let wrap = |source| PlanError::Substitute {
            step: step.number,
            source,
        };
        let action = match &step.kind {
            StepKind::Prose { text } => Planned::Prose {
                text: redactor.redact(&ctx.text(text).map_err(wrap)?).into_owned(),
            },
            StepKind::Tool(tool) => {
                let spec = catalog
                    .get(&tool.tool)
                    .ok_or_else(|| PlanError::UnknownTool {
                        step: step.number,
                        tool: tool.tool.clone(),
                    })?;
                let arguments = Value::Object(ctx.arguments(&tool.arguments).map_err(wrap)?);
                let mut unknown = Unknowns::default();
                unknown.scan(&Value::Object(tool.arguments.clone()), inputs);
                let mut gate = Vec::new();
                for c in &tool.expect {
                    unknown.scan(&c.literal, inputs);
                    let c = ctx.condition(c).map_err(wrap)?;
                    gate.push(redactor.redact(&c.to_string()).into_owned());
                }
                let access = if spec.is_read_only() {
                    Access::Read
                } else {
                    Access::Write
                };
                let up_front = access == Access::Write
                    && unknown.steps.is_empty()
                    && unknown.inputs.is_empty();
                match access {
                    Access::Write if up_front => up_front_writes.push(step.number),
                    Access::Write => deferred_writes.push(step.number),
                    Access::Read => {}
                }
                if !gate.is_empty() {
                    gates.push(step.number);
                }
                let description = match &tool.description {
                    Some(d) => Some(redactor.redact(&ctx.text(d).map_err(wrap)?).into_owned()),
                    None => None,
                };
                Planned::Tool {
                    tool: tool.tool.clone(),
                    description,
                    access,
                    tier: spec.tier,
                    needs_approval: access == Access::Write,
                    arguments: redactor.redact_value(&arguments),
                    depends_on: unknown.steps.into_iter().collect(),
                    needs_inputs: unknown.inputs.into_iter().collect(),
                    gate,
                    up_front,
                }
            }
        };
        steps.push(PlannedStep {
            number: step.number,
            section: step.section,
            line: step.line,
            action,
        });
    }
    Ok(DryRun {
        runbook: runbook.meta.name.clone(),
        title: runbook.meta.title.clone(),
        version: runbook.meta.version.clone(),
        hash: runbook.hash.clone(),
        tier: runbook.meta.tier,
        risk: runbook.meta.risk,
        steps,
        up_front_writes,
        deferred_writes,
        gates,
    })
}

fn list(steps: &[usize]) -> String {
    steps
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for DryRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Dry run of {} {} — {} (tier {}, risk {})",
            self.runbook,
            self.version,
            domain::text::escape(&self.title),
            self.tier,
            self.risk
        )?;
        let mut section = None;
        for s in &self.steps {
            if section != Some(s.section) {
                writeln!(f, "## {}", s.section.heading())?;
                section = Some(s.section);
            }
            match &s.action {
                Planned::Prose { text } => {
                    let text = domain::text::escape_lines(text).replace('\n', "\n      ");
                    writeln!(f, "{:>3}. {text}", s.number)?;
                }
                Planned::Tool {
                    tool,
                    description,
                    access,
                    arguments,
                    depends_on,
                    needs_inputs,
                    gate,
                    up_front,
                    ..
                } => {
                    let mut waits = Vec::new();
                    if !depends_on.is_empty() {
                        waits.push(format!("the result of step {}", list(depends_on)));
                    }
                    if !needs_inputs.is_empty() {
                        waits.push(format!("a value for {}", needs_inputs.join(", ")));
                    }
                    let what = match (access, up_front) {
                        (Access::Read, _) if waits.is_empty() => "read".to_owned(),
                        (Access::Read, _) => format!("read (needs {})", waits.join(" and ")),
                        (Access::Write, true) => {
                            "WRITE (needs approval; planned up front)".to_owned()
                        }
                        (Access::Write, false) => format!(
                            "WRITE (needs approval; planned once it has {})",
                            waits.join(" and ")
                        ),
                    };
                    match description {
                        Some(d) => {
                            let d = domain::text::escape_lines(d).replace('\n', "\n      ");
                            writeln!(f, "{:>3}. {d}", s.number)?;
                            writeln!(
                                f,
                                "       → {what} {tool} {}",
                                domain::text::escape(&arguments.to_string())
                            )?;
                        }
                        None => writeln!(
                            f,
                            "{:>3}. {what} {tool} {}",
                            s.number,
                            domain::text::escape(&arguments.to_string())
                        )?,
                    }
                    for g in gate {
                        writeln!(f, "       expect {}", domain::text::escape(g))?;
                    }
                }
            }
        }
        if !self.up_front_writes.is_empty() {
            writeln!(
                f,
                "Writes gathered into one plan up front: step {}",
                list(&self.up_front_writes)
            )?;
        }
        if !self.deferred_writes.is_empty() {
            writeln!(
                f,
                "Writes planned once their inputs are known: step {}",
                list(&self.deferred_writes)
            )?;
        }
        Ok(())
    }
}
