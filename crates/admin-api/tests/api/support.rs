//! A registry on a fresh SQLite file with simulated routers, the admin router over it, and
//! functions that call the router as a given principal.
//!
//! Tenancy of every fixture: organizations `default`, `acme` (projects `default`, `site-a`,
//! `site-b`) and `globex` (project `default`); device `ra1` (simulator 0) in `acme/site-a` and
//! `rb1` (simulator 1) in `acme/site-b`, both pinned and in `prod` (so their plans wait for a
//! person); simulator 2 is registered nowhere, for onboarding through the API.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use admin_api::AdminState;
use auth::{Principal, PrincipalKind};
use axum::Extension;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use domain::{DeviceId, DriverPreference, Environment};
use routeros::{Connections, Fingerprint, Limits};
use routeros_sim::ManifestDevice;
use routeros_sim::profiles::Profile;
use serde_json::Value;
use store::runbooks::{RunRow, VersionRow};
use store::testing::TestDatabase;
use store::{AuditContext, AuditFilter, NewDevice};
use tower::ServiceExt as _;
use vault::{MasterKey, SecretString};
use workflow::{ChangeRequest, DeviceRequest, Op, PlanRequest, Workflow, WorkflowConfig};

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);
static NEXT_NAME: AtomicUsize = AtomicUsize::new(1);

/// A name no other call of this test binary got.
pub fn fresh(prefix: &str) -> String {
    format!("{prefix}{}", NEXT_NAME.fetch_add(1, Ordering::SeqCst))
}

pub struct App {
    pub sims: routeros_sim::Fleet,
    pub state: AdminState,
    pub router: axum::Router,
    pub db: TestDatabase,
    /// Simulators 0 (`ra1`), 1 (`rb1`) and 2 (unregistered).
    pub manifest: Vec<ManifestDevice>,
    /// `ra1`, in `acme/site-a`.
    pub device_a: DeviceId,
    /// `rb1`, in `acme/site-b`.
    pub device_b: DeviceId,
    /// The operator's runbook folder (`ROUTEROS_MCP_RUNBOOK_DIR`).
    pub runbook_dir: tempfile::TempDir,
}

/// A proposed runbook version and the failed run it came from.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub id: String,
    pub run_id: String,
    pub version: String,
}

/// A response: status, headers and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// A principal holding `grants` (`ROLE` or `ORG/PROJECT:ROLE`).
pub fn principal(subject: &str, grants: &[&str]) -> Principal {
    Principal {
        subject: subject.to_owned(),
        display: subject.to_owned(),
        kind: PrincipalKind::Oidc,
        grants: grants
            .iter()
            .map(|g| g.parse().expect("a valid grant"))
            .collect(),
    }
}

pub fn admin() -> Principal {
    principal("root", &["admin"])
}

pub fn pinned(m: &ManifestDevice, name: &str, project: &str) -> NewDevice {
    NewDevice {
        id: DeviceId::new(),
        project: project.parse().expect("a project"),
        name: name.parse().expect("a device name"),
        address: m.address.parse().expect("an address"),
        rest_port: i64::from(m.https_port).try_into().expect("a port"),
        ssh_port: i64::from(m.ssh_port).try_into().expect("a port"),
        http_port: None,
        insecure_http: false,
        driver: DriverPreference::Auto,
        environment: Environment::Prod,
        tags: vec![],
        username: m.username.clone(),
        password: SecretString::from(m.password.clone()),
        tls_cert_sha256: Some(
            Fingerprint::parse(&m.tls_sha256)
                .expect("a fingerprint")
                .hex(),
        ),
        ssh_host_key_sha256: Some(
            Fingerprint::parse(&m.ssh_host_key_sha256)
                .expect("a fingerprint")
                .hex(),
        ),
        facts: None,
    }
}

