//! The operator CLI, driven as a user drives it: the real binary, a fresh data directory (and a
//! fresh PostgreSQL database when `TEST_DATABASE_URL` is set), checking output and exit status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use store::testing::TestDatabase;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// One operator's machine: a data directory and an environment.
struct Operator {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Operator {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![
            (
                "ROUTEROS_MCP_DATA_DIR".into(),
                dir.path().join("data").display().to_string(),
            ),
            ("USER".into(), "alice".into()),
        ];
        Self { dir, env }
    }

    fn with(mut self, k: &str, v: &str) -> Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
        self
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Another operator on the same data directory, with `k=v` set too.
    fn clone_with(&self, k: &str, v: &str) -> Self {
        Operator::new()
            .with(
                "ROUTEROS_MCP_DATA_DIR",
                &self.data_dir().display().to_string(),
            )
            .with(k, v)
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_env(args, stdin, &[])
    }

    fn run_env(&self, args: &[&str], stdin: Option<&str>, extra: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_routeros-mcp"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                // The command may exit before reading (a usage error): a broken pipe is fine.
                let _ = input.write_all(text.as_bytes());
            }
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn add(&self, name: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "device",
            "add",
            name,
            "--address",
            "127.0.0.1",
            "--username",
            "mcp",
            "--password-stdin",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        self.run(&args, Some("Cli-Sentinel-Pw-31\n"))
    }
}

fn sqlite_file(op: &Operator) -> PathBuf {
    op.data_dir().join("routeros-mcp.sqlite")
}

fn sql(path: &Path, statement: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open(&store::Target::Sqlite(path.to_owned()), 1)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
}

#[test]
fn a_device_lifecycle_from_the_command_line() {
    let op = Operator::new();
    let added = op
        .add("core-1", &["--tag", "site=fra1", "--env", "staging"])
        .ok();
    assert!(
        added.stderr.contains("generated a new master key"),
        "{}",
        added.stderr
    );
    let device = added.json();
    assert_eq!(device["name"], "core-1");
    assert_eq!(device["environment"], "staging");
    assert_eq!(device["tags"]["site"], "fra1");
    assert!(!added.stdout.contains("Cli-Sentinel"));

    let list = op.run(&["device", "list"], None).ok();
    assert!(list.stdout.lines().next().unwrap().starts_with("NAME"));
    assert!(list.stdout.contains("core-1") && list.stdout.contains("site=fra1"));

    let shown = op
        .run(
            &[
                "device",
                "show",
                device["id"].as_str().unwrap(),
                "--output",
                "json",
            ],
            None,
        )
        .ok();
    assert_eq!(shown.json()["name"], "core-1");

    let updated = op
        .run(
            &[
                "device",
                "update",
                "core-1",
                "--ssh-port",
                "2222",
                "--remove-tag",
                "site",
                "--output",
                "json",
            ],
            None,
        )
        .ok();
    assert_eq!(updated.json()["ssh_port"], 2222);
    assert_eq!(updated.json()["tags"], serde_json::json!({}));

    let rotated = op
        .run_env(
            &[
                "device",
                "rotate-credentials",
                "core-1",
                "--password-env",
                "NEW_PW",
                "--output",
                "json",
            ],
            None,
            &[("NEW_PW", "Cli-Sentinel-New-77")],
        )
        .ok();
    assert_eq!(rotated.json()["credential_version"], 2);

    op.run(&["device", "decommission", "core-1"], None).ok();
    let list = op.run(&["device", "list", "--output", "json"], None).ok();
    assert_eq!(list.json(), serde_json::json!([]));
    let all = op
        .run(&["device", "list", "--all", "--output", "json"], None)
        .ok();
    assert_eq!(all.json()[0]["status"], "decommissioned");

    let audit = op.run(&["audit", "list", "--output", "json"], None).ok();
    let actions: Vec<_> = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "device.decommission",
            "device.rotate_credentials",
            "device.update",
            "device.add"
        ]
    );
    assert!(
        audit
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "cli:alice")
    );
    assert!(!audit.stdout.contains("Cli-Sentinel"));
    op.run(&["audit", "verify"], None).ok();

    // The registry file and the generated key are private to the operator.
    use std::os::unix::fs::PermissionsExt;
    for file in [sqlite_file(&op), op.data_dir().join("master.key")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    // No plaintext password anywhere in the data directory.
    for entry in std::fs::read_dir(op.data_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(12).any(|w| w == b"Cli-Sentinel"));
    }
}

