//! Onboarding and testing: contact a device, learn what it is, pin what it presented, and only
//! then (for a new device) register it — so a device that cannot be reached, presents the wrong
//! identity, or rejects the credentials is never added.

use domain::{DeviceStatus, DriverPreference};
use routeros::onboarding::{DeviceFacts, Probe, probe};
use routeros::{DriverKind, ErrorKind, Target};
use serde_json::json;
use store::{AuditContext, Device, Facts, NewDevice};

use crate::{Fleet, FleetError, TrustMode};

/// The drivers a device with this preference is reached by.
fn kinds(preference: DriverPreference) -> Vec<DriverKind> {
    match preference {
        DriverPreference::Auto => vec![DriverKind::Rest, DriverKind::Ssh],
        DriverPreference::Rest => vec![DriverKind::Rest],
        DriverPreference::Ssh => vec![DriverKind::Ssh],
    }
}

/// One probe, in a shape fit for printing and JSON.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeSummary {
    pub driver: &'static str,
    pub reachable: bool,
    pub identity: Option<String>,
    pub version: Option<String>,
    pub board: Option<String>,
    pub architecture: Option<String>,
    pub rtt_ms: Option<f64>,
    /// SHA-256 of the certificate (REST) or host key (SSH) presented.
    pub presented: Option<String>,
    pub error: Option<String>,
    pub error_kind: Option<&'static str>,
}

impl From<&Probe> for ProbeSummary {
    fn from(p: &Probe) -> Self {
        let facts = p.result.as_ref().ok();
        Self {
            driver: p.driver.as_str(),
            reachable: p.reachable(),
            identity: facts.and_then(|f| f.identity.clone()),
            version: facts.and_then(|f| f.version.clone()),
            board: facts.and_then(|f| f.board.clone()),
            architecture: facts.and_then(|f| f.architecture.clone()),
            rtt_ms: p
                .rtt
                .map(|d| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0),
            presented: p.presented.map(|f| match p.driver {
                DriverKind::Rest => f.hex(),
                DriverKind::Ssh => f.openssh(),
            }),
            error: p.result.as_ref().err().map(|e| e.kind.to_string()),
            error_kind: p.result.as_ref().err().map(|e| e.kind.code()),
        }
    }
}

/// A registered (or tested) device and what each driver found.
#[derive(Debug)]
pub struct Onboarded {
    pub device: Device,
    pub probes: Vec<ProbeSummary>,
}

/// Why a device was not onboarded, with every driver's finding.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct OnboardError {
    pub reason: String,
    pub probes: Vec<ProbeSummary>,
}

fn facts_of(probes: &[Probe]) -> Option<DeviceFacts> {
    probes.iter().find_map(|p| p.result.as_ref().ok().cloned())
}

fn store_facts(f: &DeviceFacts) -> Facts {
    Facts {
        routeros_version: f.version.clone(),
        board: f.board.clone(),
        architecture: f.architecture.clone(),
        identity: f.identity.clone(),
    }
}

/// Decides whether what the probes found allows using the device.
fn verdict(name: &str, probes: &[Probe]) -> Result<(), String> {
    for p in probes {
        if let Err(e) = &p.result
            && matches!(
                e.kind,
                ErrorKind::TrustMismatch { .. } | ErrorKind::AuthFailed { .. }
            )
        {
            return Err(e.to_string());
        }
    }
    if probes.iter().any(Probe::reachable) {
        return Ok(());
    }
    let why: Vec<String> = probes
        .iter()
        .filter_map(|p| {
            p.result
                .as_ref()
                .err()
                .map(|e| format!("{}: {}", p.driver, e.kind))
        })
        .collect();
    Err(format!(
        "device {name} could not be reached ({})",
        why.join("; ")
    ))
}

/// Pins to record: what each reachable driver presented, where nothing was pinned before.
fn new_pins(target: &Target, probes: &[Probe]) -> (Option<String>, Option<String>) {
    let mut tls = None;
    let mut ssh = None;
    for p in probes.iter().filter(|p| p.reachable()) {
        match (p.driver, p.presented) {
            (DriverKind::Rest, Some(f))
                if !target.insecure_http && target.tls == routeros::Trust::FirstUse =>
            {
                tls = Some(f.hex());
            }
            (DriverKind::Ssh, Some(f)) if target.ssh == routeros::Trust::FirstUse => {
                ssh = Some(f.hex());
            }
            _ => {}
        }
    }
    (tls, ssh)
}

impl Fleet {
    async fn run_probes(
        &self,
        target: Target,
        kinds: &[DriverKind],
        version: Option<&str>,
    ) -> Vec<Probe> {
        let preference = match kinds {
            [DriverKind::Rest] => DriverPreference::Rest,
            [DriverKind::Ssh] => DriverPreference::Ssh,
            _ => DriverPreference::Auto,
        };
        let client = self.connections().uncached(target, preference, version);
        let mut probes = Vec::with_capacity(kinds.len());
        for kind in kinds {
            probes.push(probe(&client, *kind).await);
        }
        probes
    }

