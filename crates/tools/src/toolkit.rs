//! What every tool shares, and imports from nowhere but the crate's other leaf modules
//! (`error`, `paging`, `normalize`, `redact`, `budget`): the context a handler runs with ([`ToolContext`],
//! [`Ctx`]), who calls ([`Caller`]), the entry point each tool declares ([`Handler`], with the
//! `handler!` and `handler_as_caller!` macros), a result before budgets ([`ToolOutput`]), the
//! device lookup, and [`MenuList`], the one way a list tool reads a menu and pages it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ToolError;
use crate::{normalize, paging, redact};

/// What a handler may use.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub fleet: fleet::Fleet,
    /// The plan → approve → apply engine every write goes through.
    pub workflow: workflow::Workflow,
    /// How many devices fleet-wide tools contact at once.
    pub fleet_concurrency: usize,
    /// Whom the call acts for. The server gives every call a context with its caller's access
    /// ([`ToolContext::for_call`]); a context built without one reaches nothing.
    pub access: Access,
    /// The runbooks on offer (the `runbook` tools answer "not set up" without them).
    pub runbooks: Option<Arc<crate::runbook::Runbooks>>,
    /// Configuration snapshots as the server takes them (with its `show-sensitive` choice);
    /// without one, the snapshot tools read with the defaults.
    pub backups: Option<backup::Backups>,
    /// The token thresholds results are held to (`MCP_TOKEN_BUDGET_*`), for handlers that size
    /// their own answers (the fleet-wide tools fit the warning threshold by default).
    pub budget: crate::budget::Budget,
}

impl ToolContext {
    /// A context that reaches nothing until a call gives it an [`Access`].
    pub fn new(
        fleet: fleet::Fleet,
        workflow: workflow::Workflow,
        fleet_concurrency: usize,
    ) -> Self {
        Self {
            fleet,
            workflow,
            fleet_concurrency,
            access: Access::nobody(),
            runbooks: None,
            backups: None,
            budget: crate::budget::Budget::default(),
        }
    }

    /// This context with the server's backup service.
    pub fn with_backups(mut self, backups: backup::Backups) -> Self {
        self.backups = Some(backups);
        self
    }

    /// The backup service (the server's, or one with the default options).
    pub fn backups(&self) -> backup::Backups {
        self.backups.clone().unwrap_or_else(|| {
            backup::Backups::new(self.fleet.clone(), backup::BackupOptions::default())
        })
    }

    /// This context with `runbooks` on offer.
    pub fn with_runbooks(mut self, runbooks: Arc<crate::runbook::Runbooks>) -> Self {
        self.runbooks = Some(runbooks);
        self
    }

    /// This context acting for `access` (one call).
    pub fn for_call(&self, access: Access) -> Ctx {
        Arc::new(Self {
            access,
            ..self.clone()
        })
    }

    /// This context acting for `access` (one call), held to `budget` (the thresholds in force
    /// now; they change on a configuration reload).
    pub fn for_call_within(&self, access: Access, budget: crate::budget::Budget) -> Ctx {
        Arc::new(Self {
            access,
            budget,
            ..self.clone()
        })
    }
}

/// Whom a call acts for, and the role its tool needs on every device it touches.
///
/// A device, plan or project the principal holds no role in is answered exactly as one that does
/// not exist; one it can see but where it lacks `needs` is refused, naming the role.
#[derive(Debug, Clone)]
pub struct Access {
    pub principal: Arc<auth::Principal>,
    /// `viewer` for read tools, `operator` for tools that propose or apply changes.
    pub needs: auth::Role,
}

impl Access {
    pub fn new(principal: Arc<auth::Principal>, needs: auth::Role) -> Self {
        Self { principal, needs }
    }

    /// Reaches nothing: holds no grant.
    pub fn nobody() -> Self {
        Self {
            principal: Arc::new(auth::Principal {
                subject: "nobody".into(),
                display: "nobody".into(),
                kind: auth::PrincipalKind::Local,
                grants: Vec::new(),
            }),
            needs: auth::Role::Admin,
        }
    }

    /// Whether the principal holds any role in `project`.
    pub fn sees(&self, project: &domain::ProjectRef) -> bool {
        self.principal.has(auth::Role::Viewer, project)
    }

    /// The projects the principal holds any role in.
    pub fn visible(&self) -> auth::ProjectSet {
        self.principal.projects(auth::Role::Viewer)
    }

