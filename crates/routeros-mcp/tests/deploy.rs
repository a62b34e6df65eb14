//! The deployment files a person copies — `docker-compose.yml`, `deploy/` (container image,
//! Kubernetes, Cloudflare Tunnel, MCP bundle), `systemd/` and the registry entry `server.json` —
//! set only settings the server has, with values it accepts; probe the endpoints it serves; run it
//! unprivileged; and agree with one another (image, name, version, port, data directory).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use settings::{AuthMode, Loader, Transport};
use yaml_rust2::{Yaml, YamlLoader};

/// Variables of the PostgreSQL image (docker-compose.yml's `postgres` service only).
const POSTGRES_IMAGE_VARS: &[&str] = &["POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD_FILE"];
/// Variables of the cloudflared image (docker-compose.yml's `cloudflared` service only).
const CLOUDFLARED_VARS: &[&str] = &["TUNNEL_TOKEN"];
/// Seconds queued audit records may take to be written at shutdown, after the grace period.
const AUDIT_FLUSH_SECONDS: u64 = 30;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

fn json_file(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

/// A scalar as an environment variable carries it.
fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| v.iter().filter_map(text).collect())
        .unwrap_or_default()
}

fn default_of(var: &str) -> &'static str {
    settings::table::ROWS
        .iter()
        .find(|r| r.env == var)
        .and_then(|r| r.default)
        .unwrap_or_else(|| panic!("{var} has no default"))
}

fn default_secs(var: &str) -> u64 {
    default_of(var).parse().unwrap()
}

/// The shortest a stop may be allowed to take: the default grace period for calls in flight,
/// plus a minute (the queued audit records are written within half of it).
fn min_stop_seconds() -> u64 {
    let minimum = default_secs("MCP_SHUTDOWN_GRACE_SECONDS") + 60;
    assert!(minimum > default_secs("MCP_SHUTDOWN_GRACE_SECONDS") + AUDIT_FLUSH_SECONDS);
    minimum
}

/// Panics naming every variable of `names` that is neither a setting nor one of `also`.
fn assert_known<I: IntoIterator<Item = String>>(file: &str, names: I, also: &[&str]) {
    let known: BTreeSet<&str> = settings::table::ROWS
        .iter()
        .map(|r| r.env)
        .chain([settings::table::CONFIG_PATH_ENV])
        .collect();
    let unknown: Vec<String> = names
        .into_iter()
        .filter(|n| !known.contains(n.as_str()) && !also.contains(&n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "{file} sets {unknown:?}, which the server does not read (docs/configuration.md lists \
         every setting)"
    );
}

/// Panics naming every variable of `names` not in `allowed`.
fn assert_only<'a, I: IntoIterator<Item = &'a String>>(file: &str, names: I, allowed: &[&str]) {
    let stray: Vec<&String> = names
        .into_iter()
        .filter(|n| !allowed.contains(&n.as_str()))
        .collect();
    assert!(
        stray.is_empty(),
        "{file} sets {stray:?}; it reads only {allowed:?}"
    );
}

/// Whether `text` names `url` exactly (as a whole word, not as the start of a longer one).
fn names_url(text: &str, url: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || "\"'[],".contains(c))
        .any(|w| w == url)
}

/// Loads `env` as the server does at startup; any refusal or warning fails.
fn load(file: &str, env: &BTreeMap<String, String>) -> settings::Settings {
    let loaded = Loader::new(None, env.clone())
        .load()
        .unwrap_or_else(|e| panic!("{file}: the server would refuse these settings: {e}"));
    assert!(
        loaded.warnings.is_empty(),
        "{file}: the server would warn: {:?}",
        loaded.warnings
    );
    loaded.settings
}

/// A value of docker-compose.yml with `${NAME:-default}` and `${NAME}` resolved as with no
/// `.env` file, and `$$` as the container sees it.
fn interpolate(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start
            + rest[start..]
                .find('}')
                .expect("an unclosed ${ in docker-compose.yml");
        if let Some((_, default)) = rest[start + 2..end].split_once(":-") {
            out.push_str(default);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace("$$", "$")
}

/// `scheme://host[:port]/path` → host.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    authority.split(':').next().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

#[derive(Debug)]
struct Stage {
    name: String,
    from: String,
    /// (INSTRUCTION, arguments), continuation lines joined.
    lines: Vec<(String, String)>,
}

impl Stage {
    fn all(&self, instruction: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(i, _)| i == instruction)
            .map(|(_, a)| a.as_str())
            .collect()
    }

    /// `KEY=value` pairs of every ENV or LABEL instruction (quotes respected).
    fn pairs(&self, instruction: &str) -> BTreeMap<String, String> {
        self.all(instruction)
            .into_iter()
            .flat_map(words)
            .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect()
    }
}

