//! `serve --demo`: three simulated routers in-process, registered in a temporary database
//! (builds with the `demo` feature; the simulator is linked only then).

#[cfg(feature = "demo")]
mod running {
    use std::sync::Arc;

    use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
    use settings::Settings;
    use store::{AuditContext, NewDevice, Store, Target};
    use vault::{MasterKey, SecretString};

    use crate::{NOTICE, ServerError, setup};

    /// What the demo keeps alive while serving.
    pub(crate) struct Demo {
        fleet: routeros_sim::Fleet,
        _dir: tempfile::TempDir,
    }

    impl Demo {
        pub(crate) async fn shutdown(self) {
            self.fleet.shutdown().await;
        }
    }

    fn fail(what: &str) -> impl Fn(String) -> ServerError + '_ {
        move |e| ServerError::Demo(format!("{what}: {e}"))
    }

    /// Three simulated routers registered in a temporary database.
    pub(crate) async fn start(
        _settings: &Settings,
        connections: Arc<routeros::Connections>,
    ) -> Result<(fleet::Fleet, Demo), ServerError> {
        use routeros_sim::profiles::Profile;
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: 3,
            profiles: vec![Profile::Home, Profile::Switch48, Profile::Edge],
            seed: 1,
            base_address: std::net::Ipv4Addr::new(127, 77, 0, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .map_err(|e| fail("starting the simulated routers")(e.to_string()))?;
        let dir = tempfile::Builder::new()
            .prefix("routeros-mcp-demo-")
            .tempdir()
            .map_err(|source| ServerError::Io {
                what: "creating the demo's temporary directory".into(),
                source,
            })?;
        let store = Store::open_and_migrate(&Target::Sqlite(dir.path().join("demo.sqlite")), 4)
            .await
            .map_err(ServerError::Store)?;
        let key = MasterKey::generate()?;
        let fleet = setup::fleet(store, key, connections);
        let audit = AuditContext::new("demo");
        let names = ["home-router", "core-switch", "edge-firewall"];
        for (m, name) in sims.manifest().devices.iter().zip(names) {
            let register = fail("registering a simulated router");
            let fingerprint = |text: &str| {
                routeros::Fingerprint::parse(text)
                    .map(|f| f.hex())
                    .map_err(|e| register(e.to_string()))
            };
            let new = NewDevice {
                id: DeviceId::new(),
                project: ProjectRef::default(),
                name: name.parse().map_err(|e| register(format!("{e:?}")))?,
                address: m.address.parse().map_err(|e| register(format!("{e:?}")))?,
                rest_port: i64::from(m.https_port)
                    .try_into()
                    .map_err(|e| register(format!("{e:?}")))?,
                ssh_port: i64::from(m.ssh_port)
                    .try_into()
                    .map_err(|e| register(format!("{e:?}")))?,
                http_port: None,
                insecure_http: false,
                driver: DriverPreference::Auto,
                environment: Environment::Lab,
                tags: vec![
                    format!("profile={}", m.profile)
                        .parse()
                        .map_err(|e| register(format!("{e:?}")))?,
                ],
                username: m.username.clone(),
                password: SecretString::from(m.password.clone()),
                tls_cert_sha256: Some(fingerprint(&m.tls_sha256)?),
                ssh_host_key_sha256: Some(fingerprint(&m.ssh_host_key_sha256)?),
                facts: None,
            };
            fleet
                .onboard(new, fleet::TrustMode::Registry, &audit)
                .await
                .map_err(|e| {
                    ServerError::Demo(format!(
                        "registering the simulated router {name}: {}",
                        e.reason
                    ))
                })?;
            tracing::info!(target: NOTICE, "demo: {name} ({} profile) at {}", m.profile, m.address);
        }
        tracing::info!(
            target: NOTICE,
            "demo: three simulated routers registered in a temporary database ({}); it is deleted on exit",
            dir.path().display()
        );
        Ok((
            fleet,
            Demo {
                fleet: sims,
                _dir: dir,
            },
        ))
    }
}

#[cfg(not(feature = "demo"))]
mod running {
    use std::sync::Arc;

    use settings::Settings;

    use crate::ServerError;

    /// Never exists in this build.
    pub(crate) enum Demo {}

    impl Demo {
        pub(crate) async fn shutdown(self) {
            match self {}
        }
    }

    pub(crate) async fn start(
        _s: &Settings,
        _connections: Arc<routeros::Connections>,
    ) -> Result<(fleet::Fleet, Demo), ServerError> {
        Err(ServerError::Usage(crate::NO_DEMO.into()))
    }
}

pub(crate) use running::{Demo, start};
