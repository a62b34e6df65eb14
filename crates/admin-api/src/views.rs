//! What the API answers with: the wire form of organizations, projects, devices, probes, plans
//! and audit events, each with its OpenAPI schema.
//!
//! These are the API's contract, kept apart from the registry's and the workflow's own types so
//! that neither can change the wire form by accident. None holds a secret: devices show their
//! login's user name and credential version, never a password; plan changes show property
//! values with secrets replaced by `(hidden)` (the one definition in `routeros::secret`);
//! decisions never show a token.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct OrgView {
    pub id: String,
    #[schema(example = "acme")]
    pub name: String,
    pub created_at: String,
    /// Its projects the caller holds a role in (all of them for a grant without a project).
    pub projects: i64,
}

/// The organizations the caller holds a role in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct OrgList {
    pub items: Vec<OrgView>,
}

/// A project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ProjectView {
    pub id: String,
    #[schema(example = "acme")]
    pub org: String,
    #[schema(example = "branch-offices")]
    pub name: String,
    pub created_at: String,
    /// Devices that are not decommissioned.
    pub devices: i64,
}

impl From<store::Project> for ProjectView {
    fn from(p: store::Project) -> Self {
        Self {
            id: p.id,
            org: p.org.to_string(),
            name: p.name.to_string(),
            created_at: p.created_at,
            devices: p.devices,
        }
    }
}

/// An organization's projects the caller holds a role in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ProjectList {
    pub items: Vec<ProjectView>,
}

/// A registered device (no secrets).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct DeviceView {
    pub id: String,
    /// `ORG/PROJECT`.
    pub project: String,
    pub name: String,
    pub address: String,
    pub rest_port: u16,
    pub ssh_port: u16,
    /// Plain-HTTP REST port, used only when `insecure_http` is set.
    pub http_port: Option<u16>,
    pub insecure_http: bool,
    /// `auto`, `rest` or `ssh`.
    pub driver: String,
    /// `lab`, `staging` or `prod`.
    pub environment: String,
    pub tags: BTreeMap<String, String>,
    /// `active`, `inactive` or `decommissioned`.
    pub status: String,
    pub routeros_version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
    pub identity: Option<String>,
    /// SHA-256 of the pinned TLS certificate (hex).
    pub tls_cert_sha256: Option<String>,
    /// SHA-256 of the pinned SSH host key (hex).
    pub ssh_host_key_sha256: Option<String>,
    /// User name of the current credential.
    pub username: Option<String>,
    pub credential_version: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub decommissioned_at: Option<String>,
    /// When a call last reached the device.
    pub last_seen_at: Option<String>,
    /// What plans may be proposed for the device (an admin's setting, else the environment's
    /// default).
    pub capabilities: CapabilitiesView,
}

/// A device's capability flags, each with where its value comes from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CapabilitiesView {
    pub allow_basic_writes: bool,
    pub allow_professional_workflows: bool,
    /// `admin` when an admin set it, `environment` when it follows the environment.
    pub allow_basic_writes_source: &'static str,
    pub allow_professional_workflows_source: &'static str,
}

impl From<&store::Device> for DeviceView {
    fn from(d: &store::Device) -> Self {
        Self {
            id: d.id.to_string(),
            project: d.project.to_string(),
            name: d.name.to_string(),
            address: d.address.to_string(),
            rest_port: d.rest_port.get(),
            ssh_port: d.ssh_port.get(),
            http_port: d.http_port.map(domain::Port::get),
            insecure_http: d.insecure_http,
            driver: d.driver.to_string(),
            environment: d.environment.to_string(),
            tags: d.tags.clone(),
            status: d.status.to_string(),
            routeros_version: d.routeros_version.clone(),
            board: d.board.clone(),
            architecture: d.architecture.clone(),
            identity: d.identity.clone(),
            tls_cert_sha256: d.tls_cert_sha256.clone(),
            ssh_host_key_sha256: d.ssh_host_key_sha256.clone(),
            username: d.username.clone(),
            credential_version: d.credential_version,
            created_at: d.created_at.clone(),
            updated_at: d.updated_at.clone(),
            decommissioned_at: d.decommissioned_at.clone(),
            last_seen_at: d.last_seen_at.clone(),
            capabilities: {
                let c = d.capabilities();
                let source = |set: Option<bool>| match set {
                    Some(_) => "admin",
                    None => "environment",
                };
                CapabilitiesView {
                    allow_basic_writes: c.allow_basic_writes,
                    allow_professional_workflows: c.allow_professional_workflows,
                    allow_basic_writes_source: source(d.allow_basic_writes),
                    allow_professional_workflows_source: source(d.allow_professional_workflows),
                }
            },
        }
    }
}

