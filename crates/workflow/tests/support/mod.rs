//! Simulated routers in a fresh registry with a workflow engine over them, and the state
//! comparison every safety test uses: a device's configuration (ids aside) before and after.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod campaign;
pub mod model;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
use routeros::{Connections, Fingerprint, Limits};
use routeros_sim::profiles::Profile;
use serde_json::Value;
use store::testing::TestDatabase;
use store::{AuditContext, NewDevice};
use vault::{MasterKey, SecretString};
use workflow::{ApprovalVia, Workflow, WorkflowConfig};

static NEXT_BLOCK: AtomicU8 = AtomicU8::new(1);

pub struct Lab {
    pub sims: routeros_sim::Fleet,
    pub fleet: fleet::Fleet,
    pub workflow: Workflow,
    pub key: Arc<MasterKey>,
    /// Registry names `r1`, `r2`, … in simulator order.
    pub names: Vec<String>,
    pub db: TestDatabase,
    pub registry: prometheus::Registry,
}

pub fn quick_config() -> WorkflowConfig {
    WorkflowConfig {
        confirm_timeout: Duration::from_secs(15),
        lock_timeout: Duration::from_secs(20),
        rollback_timeout: Duration::from_secs(30),
        ..WorkflowConfig::default()
    }
}

impl Lab {
    pub async fn start(profiles: &[Profile]) -> Self {
        Self::start_with(
            profiles,
            TestDatabase::sqlite(),
            quick_config(),
            Environment::Lab,
        )
        .await
    }

    pub async fn start_with(
        profiles: &[Profile],
        db: TestDatabase,
        config: WorkflowConfig,
        env: Environment,
    ) -> Self {
        let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: profiles.len(),
            profiles: profiles.to_vec(),
            seed: 3,
            base_address: Ipv4Addr::new(127, 92, block, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .unwrap();
        let store = db.store().await;
        let limits = Limits {
            timeout: Duration::from_secs(2),
            read_retries: 0,
            rate_per_second: 1000,
            burst: 1000,
            breaker_failures: 1000,
            ..Limits::default()
        };
        let key = Arc::new(MasterKey::generate().unwrap());
        let fleet = fleet::Fleet::new(
            store,
            Arc::clone(&key),
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
                environment: env,
                tags: vec![],
                username: m.username.clone(),
                password: SecretString::from(m.password.clone()),
                tls_cert_sha256: Some(Fingerprint::parse(&m.tls_sha256).unwrap().hex()),
                ssh_host_key_sha256: Some(
                    Fingerprint::parse(&m.ssh_host_key_sha256).unwrap().hex(),
                ),
                facts: None,
            };
            fleet
                .onboard(new, fleet::TrustMode::Registry, &AuditContext::new("test"))
                .await
                .unwrap_or_else(|e| panic!("{}", e.reason));
            names.push(name);
        }
        let registry = prometheus::Registry::new();
        let metrics = workflow::Metrics::register(&registry).unwrap();
        let workflow = Workflow::new(fleet.clone(), &key, config, Some(metrics));
        Self {
            sims,
            fleet,
            workflow,
            key,
            names,
            db,
            registry,
        }
    }

    /// Another engine over the same registry and key (a restarted server).
    pub fn restart(&self, config: WorkflowConfig) -> Workflow {
        Workflow::new(self.fleet.clone(), &self.key, config, None)
    }

    pub fn sim(&self, name: &str) -> Arc<routeros_sim::SimDevice> {
        let i: usize = name.trim_start_matches('r').parse::<usize>().unwrap() - 1;
        let m = &self.sims.manifest().devices[i];
        self.sims.device(&m.name).unwrap()
    }

    /// The device's configuration, ids left out (RouterOS never reuses an id, so an item removed
    /// and re-created is the same configuration under a new id).
    pub fn config(&self, name: &str) -> Value {
        let mut v: Value =
            serde_json::from_str(&self.sim(name).state_dump(false).to_json_string()).unwrap();
        strip_ids(&mut v);
        v
    }

    pub fn ctx(&self) -> AuditContext {
        AuditContext::new("test:assistant")
    }

    pub async fn approve(&self, plan: &str) -> String {
        self.workflow
            .approve(
                plan,
                "cli:alice",
                ApprovalVia::Cli,
                &AuditContext::new("cli:alice"),
            )
            .await
            .unwrap()
            .approval_token
    }

    pub fn metric(&self, name: &str, label: &str) -> f64 {
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap();
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&format!("\"{label}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub async fn stop(self) {
        self.sims.shutdown().await;
    }
}

pub fn strip_ids(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove(".id");
            for x in map.values_mut() {
                strip_ids(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// Props from pairs.
pub fn props(pairs: &[(&str, &str)]) -> workflow::Props {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A change adding a static DNS entry.
pub fn dns_add(name: &str, address: &str) -> workflow::ChangeRequest {
    workflow::ChangeRequest {
        menu: "ip/dns/static".into(),
        op: workflow::Op::Add {
            props: props(&[("name", name), ("address", address)]),
            place_before: None,
        },
    }
}

/// A change renaming the router.
pub fn identity(name: &str) -> workflow::ChangeRequest {
    workflow::ChangeRequest {
        menu: "system/identity".into(),
        op: workflow::Op::Set {
            target: workflow::Selector::Singleton,
            props: props(&[("name", name)]),
            unset: vec![],
        },
    }
}
