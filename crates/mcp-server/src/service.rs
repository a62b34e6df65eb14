//! One MCP session: the `ServerHandler` every transport drives.
//!
//! Errors a model can act on (a hidden tool, invalid arguments, an unreachable device) are tool
//! results with `isError: true` and a message that says what to do; only unroutable requests
//! (an unknown tool name, an unknown resource) are protocol errors.
//!
//! Protocol revisions: 2025-06-18 and 2025-11-25 (and the older ones the SDK knows) open a session
//! with `initialize`; 2026-07-28 is stateless — every request carries its protocol version, client
//! and capabilities in `_meta`, and the SDK routes it without a session (`server/discover` answers
//! what this server supports). The handler serves both: what it needs of the client comes from
//! [`RequestContext::client_info`] and [`RequestContext::client_capabilities`], which read the
//! request's `_meta` first and the session's `initialize` second. Logging (`logging/setLevel`,
//! `notifications/message`), which 2026-07-28 deprecates, keeps working for session clients.
//!
//! List results carry the 2026-07-28 caching hints (`ttlMs`, `cacheScope`); the SDK strips them
//! for older clients. `tools/list` is in a fixed order (by name).

#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use catalog::Visibility;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation,
    InitializeRequestParams, InitializeResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, LoggingMessageNotificationParam,
    MetaObject, PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams,
    ReadResourceResponse, Reference, ServerCapabilities, SetLevelRequestParams, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};

use crate::App;
use crate::approval::Approval;

/// Whether the request uses the stateless revision (2026-07-28 and later): no session, so no
/// server-sent requests; the server asks for input with `input_required` instead.
/// How long a client may reuse the tool, prompt and template lists: they change only when the
/// server restarts or reloads with other settings (session clients are then told
/// `notifications/tools/list_changed`; a tool disabled meanwhile is refused when called).
const LIST_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// How long a client may reuse the resource list (the registered devices).
const RESOURCE_LIST_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Caching hints of a result, for 2026-07-28 clients (older ones do not know the fields). The
/// scope is private: what a caller sees may depend on who it is, so a shared cache must not hand
/// one caller's list to another.
fn hints(
    context: &RequestContext<RoleServer>,
    ttl_ms: &mut Option<u64>,
    scope: &mut Option<rmcp::model::CacheScope>,
    ttl: std::time::Duration,
) {
    if !stateless(context) {
        return;
    }
    *ttl_ms = Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
    *scope = Some(rmcp::model::CacheScope::Private);
}

fn stateless(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// Which transport a session runs on (for logs and audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Stdio,
    Http,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
        }
    }
}

/// Counts the session in `mcp_active_sessions` for as long as it lives.
#[derive(Debug)]
struct SessionGuard(prometheus::IntGauge);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One session's handler — or, under 2026-07-28 over HTTP, one request's.
#[derive(Debug, Clone)]
pub struct McpService {
    app: Arc<App>,
    transport: Transport,
    /// Set once the handler serves a session: from the start on stdio, at `initialize` over
    /// HTTP (a stateless request is not a session and is not counted).
    session: Arc<std::sync::OnceLock<SessionGuard>>,
    log_level: Arc<Mutex<LoggingLevel>>,
    /// The principal an HTTP session was opened by; later requests of the session must be
    /// authenticated as the same one (a stolen session id is useless with other credentials).
    owner: Arc<std::sync::OnceLock<String>>,
    /// stdio: the local user, with `MCP_STDIO_ROLE` in every project.
    local: Arc<auth::Principal>,
}

impl McpService {
    pub fn new(app: Arc<App>, transport: Transport) -> Self {
        let local = Arc::new(auth::Principal::local(app.config().stdio_role));
        let service = Self {
            app,
            transport,
            session: Arc::new(std::sync::OnceLock::new()),
            log_level: Arc::new(Mutex::new(LoggingLevel::Warning)),
            owner: Arc::new(std::sync::OnceLock::new()),
            local,
        };
        if transport == Transport::Stdio {
            service.count_session();
        }
        service
    }

    /// Counts this handler in `mcp_active_sessions` until it is dropped (once).
    fn count_session(&self) {
        self.session.get_or_init(|| {
            self.app.metrics.active_sessions.inc();
            SessionGuard(self.app.metrics.active_sessions.clone())
        });
    }