    /// Refuses acting on something of `project` (already known to be visible) without `needs`.
    pub fn may_act(&self, project: &domain::ProjectRef, what: &str) -> Result<(), ToolError> {
        if self.principal.has(self.needs, project) {
            Ok(())
        } else {
            Err(ToolError::Refused(format!(
                "{what} is in project {project}, where {} does not hold the {} role this needs; \
                 ask an administrator for the role, or use a read-only tool",
                self.principal.display, self.needs
            )))
        }
    }
}

/// Shared handle for handlers.
pub type Ctx = Arc<ToolContext>;

/// A handler's result before budgets are applied.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// The `structuredContent` (must validate against the tool's `outputSchema`).
    pub structured: Value,
    /// Present for list results: how to continue after cutting `items`.
    pub page: Option<paging::Page>,
    /// Present when some of what the result shows came from the driver's read cache.
    pub cache: Option<CacheNote>,
}

impl ToolOutput {
    pub fn new(structured: Value) -> Self {
        Self {
            structured,
            page: None,
            cache: None,
        }
    }
}

/// Part of a result was read from the cache rather than from the router just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheNote {
    /// The age of the oldest cached answer the result used.
    pub age: std::time::Duration,
}

/// Runs a handler and notes on its result whether (and how old) any cached read it used was.
pub(crate) async fn observed(
    call: impl Future<Output = Result<ToolOutput, ToolError>>,
) -> Result<ToolOutput, ToolError> {
    let (result, oldest) = routeros::observe(call).await;
    result.map(|mut out| {
        if let Some(age) = oldest {
            out.cache = Some(CacheNote { age });
        }
        out
    })
}

/// Who is calling: recorded on what the call creates (plans) and in the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub audit: store::AuditContext,
    /// The tool tiers the server exposes to this caller (enabled and not above its session
    /// tier). Handlers consult it for what a tier unlocks inside a tool, such as script bodies
    /// in `routeros.print`.
    pub tiers: Vec<domain::Tier>,
    /// Set by a runbook run: write tools hand their checked plan request here instead of
    /// proposing a plan each, so the run proposes all of them as one plan.
    pub gather: Option<Gather>,
    /// The client can draft text with its own model (MCP sampling): the server asks it for a
    /// failed run's revision, before the operator's model endpoint.
    pub samples: bool,
    /// The deployment's tool policy (`MCP_READ_ONLY`, `MCP_DISABLE_TOOLS`, tiers): a tool it
    /// hides cannot run as a runbook step either. `None` outside the server (tests, the CLI),
    /// where only `tiers` applies.
    pub policy: Option<Arc<catalog::Policy>>,
}

/// Where write tools put their plan requests while a runbook run gathers them.
#[derive(Debug, Clone, Default)]
pub struct Gather(pub(crate) Arc<std::sync::Mutex<Vec<workflow::PlanRequest>>>);

impl Gather {
    /// Everything gathered so far, in order.
    pub(crate) fn take(&self) -> Vec<workflow::PlanRequest> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl Caller {
    /// A caller with only the `free` tier.
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            audit: store::AuditContext::new(actor),
            tiers: vec![domain::Tier::Free],
            gather: None,
            samples: false,
            policy: None,
        }
    }

    /// The same caller with `tiers` exposed.
    pub fn with_tiers(mut self, tiers: Vec<domain::Tier>) -> Self {
        self.tiers = tiers;
        self
    }

    /// Whether the server exposes `tier` to this caller.
    pub fn allows(&self, tier: domain::Tier) -> bool {
        self.tiers.contains(&tier)
    }
}

pub type ToolFuture = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send>>;