/// A page of devices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct DeviceList {
    pub items: Vec<DeviceView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What one driver found when it contacted the device.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ProbeView {
    /// `rest` or `ssh`.
    pub driver: String,
    pub reachable: bool,
    pub identity: Option<String>,
    pub version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
    pub rtt_ms: Option<f64>,
    /// SHA-256 of the certificate (REST, hex) or host key (SSH, OpenSSH form) presented.
    pub presented: Option<String>,
    pub error: Option<String>,
    /// The error's stable kind (`unreachable`, `timeout`, `auth_failed`, …).
    pub error_kind: Option<String>,
}

impl From<&fleet::ProbeSummary> for ProbeView {
    fn from(p: &fleet::ProbeSummary) -> Self {
        Self {
            driver: p.driver.to_owned(),
            reachable: p.reachable,
            identity: p.identity.clone(),
            version: p.version.clone(),
            board: p.board.clone(),
            architecture: p.architecture.clone(),
            rtt_ms: p.rtt_ms,
            presented: p.presented.clone(),
            error: p.error.clone(),
            error_kind: p.error_kind.map(str::to_owned),
        }
    }
}

pub(crate) fn probes(list: &[fleet::ProbeSummary]) -> Vec<ProbeView> {
    list.iter().map(ProbeView::from).collect()
}

/// The identities pinned for a device: every later connection must present exactly these.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Fingerprints {
    pub tls_cert_sha256: Option<String>,
    pub ssh_host_key_sha256: Option<String>,
}

/// A device that passed onboarding and was registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CreatedDevice {
    pub device: DeviceView,
    /// What each driver found.
    pub probes: Vec<ProbeView>,
    /// What was recorded as the device's identity.
    pub fingerprints: Fingerprints,
}

/// The outcome of contacting a registered device.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct TestResult {
    /// The device as recorded after the test (facts and pins it learned).
    pub device: DeviceView,
    pub probes: Vec<ProbeView>,
    /// Whether any driver reached the device.
    pub reachable: bool,
}

/// A completed credential rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RotationResult {
    pub device_id: String,
    /// Whether the server created the new login on the device itself.
    pub on_device: bool,
    /// The user name now stored.
    pub username: String,
    pub credential_version: i64,
    /// The user name before (on-device rotation).
    pub old_username: Option<String>,
    /// Whether the old user was disabled on the device (on-device rotation).
    pub old_user_disabled: Option<bool>,
    /// What still needs doing by hand, if anything.
    pub warning: Option<String>,
}

/// A plan as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PlanSummary {
    pub id: String,
    pub title: String,
    /// `pending`, `approved`, `applying`, `applied`, `rolled_back`, `failed`, `rejected` or
    /// `cancelled`.
    pub status: String,
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// The strictest environment among its devices.
    pub environment: String,
    /// `change` or `rollback`.
    pub kind: String,
    pub tool: String,
    pub rollback_of: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&workflow::Plan> for PlanSummary {
    fn from(p: &workflow::Plan) -> Self {
        Self {
            id: p.id.clone(),
            title: p.title.clone(),
            status: p.status.to_string(),
            risk: p.risk.to_string(),
            environment: p.environment.to_string(),
            kind: p.kind.to_string(),
            tool: p.tool.clone(),
            rollback_of: p.rollback_of.clone(),
            created_by: p.created_by.clone(),
            created_at: p.created_at.clone(),
            updated_at: p.updated_at.clone(),
        }
    }
}

/// A page of plans, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PlanList {
    pub items: Vec<PlanSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A device a plan changes, in rollout order (the first is the canary).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PlanDeviceView {
    pub device_id: String,
    pub name: String,
    pub environment: String,
}

/// One change of a plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ChangeView {
    /// Apply order, from 1.
    pub seq: u32,
    pub device_id: String,
    pub device: String,
    /// RouterOS menu, `/ip/dns/static`.
    pub menu: String,
    /// `add`, `set`, `remove`, `move`, `enable`, `disable` or `command`.
    pub action: String,
    /// The item's RouterOS id when planned.
    pub target: Option<String>,
    /// The change in RouterOS terms.
    pub description: String,
    /// Properties written (secrets shown as `(hidden)`).
    pub properties: BTreeMap<String, String>,
    /// Properties unset.
    pub unset: Vec<String>,
    /// How the change is undone, in RouterOS terms.
    pub undo: Vec<String>,
}