    /// Contacts a device that is not registered yet and registers it only if it answered with
    /// the expected identity and accepted the credentials.
    pub async fn onboard(
        &self,
        new: NewDevice,
        trust: TrustMode,
        ctx: &AuditContext,
    ) -> Result<Onboarded, OnboardError> {
        if new.insecure_http && new.environment == domain::Environment::Prod {
            return Err(OnboardError {
                reason: format!(
                    "plain HTTP is refused for device {} because its environment is prod; use HTTPS",
                    new.name
                ),
                probes: Vec::new(),
            });
        }
        let target = Target {
            device_id: new.id,
            name: new.name.to_string(),
            host: new.address.clone(),
            rest_port: new.rest_port.get(),
            http_port: new.http_port.map_or(80, domain::Port::get),
            ssh_port: new.ssh_port.get(),
            username: new.username.clone(),
            password: new.password.clone(),
            tls: trust.apply(new.tls_cert_sha256.as_deref()),
            ssh: trust.apply(new.ssh_host_key_sha256.as_deref()),
            insecure_http: new.insecure_http,
        };
        let probes = self
            .run_probes(target.clone(), &kinds(new.driver), None)
            .await;
        let summaries: Vec<ProbeSummary> = probes.iter().map(ProbeSummary::from).collect();
        if let Err(reason) = verdict(new.name.as_str(), &probes) {
            return Err(OnboardError {
                reason,
                probes: summaries,
            });
        }
        let (tls, ssh) = new_pins(&target, &probes);
        let new = NewDevice {
            tls_cert_sha256: new.tls_cert_sha256.clone().or(tls),
            ssh_host_key_sha256: new.ssh_host_key_sha256.clone().or(ssh),
            facts: facts_of(&probes).map(|f| store_facts(&f)),
            ..new
        };
        let device = self
            .store()
            .add_device(&new, self.key(), ctx)
            .await
            .map_err(|e| OnboardError {
                reason: e.to_string(),
                probes: summaries.clone(),
            })?;
        Ok(Onboarded {
            device,
            probes: summaries,
        })
    }

    /// Probes a registered device through every driver, records what it learned (facts; with
    /// first-use trust, the pins that were missing) and returns the per-driver findings.
    pub async fn test(
        &self,
        device: &Device,
        trust: TrustMode,
        ctx: &AuditContext,
    ) -> Result<Onboarded, FleetError> {
        if device.status == DeviceStatus::Decommissioned {
            return Err(FleetError::Refused(format!(
                "device {} is decommissioned and is never contacted",
                device.name
            )));
        }
        let target = self.target(device, trust).await?;
        let mut kinds = vec![DriverKind::Rest, DriverKind::Ssh];
        if device.driver == DriverPreference::Ssh {
            kinds.retain(|k| *k == DriverKind::Ssh);
        } else if device.driver == DriverPreference::Rest {
            kinds.retain(|k| *k == DriverKind::Rest);
        }
        let probes = self
            .run_probes(target.clone(), &kinds, device.routeros_version.as_deref())
            .await;
        let mut updated = device.clone();
        if let Some(facts) = facts_of(&probes) {
            updated = self
                .store()
                .update_facts(&device.id, &store_facts(&facts), ctx)
                .await?;
        }
        let (tls, ssh) = new_pins(&target, &probes);
        if tls.is_some() || ssh.is_some() {
            updated = self
                .store()
                .set_pins(&device.id, tls.as_deref(), ssh.as_deref(), ctx)
                .await?;
        }
        let summaries: Vec<ProbeSummary> = probes.iter().map(ProbeSummary::from).collect();
        self.audit(
            ctx,
            "device.test",
            device,
            json!({
                "name": device.name.as_str(),
                "drivers": summaries.iter().map(|s| json!({"driver": s.driver, "reachable": s.reachable, "error": s.error_kind})).collect::<Vec<_>>(),
            }),
        )
        .await;
        Ok(Onboarded {
            device: updated,
            probes: summaries,
        })
    }
}

impl Fleet {
    /// Contacts a device that is not registered, accepting whatever identity it presents, and
    /// reports what each driver found — the fingerprints for a person to confirm before they
    /// are pinned. Nothing is stored or audited; the credentials are used for this contact only.
    pub async fn probe_unregistered(
        &self,
        mut target: Target,
        preference: DriverPreference,
    ) -> Vec<ProbeSummary> {
        target.tls = routeros::Trust::FirstUse;
        target.ssh = routeros::Trust::FirstUse;
        let probes = self.run_probes(target, &kinds(preference), None).await;
        probes.iter().map(ProbeSummary::from).collect()
    }
}
