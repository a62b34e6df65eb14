//! Test harness for tool modules: simulated routers, a fresh registry, and calls that go through
//! the same checks as the server (arguments validated against the tool's `inputSchema`, the
//! result against its `outputSchema`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use catalog::Catalog;
use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
use routeros::{Connections, Fingerprint, Limits};
use routeros_sim::profiles::Profile;
use serde_json::Value;
use store::testing::TestDatabase;
use store::{AuditContext, NewDevice};
use vault::{MasterKey, SecretString};

use crate::{ToolContext, ToolError, ToolOutput};

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

/// What a test may change about a [`Harness`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The deadline of one call to a router: short, so a router that answers too late times
    /// out within a test's patience.
    pub timeout: Duration,
    /// Simulated seconds per real second on the routers: above 1, a ping's probes (one per
    /// simulated second) come back in a fraction of the time.
    pub time_scale: f64,
    /// Register the routers straight into the registry (pins from the simulator's manifest)
    /// instead of onboarding each one: for fleets of thousands, where probing every router
    /// first would take most of the test's time.
    pub register_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            time_scale: 1.0,
            register_only: false,
        }
    }
}

/// Simulated routers registered in a fresh registry, ready for tool calls.
pub(crate) struct Harness {
    pub sims: routeros_sim::Fleet,
    pub ctx: crate::Ctx,
    pub catalog: Catalog,
    /// Registry names of the devices, in simulator order.
    pub names: Vec<String>,
    _db: TestDatabase,
}

impl Harness {
    /// One device per profile, registered as `r1`, `r2`, … with pinned identities.
    pub(crate) async fn start(profiles: &[Profile]) -> Self {
        Self::start_with(profiles, Options::default()).await
    }

    /// [`Harness::start`] with other [`Options`].
    pub(crate) async fn start_with(profiles: &[Profile], options: Options) -> Self {
        let Options {
            timeout,
            time_scale,
            register_only,
        } = options;
        // 253 routers fit one /24 block (.0, .254 and .255 are skipped).
        let blocks = u8::try_from(profiles.len().div_ceil(253).max(1)).unwrap();
        let block = NEXT_BLOCK.fetch_add(blocks, Ordering::SeqCst);
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: profiles.len(),
            profiles: profiles.to_vec(),
            seed: 5,
            time_scale,
            // Each test's routers get addresses of their own: 127.90.<block>.x.
            base_address: Ipv4Addr::new(127, 90, block, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .unwrap();
        let db = TestDatabase::sqlite();
        let store = db.store().await;
        let limits = Limits {
            timeout,
            read_retries: 0,
            rate_per_second: 1000,
            burst: 1000,
            ..Limits::default()
        };
        let fleet = fleet::Fleet::new(
            store,
            Arc::new(MasterKey::generate().unwrap()),
            Arc::new(Connections::new(limits, None)),
        );
        let mut names = Vec::new();
        for (i, m) in sims.manifest().devices.iter().enumerate() {
            let name = format!("r{}", i + 1);
            let new = NewDevice {
                id: DeviceId::new(),
                project: ProjectRef::default(),
                name: name.parse().unwrap(),
                address: m.address.parse().unwrap(),
                rest_port: i64::from(m.https_port).try_into().unwrap(),
                ssh_port: i64::from(m.ssh_port).try_into().unwrap(),
                http_port: None,
                insecure_http: false,
                driver: DriverPreference::Auto,
                environment: Environment::Lab,
                tags: vec![format!("profile={}", m.profile).parse().unwrap()],
                username: m.username.clone(),
                password: SecretString::from(m.password.clone()),
                tls_cert_sha256: Some(Fingerprint::parse(&m.tls_sha256).unwrap().hex()),
                ssh_host_key_sha256: Some(
                    Fingerprint::parse(&m.ssh_host_key_sha256).unwrap().hex(),
                ),
                facts: None,
            };
            if register_only {
                fleet
                    .store()
                    .add_device(&new, fleet.master_key(), &AuditContext::new("test"))
                    .await
                    .unwrap();
            } else {
                fleet
                    .onboard(new, fleet::TrustMode::Registry, &AuditContext::new("test"))
                    .await
                    .unwrap_or_else(|e| panic!("{}", e.reason));
            }
            names.push(name);
        }
        let workflow = workflow::Workflow::new(
            fleet.clone(),
            fleet.master_key(),
            workflow::WorkflowConfig {
                confirm_timeout: Duration::from_secs(15),
                ..workflow::WorkflowConfig::default()
            },
            None,
        );
        let catalog = Arc::new(Catalog::embedded().unwrap());
        let runbooks = Arc::new(crate::runbook::Runbooks::new(
            ::runbook::Index::load(Arc::clone(&catalog), None),
            None,
            catalog,
        ));
        Self {
            sims,
            // The local user with every role: what the server's stdio principal can be.
            ctx: ToolContext::new(fleet, workflow, 8)
                .with_runbooks(runbooks)
                .for_call(crate::Access::new(
                    Arc::new(auth::Principal::local(auth::Role::Admin)),
                    auth::Role::Operator,
                )),
            catalog: Catalog::embedded().unwrap(),
            names,
            _db: db,
        }
    }

    /// The simulated device behind registry name `name` (`r1` → the first device).
    pub(crate) fn sim(&self, name: &str) -> Arc<routeros_sim::SimDevice> {
        let i: usize = name.trim_start_matches('r').parse::<usize>().unwrap() - 1;
        let m = &self.sims.manifest().devices[i];
        self.sims.device(&m.name).unwrap()
    }

    /// Calls a tool as the server would; panics when the arguments or the result break the
    /// tool's schemas (a defect), returns the tool's own error otherwise.
    pub(crate) async fn call(&self, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        self.call_as(tool, args, crate::Caller::new("test:assistant"))
            .await
    }

    /// [`Harness::call`] as `caller` (with the tiers it is given).
    pub(crate) async fn call_as(
        &self,
        tool: &str,
        args: Value,
        caller: crate::Caller,
    ) -> Result<ToolOutput, ToolError> {
        if let Err(v) = self.catalog.validate_input(tool, &args) {
            return Err(ToolError::InvalidArguments(format!("{v:?}")));
        }
        let handler = crate::handlers()
            .into_iter()
            .find(|h| h.name == tool)
            .unwrap_or_else(|| panic!("no handler for {tool}"));
        let out = (handler.run)(self.ctx.clone(), args, caller).await?;
        if let Err(v) = self.catalog.validate_output(tool, &out.structured) {
            panic!(
                "{tool} returned a result its outputSchema rejects: {v:?}\n{}",
                out.structured
            );
        }
        Ok(out)
    }

    /// `call` that must succeed; returns the structured result.
    pub(crate) async fn ok(&self, tool: &str, args: Value) -> Value {
        self.call(tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
            .structured
    }
}