/// Whitespace-separated words, with double-quoted parts kept together and unquoted.
fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in args.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn dockerfile() -> Vec<Stage> {
    let text = read("deploy/Dockerfile");
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(body) => {
                current.push_str(body);
                current.push(' ');
            }
            None => {
                current.push_str(t);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (instruction, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let instruction = instruction.to_ascii_uppercase();
        let args = args.trim().to_owned();
        if instruction == "FROM" {
            let w = words(&args);
            let name = match w.iter().position(|x| x.eq_ignore_ascii_case("as")) {
                Some(i) => w[i + 1].clone(),
                None => String::new(),
            };
            stages.push(Stage {
                name,
                from: w[0].clone(),
                lines: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.lines.push((instruction, args));
        }
    }
    stages
}

/// The uid the runtime image runs as.
fn image_uid() -> u32 {
    let stages = dockerfile();
    let runtime = stages.last().unwrap();
    let user = runtime.all("USER");
    let user = user.last().expect("the runtime stage sets USER");
    user.split(':').next().unwrap().parse().unwrap_or_else(|_| {
        panic!("USER {user}: give a numeric uid, so Kubernetes can tell it is not root")
    })
}

#[test]
fn the_image_is_built_like_ci_and_runs_unprivileged_with_a_health_check() {
    let stages = dockerfile();
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    let build = stages
        .iter()
        .find(|s| s.name == "build")
        .expect("a stage named build");
    assert!(build.from.starts_with("rust:"), "{}", build.from);
    assert!(
        build
            .all("RUN")
            .iter()
            .any(|r| r.contains("cargo build --release --locked -p routeros-mcp")),
        "the build stage runs CI's `cargo build --release --locked -p routeros-mcp`"
    );

    let runtime = stages.last().unwrap();
    assert_ne!(runtime.name, "build");
    assert!(runtime.from.starts_with("debian:"), "{}", runtime.from);
    assert!(
        runtime
            .all("COPY")
            .iter()
            .any(|c| c.contains("--from=build") && c.ends_with("/usr/local/bin/routeros-mcp")),
        "the runtime stage copies the built binary to /usr/local/bin/routeros-mcp"
    );
    assert!(
        runtime
            .all("RUN")
            .iter()
            .any(|r| r.contains("ca-certificates") && r.contains("curl")),
        "ca-certificates (HTTPS to identity providers) and curl (the health check) are installed"
    );
    assert_ne!(image_uid(), 0, "the image runs as root");

    let env = runtime.pairs("ENV");
    assert_known("deploy/Dockerfile", env.keys().cloned(), &[]);
    assert_eq!(env.get("MCP_TRANSPORT").map(String::as_str), Some("http"));
    assert_eq!(
        env.get("MCP_HTTP_HOST").map(String::as_str),
        Some("0.0.0.0")
    );
    let port = env
        .get("MCP_HTTP_PORT")
        .cloned()
        .unwrap_or_else(|| default_of("MCP_HTTP_PORT").to_owned());
    assert!(
        runtime.all("EXPOSE").iter().any(|e| *e == port),
        "EXPOSE {port} (the port MCP_HTTP_PORT binds)"
    );
    let health = runtime.all("HEALTHCHECK");
    assert!(
        health
            .iter()
            .any(|h| names_url(h, &format!("http://127.0.0.1:{port}/health"))),
        "HEALTHCHECK on http://127.0.0.1:{port}/health: {health:?}"
    );
    let data_dir = env
        .get("ROUTEROS_MCP_DATA_DIR")
        .expect("the data directory is set");
    assert!(
        runtime
            .all("VOLUME")
            .iter()
            .any(|v| v.contains(data_dir.as_str())),
        "the data directory {data_dir} is a volume"
    );

    // The image alone binds every interface, so it must not start without authentication: the
    // deployments set MCP_AUTH_MODE.
    let refused = Loader::new(None, env.clone())
        .load()
        .unwrap_err()
        .to_string();
    assert!(refused.contains("MCP_AUTH_MODE"), "{refused}");

    let labels = runtime.pairs("LABEL");
    let server = json_file("server.json");
    assert_eq!(
        labels.get("io.modelcontextprotocol.server.name"),
        server["name"].as_str().map(str::to_owned).as_ref(),
        "the registry verifies the image by this label: it must be server.json's name"
    );
}

#[test]
fn the_build_context_leaves_out_build_output_and_secrets() {
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for needed in ["target", ".git", "secrets", ".env"] {
        assert!(
            ignored.iter().any(|i| i == needed),
            ".dockerignore lacks {needed}"
        );
    }
    let gitignore = read(".gitignore");
    for needed in ["/secrets", "/.env"] {
        assert!(
            gitignore.lines().any(|l| l.trim() == needed),
            ".gitignore lacks {needed}: docker-compose.yml's secrets must never be committed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

fn compose() -> Yaml {
    yaml("docker-compose.yml").remove(0)
}

/// A service's environment, `KEY: value` or `KEY=value` items, interpolated.
fn service_env(service: &Yaml) -> BTreeMap<String, String> {
    let env = &service["environment"];
    let mut out = BTreeMap::new();
    if let Some(map) = env.as_hash() {
        for (k, v) in map {
            out.insert(text(k).unwrap(), interpolate(&text(v).unwrap_or_default()));
        }
    } else if let Some(list) = env.as_vec() {
        for item in list.iter().filter_map(text) {
            let (k, v) = item.split_once('=').unwrap_or((&item, ""));
            out.insert(k.to_owned(), interpolate(v));
        }
    }
    out
}

#[test]
fn compose_sets_only_settings_the_server_reads_and_accepts() {
    let doc = compose();
    let services = doc["services"].as_hash().expect("services");
    for (name, service) in services {
        let name = text(name).unwrap();
        let env = service_env(service);
        let file = format!("docker-compose.yml service {name}");
        match name.as_str() {
            // The images beside the server read their own variables, and no setting means
            // anything to them.
            "postgres" => assert_only(&file, env.keys(), POSTGRES_IMAGE_VARS),
            "cloudflared" => assert_only(&file, env.keys(), CLOUDFLARED_VARS),
            _ => assert_known(&file, env.keys().cloned(), &[]),
        }
        assert_ne!(
            service["privileged"].as_bool(),
            Some(true),
            "service {name} is privileged"
        );
    }
    for name in ["routeros-mcp", "preflight"] {
        let env = service_env(&doc["services"][name]);
        let s = load(&format!("docker-compose.yml service {name}"), &env);
        assert_eq!(s.transport, Transport::Http);
        assert_ne!(
            s.auth_mode,
            AuthMode::None,
            "{name} binds {}: a public bind needs authentication",
            s.http.host
        );
        assert!(
            s.http.public_url.is_some(),
            "{name}: MCP_HTTP_PUBLIC_URL is set"
        );
    }
}

#[test]
fn compose_runs_the_server_after_postgres_and_preflight_and_checks_its_health() {
    let doc = compose();
    let server = &doc["services"]["routeros-mcp"];
    let env = service_env(server);
    let port = env.get("MCP_HTTP_PORT").cloned().unwrap();

    assert_eq!(strings(&server["command"]), ["serve"]);
    assert_eq!(
        strings(&doc["services"]["preflight"]["command"]),
        ["preflight"]
    );
    let health = strings(&server["healthcheck"]["test"]).join(" ");
    assert!(
        names_url(&health, &format!("http://127.0.0.1:{port}/health")),
        "{health}"
    );
    let pg = strings(&doc["services"]["postgres"]["healthcheck"]["test"]).join(" ");
    assert!(pg.contains("pg_isready"), "{pg}");

    let after = |service: &str, dependency: &str| {
        text(&doc["services"][service]["depends_on"][dependency]["condition"])
            .unwrap_or_else(|| panic!("{service} does not wait for {dependency}"))
    };
    assert_eq!(after("routeros-mcp", "postgres"), "service_healthy");
    assert_eq!(
        after("routeros-mcp", "preflight"),
        "service_completed_successfully"
    );
    assert_eq!(after("preflight", "postgres"), "service_healthy");
    assert_eq!(after("cloudflared", "routeros-mcp"), "service_healthy");

    for port in strings(&server["ports"]) {
        assert!(
            port.starts_with("127.0.0.1:"),
            "{port}: published beyond this machine; the tunnel is the way in"
        );
    }
    let stop = text(&server["stop_grace_period"]).expect("stop_grace_period");
    let stop: u64 = stop.trim_end_matches('s').parse().unwrap();
    assert!(
        stop >= min_stop_seconds(),
        "stop_grace_period {stop}s: Docker's default 10 s kills calls in flight"
    );
    // The image's user runs it: no service overrides it with root.
    for name in ["routeros-mcp", "preflight"] {
        let user = text(&doc["services"][name]["user"]);
        assert!(
            user.is_none() || !matches!(user.as_deref(), Some("root" | "0" | "0:0")),
            "{name} runs as {user:?}"
        );
    }
    let data_dir = env.get("ROUTEROS_MCP_DATA_DIR").unwrap();
    assert!(
        strings(&server["volumes"])
            .iter()
            .any(|v| v.split(':').nth(1) == Some(data_dir.as_str())),
        "the data directory {data_dir} is a volume"
    );
}

#[test]
fn compose_takes_the_database_password_and_master_key_from_secret_files() {
    let doc = compose();
    let declared = doc["secrets"].as_hash().expect("top-level secrets");
    for (name, secret) in declared {
        let file = text(&secret["file"]).unwrap();
        assert!(
            file.starts_with("./secrets/"),
            "secret {} is {file}: keep secrets in ./secrets/ (ignored by git and the image build)",
            text(name).unwrap()
        );
    }
    for name in ["routeros-mcp", "preflight"] {
        let service = &doc["services"][name];
        let mounted: Vec<String> = strings(&service["secrets"]);
        let env = service_env(service);
        assert!(
            !env.contains_key("DATABASE_URL") && !env.contains_key("ROUTEROS_MCP_MASTER_KEY"),
            "{name} has a secret in plain environment"
        );
        let key_file = env
            .get("ROUTEROS_MCP_MASTER_KEY_FILE")
            .expect("a master key file");
        let key_secret = key_file
            .strip_prefix("/run/secrets/")
            .expect("under /run/secrets");
        assert!(
            mounted.iter().any(|m| m == key_secret),
            "{name} lacks {key_secret}"
        );

        // The server reads DATABASE_URL only: the entrypoint builds it from the password file
        // the PostgreSQL container reads too, for the same user and database.
        let entrypoint = strings(&service["entrypoint"]).join(" ");
        let entrypoint = entrypoint.replace("$$", "$");
        assert!(entrypoint.contains("export DATABASE_URL="), "{entrypoint}");
        assert!(
            entrypoint.contains("exec /usr/local/bin/routeros-mcp \"$@\""),
            "{entrypoint}"
        );
        let pg = service_env(&doc["services"]["postgres"]);
        let password_file = pg.get("POSTGRES_PASSWORD_FILE").unwrap();
        assert!(
            entrypoint.contains(&format!("cat {password_file}")),
            "{entrypoint}"
        );
        let secret = password_file.strip_prefix("/run/secrets/").unwrap();
        assert!(mounted.iter().any(|m| m == secret), "{name} lacks {secret}");
        let url = format!(
            "postgres://{}:${{password}}@postgres:5432/{}",
            pg["POSTGRES_USER"], pg["POSTGRES_DB"]
        );
        assert!(
            entrypoint.contains(&url),
            "{entrypoint} does not connect as {url}"
        );
    }
}

#[test]
fn the_tunnel_reaches_the_server_under_its_public_name() {
    let doc = compose();
    let server_env = service_env(&doc["services"]["routeros-mcp"]);
    let public = server_env.get("MCP_HTTP_PUBLIC_URL").unwrap();
    let cloudflared = &doc["services"]["cloudflared"];
    let mounts = strings(&cloudflared["volumes"]);
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("./deploy/cloudflared/config.yml:")),
        "{mounts:?}"
    );
    assert!(service_env(cloudflared).contains_key("TUNNEL_TOKEN"));

    let config = yaml("deploy/cloudflared/config.yml").remove(0);
    let rules = config["ingress"].as_vec().expect("ingress rules");
    let rule = rules
        .iter()
        .find(|r| text(&r["hostname"]).is_some())
        .expect("a rule with a hostname");
    // The server refuses Host names it does not know: the tunnel's must be the public URL's.
    assert_eq!(text(&rule["hostname"]).unwrap(), url_host(public));
    let port = server_env.get("MCP_HTTP_PORT").unwrap();
    assert_eq!(
        text(&rule["service"]).unwrap(),
        format!("http://routeros-mcp:{port}")
    );
    let last = rules.last().unwrap();
    assert!(
        text(&last["hostname"]).is_none() && text(&last["service"]).is_some(),
        "the last ingress rule catches everything else"
    );
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

/// Every object of every manifest in deploy/kubernetes, with the file it came from.
fn manifests() -> Vec<(String, Yaml)> {
    let dir = repo().join("deploy/kubernetes");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .flat_map(|f| {
            yaml(&format!("deploy/kubernetes/{f}"))
                .into_iter()
                .filter(|d| !d.is_null())
                .map(move |d| (f.clone(), d))
        })
        .collect()
}

fn object<'a>(all: &'a [(String, Yaml)], kind: &str) -> &'a Yaml {
    &all.iter()
        .find(|(_, d)| text(&d["kind"]).as_deref() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} in deploy/kubernetes"))
        .1
}

fn string_map(y: &Yaml) -> BTreeMap<String, String> {
    y.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (text(k).unwrap(), text(v).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kubernetes_config_and_secret_hold_only_settings_the_server_accepts() {
    let all = manifests();
    let config = string_map(&object(&all, "ConfigMap")["data"]);
    assert_known("deploy/kubernetes ConfigMap", config.keys().cloned(), &[]);
    let s = load("deploy/kubernetes ConfigMap", &config);
    assert_eq!(s.transport, Transport::Http);
    assert_ne!(
        s.auth_mode,
        AuthMode::None,
        "a cluster bind needs authentication"
    );

    let secret = object(&all, "Secret");
    let keys = string_map(&secret["stringData"]);
    assert_known("deploy/kubernetes Secret", keys.keys().cloned(), &[]);
    for needed in ["DATABASE_URL", "ROUTEROS_MCP_MASTER_KEY"] {
        assert!(
            keys.contains_key(needed),
            "the Secret example lacks {needed}"
        );
    }
    let secret_names: BTreeSet<&str> = settings::table::ROWS
        .iter()
        .filter(|r| r.secret)
        .map(|r| r.env)
        .collect();
    for key in config.keys() {
        assert!(
            !secret_names.contains(key.as_str()),
            "{key} belongs in the Secret"
        );
    }
}

#[test]
fn kubernetes_probes_health_and_readiness_and_runs_unprivileged() {
    let all = manifests();
    let config = string_map(&object(&all, "ConfigMap")["data"]);
    let deployment = object(&all, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let port: i64 = config["MCP_HTTP_PORT"].parse().unwrap();
    let data_dir = &config["ROUTEROS_MCP_DATA_DIR"];

    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(
        pod["securityContext"]["runAsUser"].as_i64(),
        Some(i64::from(image_uid())),
        "the pod runs as the image's user (deploy/Dockerfile USER)"
    );
    let grace = pod["terminationGracePeriodSeconds"].as_i64().unwrap_or(30);
    assert!(
        u64::try_from(grace).unwrap() >= min_stop_seconds(),
        "terminationGracePeriodSeconds {grace} cuts the server's shutdown short"
    );

    let server_json = json_file("server.json");
    let oci = server_json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["registryType"] == "oci")
        .unwrap()["identifier"]
        .as_str()
        .unwrap()
        .to_owned();

    let containers: Vec<&Yaml> = pod["containers"]
        .as_vec()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_vec().into_iter().flatten())
        .collect();
    let volumes = pod["volumes"].as_vec().unwrap();
    for c in &containers {
        let name = text(&c["name"]).unwrap();
        assert_eq!(
            text(&c["image"]).unwrap(),
            oci,
            "{name} runs server.json's image"
        );
        let sc = &c["securityContext"];
        assert_eq!(
            sc["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}"
        );
        assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
        assert!(
            strings(&sc["capabilities"]["drop"]).contains(&"ALL".to_owned()),
            "{name}"
        );
        let env_names = c["env"]
            .as_vec()
            .map(|v| {
                v.iter()
                    .filter_map(|e| text(&e["name"]))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        assert_known(
            &format!("deploy/kubernetes container {name}"),
            env_names,
            &[],
        );
        for source in c["envFrom"].as_vec().unwrap() {
            let (kind, reference) = if source["configMapRef"].is_badvalue() {
                ("Secret", &source["secretRef"])
            } else {
                ("ConfigMap", &source["configMapRef"])
            };
            assert_eq!(
                text(&object(&all, kind)["metadata"]["name"]),
                text(&reference["name"]),
                "{name} reads a {kind} the manifests define"
            );
        }
        // The data directory is writable although the root file system is not.
        let mount = c["volumeMounts"]
            .as_vec()
            .unwrap()
            .iter()
            .find(|m| text(&m["mountPath"]).as_ref() == Some(data_dir))
            .unwrap_or_else(|| panic!("{name} does not mount {data_dir}"));
        let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
        assert!(
            !volume["emptyDir"].is_badvalue() || !volume["persistentVolumeClaim"].is_badvalue(),
            "{volume:?}"
        );
    }
    let init = pod["initContainers"]
        .as_vec()
        .expect("a preflight init container");
    assert_eq!(strings(&init[0]["args"]), ["preflight"]);

    let server = &pod["containers"][0];
    assert_eq!(strings(&server["args"]), ["serve"]);
    let ports = server["ports"].as_vec().unwrap();
    let http = ports
        .iter()
        .find(|p| p["containerPort"].as_i64() == Some(port))
        .unwrap_or_else(|| panic!("no containerPort {port} (MCP_HTTP_PORT)"));
    let http_name = text(&http["name"]).unwrap();
    for (probe, path) in [
        ("livenessProbe", "/health"),
        ("readinessProbe", "/ready"),
        ("startupProbe", "/health"),
    ] {
        let get = &server[probe]["httpGet"];
        assert_eq!(text(&get["path"]).as_deref(), Some(path), "{probe}");
        let probe_port = text(&get["port"]).unwrap();
        assert!(
            probe_port == http_name || probe_port == port.to_string(),
            "{probe} port {probe_port}"
        );
        // The kubelet sends the pod's IP as Host, which the server refuses (DNS rebinding).
        let host = get["httpHeaders"]
            .as_vec()
            .and_then(|h| {
                h.iter()
                    .find(|h| text(&h["name"]).as_deref() == Some("Host"))
            })
            .and_then(|h| text(&h["value"]));
        assert!(
            matches!(host.as_deref(), Some("localhost" | "127.0.0.1")),
            "{probe} sends Host {host:?}, which the server would answer with 403"
        );
    }
    for (kind, limit) in [
        ("requests", "memory"),
        ("requests", "cpu"),
        ("limits", "memory"),
    ] {
        assert!(
            text(&server["resources"][kind][limit]).is_some(),
            "resources.{kind}.{limit} is set"
        );
    }

    let service = object(&all, "Service");
    let target = text(&service["spec"]["ports"][0]["targetPort"]).unwrap();
    assert!(
        target == http_name || target == port.to_string(),
        "{target}"
    );
    assert_eq!(
        text(&service["spec"]["sessionAffinity"]).as_deref(),
        Some("ClientIP"),
        "MCP sessions live in one process"
    );
}

#[test]
fn kustomization_applies_every_manifest_but_the_secret_example() {
    let k = yaml("deploy/kubernetes/kustomization.yaml").remove(0);
    let resources = strings(&k["resources"]);
    for r in &resources {
        assert!(repo().join("deploy/kubernetes").join(r).is_file(), "{r}");
    }
    assert!(
        !resources.iter().any(|r| r.contains("secret")),
        "applying the Secret example would overwrite real secrets with placeholders"
    );
    for f in [
        "namespace.yaml",
        "configmap.yaml",
        "deployment.yaml",
        "service.yaml",
    ] {
        assert!(resources.iter().any(|r| r == f), "{f} is not applied");
    }
}

// ---------------------------------------------------------------------------------------------
// systemd

/// `[Section]` → key → values, in order.
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn unit(rel: &str) -> Unit {
    let mut out = Unit::new();
    let mut section = String::new();
    for line in read(rel).lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (k, v) = t.split_once('=').unwrap_or_else(|| panic!("{rel}: {t}"));
        out.entry(section.clone())
            .or_default()
            .entry(k.trim().to_owned())
            .or_default()
            .push(v.trim().to_owned());
    }
    out
}

fn one<'a>(u: &'a Unit, section: &str, key: &str) -> &'a str {
    u.get(section)
        .and_then(|s| s.get(key))
        .and_then(|v| v.last())
        .map_or("", String::as_str)
}

/// `Environment=` assignments of a unit.
fn unit_env(u: &Unit) -> BTreeMap<String, String> {
    u.get("Service")
        .and_then(|s| s.get("Environment"))
        .into_iter()
        .flatten()
        .flat_map(|v| words(v))
        .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// `NAME=value` lines of the environment file example; commented ones (`#NAME=value`) too when
/// `commented`.
fn env_example(commented: bool) -> BTreeMap<String, String> {
    read("systemd/routeros-mcp.env.example")
        .lines()
        .map(str::trim)
        .filter_map(|l| match l.strip_prefix('#') {
            Some(rest) if commented => Some(rest.trim()),
            Some(_) => None,
            None => Some(l),
        })
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn seconds(value: &str) -> u64 {
    if let Some(min) = value.strip_suffix("min") {
        return min.trim().parse::<u64>().unwrap() * 60;
    }
    value.trim_end_matches('s').trim().parse().unwrap()
}

#[test]
fn the_http_unit_notifies_systemd_reloads_and_stops_in_time() {
    let u = unit("systemd/routeros-mcp-http.service");
    let kind = one(&u, "Service", "Type");
    match kind {
        "notify-reload" => {}
        "notify" => assert!(
            one(&u, "Service", "ExecReload").ends_with("kill -HUP $MAINPID"),
            "Type=notify reloads with kill -HUP $MAINPID"
        ),
        other => panic!("Type={other}: the server sends READY=1 and WATCHDOG=1"),
    }
    assert!(
        seconds(one(&u, "Service", "WatchdogSec")) > 0,
        "WatchdogSec is set"
    );
    let stop = seconds(one(&u, "Service", "TimeoutStopSec"));
    assert!(
        stop >= min_stop_seconds(),
        "TimeoutStopSec={stop} cuts shutdown short"
    );
    assert_eq!(one(&u, "Service", "Restart"), "on-failure");
    assert_eq!(
        one(&u, "Service", "EnvironmentFile"),
        "/etc/routeros-mcp/routeros-mcp.env"
    );
    // The startup validation checks the transport the server will run (its bind and
    // authentication), so both name the same one.
    assert_eq!(
        one(&u, "Service", "ExecStartPre"),
        "/usr/local/bin/routeros-mcp preflight --transport http"
    );
    assert_eq!(
        one(&u, "Service", "ExecStart"),
        "/usr/local/bin/routeros-mcp serve --transport http"
    );
    for key in [
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
    ] {
        assert_eq!(one(&u, "Service", key), "yes", "{key}");
    }
    assert_eq!(one(&u, "Service", "ProtectSystem"), "strict");
    assert_eq!(one(&u, "Service", "CapabilityBoundingSet"), "");
    assert!(!one(&u, "Service", "SystemCallFilter").is_empty());
}

#[test]
fn the_stdio_socket_starts_one_server_per_connection_on_its_stdin_and_stdout() {
    let socket = unit("systemd/routeros-mcp-stdio.socket");
    assert_eq!(one(&socket, "Socket", "Accept"), "yes");
    assert!(
        one(&socket, "Socket", "ListenStream").starts_with('/'),
        "a local socket"
    );
    assert_ne!(
        one(&socket, "Socket", "SocketMode"),
        "0666",
        "open to every user"
    );
    let template = unit("systemd/routeros-mcp-stdio@.service");
    assert_eq!(one(&template, "Service", "StandardInput"), "socket");
    assert_eq!(one(&template, "Service", "StandardOutput"), "socket");
    assert_ne!(
        one(&template, "Service", "StandardError"),
        "socket",
        "logs stay off MCP"
    );
    assert_eq!(
        one(&template, "Service", "ExecStart"),
        "/usr/local/bin/routeros-mcp serve --transport stdio"
    );
}

#[test]
fn the_units_run_unprivileged_with_the_settings_of_the_env_file() {
    let sysusers = read("systemd/routeros-mcp.sysusers");
    let user_line = sysusers
        .lines()
        .find(|l| l.starts_with("u "))
        .expect("a u line");
    let user = user_line.split_whitespace().nth(1).unwrap();
    for rel in [
        "systemd/routeros-mcp-http.service",
        "systemd/routeros-mcp-stdio@.service",
    ] {
        let u = unit(rel);
        let env = unit_env(&u);
        assert_known(rel, env.keys().cloned(), &[]);
        assert_eq!(
            one(&u, "Service", "User"),
            user,
            "{rel} runs as the sysusers user"
        );
        assert_ne!(user, "root");
        let state = one(&u, "Service", "StateDirectory");
        assert_eq!(
            env.get("ROUTEROS_MCP_DATA_DIR").map(String::as_str),
            Some(format!("/var/lib/{state}").as_str()),
            "{rel}: the data directory is the state directory systemd creates"
        );
        assert_eq!(
            one(&u, "Service", "EnvironmentFile"),
            "/etc/routeros-mcp/routeros-mcp.env"
        );
    }
    assert_known(
        "systemd/routeros-mcp.env.example",
        env_example(true).into_keys(),
        &[],
    );
    let s = load("systemd/routeros-mcp.env.example", &env_example(false));
    assert!(
        s.auth_mode != AuthMode::None || s.http.host.starts_with("127."),
        "an HTTP bind beyond loopback needs authentication"
    );
    let commented_grace = env_example(true)
        .get("MCP_SHUTDOWN_GRACE_SECONDS")
        .map(|v| v.parse::<u64>().unwrap());
    assert_eq!(
        commented_grace,
        Some(default_secs("MCP_SHUTDOWN_GRACE_SECONDS")),
        "the example shows the default grace period"
    );
}

// ---------------------------------------------------------------------------------------------
// server.json and the MCP bundle

#[test]
fn server_json_is_valid_against_the_registry_schema_and_names_this_release() {
    let schema = json_file("deploy/registry/server.schema.json");
    let server = json_file("server.json");
    assert_eq!(
        server["$schema"], schema["$id"],
        "server.json names the vendored schema"
    );
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&server)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "server.json: {errors:#?}");

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(server["version"], version);
    let packages = server["packages"].as_array().unwrap();
    let of = |kind: &str| {
        packages
            .iter()
            .find(|p| p["registryType"] == kind)
            .unwrap_or_else(|| panic!("no {kind} package"))
    };
    let cargo = of("cargo");
    assert_eq!(cargo["identifier"], env!("CARGO_PKG_NAME"));
    assert_eq!(cargo["version"], version);
    assert_eq!(cargo["transport"]["type"], "stdio");
    assert_eq!(cargo["packageArguments"][0]["value"], "serve");
    let oci = of("oci")["identifier"].as_str().unwrap();
    assert!(oci.ends_with(&format!(":{version}")), "{oci}");
    let mcpb = of("mcpb");
    assert!(mcpb["identifier"].as_str().unwrap().contains(version));
    assert!(mcpb["identifier"].as_str().unwrap().ends_with(".mcpb"));
    for p in packages {
        let names = p["environmentVariables"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v["name"].as_str().unwrap().to_owned());
        assert_known("server.json", names, &[]);
    }

    let base = default_of("MCP_HTTP_BASE_PATH");
    let remote = &server["remotes"][0];
    assert_eq!(remote["type"], "streamable-http");
    assert!(remote["url"].as_str().unwrap().ends_with(base), "{remote}");
    let auth = remote["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "Authorization")
        .expect("an Authorization header");
    assert!(auth["value"].as_str().unwrap().starts_with("Bearer "));
    assert_eq!(auth["isSecret"], true);
}

#[test]
fn server_json_validation_catches_a_broken_entry() {
    // The same validation refuses what the registry would: a name without a namespace.
    let schema = json_file("deploy/registry/server.schema.json");
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut server = json_file("server.json");
    assert!(validator.is_valid(&server));
    server["name"] = json!("routeros-mcp");
    assert!(!validator.is_valid(&server));
}

fn bundle_manifest() -> Value {
    json_file("deploy/mcpb/manifest.json")
}

/// The bundle's environment with each `${user_config.X}` replaced by X's default, as an MCP
/// host fills it in when the user changes nothing.
fn bundle_env_defaults(manifest: &Value) -> BTreeMap<String, String> {
    let config = manifest["user_config"].as_object().unwrap();
    manifest["server"]["mcp_config"]["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let mut value = v.as_str().unwrap().to_owned();
            for (name, option) in config {
                let default = match &option["default"] {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    other => other.to_string(),
                };
                value = value.replace(&format!("${{user_config.{name}}}"), &default);
            }
            (k.clone(), value)
        })
        .collect()
}

#[test]
fn the_bundle_runs_the_binary_over_stdio_with_its_settings() {
    let m = bundle_manifest();
    assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["server"]["type"], "binary");
    let entry = m["server"]["entry_point"].as_str().unwrap();
    assert_eq!(
        m["server"]["mcp_config"]["command"].as_str().unwrap(),
        format!("${{__dirname}}/{entry}")
    );
    assert_eq!(m["server"]["mcp_config"]["args"], json!(["serve"]));
    let env = m["server"]["mcp_config"]["env"].as_object().unwrap();
    assert_known("deploy/mcpb/manifest.json", env.keys().cloned(), &[]);
    let config = m["user_config"].as_object().unwrap();
    for (var, value) in env {
        let value = value.as_str().unwrap();
        let name = value
            .strip_prefix("${user_config.")
            .and_then(|v| v.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{var}={value}"));
        assert!(
            config.contains_key(name),
            "{var} uses undefined user_config.{name}"
        );
    }
    let option_for = |var: &str| {
        let value = env[var].as_str().unwrap();
        &config[&value["${user_config.".len()..value.len() - 1]]
    };
    assert_eq!(option_for("ROUTEROS_MCP_DATA_DIR")["type"], "directory");
    assert_eq!(option_for("MCP_READ_ONLY")["type"], "boolean");
    assert_eq!(option_for("ROUTEROS_MCP_MASTER_KEY")["sensitive"], true);
    // Left at their defaults, the values still load (empty counts as unset).
    load("deploy/mcpb/manifest.json", &bundle_env_defaults(&m));
}

#[test]
fn the_bundle_command_answers_an_mcp_client_with_the_default_settings() {
    let m = bundle_manifest();
    let home = tempfile::tempdir().unwrap();
    let args: Vec<String> = m["server"]["mcp_config"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_routeros-mcp"))
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(bundle_env_defaults(&m))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "bundle-test", "version": "1"}}});
    writeln!(stdin, "{initialize}").unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60));
    drop(stdin);
    let answer = match line {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "no answer within 60 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let answer: Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {answer}"));
    assert_eq!(answer["id"], 1, "{answer}");
    assert_eq!(
        answer["result"]["serverInfo"]["name"], "routeros-mcp",
        "{answer}"
    );

    // The client closed its end: the server exits cleanly, its registry in the default data
    // directory (the data_dir option left empty).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        home.path()
            .join(".local/share/routeros-mcp/routeros-mcp.sqlite")
            .is_file()
    );
}

