//! The `runbook` tools — list, search, read and dry-run the runbooks on offer (the built-ins and
//! the operator's folder, `ROUTEROS_MCP_RUNBOOK_DIR`), and create a draft in that folder, as
//! written or from the tool calls that solved a problem. They read the index of [`Runbooks`]; a
//! runbook's steps run through the other tools, and its writes through plans a person approves.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::runbook::{Env, Index, Reload};

crate::toolkit::tools! {
    create,
    diff,
    dry_run,
    from_transcript,
    get,
    list,
    propose_revision,
    record_outcome,
    run,
    search,
}

#[cfg(test)]
mod builtin_tests;
mod engine;
#[cfg(test)]
mod lab;
mod proposals;
mod reviser;

pub use reviser::Reviser;
pub use run::execution_log;
mod metrics;
pub mod review;
#[cfg(test)]
mod run_tests;

pub use create::{CreateError, Created, create_draft};
pub use metrics::{REFRESH_EVERY as METRICS_REFRESH_EVERY, RunbookMetrics};

/// How often the operator's folder is looked at for changes, at most.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// The runbooks on offer, reread when the operator's folder changes, and `env.yaml`'s values.
#[derive(Debug)]
pub struct Runbooks {
    index: Mutex<(Index, Instant)>,
    env: Option<Env>,
    catalog: Arc<catalog::Catalog>,
    /// When the approved proposals were last read from the database.
    reviewed_checked: Mutex<Option<Instant>>,
    metrics: Option<RunbookMetrics>,
    notify: std::sync::OnceLock<Arc<dyn ReviewNotice>>,
    reviser: Option<Reviser>,
}

/// Told when a proposed version enters the review queue and when a person decides it (the
/// server sends both to the webhook).
pub trait ReviewNotice: std::fmt::Debug + Send + Sync {
    fn awaiting_review(&self, version: &store::runbooks::VersionRow);
    fn decided(&self, version: &store::runbooks::VersionRow);
}

impl Runbooks {
    /// `index` checked against `catalog` (the one the index was loaded with).
    pub fn new(index: Index, env: Option<Env>, catalog: Arc<catalog::Catalog>) -> Self {
        Self {
            index: Mutex::new((index, Instant::now())),
            env,
            catalog,
            reviewed_checked: Mutex::new(None),
            metrics: None,
            notify: std::sync::OnceLock::new(),
            reviser: None,
        }
    }

    /// These runbooks, asking `reviser` (the operator's model endpoint) for the next version
    /// after every run that fails in a way a better runbook would avoid.
    pub fn with_reviser(mut self, reviser: Reviser) -> Self {
        self.reviser = Some(reviser);
        self
    }

    pub(crate) fn reviser(&self) -> Option<&Reviser> {
        self.reviser.as_ref()
    }

    /// Tells `notice` of every proposal queued for review from now on (set once; a second
    /// call is ignored).
    pub fn set_notice(&self, notice: Arc<dyn ReviewNotice>) {
        let _ = self.notify.set(notice);
    }

    /// Tells the notice (if any) that a person decided `version`.
    pub fn notify_decided(&self, version: &store::runbooks::VersionRow) {
        if let Some(n) = self.notify.get() {
            n.decided(version);
        }
    }

    pub(crate) fn notify_awaiting_review(&self, version: &store::runbooks::VersionRow) {
        if let Some(n) = self.notify.get() {
            n.awaiting_review(version);
        }
    }