/// One tool's entry point.
#[derive(Clone, Copy)]
pub struct Handler {
    pub name: &'static str,
    pub run: fn(Ctx, Value, Caller) -> ToolFuture,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A tool file's `HANDLER`, from an `async fn(Ctx, Params) -> Result<ToolOutput, ToolError>`.
macro_rules! handler {
    ($name:literal, $f:path) => {
        $crate::toolkit::Handler {
            name: $name,
            run: |ctx, args, _caller| {
                Box::pin($crate::toolkit::observed(async move {
                    $f(ctx, $crate::toolkit::params(args)?).await
                }))
            },
        }
    };
}
pub(crate) use handler;

/// A tool file's `HANDLER` when the tool needs to know its caller:
/// `async fn(Ctx, Params, Caller) -> Result<ToolOutput, ToolError>`.
macro_rules! handler_as_caller {
    ($name:literal, $f:path) => {
        $crate::toolkit::Handler {
            name: $name,
            run: |ctx, args, caller| {
                Box::pin($crate::toolkit::observed(async move {
                    $f(ctx, $crate::toolkit::params(args)?, caller).await
                }))
            },
        }
    };
}
pub(crate) use handler_as_caller;

/// A category's tools: declares each tool's module (one file per tool, named after the tool)
/// and `HANDLERS`, the list of their `HANDLER`s the registry collects. Adding a tool to a
/// category is one line here.
macro_rules! tools {
    ($($tool:ident),+ $(,)?) => {
        $(mod $tool;)+

        /// This category's tools.
        pub(crate) const HANDLERS: &[$crate::toolkit::Handler] = &[$($tool::HANDLER),+];
    };
}
pub(crate) use tools;

/// Deserializes validated arguments into a tool's parameter type (`deny_unknown_fields`).
pub(crate) fn params<T: DeserializeOwned>(arguments: Value) -> Result<T, ToolError> {
    serde_json::from_value(arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// Resolves `device_id` (an id or a name) to the device and its client, among the devices the
/// caller may see, and refuses one where the caller lacks the role the tool needs.
pub async fn device(
    ctx: &Ctx,
    device_id: &str,
) -> Result<(store::Device, Arc<routeros::DeviceClient>), ToolError> {
    let access = &ctx.access;
    let found = match access.visible() {
        auth::ProjectSet::All => ctx.fleet.find(None, device_id).await?,
        auth::ProjectSet::Only(_) => {
            // Found among what the caller may see before anything else about it is said or it
            // is contacted; then resolved by id, as every caller does.
            let device = registered(ctx, device_id).await?;
            ctx.fleet
                .find_visible(None, &device.id.to_string(), |p| access.sees(p))
                .await?
        }
    };
    access.may_act(&found.0.project, &format!("device {}", found.0.name))?;
    Ok(found)
}

/// Resolves `device_id` to a registered device the caller may see, without contacting it (a
/// decommissioned one too, by id). An id is looked up directly (a device of a project the caller
/// holds no role in is answered as one that does not exist); a name only in the caller's
/// projects, so a name that exists elsewhere is neither found nor reported as ambiguous.
pub(crate) async fn registered(ctx: &Ctx, device_id: &str) -> Result<store::Device, ToolError> {
    let store = ctx.fleet.store();
    let access = &ctx.access;
    let projects = match access.visible() {
        auth::ProjectSet::All => return Ok(store.find_device(None, device_id).await?),
        auth::ProjectSet::Only(projects) => projects,
    };
    if device_id.parse::<domain::DeviceId>().is_ok() {
        return match store.find_device(None, device_id).await {
            Ok(d) if access.sees(&d.project) => Ok(d),
            Ok(_) => Err(hidden(device_id)),
            Err(e) => Err(e.into()),
        };
    }
    let mut matches = Vec::new();
    for project in &projects {
        match store.find_device(Some(project), device_id).await {
            Ok(found) => matches.push(found),
            Err(store::StoreError::DeviceNotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match matches.len() {
        0 => Err(hidden(device_id)),
        1 => Ok(matches.remove(0)),
        _ => Err(store::StoreError::AmbiguousDevice {
            name: device_id.to_owned(),
            projects: matches
                .iter()
                .map(|d| d.project.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into()),
    }
}

/// What a device the caller may not see is answered with: exactly a device that does not exist.
fn hidden(device_id: &str) -> ToolError {
    store::StoreError::DeviceNotFound {
        what: device_id.to_owned(),
        scope: "any project".into(),
    }
    .into()
}

/// The plan `plan_id` if the caller may see it — one of a project it holds no role in is
/// answered exactly as a plan that does not exist — refused where the caller lacks the role the
/// tool needs.
pub async fn plan(ctx: &Ctx, plan_id: &str) -> Result<workflow::Plan, ToolError> {
    let plan = ctx.workflow.plan(plan_id.trim()).await?;
    let project = ctx.fleet.store().project_ref(&plan.project_id).await?;
    if !ctx.access.sees(&project) {
        return Err(workflow::WorkflowError::PlanNotFound(plan_id.trim().to_owned()).into());
    }
    ctx.access.may_act(&project, &format!("plan {}", plan.id))?;
    Ok(plan)
}

/// The registry's devices matching `filter` that the caller may see. A project filter naming a
/// project the caller holds no role in is answered as a project that does not exist.
pub async fn visible_devices(
    ctx: &Ctx,
    filter: &store::DeviceFilter,
) -> Result<Vec<store::Device>, ToolError> {
    if let Some(project) = &filter.project
        && !ctx.access.sees(project)
    {
        return Err(store::StoreError::ProjectNotFound(project.to_string()).into());
    }
    let mut devices = ctx.fleet.store().list_devices(filter).await?;
    devices.retain(|d| ctx.access.sees(&d.project));
    Ok(devices)
}

/// A menu path known at compile time.
pub(crate) fn menu(path: &str) -> routeros::MenuPath {
    routeros::MenuPath::parse(path).unwrap_or_else(|e| unreachable!("{e}"))
}

/// The `device` object every device-scoped result starts with.
pub(crate) fn device_ref(device: &store::Device) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "device".into(),
        serde_json::json!({ "id": device.id, "name": device.name }),
    );
    m
}

/// A list item: one record, typed.
pub(crate) type Item = Map<String, Value>;

/// A list read: which tool, which device and menu, what to filter on the device, and the window.
///
/// Every list tool that reads a menu goes through it, so every one hides secrets, withholds
/// script bodies, types values and pages the same way.
#[derive(Debug)]
pub(crate) struct MenuList<'a> {
    pub tool: &'a str,
    /// The arguments that define the query (everything but limit/cursor/fields), for cursors.
    pub scope_args: Value,
    pub device_id: &'a str,
    pub menu: &'a str,
    pub query: routeros::PrintQuery,
    pub window: paging::Window,
}

/// A menu read by [`MenuList::fetch`], before it is paged.
#[derive(Debug)]
pub(crate) struct Fetched<'a> {
    pub device: store::Device,
    /// The shaped items that passed `keep`, in RouterOS order.
    pub items: Vec<Item>,
    tool: &'a str,
    scope_args: Value,
    window: paging::Window,
}

impl<'a> MenuList<'a> {
    /// Reads the menu and returns one page in the list envelope; `keep` filters what RouterOS
    /// cannot (substring matches, computed conditions). Secrets are hidden and script bodies
    /// withheld.
    pub(crate) async fn run(
        self,
        ctx: &Ctx,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<ToolOutput, ToolError> {
        self.run_with(ctx, keep, redact::Scripts::Withheld).await
    }

    /// [`MenuList::run`], saying whether script bodies are shown.
    pub(crate) async fn run_with(
        self,
        ctx: &Ctx,
        keep: impl Fn(&Item) -> bool,
        scripts: redact::Scripts,
    ) -> Result<ToolOutput, ToolError> {
        self.fetch(ctx, |_, _, _| {}, keep, scripts)
            .await?
            .page(Map::new())
    }

    /// [`MenuList::run`] with `shape` applied to each item (its place in the whole menu, the
    /// record as RouterOS gave it, the typed and redacted item) before `keep`.
    pub(crate) async fn run_shaped(
        self,
        ctx: &Ctx,
        shape: impl Fn(usize, &routeros::Record, &mut Item),
        keep: impl Fn(&Item) -> bool,
    ) -> Result<ToolOutput, ToolError> {
        self.fetch(ctx, shape, keep, redact::Scripts::Withheld)
            .await?
            .page(Map::new())
    }

    /// Reads the menu: every record typed, secrets hidden (and script bodies unless `scripts`
    /// shows them), then shaped and filtered; for tools that add context from the whole
    /// filtered list before paging.
    pub(crate) async fn fetch(
        self,
        ctx: &Ctx,
        shape: impl Fn(usize, &routeros::Record, &mut Item),
        keep: impl Fn(&Item) -> bool,
        scripts: redact::Scripts,
    ) -> Result<Fetched<'a>, ToolError> {
        let (device, client) = device(ctx, self.device_id).await?;
        let records = client.print(&menu(self.menu), &self.query).await?;
        let items = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut item = normalize::record(r);
                redact::item(self.menu, &mut item, scripts);
                shape(i, r, &mut item);
                item
            })
            .filter(|i| keep(i))
            .collect();
        Ok(Fetched {
            device,
            items,
            tool: self.tool,
            scope_args: self.scope_args,
            window: self.window,
        })
    }
}

impl Fetched<'_> {
    /// One page in the list envelope, with the device and `context` beside the items.
    pub(crate) fn page(self, context: Map<String, Value>) -> Result<ToolOutput, ToolError> {
        let mut envelope = device_ref(&self.device);
        envelope.extend(context);
        paging::list(
            paging::scope(self.tool, &self.scope_args),
            &self.window,
            self.items,
            envelope,
        )
    }
}

/// Common list-tool window arguments, for parameter structs to embed by hand (serde cannot
/// flatten with `deny_unknown_fields`).
pub(crate) fn window(
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
) -> paging::Window {
    paging::Window {
        limit,
        cursor,
        fields,
    }
}

/// Case-insensitive substring match for `*_contains` filters.
pub(crate) fn contains(haystack: Option<&Value>, needle: &str) -> bool {
    haystack
        .and_then(Value::as_str)
        .is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}