    /// Whom the request acts for: the local user on stdio; over HTTP the principal the
    /// transport authenticated (nobody, reaching nothing, if it put none on the request). A
    /// session's requests must all come from the principal that opened it.
    fn principal(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<Arc<auth::Principal>, McpError> {
        if stateless(context) {
            // No initialize: every request carries what the client announces.
            self.note_capabilities(context);
        }
        let principal = match self.transport {
            Transport::Stdio => return Ok(Arc::clone(&self.local)),
            Transport::Http => {
                crate::access::from_request(context).unwrap_or_else(crate::access::nobody)
            }
        };
        if !stateless(context) {
            let name = crate::access::actor_name(&principal);
            let owner = self.owner.get_or_init(|| name.clone());
            if *owner != name {
                tracing::warn!(session_owner = %owner, caller = %name, "request refused: MCP session opened by another principal");
                return Err(McpError::invalid_request(
                    "this MCP session was opened with other credentials; open a new session (initialize) with yours",
                    None,
                ));
            }
        }
        Ok(principal)
    }

    /// Logs what the client announces that the server does not use, when asked to (once per
    /// client and set).
    fn note_capabilities(&self, context: &RequestContext<RoleServer>) {
        if !self.app.config().log_unknown_capabilities {
            return;
        }
        if let Some(caps) = context.client_capabilities() {
            let client = context
                .client_info()
                .map(|i| i.name.clone())
                .unwrap_or_else(|| "unknown-client".into());
            self.app.unknown_capabilities.note(&client, &caps);
        }
    }

    /// Whether the client renders MCP Apps views (it declared the extension) and the server
    /// serves resources, so the view a tool names can be read.
    fn renders_views(&self, context: &RequestContext<RoleServer>) -> bool {
        self.app.config().resources
            && crate::apps::supported(context.client_capabilities().as_ref())
    }

    /// The tool context of one request, acting for `principal` with the role `needs`.
    fn ctx_for(&self, principal: Arc<auth::Principal>, needs: auth::Role) -> tools::Ctx {
        self.app.ctx.for_call_within(
            tools::Access::new(principal, needs),
            self.app.config().budget,
        )
    }

    fn actor(&self, context: &RequestContext<RoleServer>) -> String {
        // The client's own claim (from `initialize`, or from each request's `_meta` under
        // 2026-07-28), escaped and bounded: it is recorded, not trusted.
        let client = context
            .client_info()
            .map(|i| {
                domain::text::escape(&i.name)
                    .chars()
                    .take(64)
                    .collect::<String>()
            })
            .unwrap_or_else(|| "unknown-client".into());
        let principal = match self.transport {
            Transport::Stdio => Arc::clone(&self.local),
            Transport::Http => {
                crate::access::from_request(context).unwrap_or_else(crate::access::nobody)
            }
        };
        format!(
            "mcp:{}:{}:{client}",
            self.transport.as_str(),
            crate::access::actor_name(&principal)
        )
    }

    /// A tool as `tools/list` shows it; `views`: the client renders MCP Apps views (the
    /// tool's `_meta.ui`, see [`crate::apps`]).
    fn tool_def(spec: &catalog::ToolSpec, views: bool) -> Tool {
        // The title is the tool's own `title`; destructive and idempotent hints mean something
        // only for tools that change things (MCP leaves them undefined for read-only ones).
        let a = &spec.annotations;
        let mut annotations = ToolAnnotations::new()
            .read_only(a.read_only_hint)
            .open_world(a.open_world_hint);
        if !a.read_only_hint {
            annotations = annotations
                .destructive(a.destructive_hint)
                .idempotent(a.idempotent_hint);
        }
        let mut meta = Map::new();
        meta.insert("tier".into(), json!(spec.tier));
        meta.insert("version".into(), json!(spec.version));
        if views {
            crate::apps::annotate(spec, &mut meta);
        }
        Tool::new(
            spec.name.clone(),
            spec.description.clone(),
            Arc::new(spec.input_schema.clone()),
        )
        .with_title(spec.title.clone())
        .with_raw_output_schema(Arc::new(spec.output_schema.clone()))
        .with_annotations(annotations)
        .with_meta(MetaObject(meta))
    }

    fn error_result(message: String) -> CallToolResult {
        let mut r = CallToolResult::error(vec![ContentBlock::text(message.clone())]);
        let mut meta = Map::new();
        meta.insert(
            "estimated_tokens".into(),
            json!(message.chars().count().div_ceil(4)),
        );
        r.meta = Some(MetaObject(meta));
        r
    }

    /// The whole path of one tool call (see the crate documentation).
    async fn run_tool(
        &self,
        request: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let app = &self.app;
        let config = app.config();
        let name = request.name.to_string();
        let Some(spec) = app.catalog.get(&name) else {
            return Err(McpError::invalid_params(
                format!("unknown tool \"{name}\": tools/list shows the tools this server offers"),
                None,
            ));
        };
        // authn (the transport) → RBAC → tier and policy → JSON-Schema validation → handler.
        let principal = self.principal(context)?;
        let needs = crate::access::role_for(spec.tier);
        if !principal.has_anywhere(needs) {
            app.metrics
                .rbac_denied
                .with_label_values(&[crate::access::role_label(&principal), name.as_str()])
                .inc();
            return Ok(Self::error_result(format!(
                "{name} needs the {needs} role, which {} does not hold in any project; tools/list shows the tools your role allows",
                domain::text::escape(&principal.display)
            ))
            .into());
        }
        if let Err(wait) = app.principal_limits.take(
            config.principal_rate_limit,
            &crate::access::actor_name(&principal),
        ) {
            app.metrics.principal_rate_limited.inc();
            return Ok(Self::error_result(format!(
                "too many tool calls: {} may make {} per second on this server \
                 (MCP_PRINCIPAL_RATE_LIMIT); try again in {} ms",
                domain::text::escape(&principal.display),
                config.principal_rate_limit,
                wait.as_millis().max(1)
            ))
            .into());
        }
        if !config.tools {
            return Ok(Self::error_result(
                "tools are turned off on this server (MCP_ENABLE_TOOLS=false)".into(),
            )
            .into());
        }
        if let Visibility::Hidden(reason) = config.policy.visibility(spec) {
            return Ok(Self::error_result(reason).into());
        }
        let mut arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        if let Err(violations) = app.catalog.validate_input(&name, &arguments) {
            let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
            return Ok(Self::error_result(format!(
                "invalid arguments for {name}: {}. The tool's inputSchema says what is accepted.",
                list.join("; ")
            ))
            .into());
        }
        let Some(handler) = app.handler(&name) else {
            return Err(McpError::internal_error(
                format!("no handler for {name}"),
                None,
            ));
        };
        let ctx = self.ctx_for(Arc::clone(&principal), needs);
        let correlation = domain::CorrelationId::new();
        tracing::Span::current().record("correlation_id", tracing::field::display(correlation));
        if name == "plan.apply" && arguments.get("approval_token").is_none() {
            let asker = crate::approval::Asker {
                app,
                ctx: &ctx,
                over_http: self.transport == Transport::Http,
            };
            let asked = if stateless(context) {
                crate::approval::round(&asker, &request, &arguments, context, correlation).await?
            } else {
                crate::approval::elicit(&asker, &arguments, context, correlation).await
            };
            match asked {
                Approval::Token(token) => arguments["approval_token"] = Value::String(token),
                Approval::Declined(message) => return Ok(Self::error_result(message).into()),
                Approval::Ask(input) => return Ok(CallToolResponse::InputRequired(input)),
                Approval::NotAsked => {}
            }
        }
        let started = Instant::now();
        let policy = &config.policy;
        let caller = tools::Caller {
            audit: store::AuditContext {
                actor: self.actor(context),
                correlation_id: correlation,
            },
            // The enabled tiers up to the session's: what this caller may use.
            tiers: policy
                .tiers
                .iter()
                .copied()
                .filter(|t| *t <= policy.session_tier)
                .collect(),
            gather: None,
            samples: !stateless(context) && crate::sampling::can_sample(context),
            policy: (name == "runbook.run" || name == "runbook.record_outcome")
                .then(|| Arc::new(policy.clone())),
        };
        let samples = caller.samples;
        let call = (handler.run)(Arc::clone(&ctx), arguments.clone(), caller);
        let outcome = tokio::select! {
            r = app.calls.track_future(call) => r,
            () = context.ct.cancelled() => Err(tools::ToolError::Refused("the call was cancelled by the client".into())),
        };
        let elapsed = started.elapsed();
        app.metrics
            .tool_latency
            .with_label_values(&[name.as_str()])
            .observe(elapsed.as_secs_f64());
        let (result, status, tokens) = match outcome {
            Ok(output) => {
                if let Some(run_id) = samples
                    .then(|| crate::sampling::improvable_run(&name, &output.structured))
                    .flatten()
                {
                    crate::sampling::draft_revision(
                        Arc::clone(&ctx),
                        context.peer.clone(),
                        run_id,
                        context.client_info().map_or_else(
                            || "client".to_owned(),
                            |i| domain::text::escape(&i.name).chars().take(64).collect(),
                        ),
                    );
                }
                let finished = tools::budget::finish(output, &config.budget);
                if finished.warning {
                    app.metrics
                        .budget_warnings
                        .with_label_values(&[name.as_str()])
                        .inc();
                }
                if finished.cut {
                    app.metrics
                        .budget_errors
                        .with_label_values(&[name.as_str()])
                        .inc();
                }
                app.metrics
                    .tool_estimated_tokens
                    .with_label_values(&[name.as_str()])
                    .observe(finished.estimated_tokens as f64);
                let mut r = CallToolResult::success(vec![ContentBlock::text(finished.text)]);
                r.structured_content = Some(finished.structured);
                let mut meta = Map::new();
                meta.insert("estimated_tokens".into(), json!(finished.estimated_tokens));
                meta.insert("correlation_id".into(), json!(correlation));
                if let Some(cache) = finished.cache {
                    let age_ms = u64::try_from(cache.age.as_millis()).unwrap_or(u64::MAX);
                    meta.insert("cache".into(), json!({"hit": true, "age_ms": age_ms}));
                }
                if finished.warning {
                    meta.insert(
                        "token_budget".into(),
                        json!({"warning_threshold": config.budget.warning, "error_threshold": config.budget.error, "cut": finished.cut}),
                    );
                }
                r.meta = Some(MetaObject(meta));
                (r, "ok", finished.estimated_tokens)
            }
            Err(e) => {
                let kind = e.kind();
                let message = e.to_string();
                tracing::warn!(tool = %name, correlation_id = %correlation, error = %message, "tool call failed");
                self.notify(
                    context,
                    LoggingLevel::Warning,
                    &format!("{name}: {message}"),
                )
                .await;
                let mut r = Self::error_result(message);
                if let Some(MetaObject(meta)) = r.meta.as_mut() {
                    meta.insert("correlation_id".into(), json!(correlation));
                }
                (r, kind, 0)
            }
        };
        app.metrics
            .tool_requests
            .with_label_values(&[name.as_str(), if status == "ok" { "ok" } else { "error" }])
            .inc();
        self.audit_call(
            context,
            &name,
            &arguments,
            status,
            elapsed,
            tokens,
            correlation,
        )
        .await;
        Ok(result.into())
    }

    /// Serves the runbook versions people approved since the last look (at most every two
    /// seconds), so prompts match what `runbook.run` runs.
    async fn refresh_runbooks(&self) {
        if let Some(runbooks) = self.app.ctx.runbooks.as_deref()
            && let Err(e) = runbooks.refresh_reviewed(self.app.store()).await
        {
            tracing::warn!(error = %e, "reading approved runbook versions failed");
        }
    }

    /// Records the call (never argument values other than the device; they may be sensitive).
    /// The record is queued for group commit (the store's writer task commits it; the call does
    /// not wait for that), and the queue is flushed on shutdown. A full queue (the database is
    /// slow or down) holds the call here, tracked with the calls in flight, rather than dropping
    /// the record.
    #[allow(clippy::too_many_arguments)]
    async fn audit_call(
        &self,
        context: &RequestContext<RoleServer>,
        name: &str,
        arguments: &Value,
        status: &str,
        elapsed: std::time::Duration,
        tokens: u64,
        correlation: domain::CorrelationId,
    ) {
        let ctx = store::AuditContext {
            actor: self.actor(context),
            correlation_id: correlation,
        };
        let details = json!({
            "tool": name,
            "device_id": arguments.get("device_id"),
            "arguments": arguments.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            "outcome": status,
            "duration_ms": elapsed.as_millis(),
            "estimated_tokens": tokens,
        });
        let target = format!("tool:{name}");
        let queued = self
            .app
            .calls
            .track_future(self.app.store().audit_queue().append(
                &ctx,
                "tool.call",
                &target,
                details,
            ));
        if let Err(e) = queued.await {
            tracing::error!(error = %e, "could not record a tool call in the audit log");
        }
    }

    /// Sends a log message to the client if its level is at least the session's.
    async fn notify(
        &self,
        context: &RequestContext<RoleServer>,
        level: LoggingLevel,
        message: &str,
    ) {
        let wanted = self
            .log_level
            .lock()
            .map(|l| *l)
            .unwrap_or(LoggingLevel::Warning);
        if (level as u8) < (wanted as u8) {
            return;
        }
        let _ = context
            .peer
            .notify_logging_message(
                LoggingMessageNotificationParam::new(level, json!(message))
                    .with_logger("routeros-mcp"),
            )
            .await;
    }
}

impl McpService {
    /// `resources/read` of a `ui://` resource: the plan view, for a client that renders views.
    fn read_view(
        &self,
        uri: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResult, McpError> {
        let shown: String = domain::text::escape(uri).chars().take(200).collect();
        if uri != crate::apps::PLAN_VIEW_URI {
            return Err(McpError::resource_not_found(
                format!(
                    "no view {shown}: the one view this server offers is {}",
                    crate::apps::PLAN_VIEW_URI
                ),
                Some(json!({"uri": uri})),
            ));
        }
        if !crate::apps::supported(context.client_capabilities().as_ref()) {
            return Err(McpError::resource_not_found(
                format!(
                    "{shown} is an MCP Apps view: a client reads it after declaring the {} extension with \"{}\" among its mimeTypes",
                    crate::apps::EXTENSION,
                    crate::apps::MIME_TYPE
                ),
                Some(json!({"uri": uri})),
            ));
        }
        Ok(crate::apps::read(self.app.config().console_base.as_deref()))
    }
}

impl ServerHandler for McpService {
    fn get_info(&self) -> InitializeResult {
        let c = self.app.config();
        let mut caps = ServerCapabilities::builder()
            .enable_logging()
            .enable_completions()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .build();
        if !c.resources {
            caps.resources = None;
        }
        if !c.prompts {
            caps.prompts = None;
        }
        if c.resources {
            // MCP Apps: plan.get has a view for clients that declare the extension too.
            let mut extensions = rmcp::model::ExtensionCapabilities::new();
            let mut apps = Map::new();
            apps.insert("mimeTypes".into(), json!([crate::apps::MIME_TYPE]));
            extensions.insert(crate::apps::EXTENSION.into(), apps);
            caps.extensions = Some(extensions);
        }
        let mut info = InitializeResult::new(caps);
        info.server_info = Implementation::new(c.name.clone(), c.version.clone())
            .with_title("RouterOS MCP server")
            .with_description(c.description.clone());
        info.instructions = Some(
            "Operate MikroTik RouterOS routers. Start with device.list to find devices (device_id \
             takes an id or a name), system.get_overview for one router, fleet.get_health for all. \
             List tools page their results: pass next_cursor to continue, fields/filters to narrow. \
             Reads run directly; changes are proposed as plans that a human approves."
                .into(),
        );
        info
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2026_07_28))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let started = Instant::now();
        self.count_session();
        self.app.track_session(context.peer.clone());
        context.peer.set_peer_info(request.clone());
        if self.app.config().log_unknown_capabilities {
            self.app
                .unknown_capabilities
                .note(&request.client_info.name, &request.capabilities);
        }
        let result = self.negotiate_initialize(&request).map(|mut result| {
            // A session hears `notifications/tools/list_changed` when a reload changes its tools
            // (a 2026-07-28 client has no session to hear it: not announced in discovery).
            if let Some(tools) = result.capabilities.tools.as_mut() {
                tools.list_changed = Some(true);
            }
            result
        });
        self.app.metrics.initialize_total.inc();
        self.app
            .metrics
            .initialize_duration
            .observe(started.elapsed().as_secs_f64());
        self.app.metrics.request("initialize", result.is_ok());
        tracing::info!(
            client = %request.client_info.name,
            client_version = %request.client_info.version,
            protocol = %request.protocol_version,
            transport = self.transport.as_str(),
            "MCP session initialized"
        );
        result
    }