    /// These runbooks, counting finished runs in `metrics`.
    pub fn with_metrics(mut self, metrics: RunbookMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub(crate) fn run_finished(&self, runbook: &str, version: &str, outcome: &str) {
        if let Some(m) = &self.metrics {
            m.runs.with_label_values(&[runbook, version, outcome]).inc();
        }
    }

    /// Sets the runbook gauges from the database and the index (see [`RunbookMetrics`]), at
    /// most every [`METRICS_REFRESH_EVERY`] unless a review decision outdated them. Without
    /// metrics, does nothing.
    pub async fn refresh_metrics(&self, store: &store::Store) -> Result<(), store::StoreError> {
        let Some(metrics) = &self.metrics else {
            return Ok(());
        };
        self.refresh_reviewed(store).await?;
        let (served, broken) = self.with(|index| {
            let served: Vec<(String, String, String)> = index
                .iter()
                .map(|e| {
                    let m = &e.runbook.meta;
                    (m.name.clone(), m.version.clone(), m.last_reviewed.clone())
                })
                .collect();
            let broken: Vec<String> = index
                .problems()
                .iter()
                .filter_map(|p| broken_runbook(&p.file))
                .filter(|name| index.get(name).is_none())
                .collect();
            (served, broken)
        });
        metrics.refresh(store, &served, &broken).await
    }

    /// After a review decision: serves what was approved and has the next scrape read the
    /// review gauges anew.
    pub async fn reviewed(&self, store: &store::Store) -> Result<(), store::StoreError> {
        if let Some(metrics) = &self.metrics {
            metrics.outdate();
        }
        self.load_reviewed(store).await
    }

    /// Reads the proposals a person approved (at most every two seconds) and serves each in
    /// place of the file it improves. A proposal that no longer validates is skipped and logged.
    pub async fn refresh_reviewed(&self, store: &store::Store) -> Result<(), store::StoreError> {
        {
            let mut checked = self
                .reviewed_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if checked.is_some_and(|t| t.elapsed() < RELOAD_EVERY) {
                return Ok(());
            }
            *checked = Some(Instant::now());
        }
        self.load_reviewed(store).await
    }

    /// Reads the approved proposals now (after a review decision).
    pub async fn load_reviewed(&self, store: &store::Store) -> Result<(), store::StoreError> {
        let rows = store.runbook_approved_proposals().await?;
        let mut reviewed = Vec::new();
        for row in rows.into_iter().filter(|r| r.status == "published") {
            let Some(base_hash) = row.base_hash.clone() else {
                continue;
            };
            match ::runbook::check(
                &format!("{} {} (reviewed)", row.name, row.version),
                &row.content,
                &self.catalog,
            ) {
                Ok(runbook) => reviewed.push(::runbook::Reviewed {
                    version_id: row.id,
                    base_hash,
                    runbook,
                }),
                Err(problems) => tracing::warn!(
                    runbook = %row.name,
                    version = %row.version,
                    problem = %problems.first().map(ToString::to_string).unwrap_or_default(),
                    "an approved runbook version no longer validates; it is not served"
                ),
            }
        }
        let mut guard = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.0.set_reviewed(reviewed) {
            tracing::info!("approved runbook versions now served");
        }
        Ok(())
    }

    pub fn catalog(&self) -> &catalog::Catalog {
        &self.catalog
    }

    /// Runs `f` on the index, after rereading the operator's folder if it changed (looked at no
    /// more than every two seconds).
    pub fn with<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        let mut guard = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let (index, checked) = &mut *guard;
        if checked.elapsed() >= RELOAD_EVERY {
            *checked = Instant::now();
            reload(index);
        }
        f(index)
    }

    /// Rereads the operator's folder now (after a runbook was written to it).
    pub fn reload_now(&self) {
        let mut guard = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let (index, checked) = &mut *guard;
        *checked = Instant::now();
        reload(index);
    }

    /// The values of `env.yaml` (`ROUTEROS_MCP_RUNBOOK_ENV`), if configured.
    pub fn env(&self) -> Option<&Env> {
        self.env.as_ref()
    }
}

/// Rereads the operator's folder if a file in it changed, and says what changed.
fn reload(index: &mut Index) {
    match index.reload_if_changed() {
        Reload::Unchanged => {}
        Reload::Reloaded {
            added,
            removed,
            changed,
        } => tracing::info!(
            ?added,
            ?removed,
            ?changed,
            problems = index.problems().len(),
            "runbooks reloaded"
        ),
    }
}

/// What a model is asked for the next version after run `run_id` failed in a way a better
/// runbook would avoid: `(system prompt, user message)`. For the server's MCP sampling path,
/// which asks the client's own model.
pub async fn revision_request(
    ctx: &crate::Ctx,
    run_id: &str,
) -> Result<(String, String), crate::ToolError> {
    let row = run::resume_row(ctx, run_id).await?;
    let lesson = proposals::lesson(ctx.fleet.store(), row).await?;
    Ok(reviser::request_text(
        &lesson.version.content,
        lesson.run.failure_reason.as_deref().unwrap_or_default(),
        &lesson.run.steps,
    ))
}

