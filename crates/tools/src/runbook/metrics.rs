//! The runbooks' Prometheus metrics. `runbook_runs_total` counts runs as they finish in this
//! process; the gauges are read from the database (shared by every server process) and from the
//! index of runbooks on offer when `/metrics` is scraped — at most every [`REFRESH_EVERY`], so a
//! scraper polling the unauthenticated endpoint cannot drive load onto the database, and at
//! once after a review decision taken in this process.
//!
//! | metric | what it says |
//! |---|---|
//! | `runbook_runs_total{runbook,version,outcome}` | runs that finished here: succeeded, failed, abandoned (every served version's series exist from the first scrape, at 0) |
//! | `runbook_review_backlog` | proposals waiting for a decision (`pending_review` + `in_review`) |
//! | `runbook_review_proposals{status}` | proposals by status: pending_review, in_review, approved, rejected |
//! | `runbook_review_approval_ratio` | approved / (approved + rejected); 0 while nothing is decided |
//! | `runbook_review_high_priority_oldest_seconds` | how long the oldest waiting high-priority proposal has waited; 0 when none waits |
//! | `runbook_stale{runbook}` | 1 when the runbook was last reviewed more than 90 days ago, or its file no longer validates |
//! | `runbook_version_success_ratio{runbook,version,parent_version}` | succeeded / finished runs of a version (versions with finished runs only) |
//! | `runbook_version_finished_runs{runbook,version,parent_version}` | its finished runs (succeeded + failed), so an alert can ignore a version that ran only once or twice |
//!
//! A version is the `version` of a runbook's front matter: recorded versions of one runbook that
//! share it (a file edited without a new version number) are counted together. `parent_version`
//! is the version it replaced ("" for a runbook's first), so one expression can compare every
//! version with its parent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus::{Gauge, GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use store::Store;

/// How often the gauges are read from the database, at most.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// The run outcomes `runbook_runs_total` counts.
const OUTCOMES: [&str; 3] = ["succeeded", "failed", "abandoned"];
/// The statuses `runbook_review_proposals` shows.
const PROPOSAL_STATUSES: [&str; 4] = ["pending_review", "in_review", "approved", "rejected"];

/// The runbook metric families, registered once per server.
#[derive(Debug, Clone)]
pub struct RunbookMetrics {
    pub(crate) runs: IntCounterVec,
    backlog: IntGauge,
    proposals: IntGaugeVec,
    approval_ratio: Gauge,
    high_priority_oldest: IntGauge,
    stale: IntGaugeVec,
    success: GaugeVec,
    finished: IntGaugeVec,
    refresh: Arc<tokio::sync::Mutex<Refresh>>,
    /// Set by a review decision: the next scrape reads the database whatever the time.
    outdated: Arc<AtomicBool>,
}

/// When the gauges were last read, and which labelled series they set (those that disappear
/// are removed, so a deleted runbook stops being reported).
#[derive(Debug, Default)]
struct Refresh {
    at: Option<Instant>,
    stale: BTreeSet<String>,
    versions: BTreeSet<[String; 3]>,
}