    async fn ping(&self, _context: RequestContext<RoleServer>) -> Result<(), McpError> {
        self.app.metrics.request("ping", true);
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let principal = self.principal(&context)?;
        let config = self.app.config();
        let views = self.renders_views(&context);
        let tools = if config.tools {
            config
                .policy
                .visible(&self.app.catalog)
                .into_iter()
                .filter(|spec| principal.has_anywhere(crate::access::role_for(spec.tier)))
                .map(|spec| Self::tool_def(spec, views))
                .collect()
        } else {
            Vec::new()
        };
        self.app.metrics.request("tools/list", true);
        let mut result = ListToolsResult::with_all_items(tools);
        hints(
            &context,
            &mut result.ttl_ms,
            &mut result.cache_scope,
            LIST_TTL,
        );
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let spec = self.app.catalog.get(name)?;
        (self.app.config().policy.visibility(spec) == Visibility::Visible)
            .then(|| Self::tool_def(spec, false))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Every log line of the call (the workflow's plan steps among them) carries the
        // correlation id of its audit record, recorded once the call has one.
        // The name is the client's: escaped and bounded before it reaches a log line.
        let tool: String = domain::text::escape(&request.name)
            .chars()
            .take(64)
            .collect();
        let span = tracing::info_span!(
            "tool_call",
            tool = tool.as_str(),
            correlation_id = tracing::field::Empty
        );
        let started = Instant::now();
        let result =
            tracing::Instrument::instrument(self.run_tool(request, &context), span.clone()).await;
        let ok = result.as_ref().is_ok_and(|r| match r {
            CallToolResponse::Complete(r) => r.is_error != Some(true),
            // Waiting for the client's input is not a failure; anything else is unexpected.
            CallToolResponse::InputRequired(_) => true,
            _ => false,
        });
        span.in_scope(|| {
            tracing::debug!(
                ok,
                duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "tool call"
            )
        });
        self.app.metrics.request("tools/call", ok);
        result
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut level) = self.log_level.lock() {
            *level = request.level;
        }
        self.app.metrics.request("logging/setLevel", true);
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let ctx = self.ctx_for(self.principal(&context)?, auth::Role::Viewer);
        let wants_device = match &request.r#ref {
            Reference::Prompt(p) => crate::prompts::takes_device(
                self.app.ctx.runbooks.as_deref(),
                &p.name,
                &request.argument.name,
            ),
            Reference::Resource(r) => {
                r.uri.starts_with("device://") && request.argument.name == "device_id"
            }
            // A kind of reference this server does not know: nothing to complete.
            _ => false,
        };
        let wants_runbook = match &request.r#ref {
            Reference::Resource(r) => {
                (r.uri.starts_with("runbook://") || r.uri.starts_with("runbook-execution-log://"))
                    && request.argument.name == "runbook_id"
            }
            Reference::Prompt(p) => {
                p.name == "execute-runbook" && request.argument.name == "runbookName"
            }
            _ => false,
        };
        let values = if wants_device {
            crate::resources::device_names(&ctx, &request.argument.value).await
        } else if wants_runbook {
            crate::resources::runbook_names(&ctx, &request.argument.value)
        } else {
            Vec::new()
        };
        self.app.metrics.request("completion/complete", true);
        let info = CompletionInfo::new(values.into_iter().take(100).collect()).unwrap_or_default();
        Ok(CompleteResult::new(info))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let ctx = self.ctx_for(self.principal(&context)?, auth::Role::Viewer);
        let r = crate::resources::list(&ctx, &self.app.config().name)
            .await
            .map(|mut result| {
                if self.renders_views(&context) {
                    result.resources.push(crate::apps::resource());
                }
                result
            });
        self.app.metrics.request("resources/list", r.is_ok());
        r.map(|mut result| {
            // Devices come and go; a client may reuse the list briefly.
            hints(
                &context,
                &mut result.ttl_ms,
                &mut result.cache_scope,
                RESOURCE_LIST_TTL,
            );
            result
        })
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        self.app.metrics.request("resources/templates/list", true);
        let mut result = crate::resources::templates();
        hints(
            &context,
            &mut result.ttl_ms,
            &mut result.cache_scope,
            LIST_TTL,
        );
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let ctx = self.ctx_for(self.principal(&context)?, auth::Role::Viewer);
        let r = if request.uri.starts_with("ui://") {
            self.read_view(&request.uri, &context)
        } else {
            crate::resources::read(&self.app, &ctx, &request.uri).await
        };
        self.app.metrics.request("resources/read", r.is_ok());
        r.map(|mut result| {
            // A router's state: read it again when it is needed again.
            hints(
                &context,
                &mut result.ttl_ms,
                &mut result.cache_scope,
                std::time::Duration::ZERO,
            );
            ReadResourceResponse::from(result)
        })
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        self.app.metrics.request("prompts/list", true);
        self.refresh_runbooks().await;
        let mut result = crate::prompts::list(self.app.ctx.runbooks.as_deref());
        hints(
            &context,
            &mut result.ttl_ms,
            &mut result.cache_scope,
            LIST_TTL,
        );
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        self.refresh_runbooks().await;
        let r = crate::prompts::get(self.app.ctx.runbooks.as_deref(), &request);
        self.app.metrics.request("prompts/get", r.is_ok());
        r.map(GetPromptResponse::from)
    }
}