impl App {
    pub async fn start() -> Self {
        let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: 3,
            profiles: vec![Profile::Home],
            seed: 7,
            base_address: Ipv4Addr::new(127, 77, block, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .expect("simulated routers start");
        let db = TestDatabase::sqlite();
        let store = db.store().await;
        let limits = Limits {
            timeout: Duration::from_secs(3),
            read_retries: 0,
            breaker_failures: 1000,
            ..Limits::default()
        };
        let key = Arc::new(MasterKey::generate().expect("a master key"));
        let fleet = fleet::Fleet::new(
            store.clone(),
            Arc::clone(&key),
            Arc::new(Connections::new(limits, None)),
        );
        let ctx = AuditContext::new("test:setup");
        store
            .create_org(&"acme".parse().expect("org"), &ctx)
            .await
            .expect("acme");
        store
            .create_org(&"globex".parse().expect("org"), &ctx)
            .await
            .expect("globex");
        for p in ["acme/site-a", "acme/site-b"] {
            store
                .create_project(&p.parse().expect("project"), &ctx)
                .await
                .expect("project");
        }
        let manifest = sims.manifest().devices;
        let mut ids = Vec::new();
        for (m, (name, project)) in manifest
            .iter()
            .zip([("ra1", "acme/site-a"), ("rb1", "acme/site-b")])
        {
            let onboarded = fleet
                .onboard(pinned(m, name, project), fleet::TrustMode::Registry, &ctx)
                .await
                .unwrap_or_else(|e| panic!("onboarding {name}: {}", e.reason));
            ids.push(onboarded.device.id);
        }
        let config = WorkflowConfig {
            confirm_timeout: Duration::from_secs(15),
            lock_timeout: Duration::from_secs(20),
            rollback_timeout: Duration::from_secs(30),
            ..WorkflowConfig::default()
        };
        let workflow = Workflow::new(fleet.clone(), &key, config, None);
        let runbook_dir = tempfile::tempdir().expect("a runbook folder");
        let catalog = Arc::new(catalog::Catalog::embedded().expect("the tool catalog"));
        let runbooks = tools::runbook::Runbooks::new(
            runbook::Index::load(Arc::clone(&catalog), Some(runbook_dir.path().to_path_buf())),
            None,
            catalog,
        );
        let state = AdminState::new(fleet, workflow).with_runbooks(Some(Arc::new(runbooks)));
        let router = admin_api::router(state.clone());
        Self {
            sims,
            router,
            state,
            db,
            manifest,
            device_a: ids[0],
            device_b: ids[1],
            runbook_dir,
        }
    }

    /// Records the built-in `interface-down` as a version, a failed run of it on `ra1`
    /// (`acme/site-a`), and a high-priority proposal generated from that run: the built-in with
    /// a fresh version number and one line added. The proposal is pending.
    pub async fn propose_runbook(&self) -> Proposed {
        let store = self.store();
        let ctx = AuditContext::new("test:learning");
        let (_, original) = runbook::Index::built_in_files()
            .iter()
            .find(|(f, _)| *f == "interface-down.md")
            .expect("the built-in");
        let parsed = runbook::Runbook::parse("interface-down.md", original).expect("parses");
        let parent = store
            .runbook_version_record(&version_row(
                "interface-down",
                &parsed.meta.version,
                original,
                "built-in",
                "published",
                None,
            ))
            .await
            .expect("the parent version");
        let project = store
            .project(&"acme/site-a".parse().expect("project"))
            .await
            .expect("site-a");
        let n = NEXT_NAME.fetch_add(1, Ordering::SeqCst);
        let now = store::time::now();
        let run = RunRow {
            id: uuid::Uuid::now_v7().to_string(),
            runbook: "interface-down".into(),
            version_id: parent.id.clone(),
            project_id: Some(project.id),
            device_key: self.device_a.to_string(),
            variables: r#"{"device":"ra1","interface":"ether2"}"#.into(),
            variables_hash: "x".into(),
            incident: Some(format!("INC-{n}")),
            started_by: "mcp:http:assistant".into(),
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
            started_at: now.clone(),
            updated_at: now.clone(),
            finished_at: None,
        };
        store.runbook_run_start(&run, &ctx).await.expect("a run");
        let mut failed = run.clone();
        failed.status = "failed".into();
        failed.failed_step = Some(2);
        failed.failure_type = Some("runbook_insufficient".into());
        failed.failure_reason = Some("the interface stayed down after the restart".into());
        failed.steps = r#"[{"step":1,"tool":"interface.list","outcome":"ok"},{"step":2,"tool":"interface.enable","outcome":"failed"}]"#.into();
        failed.next_step = 3;
        failed.finished_at = Some(store::time::now());
        store
            .runbook_run_save(&failed, "running")
            .await
            .expect("the run failed");
        let version = format!("1.0.{n}");
        let content = original
            .replacen(
                &format!("version: {}", parsed.meta.version),
                &format!("version: {version}"),
                1,
            )
            .replacen(
                "## Verify\n",
                &format!("## Verify\nCheck the neighbour's side of the link too ({n}).\n"),
                1,
            );
        let mut proposal = version_row(
            "interface-down",
            &version,
            &content,
            "proposal",
            "pending_review",
            Some(&parent.id),
        );
        proposal.base_hash = Some(parent.content_hash.clone());
        proposal.generated_from_run = Some(run.id.clone());
        proposal.priority = Some("high".into());
        proposal.failure_type = Some("runbook_insufficient".into());
        proposal.proposed_by = Some("learning:test".into());
        proposal.rationale = Some("the restart alone did not bring the link up".into());
        store
            .runbook_propose(&proposal, &ctx)
            .await
            .expect("proposed");
        Proposed {
            id: proposal.id,
            run_id: run.id,
            version,
        }
    }

    /// A proposal's stored status.
    pub async fn version_status(&self, id: &str) -> String {
        self.store()
            .runbook_version(id)
            .await
            .expect("the store")
            .expect("the version")
            .status
    }

    pub fn store(&self) -> &store::Store {
        self.state.fleet.store()
    }

    /// Sends `request` as `who` (no principal at all when `None`).
    pub async fn send(&self, who: Option<&Principal>, request: Request<Body>) -> Reply {
        let router = match who {
            Some(p) => self.router.clone().layer(Extension(Arc::new(p.clone()))),
            None => self.router.clone(),
        };
        let response = tokio::time::timeout(Duration::from_secs(60), router.oneshot(request))
            .await
            .expect("the router answers within a minute")
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("a readable body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Calls `method path` as `who` with an optional JSON body.
    pub async fn call(
        &self,
        who: Option<&Principal>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        let body = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(who, builder.body(body).expect("a request")).await
    }

    pub async fn get(&self, who: &Principal, path: &str) -> Reply {
        self.call(Some(who), Method::GET, path, None).await
    }

    pub async fn post(&self, who: &Principal, path: &str, body: Value) -> Reply {
        self.call(Some(who), Method::POST, path, Some(body)).await
    }

    /// Mints an API token (every project, viewer) and returns its id.
    pub async fn mint_token(&self) -> String {
        admin_api::tokens::mint(
            self.state.fleet.store(),
            auth::Role::Viewer,
            None,
            admin_api::tokens::Lifetime::Never,
            &fresh("token"),
            &store::AuditContext::new("test:admin-api"),
        )
        .await
        .expect("a token is minted")
        .token
        .id
    }

    /// Proposes a plan adding a static DNS entry on `device`; pending (the device is in prod).
    pub async fn propose(&self, device: &DeviceId) -> String {
        let name = fresh("host");
        self.propose_change(
            device,
            ChangeRequest {
                menu: "ip/dns/static".into(),
                op: Op::Add {
                    props: [
                        ("name".to_owned(), format!("{name}.lan")),
                        ("address".to_owned(), "192.168.88.20".to_owned()),
                    ]
                    .into_iter()
                    .collect(),
                    place_before: None,
                },
            },
        )
        .await
        .id
    }

    /// Proposes `change` on `device` as an assistant would; the plan is pending.
    pub async fn propose_change(&self, device: &DeviceId, change: ChangeRequest) -> workflow::Plan {
        let request = PlanRequest {
            title: format!("change {}", change.menu),
            tool: "test".into(),
            devices: vec![DeviceRequest {
                device: device.to_string(),
                changes: vec![change],
            }],
        };
        let proposal = self
            .state
            .workflow
            .propose(&request, &AuditContext::new("mcp:http:test-client"))
            .await
            .expect("a plan");
        assert_eq!(proposal.plan.status, workflow::PlanStatus::Pending);
        proposal.plan
    }

    /// Registers a device without contacting it (for decommissioning).
    pub async fn register_offline(&self, project: &str) -> DeviceId {
        let mut new = pinned(&self.manifest[2], &fresh("spare"), project);
        new.password = SecretString::from("unused-password".to_owned());
        self.store()
            .add_device(
                &new,
                self.state.fleet.master_key(),
                &AuditContext::new("test"),
            )
            .await
            .expect("an offline device")
            .id
    }

    pub async fn audit_count(&self) -> usize {
        self.store()
            .audit_events(&AuditFilter {
                limit: 1_000_000,
                ..AuditFilter::default()
            })
            .await
            .expect("the audit log")
            .len()
    }

    pub async fn device_count(&self) -> usize {
        self.store()
            .list_devices(&store::DeviceFilter {
                include_decommissioned: true,
                ..store::DeviceFilter::default()
            })
            .await
            .expect("devices")
            .len()
    }

    pub async fn org_count(&self) -> usize {
        self.store().list_orgs().await.expect("orgs").len()
    }

    pub async fn project_count(&self) -> usize {
        self.store()
            .list_projects(None)
            .await
            .expect("projects")
            .len()
    }

    /// Everything the registry file and its write-ahead log hold, as bytes.
    pub fn database_bytes(&self) -> Vec<u8> {
        let path = self.db.sqlite_path().expect("a SQLite database");
        let mut bytes = std::fs::read(&path).expect("the database file");
        for suffix in ["-wal", "-shm"] {
            let mut other = path.clone().into_os_string();
            other.push(suffix);
            if let Ok(more) = std::fs::read(&other) {
                bytes.extend(more);
            }
        }
        bytes
    }

    pub async fn stop(self) {
        self.sims.shutdown().await;
    }
}

/// A `runbook_versions` row with a fresh id, its hash computed from `content`.
pub fn version_row(
    name: &str,
    version: &str,
    content: &str,
    origin: &str,
    status: &str,
    parent: Option<&str>,
) -> VersionRow {
    let hash = runbook::Runbook::parse("x.md", content)
        .map(|r| r.hash)
        .unwrap_or_else(|_| format!("unparsed-{}", uuid::Uuid::now_v7()));
    VersionRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.into(),
        version: version.into(),
        content_hash: hash,
        content: content.into(),
        origin: origin.into(),
        status: status.into(),
        parent_id: parent.map(Into::into),
        base_hash: None,
        generated_from_run: None,
        proposed_by: None,
        failure_type: None,
        priority: None,
        rationale: None,
        created_at: store::time::now(),
        review_started_at: None,
        reviewer: None,
        review_notes: None,
        reviewed_at: None,
    }
}

/// Whether `haystack` contains `needle` anywhere.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
