//! Bulk onboarding from a JSON file.
//!
//! The file is a list of devices, or an object with a `devices` list — which is exactly the
//! manifest `routeros-sim` writes, so a simulated fleet can be imported as is. Each device is
//! validated and onboarded on its own (contacted, checked, registered): one bad entry adds
//! nothing for that device and does not stop the others.

use std::collections::BTreeMap;

use domain::{DeviceId, DeviceName, DriverPreference, Environment, Host, Port, ProjectRef, Tag};
use serde::Deserialize;
use store::NewDevice;
use vault::SecretString;

/// One device as the file describes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportEntry {
    pub name: String,
    pub address: String,
    /// HTTPS port of the REST API.
    #[serde(alias = "rest_port")]
    pub https_port: Option<u16>,
    /// Plain-HTTP port (used only with `insecure_http`).
    pub http_port: Option<u16>,
    pub ssh_port: Option<u16>,
    pub username: String,
    pub password: SecretString,
    /// Certificate fingerprint to pin.
    #[serde(alias = "tls_fingerprint")]
    pub tls_sha256: Option<String>,
    /// Host key fingerprint to pin.
    #[serde(alias = "ssh_host_key")]
    pub ssh_host_key_sha256: Option<String>,
    pub env: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub driver: Option<String>,
    pub project: Option<String>,
    #[serde(default)]
    pub insecure_http: bool,
    /// Informational fields of the simulator's manifest.
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
}

/// Tags as `{"site": "fra1"}` or `["site=fra1"]`.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum Tags {
    #[default]
    None,
    Map(BTreeMap<String, String>),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum File {
    List(Vec<serde_json::Value>),
    Manifest { devices: Vec<serde_json::Value> },
}

/// Reads the file's entries; a malformed entry is reported (by position) and skipped, not fatal.
pub fn parse_file(text: &str) -> Result<Vec<Result<ImportEntry, String>>, String> {
    let file: File = serde_json::from_str(text).map_err(|e| {
        format!("expected a JSON list of devices or an object with a \"devices\" list: {e}")
    })?;
    let raw = match file {
        File::List(v) | File::Manifest { devices: v } => v,
    };
    Ok(raw
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let name = v.get("name").and_then(|n| n.as_str()).map_or_else(
                || format!("entry {}", i + 1),
                |n| format!("entry {} ({n})", i + 1),
            );
            serde_json::from_value::<ImportEntry>(v).map_err(|e| format!("{name}: {e}"))
        })
        .collect())
}

/// Defaults for entries that do not say.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    pub project: ProjectRef,
    pub environment: Environment,
}