/// A decision taken on a plan.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub(crate) struct DecisionView {
    /// `approved` or `rejected`.
    pub decision: String,
    /// Who decided (`api:oidc:alice`, `cli:alice`, `policy:…`).
    pub by: String,
    /// How the decision was taken (`cli` for people, also through this API; `elicitation`,
    /// `policy`).
    pub via: String,
    /// The rejection's reason or the approval's comment.
    pub reason: Option<String>,
    pub at: String,
    /// When an approval's token expires.
    pub expires_at: Option<String>,
    /// When an approval's token was used.
    pub used_at: Option<String>,
}

/// One plan in full: its changes, risk, devices and decisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct PlanView {
    #[serde(flatten)]
    pub summary: PlanSummary,
    /// Why the risk is what it is.
    pub risk_reasons: Vec<String>,
    /// What an approval is bound to.
    pub content_hash: String,
    /// Whether applying arms a device-side auto-revert first.
    pub auto_revert: bool,
    pub devices: Vec<PlanDeviceView>,
    pub changes: Vec<ChangeView>,
    pub decisions: Vec<DecisionView>,
    /// What happened on each device, once applied.
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
}

impl PlanView {
    pub fn new(plan: &workflow::Plan, decisions: Vec<DecisionView>) -> Self {
        let changes = plan
            .changes
            .iter()
            .map(|c| ChangeView {
                seq: c.seq,
                device_id: c.device_id.to_string(),
                device: plan.device_name(&c.device_id).to_owned(),
                menu: workflow::model::console_menu(&c.menu),
                action: c.action.to_string(),
                target: c.target.clone(),
                description: c.description.clone(),
                properties: c
                    .write
                    .props
                    .iter()
                    .map(|(k, v)| {
                        let shown = routeros::secret::classify(&c.menu, k)
                            .placeholder()
                            .map_or_else(|| v.clone(), str::to_owned);
                        (k.clone(), shown)
                    })
                    .collect(),
                unset: c.write.unset.clone(),
                undo: c
                    .inverse
                    .iter()
                    .map(workflow::model::Inverse::describe)
                    .collect(),
            })
            .collect();
        Self {
            summary: PlanSummary::from(plan),
            risk_reasons: plan.risk_reasons.clone(),
            content_hash: plan.content_hash.clone(),
            auto_revert: plan.arms_auto_revert(),
            devices: plan
                .devices
                .iter()
                .map(|d| PlanDeviceView {
                    device_id: d.device_id.to_string(),
                    name: d.name.clone(),
                    environment: d.environment.to_string(),
                })
                .collect(),
            changes,
            decisions,
            outcome: plan.outcome.clone(),
        }
    }
}

/// An approval: the token that lets `plan.apply` run this plan, shown only in this response.
#[derive(Clone, Serialize, ToSchema)]
pub(crate) struct ApprovalIssued {
    pub plan_id: String,
    /// Single-use; pass it to `plan.apply`. Stored only as a hash: it cannot be shown again.
    pub approval_token: String,
    pub expires_at: String,
    pub approver: String,
}

impl std::fmt::Debug for ApprovalIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalIssued")
            .field("plan_id", &self.plan_id)
            .field("expires_at", &self.expires_at)
            .field("approver", &self.approver)
            .finish_non_exhaustive()
    }
}

/// One audit event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct AuditEventView {
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub correlation_id: String,
    #[schema(value_type = Object)]
    pub details: Value,
    /// The hash of the event before it in the chain.
    pub prev_hash: String,
    /// This event's hash (covers every field).
    pub hash: String,
}

impl From<store::AuditEvent> for AuditEventView {
    fn from(e: store::AuditEvent) -> Self {
        Self {
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            correlation_id: e.correlation_id,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of audit events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct AuditList {
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// How the finished runs of a runbook version in one project ended.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub(crate) struct RunTallyView {
    pub succeeded: i64,
    pub failed: i64,
    /// `succeeded / (succeeded + failed)`; null without a finished run.
    pub success_rate: Option<f64>,
}

impl From<&store::runbooks::RunTally> for RunTallyView {
    fn from(t: &store::runbooks::RunTally) -> Self {
        let finished = t.succeeded + t.failed;
        // Run counts are far below 2^52: exact as floats.
        let rate = (finished > 0).then(|| t.succeeded as f64 / finished as f64);
        Self {
            succeeded: t.succeeded,
            failed: t.failed,
            success_rate: rate,
        }
    }
}

/// A runbook on offer, as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookSummary {
    #[schema(example = "interface-down")]
    pub name: String,
    pub title: String,
    /// The version served now.
    pub version: String,
    /// `draft`, `published` or `deprecated`.
    pub status: String,
    pub tags: Vec<String>,
    /// The highest tool tier a step needs: `free`, `basic` or `professional`.
    pub tier: String,
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// `built_in`, `operator` (the operator's folder) or `reviewed` (an approved proposal).
    pub origin: String,
    /// `YYYY-MM-DD`.
    pub last_reviewed: String,
    /// Last reviewed more than 90 days ago: a stale runbook is worse than none.
    pub stale: bool,
    /// SHA-256 of the served version.
    pub hash: String,
    /// The served version's recorded id, once it has run (or was proposed).
    pub version_id: Option<String>,
    /// The served version's finished runs in this project.
    pub runs: RunTallyView,
}

/// A file of the runbook folders that did not load.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookProblem {
    pub file: String,
    /// 0 for the file as a whole.
    pub line: usize,
    pub reason: String,
}

/// A page of runbooks, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookList {
    pub items: Vec<RunbookSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Files that did not load (the others did), at most 20.
    pub not_loaded: Vec<RunbookProblem>,
}

