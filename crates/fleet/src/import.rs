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
    /// The simulator's RouterOS API ports (informational: devices are managed over REST
    /// and SSH).
    #[serde(default)]
    pub api_port: Option<u16>,
    #[serde(default)]
    pub api_ssl_port: Option<u16>,
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
            let shape = shape_problem(&v);
            serde_json::from_value::<ImportEntry>(v)
                .map_err(|e| format!("{name}: {}", shape.unwrap_or_else(|| without_values(&e))))
        })
        .collect())
}

/// What each known field must be, by JSON type.
#[derive(Clone, Copy)]
enum Expect {
    Text,
    Port,
    Flag,
    Tags,
}

fn expected(field: &str) -> Option<Expect> {
    Some(match field {
        "name"
        | "address"
        | "username"
        | "password"
        | "tls_sha256"
        | "tls_fingerprint"
        | "ssh_host_key_sha256"
        | "ssh_host_key"
        | "env"
        | "driver"
        | "project"
        | "identity"
        | "profile" => Expect::Text,
        "https_port" | "rest_port" | "http_port" | "ssh_port" | "api_port" | "api_ssl_port" => {
            Expect::Port
        }
        "insecure_http" => Expect::Flag,
        "tags" => Expect::Tags,
        _ => return None,
    })
}

/// Names a field whose JSON type is wrong and what it must be — never the value, which may be
/// a password (serde's own messages quote it).
fn shape_problem(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let Some(object) = v.as_object() else {
        return Some("expected a JSON object describing one device".to_owned());
    };
    for (field, value) in object {
        let Some(expect) = expected(field) else {
            continue; // serde names unknown fields
        };
        let ok = match (expect, value) {
            (_, Value::Null) => true,
            (Expect::Text, v) => v.is_string(),
            (Expect::Port, v) => v.as_u64().is_some_and(|p| p <= u64::from(u16::MAX)),
            (Expect::Flag, v) => v.is_boolean(),
            (Expect::Tags, Value::Object(m)) => m.values().all(Value::is_string),
            (Expect::Tags, Value::Array(l)) => l.iter().all(Value::is_string),
            (Expect::Tags, _) => false,
        };
        if !ok {
            let what = match expect {
                Expect::Text => "a JSON string (in quotes)",
                Expect::Port => "a port number from 1 to 65535",
                Expect::Flag => "true or false",
                Expect::Tags => "an object of strings or a list of \"key=value\" strings",
            };
            let given = match value {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "a list",
                Value::Object(_) => "an object",
            };
            return Some(format!(
                "{field} must be {what}, not {given} (the value is not shown)"
            ));
        }
    }
    None
}

/// serde's message with anything it quotes from the input removed (unknown and missing field
/// names are kept: they come from the schema or are keys, not values).
fn without_values(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("unknown field") || text.starts_with("missing field") {
        text
    } else {
        "the entry does not match the expected fields and types".to_owned()
    }
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
    fn a_mistyped_field_is_named_without_its_value() {
        let file = r#"[{"name":"r1","address":"127.0.0.1","username":"admin","password":12345678},
          {"name":"r2","address":"127.0.0.1","username":"admin","password":["hunter2"]},
          {"name":"r3","address":"127.0.0.1","username":"admin","password":"pw","ssh_port":"hunter3"},
          {"name":"r4","address":"127.0.0.1","username":"admin","password":"pw","bogus":"hunter4"}]"#;
        let errors: Vec<String> = parse_file(file)
            .unwrap()
            .into_iter()
            .map(|e| e.unwrap_err())
            .collect();
        assert_eq!(
            errors[0],
            "entry 1 (r1): password must be a JSON string (in quotes), not a number (the value is not shown)"
        );
        assert!(errors[1].starts_with("entry 2 (r2): password must be a JSON string"));
        assert!(errors[2].contains("ssh_port must be a port number from 1 to 65535, not a string"));
        assert!(errors[3].contains("unknown field `bogus`"), "{}", errors[3]);
        for e in &errors {
            for secret in ["12345678", "hunter"] {
                assert!(!e.contains(secret), "{e}");
            }
        }
    }

    #[test]
    fn reads_the_simulator_manifest_as_is() {
        let manifest = r#"{"control_url":"http://127.0.0.1:9","devices":[
          {"name":"sim-0001","identity":"sim-0001","profile":"home","address":"127.0.1.1",
           "http_port":8080,"https_port":8443,"ssh_port":2222,"api_port":8728,"api_ssl_port":8729,
           "username":"admin","password":"pw",
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