// ---------------------------------------------------------------------------------------------
// Documentation of the deployment

/// Words of `text` that look like environment variables of the server or its neighbours.
fn variable_words(text: &str) -> BTreeSet<String> {
    const PREFIXES: &[&str] = &[
        "MCP_",
        "ROUTEROS_",
        "DATABASE_",
        "OIDC_",
        "LOG_",
        "CF_ACCESS_",
        "MAX_",
        "POSTGRES_",
        "TUNNEL_",
    ];
    text.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .filter(|w| PREFIXES.iter().any(|p| w.starts_with(p)) && w.len() > 4)
        .filter(|w| !w.ends_with('_'))
        .map(str::to_owned)
        .collect()
}

/// Files (a name with an extension) and folders (ending in `/`) the document names under the
/// repository's deployment folders. (`deploy/NAME` without either is kubectl's, not a path.)
fn named_paths(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || "`()[]<>\"',".contains(c))
        .map(|w| w.trim_end_matches(['.', ':', ';']))
        .filter(|w| {
            let file_or_folder = w.ends_with('/')
                || w.split('#')
                    .next()
                    .and_then(|p| p.rsplit('/').next())
                    .is_some_and(|last| last.contains('.'));
            (["deploy/", "systemd/", "ci/", "docs/"]
                .iter()
                .any(|p| w.starts_with(p))
                && file_or_folder)
                || matches!(*w, "docker-compose.yml" | "server.json" | ".dockerignore")
        })
        .map(str::to_owned)
        .collect()
}