/// A variable a runbook takes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookVariable {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `device`, `address` or `interface`.
    #[serde(rename = "type")]
    pub var_type: String,
    pub description: String,
    pub required: bool,
    /// Not shown for a secret.
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
    pub secret: bool,
}

/// One runbook: its front matter and markdown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookView {
    #[serde(flatten)]
    pub summary: RunbookSummary,
    pub description: String,
    /// How long to wait before it runs again on the same device (`10m`).
    pub cooldown: Option<String>,
    pub variables: Vec<RunbookVariable>,
    /// The Symptom section's text.
    pub symptom: String,
    /// The markdown, front matter included.
    pub content: String,
}

/// A recorded version of a runbook, with its lineage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookVersionView {
    pub id: String,
    pub version: String,
    /// `built-in`, `operator` or `proposal`.
    pub origin: String,
    /// `draft`, `published`, `deprecated`, `pending_review`, `in_review` or `rejected`.
    pub status: String,
    /// The version it was derived from.
    pub parent_id: Option<String>,
    pub parent_version: Option<String>,
    pub content_hash: String,
    pub created_at: String,
    /// Proposals: how urgent, why the run failed, who decided and when.
    pub priority: Option<String>,
    pub failure_type: Option<String>,
    /// Proposals: the failed run it was generated from, when that run is this project's.
    pub generated_from_run: Option<String>,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
    /// Whether this is the version served now.
    pub served: bool,
    /// Its finished runs in this project.
    pub runs: RunTallyView,
}

/// Every recorded version of a runbook, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookVersionList {
    pub items: Vec<RunbookVersionView>,
}

/// One run of a runbook: its execution log (secrets replaced when recorded).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookRunView {
    pub id: String,
    pub runbook: String,
    pub version_id: String,
    /// The device it acted on.
    pub device_id: Option<String>,
    /// `running`, `waiting_approval`, `waiting_assistant`, `succeeded`, `failed` or `abandoned`.
    pub status: String,
    pub started_by: String,
    pub incident: Option<String>,
    /// The next step to run (one past the last when finished).
    pub next_step: i64,
    /// The plan it is waiting on or applied.
    pub plan_id: Option<String>,
    pub failed_step: Option<i64>,
    pub failure_type: Option<String>,
    pub failure_reason: Option<String>,
    #[schema(value_type = Object)]
    pub variables: Value,
    /// One entry per step run.
    #[schema(value_type = Vec<Object>)]
    pub steps: Value,
    pub started_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

impl From<&store::runbooks::RunRow> for RunbookRunView {
    fn from(r: &store::runbooks::RunRow) -> Self {
        let json =
            |text: &str| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
        Self {
            id: r.id.clone(),
            runbook: r.runbook.clone(),
            version_id: r.version_id.clone(),
            device_id: Some(r.device_key.clone()).filter(|d| !d.is_empty()),
            status: r.status.clone(),
            started_by: r.started_by.clone(),
            incident: r.incident.clone(),
            next_step: r.next_step,
            plan_id: r.plan_id.clone(),
            failed_step: r.failed_step,
            failure_type: r.failure_type.clone(),
            failure_reason: r.failure_reason.clone(),
            variables: json(&r.variables),
            steps: json(&r.steps),
            started_at: r.started_at.clone(),
            updated_at: r.updated_at.clone(),
            finished_at: r.finished_at.clone(),
        }
    }
}

/// A page of runs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RunbookRunList {
    pub items: Vec<RunbookRunView>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A draft written to the operator's folder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CreatedRunbook {
    pub name: String,
    pub version: String,
    /// Always `draft`: a person publishes it by editing its file.
    pub status: String,
    /// Its file name in the operator's folder.
    pub file: String,
    /// SHA-256 of the content.
    pub hash: String,
}