impl ImportEntry {
    /// Validates the entry into a registration request; every problem is named.
    pub fn to_new_device(self, defaults: &ImportDefaults) -> Result<NewDevice, String> {
        let mut problems = Vec::new();
        let mut check = |r: Result<(), String>| {
            if let Err(e) = r {
                problems.push(e);
            }
        };
        let name = self.name.parse::<DeviceName>().map_err(|e| e.to_string());
        check(name.as_ref().map(|_| ()).map_err(Clone::clone));
        let address = self.address.parse::<Host>().map_err(|e| e.to_string());
        check(address.as_ref().map(|_| ()).map_err(Clone::clone));
        let port = |p: Option<u16>, default: u16, what: &str| {
            Port::try_from(i64::from(p.unwrap_or(default))).map_err(|e| format!("{what}: {e}"))
        };
        let https = port(self.https_port, 443, "https_port");
        check(https.as_ref().map(|_| ()).map_err(Clone::clone));
        let ssh = port(self.ssh_port, 22, "ssh_port");
        check(ssh.as_ref().map(|_| ()).map_err(Clone::clone));
        let http = self
            .http_port
            .map(|p| port(Some(p), 80, "http_port"))
            .transpose();
        check(http.as_ref().map(|_| ()).map_err(Clone::clone));
        let environment = self
            .env
            .as_deref()
            .map_or(Ok(defaults.environment), str::parse)
            .map_err(|e: domain::ParseError| e.to_string());
        check(environment.as_ref().map(|_| ()).map_err(Clone::clone));
        let driver = self
            .driver
            .as_deref()
            .map_or(Ok(DriverPreference::Auto), str::parse)
            .map_err(|e: domain::ParseError| e.to_string());
        check(driver.as_ref().map(|_| ()).map_err(Clone::clone));
        let project = self
            .project
            .as_deref()
            .map_or_else(|| Ok(defaults.project.clone()), str::parse)
            .map_err(|e: domain::ParseError| e.to_string());
        check(project.as_ref().map(|_| ()).map_err(Clone::clone));
        let tags: Result<Vec<Tag>, String> = match self.tags {
            Tags::None => Ok(Vec::new()),
            Tags::Map(m) => m
                .into_iter()
                .map(|(k, v)| format!("{k}={v}").parse::<Tag>().map_err(|e| e.to_string()))
                .collect(),
            Tags::List(l) => l
                .iter()
                .map(|t| t.parse::<Tag>().map_err(|e| e.to_string()))
                .collect(),
        };
        check(tags.as_ref().map(|_| ()).map_err(Clone::clone));
        let fingerprint = |f: Option<String>, what: &str| {
            f.map(|text| {
                routeros::Fingerprint::parse(&text)
                    .map(|fp| fp.hex())
                    .map_err(|e| format!("{what}: {e}"))
            })
            .transpose()
        };
        let tls = fingerprint(self.tls_sha256, "tls_sha256");
        check(tls.as_ref().map(|_| ()).map_err(Clone::clone));
        let ssh_pin = fingerprint(self.ssh_host_key_sha256, "ssh_host_key_sha256");
        check(ssh_pin.as_ref().map(|_| ()).map_err(Clone::clone));
        if self.username.trim().is_empty() {
            problems.push("username: must not be empty".into());
        }
        if vault::ExposeSecret::expose_secret(&self.password).is_empty() {
            problems.push("password: must not be empty".into());
        }
        match (
            name,
            address,
            https,
            ssh,
            http,
            environment,
            driver,
            project,
            tags,
            tls,
            ssh_pin,
        ) {
            (
                Ok(name),
                Ok(address),
                Ok(rest_port),
                Ok(ssh_port),
                Ok(http_port),
                Ok(environment),
                Ok(driver),
                Ok(project),
                Ok(tags),
                Ok(tls),
                Ok(ssh_pin),
            ) if problems.is_empty() => Ok(NewDevice {
                id: DeviceId::new(),
                project,
                name,
                address,
                rest_port,
                ssh_port,
                http_port,
                insecure_http: self.insecure_http,
                driver,
                environment,
                tags,
                username: self.username,
                password: self.password,
                tls_cert_sha256: tls,
                ssh_host_key_sha256: ssh_pin,
                facts: None,
            }),
            _ => Err(problems.join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ImportDefaults {
        ImportDefaults {
            project: ProjectRef::default(),
            environment: Environment::Lab,
        }
    }

    #[test]
    fn reads_the_simulator_manifest_as_is() {
        let manifest = r#"{"control_url":"http://127.0.0.1:9","devices":[
          {"name":"sim-0001","identity":"sim-0001","profile":"home","address":"127.0.1.1",
           "http_port":8080,"https_port":8443,"ssh_port":2222,"username":"admin","password":"pw",
           "tls_sha256":"aa00000000000000000000000000000000000000000000000000000000000000",
           "ssh_host_key_sha256":"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#;
        let entries = parse_file(manifest).unwrap();
        let new = entries
            .into_iter()
            .next()
            .unwrap()
            .unwrap()
            .to_new_device(&defaults())
            .unwrap();
        assert_eq!(new.name.as_str(), "sim-0001");
        assert_eq!(new.rest_port.get(), 8443);
        assert_eq!(new.http_port.map(Port::get), Some(8080));
        assert_eq!(
            new.ssh_host_key_sha256.as_deref(),
            Some("0000000000000000000000000000000000000000000000000000000000000000")
        );
    }

    #[test]
    fn every_problem_of_an_entry_is_named_and_others_are_unaffected() {
        let list = r#"[
          {"name":"ok-1","address":"192.0.2.1","username":"u","password":"p","tags":{"site":"fra1"}},
          {"name":"bad name","address":"10.0.0.300","username":"u","password":"p","env":"qa","ssh_port":0},
          {"name":"typo","address":"192.0.2.3","username":"u","password":"p","pasword":"x"}
        ]"#;
        let entries = parse_file(list).unwrap();
        assert!(entries[0].is_ok());
        let err = match &entries[1] {
            Ok(e) => e.name.clone(),
            Err(e) => e.clone(),
        };
        assert_eq!(
            err, "bad name",
            "entry 2 parses; its values are checked next"
        );
        let problems = parse_file(list)
            .unwrap()
            .remove(1)
            .unwrap()
            .to_new_device(&defaults())
            .unwrap_err();
        for expected in ["device name", "address", "ssh_port", "environment"] {
            assert!(
                problems.contains(expected),
                "{expected} missing: {problems}"
            );
        }
        assert!(
            entries[2]
                .as_ref()
                .unwrap_err()
                .contains("unknown field `pasword`")
        );
        assert!(parse_file("{\"x\":1}").is_err());
    }
}