impl RunbookMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let versioned = ["runbook", "version", "parent_version"];
        let m = Self {
            runs: IntCounterVec::new(
                Opts::new(
                    "runbook_runs_total",
                    "Runbook runs that finished, by runbook, version and outcome (succeeded, failed, abandoned)",
                ),
                &["runbook", "version", "outcome"],
            )?,
            backlog: IntGauge::new(
                "runbook_review_backlog",
                "Proposed runbook versions waiting for a decision (pending_review + in_review)",
            )?,
            proposals: IntGaugeVec::new(
                Opts::new(
                    "runbook_review_proposals",
                    "Proposed runbook versions by review status (pending_review, in_review, approved, rejected)",
                ),
                &["status"],
            )?,
            approval_ratio: Gauge::new(
                "runbook_review_approval_ratio",
                "Approved / (approved + rejected) proposals; 0 while none is decided",
            )?,
            high_priority_oldest: IntGauge::new(
                "runbook_review_high_priority_oldest_seconds",
                "Age of the oldest high-priority proposal still waiting for a decision; 0 when none waits",
            )?,
            stale: IntGaugeVec::new(
                Opts::new(
                    "runbook_stale",
                    "1 when a runbook was last reviewed more than 90 days ago or its file no longer validates",
                ),
                &["runbook"],
            )?,
            success: GaugeVec::new(
                Opts::new(
                    "runbook_version_success_ratio",
                    "Succeeded / finished runs of a runbook version, with the version it replaced",
                ),
                &versioned,
            )?,
            finished: IntGaugeVec::new(
                Opts::new(
                    "runbook_version_finished_runs",
                    "Finished (succeeded or failed) runs of a runbook version, with the version it replaced",
                ),
                &versioned,
            )?,
            refresh: Arc::default(),
            outdated: Arc::default(),
        };
        for status in PROPOSAL_STATUSES {
            m.proposals.with_label_values(&[status]);
        }
        registry.register(Box::new(m.runs.clone()))?;
        registry.register(Box::new(m.backlog.clone()))?;
        registry.register(Box::new(m.proposals.clone()))?;
        registry.register(Box::new(m.approval_ratio.clone()))?;
        registry.register(Box::new(m.high_priority_oldest.clone()))?;
        registry.register(Box::new(m.stale.clone()))?;
        registry.register(Box::new(m.success.clone()))?;
        registry.register(Box::new(m.finished.clone()))?;
        Ok(m)
    }

    /// The next refresh reads the database whenever it comes (after a review decision, once it
    /// is committed).
    pub(crate) fn outdate(&self) {
        self.outdated.store(true, Ordering::SeqCst);
    }

    /// Sets the gauges from the database and `served` (the runbooks on offer: name, version,
    /// last reviewed) and `broken` (names of runbook files that do not validate), unless they
    /// were set less than [`REFRESH_EVERY`] ago.
    pub(crate) async fn refresh(
        &self,
        store: &Store,
        served: &[(String, String, String)],
        broken: &[String],
    ) -> Result<(), store::StoreError> {
        let mut state = self.refresh.lock().await;
        let outdated = self.outdated.swap(false, Ordering::SeqCst);
        if !outdated && state.at.is_some_and(|t| t.elapsed() < REFRESH_EVERY) {
            return Ok(());
        }
        let read = async {
            Ok::<_, store::StoreError>((
                super::review::stats(store).await?,
                store.runbook_version_heads().await?,
                store.runbook_run_tallies().await?,
            ))
        };
        let (stats, heads, tallies) = match read.await {
            Ok(read) => read,
            Err(e) => {
                // Tried again at the next scrape.
                if outdated {
                    self.outdate();
                }
                return Err(e);
            }
        };

        self.backlog.set(stats.backlog());
        for (status, n) in PROPOSAL_STATUSES.into_iter().zip([
            stats.pending_review,
            stats.in_review,
            stats.approved,
            stats.rejected,
        ]) {
            self.proposals.with_label_values(&[status]).set(n);
        }
        self.approval_ratio.set(stats.approval_ratio);
        self.high_priority_oldest
            .set(stats.oldest_high_priority_age_seconds);

        let mut stale = BTreeMap::new();
        for (name, version, last_reviewed) in served {
            stale.insert(name.clone(), i64::from(super::is_stale(last_reviewed)));
            for outcome in OUTCOMES {
                self.runs.with_label_values(&[name, version, outcome]);
            }
        }
        for name in broken {
            stale.entry(name.clone()).or_insert(1);
        }
        for (name, value) in &stale {
            self.stale.with_label_values(&[name]).set(*value);
        }
        let stale_now: BTreeSet<String> = stale.into_keys().collect();
        for gone in state.stale.difference(&stale_now) {
            let _ = self.stale.remove_label_values(&[gone]);
        }
        state.stale = stale_now;

        let versions = version_ratios(&heads, &tallies);
        for (labels, (succeeded, finished)) in &versions {
            let labels = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
            // Run counts are far below 2^52: exact as floats.
            let ratio = *succeeded as f64 / *finished as f64;
            self.success.with_label_values(&labels).set(ratio);
            self.finished.with_label_values(&labels).set(*finished);
        }
        let versions_now: BTreeSet<[String; 3]> = versions.into_keys().collect();
        for gone in state.versions.difference(&versions_now) {
            let labels = [gone[0].as_str(), gone[1].as_str(), gone[2].as_str()];
            let _ = self.success.remove_label_values(&labels);
            let _ = self.finished.remove_label_values(&labels);
        }
        state.versions = versions_now;
        state.at = Some(Instant::now());
        Ok(())
    }
}