/// The anchors of a Markdown file's headings, as a repository host renders them.
fn heading_anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| {
            h.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn deployment_docs_name_only_real_files_and_settings() {
    for doc in ["README.md", "deploy/README.md", "systemd/README.md"] {
        let text = read(doc);
        assert_known(
            doc,
            variable_words(&text),
            &[POSTGRES_IMAGE_VARS, CLOUDFLARED_VARS].concat(),
        );
        for named in named_paths(&text) {
            let (path, anchor) = named.split_once('#').unwrap_or((&named, ""));
            assert!(
                repo().join(path).exists(),
                "{doc} names {path}, which does not exist"
            );
            if !anchor.is_empty() {
                assert!(
                    heading_anchors(&read(path)).contains(anchor),
                    "{doc} links to {named}, a heading {path} does not have"
                );
            }
        }
    }
    // Files a folder's README names relative to that folder (or the repository's root): in
    // systemd/, every `routeros-mcp…` name with an extension (an instance such as
    // `routeros-mcp-stdio@3.service` counts as its template); in deploy/, every YAML, JSON and
    // Dockerfile name. Installed paths (`/etc/…`), URLs and build output are not files here.
    let systemd_file = |w: &str| w.starts_with("routeros-mcp") && w.contains('.');
    let deploy_file = |w: &str| {
        [".yaml", ".yml", ".json", "Dockerfile"]
            .iter()
            .any(|e| w.ends_with(e))
    };
    for (doc, dir, is_file) in [
        (
            "systemd/README.md",
            "systemd",
            &systemd_file as &dyn Fn(&str) -> bool,
        ),
        ("deploy/README.md", "deploy", &deploy_file),
    ] {
        let text = read(doc);
        for word in text.split(|c: char| c.is_whitespace() || "`()[]<>\"',".contains(c)) {
            let word = word.trim_end_matches(['.', ':', ';']);
            if word.starts_with(['/', '$', '~']) || word.contains("://") || !is_file(word) {
                continue;
            }
            let word = match (word.split_once('@'), word.rsplit_once('.')) {
                (Some((unit, _)), Some((_, suffix))) => format!("{unit}@.{suffix}"),
                _ => word.to_owned(),
            };
            let found = repo().join(dir).join(&word).exists() || repo().join(&word).exists();
            assert!(
                found,
                "{doc} names {word}, which is not in {dir}/ or the root"
            );
        }
    }
}

#[test]
fn the_doc_checks_catch_a_misspelt_setting() {
    let words = variable_words("set `MCP_HTTP_PROT=8080` and MCP_AUTH_MODE=token");
    assert!(words.contains("MCP_HTTP_PROT") && words.contains("MCP_AUTH_MODE"));
    let caught = std::panic::catch_unwind(|| assert_known("a doc", words.clone(), &[]));
    assert!(caught.is_err());
    let paths = named_paths(
        "see deploy/kubernetes/deployment.yaml, and `systemd/nope.service`; \
         kubectl exec deploy/routeros-mcp",
    );
    assert_eq!(
        paths.into_iter().collect::<Vec<_>>(),
        ["deploy/kubernetes/deployment.yaml", "systemd/nope.service"]
    );
}

// ---------------------------------------------------------------------------------------------
// Commands

/// Whether the binary accepts `args` (asked with `--help` appended, so nothing runs).
fn accepts(args: &[String]) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_routeros-mcp"))
        .args(args)
        .arg("--help")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_command_the_deployment_files_run_is_one_the_binary_has() {
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    let binary = "/usr/local/bin/routeros-mcp ";
    for rel in [
        "systemd/routeros-mcp-http.service",
        "systemd/routeros-mcp-stdio@.service",
    ] {
        let u = unit(rel);
        for key in ["ExecStartPre", "ExecStart"] {
            if let Some(line) = one(&u, "Service", key).strip_prefix(binary) {
                commands.push((format!("{rel} {key}"), words(line)));
            }
        }
    }
    let doc = compose();
    for name in ["preflight", "routeros-mcp"] {
        let args = strings(&doc["services"][name]["command"]);
        commands.push((format!("docker-compose.yml {name}"), args));
    }
    let all = manifests();
    let pod = &object(&all, "Deployment")["spec"]["template"]["spec"];
    for c in pod["containers"]
        .as_vec()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_vec().into_iter().flatten())
    {
        let name = text(&c["name"]).unwrap();
        commands.push((format!("deploy/kubernetes {name}"), strings(&c["args"])));
    }
    let stages = dockerfile();
    let cmd = stages.last().unwrap().all("CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd.last().expect("a CMD")).unwrap();
    commands.push(("deploy/Dockerfile CMD".into(), cmd));
    let m = bundle_manifest();
    let args: Vec<String> =
        serde_json::from_value(m["server"]["mcp_config"]["args"].clone()).unwrap();
    commands.push(("deploy/mcpb/manifest.json".into(), args));

    assert!(commands.len() >= 8, "{commands:?}");
    for (place, args) in &commands {
        assert!(!args.is_empty(), "{place} runs no command");
        if let Err(e) = accepts(args) {
            panic!(
                "{place} runs `routeros-mcp {}`, which the binary refuses: {e}",
                args.join(" ")
            );
        }
    }
    // And a misspelt one is refused, so the check means something.
    assert!(accepts(&["serve".into(), "--transport".into(), "htp".into()]).is_err());
    assert!(accepts(&["prefligth".into()]).is_err());
}