#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let op = Operator::new();
    op.add("edge-1", &[]).ok();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "device",
                "add",
                "edge-1",
                "--address",
                "192.0.2.8",
                "--username",
                "u",
                "--password-stdin",
            ],
            1,
            "a device named \"edge-1\" already exists in project default/default",
        ),
        (
            &[
                "device",
                "add",
                "x",
                "--address",
                "h1",
                "--env",
                "qa",
                "--username",
                "u",
                "--password-stdin",
            ],
            2,
            "expected one of lab|staging|prod",
        ),
        (
            &[
                "device",
                "add",
                "x",
                "--address",
                "999.1.1.1",
                "--username",
                "u",
                "--password-stdin",
            ],
            2,
            "expected an IPv4/IPv6 address or a hostname",
        ),
        (
            &[
                "device",
                "add",
                "x",
                "--address",
                "h1",
                "--rest-port",
                "0",
                "--username",
                "u",
                "--password-stdin",
            ],
            2,
            "expected a port number between 1 and 65535",
        ),
        (
            &[
                "device",
                "add",
                "x",
                "--address",
                "h1",
                "--username",
                "u",
                "--password-stdin",
                "--project",
                "acme/none",
            ],
            1,
            "project \"acme/none\" does not exist",
        ),
        (
            &[
                "device",
                "add",
                "x",
                "--address",
                "h1",
                "--username",
                "u",
                "--password-env",
                "UNSET_VAR",
            ],
            2,
            "environment variable UNSET_VAR is not set",
        ),
        (
            &["device", "show", "nope"],
            1,
            "no device \"nope\" in any project",
        ),
        (&["device", "update", "edge-1"], 2, "nothing to update"),
    ];
    for (args, code, message) in cases {
        let run = op.run(args, Some("pw\n"));
        assert_eq!(run.code, *code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    let list = op.run(&["device", "list", "--output", "json"], None).ok();
    assert_eq!(
        list.json().as_array().unwrap().len(),
        1,
        "nothing was added"
    );
    let audit = op.run(&["audit", "list", "--output", "json"], None).ok();
    assert_eq!(
        audit.json().as_array().unwrap().len(),
        1,
        "nothing was recorded"
    );
}

#[test]
fn bad_configuration_stops_before_anything_happens() {
    let op = Operator::new().with("DATABASE_URL", "mysql://root:Db-Secret-9@db/x");
    let run = op.run(&["device", "list"], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("DATABASE_URL=<hidden> (environment): unknown scheme \"mysql\""),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Db-Secret-9"));

    let file = tempfile::NamedTempFile::new().unwrap();
    let op = Operator::new().with(
        "ROUTEROS_MCP_DATA_DIR",
        &file.path().join("sub").display().to_string(),
    );
    let run = op.add("x", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not usable") && run.stderr.contains("ROUTEROS_MCP_DATA_DIR"),
        "{}",
        run.stderr
    );

    let op = Operator::new().with("MCP_HTTP_PORT", "http");
    let run = op.run(&["config", "show"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(
        "MCP_HTTP_PORT=\"http\" (environment): expected a port number between 1 and 65535"
    ));
}

#[test]
fn staging_and_prod_refuse_to_run_without_a_master_key() {
    let op = Operator::new().with("MCP_ENV", "staging");
    let run = op.add("x", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no master key configured"),
        "{}",
        run.stderr
    );
    assert!(
        !op.data_dir().join("master.key").exists(),
        "staging must not generate a key"
    );
    let list = op
        .with("MCP_ENV", "lab")
        .run(&["device", "list", "--output", "json"], None)
        .ok();
    assert_eq!(
        list.json(),
        serde_json::json!([]),
        "the refused add stored nothing"
    );
}

#[test]
fn a_wrong_master_key_is_named_never_garbage() {
    let op = Operator::new();
    op.add("r1", &[]).ok();
    let other = op
        .run(&["key", "generate"], None)
        .ok()
        .stdout
        .trim()
        .to_owned();
    let wrong = Operator::new()
        .with(
            "ROUTEROS_MCP_DATA_DIR",
            &op.data_dir().display().to_string(),
        )
        .with("ROUTEROS_MCP_MASTER_KEY", &other);
    let run = wrong.run(&["check"], None);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("master key does not match key id mk-"),
        "{}",
        run.stdout
    );
    let third = op
        .run(&["key", "generate"], None)
        .ok()
        .stdout
        .trim()
        .to_owned();
    let run = wrong.run_env(
        &["key", "rotate", "--new-key-env", "NEWK"],
        None,
        &[("NEWK", &third)],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("master key does not match key id"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tampered_ciphertext_is_reported_by_check() {
    let op = Operator::new();
    op.add("r1", &[]).ok();
    sql(
        &sqlite_file(&op),
        "UPDATE device_credentials SET ciphertext = substr(ciphertext, 1, 10)",
    );
    let run = op.run(&["check"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("truncated or tampered"),
        "{}",
        run.stdout
    );
}

#[test]
fn audit_verify_names_the_first_broken_link_and_exits_3() {
    let op = Operator::new();
    for name in ["a", "b", "c"] {
        op.add(name, &[]).ok();
    }
    sql(
        &sqlite_file(&op),
        "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 2;",
    );
    let run = op.run(&["audit", "verify"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("audit chain broken at event #2"),
        "{}",
        run.stderr
    );
    let run = op.run(&["check"], None);
    assert_eq!(run.code, 3);
}

#[test]
fn key_rotate_replaces_the_generated_key_and_everything_still_opens() {
    let op = Operator::new();
    for i in 0..5 {
        op.add(&format!("k{i}"), &[]).ok();
    }
    let before = std::fs::read_to_string(op.data_dir().join("master.key")).unwrap();
    let run = op.run(&["key", "rotate"], None).ok();
    assert!(
        run.stdout.contains("rotated 5 credentials"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("re-encrypted 5/5"), "{}", run.stderr);
    let after = std::fs::read_to_string(op.data_dir().join("master.key")).unwrap();
    assert_ne!(before, after);
    assert!(!op.data_dir().join("master.key.next").exists());
    let check = op.run(&["check"], None).ok();
    assert!(
        check.stdout.contains("opens all 5 stored credentials"),
        "{}",
        check.stdout
    );
    // The old key no longer opens them.
    let old = Operator::new()
        .with(
            "ROUTEROS_MCP_DATA_DIR",
            &op.data_dir().display().to_string(),
        )
        .with("ROUTEROS_MCP_MASTER_KEY", before.trim());
    assert_eq!(old.run(&["check"], None).code, 3);
}

#[test]
fn a_rotation_interrupted_before_commit_leaves_the_old_key_in_charge() {
    let op = Operator::new();
    op.add("r1", &[]).ok();
    // A crash after writing the next key but before the database committed.
    std::fs::write(
        op.data_dir().join("master.key.next"),
        format!("{}\n", op.run(&["key", "generate"], None).stdout.trim()),
    )
    .unwrap();
    let check = op.run(&["device", "list"], None).ok();
    assert!(
        check
            .stderr
            .contains("interrupted key rotation that did not commit"),
        "{}",
        check.stderr
    );
    assert!(!op.data_dir().join("master.key.next").exists());
    op.run(&["check"], None).ok();
}

#[test]
fn config_show_says_where_each_value_came_from_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mcp.toml");
    std::fs::write(&file, "[http]\nport = 9001\n").unwrap();
    let op = Operator::new().with("MCP_TRANSPORT", "http").with(
        "ROUTEROS_MCP_MASTER_KEY",
        "TWFzdGVyLVNlbnRpbmVsLTUtcGFkZGluZy1wYWRkISE=",
    );
    let run = op
        .run(
            &[
                "--config",
                file.to_str().unwrap(),
                "config",
                "show",
                "--output",
                "json",
            ],
            None,
        )
        .ok();
    let settings = run.json()["settings"].as_array().unwrap().clone();
    let find = |var: &str| {
        settings
            .iter()
            .find(|s| s["variable"] == var)
            .unwrap()
            .clone()
    };
    assert_eq!(find("MCP_HTTP_PORT")["value"], "9001");
    assert!(
        find("MCP_HTTP_PORT")["source"]
            .as_str()
            .unwrap()
            .starts_with("file ")
    );
    assert_eq!(find("MCP_TRANSPORT")["source"], "env MCP_TRANSPORT");
    assert_eq!(find("MCP_ENABLE_RESOURCES")["source"], "profile lab");
    assert_eq!(find("MCP_SERVER_NAME")["source"], "default");
    assert_eq!(find("ROUTEROS_MCP_MASTER_KEY")["value"], "********");
    assert!(!run.stdout.contains("TWFzdGVyLVNlbnRpbmVs"));
    let table = op.run(&["config", "show"], None).ok();
    assert!(table.stdout.starts_with("VARIABLE"));
}

#[test]
fn orgs_and_projects() {
    let op = Operator::new();
    op.run(&["org", "create", "acme"], None).ok();
    op.run(&["project", "create", "acme/branches"], None).ok();
    let run = op.run(&["project", "create", "nobody/x"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("organization \"nobody\" does not exist")
    );
    op.add("gw", &["--project", "acme/branches"]).ok();
    let list = op
        .run(
            &["project", "list", "--org", "acme", "--output", "json"],
            None,
        )
        .ok();
    let projects: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["org"].clone(), p["name"].clone(), p["devices"].clone()))
        .collect();
    assert_eq!(projects.len(), 2);
    assert!(projects.contains(&(
        serde_json::json!("acme"),
        serde_json::json!("branches"),
        serde_json::json!(1)
    )));
    assert_eq!(
        op.run(&["org", "list", "--output", "json"], None)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn every_command_explains_itself_with_an_example() {
    let op = Operator::new();
    let commands: &[&[&str]] = &[
        &["device", "add"],
        &["device", "list"],
        &["device", "show"],
        &["device", "update"],
        &["device", "decommission"],
        &["device", "rotate-credentials"],
        &["device", "test"],
        &["device", "import"],
        &["org", "create"],
        &["project", "create"],
        &["project", "list"],
        &["migrate"],
        &["check"],
        &["key", "generate"],
        &["key", "rotate"],
        &["config", "show"],
        &["audit", "list"],
        &["audit", "verify"],
        &["runbook", "review"],
        &["runbook", "review", "list"],
        &["runbook", "review", "show"],
        &["runbook", "review", "approve"],
        &["runbook", "review", "reject"],
        &["runbook", "review", "stats"],
        &[],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let run = op.run(&args, None).ok();
        assert!(
            run.stdout.contains("Example"),
            "{cmd:?} --help has no example:\n{}",
            run.stdout
        );
    }
}

#[test]
fn the_same_commands_work_on_postgresql() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDatabase::postgres(
        "cli::the_same_commands_work_on_postgresql",
    )) else {
        return;
    };
    let op = Operator::new().with("DATABASE_URL", &db.postgres_url().unwrap());
    op.run(&["migrate"], None).ok();
    op.add("pg-1", &[]).ok();
    op.add("pg-2", &["--tag", "role=edge"]).ok();
    let list = op
        .run(
            &["device", "list", "--tag", "role=edge", "--output", "json"],
            None,
        )
        .ok();
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    op.run(&["key", "rotate"], None).ok();
    let check = op.run(&["check"], None).ok();
    assert!(
        check.stdout.contains("postgres://") && check.stdout.contains("opens all 2"),
        "{}",
        check.stdout
    );
    op.run(&["audit", "verify"], None).ok();
    rt.block_on(db.cleanup());
}

#[test]
fn a_rotation_interrupted_after_commit_is_completed_at_the_next_start() {
    let op = Operator::new();
    op.add("r1", &[]).ok();
    let new_key = op.dir.path().join("new.key");
    op.run(
        &[
            "key",
            "generate",
            "--output-file",
            new_key.to_str().unwrap(),
        ],
        None,
    )
    .ok();
    // The database is re-encrypted under the new key, but the key file was not yet replaced.
    op.run(
        &["key", "rotate", "--new-key-file", new_key.to_str().unwrap()],
        None,
    )
    .ok();
    std::fs::copy(&new_key, op.data_dir().join("master.key.next")).unwrap();
    let run = op.run(&["device", "list"], None).ok();
    assert!(
        run.stderr.contains("completed an interrupted key rotation"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(op.data_dir().join("master.key")).unwrap(),
        std::fs::read(&new_key).unwrap()
    );
    op.run(&["check"], None).ok();
}

/// A simulated fleet running on its own runtime for the length of a test.
struct Sims {
    runtime: tokio::runtime::Runtime,
    fleet: Option<routeros_sim::Fleet>,
}

impl Sims {
    fn start(count: usize, block: u8) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fleet = runtime
            .block_on(routeros_sim::Fleet::start(routeros_sim::FleetOptions {
                count,
                profiles: vec![routeros_sim::profiles::Profile::Home],
                seed: 21,
                base_address: std::net::Ipv4Addr::new(127, 50, block, 1),
                ..routeros_sim::FleetOptions::default()
            }))
            .unwrap();
        Self {
            runtime,
            fleet: Some(fleet),
        }
    }

    fn manifest(&self) -> routeros_sim::Manifest {
        self.fleet.as_ref().unwrap().manifest()
    }

    fn device(&self, name: &str) -> std::sync::Arc<routeros_sim::SimDevice> {
        self.fleet.as_ref().unwrap().device(name).unwrap()
    }
}

impl Drop for Sims {
    fn drop(&mut self) {
        if let Some(fleet) = self.fleet.take() {
            self.runtime.block_on(fleet.shutdown());
        }
    }
}

fn add_args(m: &routeros_sim::ManifestDevice) -> Vec<String> {
    vec![
        "device".into(),
        "add".into(),
        m.name.clone(),
        "--address".into(),
        m.address.clone(),
        "--rest-port".into(),
        m.https_port.to_string(),
        "--ssh-port".into(),
        m.ssh_port.to_string(),
        "--username".into(),
        m.username.clone(),
        "--password-stdin".into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn onboarding_with_trust_on_first_use_pins_and_learns() {
    let sims = Sims::start(1, 1);
    let m = sims.manifest().devices[0].clone();
    let op = Operator::new();
    let mut args = add_args(&m);
    args.push("--trust-on-first-use".into());
    let run = op
        .run(&strs(&args), Some(&format!("{}\n", m.password)))
        .ok();
    assert!(
        run.stdout.contains(" rest: reachable, identity sim-0001"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  ssh: reachable"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&m.tls_sha256),
        "the certificate fingerprint is shown: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&m.ssh_host_key_sha256),
        "the host key is shown: {}",
        run.stdout
    );
    let shown = op
        .run(&["device", "show", &m.name, "--output", "json"], None)
        .ok()
        .json();
    assert_eq!(shown["tls_cert_sha256"], m.tls_sha256);
    assert_eq!(shown["identity"], "sim-0001");
    assert!(
        shown["routeros_version"]
            .as_str()
            .unwrap()
            .starts_with("7.")
    );

    let tested = op.run(&["device", "test", &m.name], None).ok();
    assert!(
        tested.stdout.contains(" rest: reachable") && tested.stdout.contains(" ms"),
        "{}",
        tested.stdout
    );
    assert!(!tested.stdout.contains(&m.password));

    // A re-keyed device is refused, naming both fingerprints.
    sims.device(&m.name).regenerate_keys().unwrap();
    let fresh = sims.device(&m.name).manifest_entry();
    let run = op.run(&["device", "test", &m.name], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(&format!(
            "expected {}, presented {}",
            m.tls_sha256, fresh.tls_sha256
        )),
        "{}",
        run.stdout
    );
    // The operator re-pins explicitly after checking the device.
    op.run(
        &[
            "device",
            "update",
            &m.name,
            "--tls-fingerprint",
            &fresh.tls_sha256,
            "--ssh-host-key",
            &fresh.ssh_host_key_sha256,
        ],
        None,
    )
    .ok();
    op.run(&["device", "test", &m.name], None).ok();
    let pins = op
        .run(
            &[
                "audit",
                "list",
                "--action",
                "device.pin",
                "--output",
                "json",
            ],
            None,
        )
        .ok()
        .json();
    assert_eq!(pins.as_array().unwrap().len(), 1);
}

#[test]
fn onboarding_refusals_add_nothing() {
    let sims = Sims::start(1, 2);
    let m = sims.manifest().devices[0].clone();
    let op = Operator::new();
    let mut args = add_args(&m);
    args.extend(["--tls-fingerprint".into(), "ab".repeat(32)]);
    args.extend(["--driver".into(), "rest".into()]);
    let run = op.run(&strs(&args), Some(&format!("{}\n", m.password)));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("TLS certificate mismatch") && run.stderr.contains("nothing was added"),
        "{}",
        run.stderr
    );
    let mut args = add_args(&m);
    args.extend(["--insecure-http".into(), "--env".into(), "prod".into()]);
    let run = op.run(&strs(&args), Some("pw\n"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--insecure-http is refused"),
        "{}",
        run.stderr
    );
    let list = op
        .run(&["device", "list", "--output", "json"], None)
        .ok()
        .json();
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn import_takes_the_simulator_manifest_as_is() {
    let sims = Sims::start(3, 3);
    let op = Operator::new();
    let mut manifest = serde_json::to_value(sims.manifest()).unwrap();
    // One entry with a wrong password: only that device fails.
    manifest["devices"][1]["password"] = serde_json::json!("wrong-password");
    let file = op.dir.path().join("fleet.json");
    std::fs::write(&file, serde_json::to_string(&manifest).unwrap()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = op.run(
        &[
            "device",
            "import",
            file.to_str().unwrap(),
            "--tag-ignored-placeholder",
        ],
        None,
    );
    assert_eq!(run.code, 2, "unknown flags are refused: {}", run.stderr);
    let run = op.run(&["device", "import", file.to_str().unwrap()], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("readable by other users"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("ok      sim-0001") && run.stdout.contains("ok      sim-0003"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("FAILED  sim-0002: device sim-0002: authentication failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("imported 2 of 3 devices; 1 failed"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("wrong-password"));
    let list = op
        .run(&["device", "list", "--output", "json"], None)
        .ok()
        .json();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["sim-0001", "sim-0003"]);
    assert!(
        list[0]["tls_cert_sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
}

#[test]
fn rotating_credentials_on_the_device() {
    let sims = Sims::start(1, 4);
    let m = sims.manifest().devices[0].clone();
    let op = Operator::new();
    let mut args = add_args(&m);
    args.push("--trust-on-first-use".into());
    op.run(&strs(&args), Some(&format!("{}\n", m.password)))
        .ok();
    let run = op
        .run(
            &[
                "device",
                "rotate-credentials",
                &m.name,
                "--on-device",
                "--output",
                "json",
            ],
            None,
        )
        .ok();
    let out = run.json();
    assert_eq!(out["old_username"], "admin");
    assert!(out["new_username"].as_str().unwrap().starts_with("admin-"));
    assert_eq!(out["old_user_disabled"], true);
    op.run(&["device", "test", &m.name], None).ok();
    let both = op.run(
        &[
            "device",
            "rotate-credentials",
            &m.name,
            "--on-device",
            "--password-stdin",
        ],
        Some("x\n"),
    );
    assert_eq!(both.code, 2, "one source of new credentials at a time");
}

#[test]
fn check_and_preflight_pass_on_a_fresh_data_directory() {
    let op = Operator::new();
    let check = op.run(&["check"], None).ok();
    assert!(
        check
            .stdout
            .contains("a new database: 13 migrations to apply"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("empty (a new database)"),
        "{}",
        check.stdout
    );
    let preflight = op
        .run(
            &["preflight", "--transport", "http", "--output", "json"],
            None,
        )
        .ok();
    let findings = preflight.json();
    let levels: std::collections::BTreeMap<String, String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (check, level) in [
        ("tool catalog", "ok"),
        ("transport", "ok"),
        ("authentication", "ok"),
        ("database", "ok"),
        ("migrations", "warn"),
        ("audit chain", "skipped"),
    ] {
        assert_eq!(levels[check], level, "{check}: {findings}");
    }
    // And then the server starts on it: `migrate` applies what check announced.
    op.run(&["migrate"], None).ok();
    let again = op.run(&["check"], None).ok();
    assert!(
        again.stdout.contains("up to date at 13"),
        "{}",
        again.stdout
    );
}

#[test]
fn preflight_fails_where_serve_would_and_check_only_warns_of_a_port_in_use() {
    let op = Operator::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let held = Operator::new().with("MCP_HTTP_PORT", &port);
    let run = held.run(&["preflight", "--transport", "http"], None);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("cannot bind HTTP on 127.0.0.1:{port}")),
        "{}",
        run.stdout
    );
    let run = held
        .with("MCP_TRANSPORT", "http")
        .run(&["check"], None)
        .ok();
    assert!(
        run.stdout.contains("a running server holds it?"),
        "{}",
        run.stdout
    );
    drop(busy);

    // A public bind without authentication.
    let run = op
        .clone_with("MCP_HTTP_HOST", "0.0.0.0")
        .run(&["preflight", "--transport", "http"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("MCP_AUTH_MODE=none is only allowed"),
        "{}",
        run.stdout
    );
    // An identity provider that cannot be reached.
    let run = op
        .clone_with("MCP_AUTH_MODE", "oidc")
        .with("OIDC_ISSUER", "http://127.0.0.1:9")
        .run(&["preflight", "--transport", "http"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("FAIL  authentication") && run.stdout.contains("OIDC_ISSUER"),
        "{}",
        run.stdout
    );
    // A disabled tool that does not exist.
    let run = op
        .clone_with("MCP_DISABLE_TOOLS", "dns.no_such_tool")
        .run(&["preflight"], None);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("FAIL  tool catalog") && run.stdout.contains("dns.no_such_tool"),
        "{}",
        run.stdout
    );
    // Unreachable devices are a warning: the server starts and serves what answers later.
    op.add("r1", &[]).ok();
    let run = op.run(&["preflight"], None).ok();
    assert!(
        run.stdout.contains("0 of the 1 asked answered"),
        "{}",
        run.stdout
    );
}

#[test]
fn preflight_reports_runbooks_that_do_not_load_and_fails_on_a_bad_env_file() {
    let op = Operator::new();
    let dir = op.data_dir().with_file_name("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.md"), "---\nname: broken\n---\n").unwrap();
    let run = op
        .clone_with("ROUTEROS_MCP_RUNBOOK_DIR", &dir.display().to_string())
        .run(&["preflight"], None)
        .ok();
    assert!(
        run.stdout
            .contains("warn  runbooks       15 loaded; 1 file(s) not loaded")
            && run
                .stdout
                .contains("broken.md:2: the front matter needs title"),
        "{}",
        run.stdout
    );
    let env = dir.with_file_name("env.yaml");
    std::fs::write(&env, "key: [not, a, value]\n").unwrap();
    let run = op
        .clone_with("ROUTEROS_MCP_RUNBOOK_ENV", &env.display().to_string())
        .run(&["preflight"], None);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("FAIL  runbooks") && run.stdout.contains("ROUTEROS_MCP_RUNBOOK_ENV"),
        "{}",
        run.stdout
    );
}

/// The built-in `interface-down` recorded as a version, a failed run of it, and two proposals
/// generated from that run (high priority, then low): `(high, low, run)` ids.
fn seed_review(target: store::Target) -> (String, String, String) {
    use store::runbooks::{RunRow, VersionRow};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open(&target, 1).await.unwrap();
        let ctx = store::AuditContext::new("test:learning");
        let (_, original) = runbook::Index::built_in_files()
            .iter()
            .find(|(f, _)| *f == "interface-down.md")
            .unwrap();
        let hash = |text: &str| runbook::Runbook::parse("x.md", text).unwrap().hash;
        let row = |id: &str, version: &str, content: &str| VersionRow {
            id: id.into(),
            name: "interface-down".into(),
            version: version.into(),
            content_hash: hash(content),
            content: content.into(),
            origin: "built-in".into(),
            status: "published".into(),
            parent_id: None,
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
        };
        let parent = store
            .runbook_version_record(&row(
                "0193c1f2-0000-7000-8000-000000000001",
                "1.0.0",
                original,
            ))
            .await
            .unwrap();
        let run = RunRow {
            id: "0193c1f2-0000-7000-8000-0000000000f1".into(),
            runbook: "interface-down".into(),
            version_id: parent.id.clone(),
            project_id: None,
            device_key: String::new(),
            variables: "{}".into(),
            variables_hash: "x".into(),
            incident: None,
            started_by: "mcp:stdio:assistant".into(),
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
        store.runbook_run_start(&run, &ctx).await.unwrap();
        let mut failed = run.clone();
        failed.status = "failed".into();
        failed.failed_step = Some(2);
        failed.failure_type = Some("runbook_insufficient".into());
        failed.failure_reason = Some("the link stayed down".into());
        failed.steps = r#"[{"step":1,"outcome":"ok"},{"step":2,"outcome":"failed"}]"#.into();
        failed.finished_at = Some(store::time::now());
        store.runbook_run_save(&failed, "running").await.unwrap();
        let mut ids = Vec::new();
        for (n, (version, priority)) in [("1.1.0", "high"), ("1.0.1", "low")]
            .into_iter()
            .enumerate()
        {
            let content = original
                .replacen("version: 1.0.0", &format!("version: {version}"), 1)
                .replacen(
                    "## Verify\n",
                    &format!("## Verify\nCheck the far side too ({n}).\n"),
                    1,
                );
            let mut p = row(
                &format!("0193c1f2-0000-7000-8000-00000000000{}", n + 2),
                version,
                &content,
            );
            p.origin = "proposal".into();
            p.status = "pending_review".into();
            p.parent_id = Some(parent.id.clone());
            p.base_hash = Some(parent.content_hash.clone());
            p.generated_from_run = Some(run.id.clone());
            p.priority = Some(priority.into());
            p.failure_type = Some("runbook_insufficient".into());
            store.runbook_propose(&p, &ctx).await.unwrap();
            ids.push(p.id);
        }
        store.close().await;
        (ids[0].clone(), ids[1].clone(), run.id)
    })
}

/// The review queue worked from the command line: listed in order, shown with its diff and
/// failed run, decided once, refused bad input without changing anything, audited.
fn review_from_the_command_line(op: &Operator, target: store::Target) {
    op.run(&["migrate"], None).ok();
    let (high, low, run) = seed_review(target);

    let list = op
        .run(&["runbook", "review", "list", "--output", "json"], None)
        .ok();
    let ids: Vec<String> = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [high.clone(), low.clone()], "high priority first");
    let only_low = op
        .run(
            &[
                "runbook",
                "review",
                "list",
                "--priority",
                "low",
                "--output",
                "json",
            ],
            None,
        )
        .ok();
    assert_eq!(only_low.json()["items"][0]["id"], low.as_str());
    let table = op.run(&["runbook", "review", "list"], None).ok();
    assert!(table.stdout.contains("interface-down") && table.stdout.contains("high"));

    let shown = op.run(&["runbook", "review", "show", &high], None).ok();
    for needle in [
        "interface-down 1.1.0",
        "replaces",
        &format!("from run {run}"),
        "failed at step 2: runbook_insufficient — the link stayed down",
        "+Check the far side too (0).",
    ] {
        assert!(
            shown.stdout.contains(needle),
            "{needle} in:\n{}",
            shown.stdout
        );
    }
    let json = op
        .run(
            &["runbook", "review", "show", &high, "--output", "json"],
            None,
        )
        .ok()
        .json();
    assert_eq!(json["diff"]["added"], 2);
    assert_eq!(json["source_run"]["failed_step"], 2);

    // Bad input: exit 2, nothing changed.
    for (args, says) in [
        (
            vec!["runbook", "review", "show", "../../etc/passwd"],
            "\"../../etc/passwd\" is not a runbook version id",
        ),
        (
            vec!["runbook", "review", "approve", "x\u{1b}[2J"],
            // Escaped once by the message, once more by the binary on stderr.
            "x\\\\e[2J",
        ),
        (
            vec!["runbook", "review", "reject", &low, "--reason", " "],
            "reason: must not be empty",
        ),
        (
            vec!["runbook", "review", "list", "--priority", "urgent"],
            "expected high, medium or low",
        ),
    ] {
        let r = op.run(&args, None);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains('\u{1b}'));
    }
    let r = op.run(&["runbook", "review", "reject", &low], None);
    assert_eq!(r.code, 2, "--reason is required: {}", r.stderr);
    let r = op.run(
        &[
            "runbook",
            "review",
            "approve",
            "0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no runbook proposal"), "{}", r.stderr);

    let approved = op
        .run(
            &[
                "runbook",
                "review",
                "approve",
                &high,
                "--notes",
                "tried on the lab router",
                "--output",
                "json",
            ],
            None,
        )
        .ok()
        .json();
    assert_eq!(approved["status"], "published");
    assert_eq!(approved["reviewer"], "cli:alice");
    assert_eq!(approved["review_notes"], "tried on the lab router");
    // A second decision is refused and changes nothing.
    for args in [
        vec!["runbook", "review", "approve", &high],
        vec!["runbook", "review", "reject", &high, "--reason", "no"],
    ] {
        let again = op.run(&args, None);
        assert_eq!(again.code, 1, "{args:?}");
        assert!(
            again.stderr.contains("is published")
                && again.stderr.contains("pending_review or in_review"),
            "{}",
            again.stderr
        );
    }
    op.run(
        &[
            "runbook",
            "review",
            "reject",
            &low,
            "--reason",
            "the other covers it",
        ],
        None,
    )
    .ok();

    let stats = op
        .run(&["runbook", "review", "stats", "--output", "json"], None)
        .ok()
        .json();
    assert_eq!(stats["pending_review"], 0);
    assert_eq!(stats["approved"], 1);
    assert_eq!(stats["rejected"], 1);
    assert_eq!(stats["approval_ratio"], 0.5);
    let table = op.run(&["runbook", "review", "stats"], None).ok();
    assert!(
        table.stdout.contains("approval ratio: 0.50"),
        "{}",
        table.stdout
    );
    let audit = op
        .run(
            &[
                "audit",
                "list",
                "--action",
                "runbook.review",
                "--output",
                "json",
            ],
            None,
        )
        .ok()
        .json();
    let decisions = audit.as_array().unwrap();
    assert_eq!(decisions.len(), 2, "{audit}");
    assert!(
        decisions.iter().all(|e| e["actor"] == "cli:alice"),
        "{audit}"
    );
    op.run(&["audit", "verify"], None).ok();
}

#[test]
fn the_review_queue_from_the_command_line() {
    let op = Operator::new();
    let target = store::Target::Sqlite(sqlite_file(&op));
    review_from_the_command_line(&op, target);
}

#[test]
fn the_review_queue_from_the_command_line_on_postgresql() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDatabase::postgres(
        "cli::the_review_queue_from_the_command_line_on_postgresql",
    )) else {
        return;
    };
    let url = db.postgres_url().unwrap();
    let op = Operator::new().with("DATABASE_URL", &url);
    review_from_the_command_line(&op, store::Target::Postgres(url.into()));
    rt.block_on(db.cleanup());
}

#[test]
fn backups_from_the_command_line() {
    let sims = Sims::start(1, 5);
    let m = sims.manifest().devices[0].clone();
    let op = Operator::new();
    let mut args = add_args(&m);
    args.push("--trust-on-first-use".into());
    op.run(&strs(&args), Some(&format!("{}\n", m.password)))
        .ok();

    let first = op.run(&["backup", "run"], None).ok();
    assert!(
        first
            .stdout
            .contains(&format!("{}: stored snapshot", m.name)),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("1 devices: 1 changed, 0 unchanged, 0 failed"),
        "{}",
        first.stdout
    );
    let again = op
        .run(&["backup", "run", &m.name, "--output", "json"], None)
        .ok()
        .json();
    assert_eq!(again["summary"]["unchanged"], 1);

    // A change made on the router itself is a new snapshot, and drift.
    sims.device(&m.name).write_state(|s| {
        s.insert_raw(
            "/ip/dns/static",
            &[("name", "rogue.lan"), ("address", "10.6.6.6")],
        )
        .unwrap();
    });
    let changed = op.run(&["backup", "run", &m.name], None).ok();
    assert!(
        changed.stdout.contains("(outside; /ip dns static)"),
        "{}",
        changed.stdout
    );
    assert!(changed.stdout.contains("DRIFT since"), "{}", changed.stdout);

    let list = op
        .run(&["backup", "list", &m.name, "--output", "json"], None)
        .ok()
        .json();
    let snapshots = list["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 2);
    assert_eq!(snapshots[0]["cause"], "outside");
    assert_eq!(snapshots[1]["cause"], "baseline");
    let id = snapshots[0]["id"].as_str().unwrap();
    let shown = op.run(&["backup", "show", id], None).ok();
    assert!(shown.stdout.contains("name=rogue.lan"), "{}", shown.stdout);
    assert!(shown.stdout.contains("cause: outside"), "{}", shown.stdout);

    // A device that does not exist fails the run, with the others still backed up.
    let failed = op.run(&["backup", "run", &m.name, "no-such-router"], None);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stdout.contains("no-such-router: failed"),
        "{}",
        failed.stdout
    );
    assert!(
        failed
            .stdout
            .contains("2 devices: 0 changed, 1 unchanged, 1 failed"),
        "{}",
        failed.stdout
    );
    let missing = op.run(&["backup", "show", "nope"], None);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no backup \"nope\""),
        "{}",
        missing.stderr
    );
}

#[test]
fn binary_backups_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let sims = Sims::start(1, 6);
    let m = sims.manifest().devices[0].clone();
    let op = Operator::new();
    let mut args = add_args(&m);
    args.push("--trust-on-first-use".into());
    op.run(&strs(&args), Some(&format!("{}\n", m.password)))
        .ok();

    let run = op.run(&["backup", "run", "--binary", &m.name], None).ok();
    assert!(
        run.stdout
            .contains(&format!("{}: stored binary backup", m.name)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("1 devices: 1 binary backups stored, 0 failed"),
        "{}",
        run.stdout
    );
    let dev = sims.device(&m.name);
    assert!(
        dev.read_state(|s| s.file_list()).is_empty(),
        "left on the router"
    );

    let list = op
        .run(&["backup", "list", &m.name, "--output", "json"], None)
        .ok()
        .json();
    let binaries = list["binary_backups"].as_array().unwrap();
    assert_eq!(binaries.len(), 1);
    let id = binaries[0]["id"].as_str().unwrap().to_owned();
    let table = op.run(&["backup", "list", &m.name], None).ok();
    assert!(
        table.stdout.contains("KIND") && table.stdout.contains("binary"),
        "{}",
        table.stdout
    );

    let out = op.dir.path().join("r.backup");
    let fetched = op
        .run(
            &["backup", "fetch", &id, "--output", out.to_str().unwrap()],
            None,
        )
        .ok();
    let file = std::fs::read(&out).unwrap();
    let pw_path = op.dir.path().join("r.backup.password");
    let password = std::fs::read_to_string(&pw_path).unwrap();
    let password = password.trim();
    assert!(!fetched.stdout.contains(password) && !fetched.stderr.contains(password));
    for p in [&out, &pw_path] {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    assert!(dev.read_state(|s| routeros_sim::backup::is_backup_of(s, &file, Some(password))));

    // Never overwrites; another project's or a bogus id is refused.
    let again = op.run(
        &["backup", "fetch", &id, "--output", out.to_str().unwrap()],
        None,
    );
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("never overwritten"),
        "{}",
        again.stderr
    );
    let other = op.dir.path().join("o.backup");
    for (id, extra) in [(id.as_str(), Some("acme/lab")), ("nope", None)] {
        let mut a = vec!["backup", "fetch", id, "--output", other.to_str().unwrap()];
        if let Some(p) = extra {
            a.extend(["--project", p]);
        }
        let refused = op.run(&a, None);
        assert_ne!(refused.code, 0);
        assert!(refused.stderr.contains("no backup"), "{}", refused.stderr);
        assert!(!other.exists());
    }

    // An unknown device fails the run with exit status 1.
    let failed = op.run(&["backup", "run", "--binary", "no-such-router"], None);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stdout.contains("no-such-router: failed"),
        "{}",
        failed.stdout
    );
}