/// `[runbook, version, parent_version]` → (succeeded, finished) for every version with a
/// finished run; recorded versions sharing a runbook and version number are added together, and
/// the parent is the nearest ancestor with another version number.
fn version_ratios(
    heads: &[store::runbooks::VersionHead],
    tallies: &[(String, store::runbooks::RunTally)],
) -> BTreeMap<[String; 3], (i64, i64)> {
    let by_id: BTreeMap<&str, &store::runbooks::VersionHead> =
        heads.iter().map(|h| (h.id.as_str(), h)).collect();
    let parent_version = |head: &store::runbooks::VersionHead| -> String {
        let mut at = head.parent_id.as_deref();
        // Bounded: a lineage never has more steps than there are versions.
        for _ in 0..heads.len() {
            match at.and_then(|id| by_id.get(id)) {
                Some(p) if p.version != head.version => return p.version.clone(),
                Some(p) => at = p.parent_id.as_deref(),
                None => break,
            }
        }
        String::new()
    };
    // The parent of a (runbook, version) is that of its oldest recorded row naming one.
    let mut parents: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for head in heads {
        let parent = parent_version(head);
        let slot = parents
            .entry((head.name.as_str(), head.version.as_str()))
            .or_default();
        if slot.is_empty() {
            *slot = parent;
        }
    }
    let mut out: BTreeMap<[String; 3], (i64, i64)> = BTreeMap::new();
    for (version_id, tally) in tallies {
        let Some(head) = by_id.get(version_id.as_str()) else {
            continue;
        };
        let finished = tally.succeeded + tally.failed;
        if finished == 0 {
            continue;
        }
        let parent = parents
            .get(&(head.name.as_str(), head.version.as_str()))
            .cloned()
            .unwrap_or_default();
        let entry = out
            .entry([head.name.clone(), head.version.clone(), parent])
            .or_default();
        entry.0 += tally.succeeded;
        entry.1 += finished;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use store::AuditContext;
    use store::runbooks::{RunRow, RunTally, VersionHead, VersionRow};
    use store::testing::TestDatabase;

    use super::*;
    use crate::runbook::Runbooks;

    const OLD: &str = "---\nname: old-one\ntitle: Old one\ndescription: Checks the LAN side.\nversion: 0.1.0\nstatus: draft\ntags: [lan]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2020-01-01\n---\n## Symptom\nLAN hosts complain.\n\n## Diagnosis\n1. Read the addresses.\n```tool ip.list_addresses\n{\"device_id\": \"{var.device}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

    fn scrape(registry: &Registry) -> String {
        prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .expect("text")
    }

    fn version(id: &str, v: &str, origin: &str, status: &str, parent: Option<&str>) -> VersionRow {
        VersionRow {
            id: id.into(),
            name: "old-one".into(),
            version: v.into(),
            content_hash: format!("hash-{id}"),
            content: format!("content {id}"),
            origin: origin.into(),
            status: status.into(),
            parent_id: parent.map(Into::into),
            base_hash: None,
            generated_from_run: None,
            proposed_by: None,
            failure_type: None,
            priority: Some("high".to_owned()).filter(|_| origin == "proposal"),
            rationale: None,
            created_at: "2026-01-01T00:00:00.000000Z".into(),
            review_started_at: None,
            reviewer: None,
            review_notes: None,
            reviewed_at: None,
        }
    }

    async fn finished_run(store: &Store, id: &str, version_id: &str, status: &str) {
        let run = RunRow {
            id: id.into(),
            runbook: "old-one".into(),
            version_id: version_id.into(),
            project_id: None,
            device_key: id.into(),
            variables: "{}".into(),
            variables_hash: "x".into(),
            incident: None,
            started_by: "test".into(),
            status: "running".into(),
            next_step: 1,
            plan_id: None,
            failed_step: None,
            failure_type: None,
            failure_reason: None,
            steps: "[]".into(),
            state_before: None,
            state_after: None,
            state_diff: None,
            started_at: store::time::now(),
            updated_at: store::time::now(),
            finished_at: None,
        };
        let ctx = AuditContext::new("test");
        store.runbook_run_start(&run, &ctx).await.expect("started");
        let mut done = run;
        done.status = status.into();
        done.finished_at = Some(store::time::now());
        store
            .runbook_run_save(&done, "running")
            .await
            .expect("saved");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gauges_follow_the_database_and_the_folder() {
        let db = TestDatabase::sqlite();
        let store = db.store().await;
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(dir.path().join("old-one.md"), OLD).expect("written");
        std::fs::write(dir.path().join("broken-one.md"), "no front matter").expect("written");
        let catalog = Arc::new(catalog::Catalog::embedded().expect("the catalog"));
        let registry = Registry::new();
        let runbooks = Runbooks::new(
            ::runbook::Index::load(Arc::clone(&catalog), Some(dir.path().to_path_buf())),
            None,
            catalog,
        )
        .with_metrics(RunbookMetrics::register(&registry).expect("registered"));

        let ctx = AuditContext::new("test");
        store
            .runbook_version_record(&version("v1", "0.1.0", "operator", "published", None))
            .await
            .expect("recorded");
        store
            .runbook_version_record(&version("v2", "0.2.0", "operator", "published", Some("v1")))
            .await
            .expect("recorded");
        for (id, version_id, status) in [
            ("r1", "v1", "succeeded"),
            ("r2", "v1", "succeeded"),
            ("r3", "v2", "succeeded"),
            ("r4", "v2", "failed"),
        ] {
            finished_run(&store, id, version_id, status).await;
        }
        store
            .runbook_propose(
                &version("p1", "0.3.0", "proposal", "pending_review", Some("v2")),
                &ctx,
            )
            .await
            .expect("proposed");

        runbooks.refresh_metrics(&store).await.expect("refreshed");
        let text = scrape(&registry);
        for line in [
            "runbook_review_backlog 1",
            "runbook_review_proposals{status=\"pending_review\"} 1",
            "runbook_review_proposals{status=\"rejected\"} 0",
            "runbook_review_approval_ratio 0",
            "runbook_stale{runbook=\"old-one\"} 1",
            "runbook_stale{runbook=\"broken-one\"} 1",
            "runbook_stale{runbook=\"interface-down\"} 0",
            "runbook_version_success_ratio{parent_version=\"\",runbook=\"old-one\",version=\"0.1.0\"} 1",
            "runbook_version_success_ratio{parent_version=\"0.1.0\",runbook=\"old-one\",version=\"0.2.0\"} 0.5",
            "runbook_version_finished_runs{parent_version=\"0.1.0\",runbook=\"old-one\",version=\"0.2.0\"} 2",
            "runbook_runs_total{outcome=\"abandoned\",runbook=\"old-one\",version=\"0.1.0\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        let oldest = text
            .lines()
            .find_map(|l| l.strip_prefix("runbook_review_high_priority_oldest_seconds "))
            .and_then(|v| v.parse::<i64>().ok())
            .expect("the oldest high-priority age");
        assert!(oldest > 24 * 3600, "{oldest}");

        // Within the refresh interval the values stay; a decision taken here outdates them.
        store
            .runbook_review(
                "p1",
                store::runbooks::ReviewDecision::Reject,
                "bob",
                Some("no"),
                &ctx,
            )
            .await
            .expect("rejected");
        std::fs::remove_file(dir.path().join("broken-one.md")).expect("removed");
        runbooks.reload_now();
        runbooks.refresh_metrics(&store).await.expect("refreshed");
        assert!(scrape(&registry).contains("runbook_review_backlog 1"));
        runbooks.reviewed(&store).await.expect("re-read");
        runbooks.refresh_metrics(&store).await.expect("refreshed");
        let text = scrape(&registry);
        assert!(text.contains("runbook_review_backlog 0"), "{text}");
        assert!(
            text.contains("runbook_review_high_priority_oldest_seconds 0"),
            "{text}"
        );
        assert!(
            text.contains("runbook_review_proposals{status=\"rejected\"} 1"),
            "{text}"
        );
        assert!(
            !text.contains("broken-one"),
            "a removed file is not reported: {text}"
        );
    }

    fn head(id: &str, version: &str, parent: Option<&str>) -> VersionHead {
        VersionHead {
            id: id.into(),
            name: "dns".into(),
            version: version.into(),
            content_hash: format!("hash-{id}"),
            origin: "operator".into(),
            status: "published".into(),
            parent_id: parent.map(Into::into),
            created_at: format!("2026-01-0{}T00:00:00Z", id.len()),
        }
    }

    fn tally(succeeded: i64, failed: i64) -> RunTally {
        RunTally { succeeded, failed }
    }

    #[test]
    fn versions_are_labelled_with_their_parent_and_shared_numbers_add_up() {
        let heads = [
            head("a", "1.0.0", None),
            // The file edited without a new number: still 1.0.0.
            head("a2", "1.0.0", Some("a")),
            head("b", "1.1.0", Some("a2")),
        ];
        let tallies = [
            ("a".to_owned(), tally(3, 1)),
            ("a2".to_owned(), tally(1, 0)),
            ("b".to_owned(), tally(1, 1)),
            ("unknown".to_owned(), tally(5, 5)),
        ];
        let out = version_ratios(&heads, &tallies);
        let key = |v: &str, p: &str| ["dns".to_owned(), v.to_owned(), p.to_owned()];
        assert_eq!(out.get(&key("1.0.0", "")), Some(&(4, 5)));
        assert_eq!(out.get(&key("1.1.0", "1.0.0")), Some(&(1, 2)));
        assert_eq!(out.len(), 2);
    }
}