/// Queues the runbook in a model's `answer` (its ```` ```markdown ```` block, or the whole
/// answer) as the next version after run `run_id`, checked like every proposal.
pub async fn propose_drafted(
    ctx: &crate::Ctx,
    run_id: &str,
    answer: &str,
    proposed_by: &str,
) -> Result<store::runbooks::VersionRow, crate::ToolError> {
    let runbooks = served(ctx).await?;
    let row = run::resume_row(ctx, run_id).await?;
    let store = ctx.fleet.store();
    let lesson = proposals::lesson(store, row).await?;
    let rationale = format!(
        "drafted by {proposed_by} from run {run_id} ({})",
        lesson.failure
    );
    proposals::propose(
        store,
        runbooks,
        &lesson,
        &reviser::markdown_of(answer),
        Some(&rationale),
        proposed_by,
        &store::AuditContext::new(proposed_by.to_owned()),
    )
    .await
}

/// The runbook a file that did not load would have been (its name), for `runbook_stale`: a
/// `NAME.md` whose name is a runbook name. Problems of folders or other files name none.
fn broken_runbook(file: &str) -> Option<String> {
    let stem = std::path::Path::new(file)
        .file_name()?
        .to_str()?
        .strip_suffix(".md")?;
    ::runbook::format::is_runbook_name(stem).then(|| stem.to_owned())
}

/// The runbooks of the context with the approved proposals read, or why there are none.
pub(crate) async fn served(ctx: &crate::Ctx) -> Result<&Runbooks, crate::ToolError> {
    let runbooks = of(ctx)?;
    runbooks.refresh_reviewed(ctx.fleet.store()).await?;
    Ok(runbooks)
}

/// The runbooks of the context, or why there are none.
pub(crate) fn of(ctx: &crate::Ctx) -> Result<&Runbooks, crate::ToolError> {
    ctx.runbooks
        .as_deref()
        .ok_or_else(|| crate::ToolError::Refused("runbooks are not set up on this server".into()))
}

/// What a caller is told of a runbook name the index does not hold.
pub(crate) fn unknown(name: &str) -> String {
    let shown: String = domain::text::escape(name).chars().take(80).collect();
    format!(
        "no runbook named \"{shown}\"; runbook.list or runbook.search shows the runbooks on offer"
    )
}

/// A runbook that was last reviewed more than this many days ago is stale: a stale runbook is
/// worse than none.
pub const STALE_AFTER_DAYS: i64 = 90;

/// Whether `last_reviewed` (`YYYY-MM-DD`) is older than [`STALE_AFTER_DAYS`] (or unreadable).
pub fn is_stale(last_reviewed: &str) -> bool {
    match chrono::NaiveDate::parse_from_str(last_reviewed, "%Y-%m-%d") {
        Ok(date) => (chrono::Utc::now().date_naive() - date).num_days() > STALE_AFTER_DAYS,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::ToolError;
    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_symptom_finds_its_runbook_which_reads_and_dry_runs() {
        let h = Harness::start(&[Profile::Home]).await;
        let found = h
            .ok(
                "runbook.search",
                json!({"query": "clients on the LAN get no IP address from DHCP"}),
            )
            .await;
        assert_eq!(found["items"][0]["name"], "dhcp-pool-exhausted", "{found}");
        assert!(
            !found["items"][0]["why"].as_array().unwrap().is_empty(),
            "it says why: {found}"
        );

        let list = h.ok("runbook.list", json!({})).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 15, "{list}");
        assert!(items.iter().all(|i| i["status"] == "published"));
        assert_eq!(list["not_loaded"], json!([]));
        let tagged = h.ok("runbook.list", json!({"tag": "dhcp"})).await;
        assert!(
            tagged["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["tags"].as_array().unwrap().contains(&json!("dhcp")))
        );

        let got = h
            .ok("runbook.get", json!({"runbook": "interface-down"}))
            .await;
        assert!(got["content"].as_str().unwrap().contains("## Symptom"));
        assert_eq!(got["variables"][0]["name"], "device");

        let plan = h
            .ok(
                "runbook.dry_run",
                json!({"runbook": "interface-down", "variables": {"device": "r1", "interface": "ether2"}}),
            )
            .await;
        let steps = plan["steps"].as_array().unwrap();
        let writes: Vec<_> = steps.iter().filter(|s| s["access"] == "write").collect();
        assert!(!writes.is_empty(), "{plan}");
        assert!(writes.iter().all(|w| w["needs_approval"] == true));
        assert!(
            steps.iter().any(|s| s["arguments"]["device_id"] == "r1"),
            "the variables are filled in: {plan}"
        );
        assert!(plan["summary"].as_str().unwrap().contains("WRITE"));
    }

    const DRAFT: &str = "---\nname: lan-check\ntitle: LAN check\ndescription: Checks the LAN side.\nversion: 0.1.0\nstatus: draft\ntags: [lan]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nLAN hosts complain.\n\n## Diagnosis\n1. Read the addresses.\n```tool ip.list_addresses\n{\"device_id\": \"{var.device}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_created_runbook_is_a_checked_draft_file_that_never_overwrites() {
        let h = Harness::start(&[Profile::Home]).await;
        let dir = tempfile::tempdir().unwrap();
        let catalog = std::sync::Arc::new(catalog::Catalog::embedded().unwrap());
        let runbooks = std::sync::Arc::new(super::Runbooks::new(
            ::runbook::Index::load(
                std::sync::Arc::clone(&catalog),
                Some(dir.path().to_path_buf()),
            ),
            None,
            catalog,
        ));
        let ctx = std::sync::Arc::new(crate::ToolContext {
            runbooks: Some(runbooks),
            ..(*h.ctx).clone()
        });
        let create = |args: serde_json::Value| {
            let ctx = ctx.clone();
            async move {
                (super::create::HANDLER.run)(ctx, args, crate::Caller::new("test:assistant")).await
            }
        };
        let made = create(json!({"name": "lan-check", "content": DRAFT}))
            .await
            .unwrap()
            .structured;
        assert_eq!(made["status"], "draft");
        let written = std::fs::read_to_string(dir.path().join("lan-check.md")).unwrap();
        assert_eq!(written, DRAFT);
        let listed = (super::list::HANDLER.run)(
            ctx.clone(),
            json!({"status": "draft"}),
            crate::Caller::new("test:assistant"),
        )
        .await
        .unwrap()
        .structured;
        assert_eq!(listed["items"][0]["name"], "lan-check", "{listed}");

        for (args, says) in [
            (json!({"name": "lan-check", "content": DRAFT}), "exists"),
            (
                json!({"name": "lan-check-2", "content": DRAFT.replace("lan-check", "lan-check-2").replace("status: draft", "status: published")}),
                "starts as a draft",
            ),
            (
                json!({"name": "other", "content": DRAFT}),
                "must be the same",
            ),
            (
                json!({"name": "bad-tool", "content": DRAFT.replace("lan-check", "bad-tool").replace("ip.list_addresses", "ip.drop_everything")}),
                "ip.drop_everything",
            ),
            (
                json!({"name": "interface-down", "content": DRAFT.replace("lan-check", "interface-down")}),
                "exists",
            ),
        ] {
            let Err(ToolError::InvalidArguments(e)) = create(args).await else {
                panic!("refused: {says}");
            };
            assert!(e.contains(says), "{says}: {e}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing else was written"
        );
        // Without an operator's folder there is nowhere to create.
        let Err(ToolError::Refused(e)) = h
            .call("runbook.create", json!({"name": "x-1", "content": DRAFT}))
            .await
        else {
            panic!("refused without a folder");
        };
        assert!(e.contains("ROUTEROS_MCP_RUNBOOK_DIR"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_runbooks_and_missing_variables_are_named() {
        let h = Harness::start(&[Profile::Home]).await;
        let Err(ToolError::InvalidArguments(e)) = h
            .call("runbook.get", json!({"runbook": "no-such\u{1b}[31m"}))
            .await
        else {
            panic!("an unknown runbook is an argument error");
        };
        assert!(e.contains("runbook.search") && !e.contains('\u{1b}'), "{e}");
        let Err(ToolError::InvalidArguments(e)) = h
            .call(
                "runbook.dry_run",
                json!({"runbook": "interface-down", "variables": {"colour": "red"}}),
            )
            .await
        else {
            panic!("missing variables are an argument error");
        };
        assert!(
            e.contains("device") && e.contains("interface") && e.contains("colour"),
            "every missing name and the unknown one: {e}"
        );
    }
}
