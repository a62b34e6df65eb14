//! The operations document names only what exists. Every name it puts in code — a variable, a
//! command with its flags, a metric, an HTTP endpoint, a file — and every document it links to is
//! checked against the product: the settings table and the sources, `--help` of the real binary,
//! `/metrics` and the endpoints of a running server, the files of the repository and of a data
//! directory in use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use routeros_sim::profiles::Profile;
use serde_json::Value;

use crate::support::World;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The product's own files: what it reads and ships (sources, migrations, deploy artefacts).
fn product_text() -> String {
    let root = root();
    let mut text = String::new();
    let mut stack = vec![
        root.join("crates"),
        root.join("migrations"),
        root.join("systemd"),
        root.join("deploy"),
    ];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "tests" | "benches" | "node_modules" | "target") {
                    stack.push(path);
                }
            } else if let Ok(body) = std::fs::read_to_string(&path) {
                text.push_str(&body);
                text.push('\n');
            }
        }
    }
    if let Ok(body) = std::fs::read_to_string(root.join("docker-compose.yml")) {
        text.push_str(&body);
    }
    text
}

/// Inline code spans outside fenced blocks, and the lines of fenced blocks.
fn code(doc: &str) -> (Vec<String>, Vec<String>) {
    let mut spans = Vec::new();
    let mut fenced = Vec::new();
    let mut inside = false;
    let mut prose = String::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            fenced.push(line.to_owned());
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let re = regex_lite::Regex::new(r"`([^`\n]+)`").unwrap();
    for c in re.captures_iter(&prose.replace("`\n", "` \n")) {
        spans.push(c[1].to_owned());
    }
    // A span broken over two lines of prose.
    let broken = regex_lite::Regex::new(r"`([^`]+)`").unwrap();
    for c in broken.captures_iter(&prose) {
        if c[1].contains('\n') {
            spans.push(c[1].replace('\n', " "));
        }
    }
    (spans, fenced)
}

/// `MCP_ENABLE_TOOLS|RESOURCES|PROMPTS` → the three names; `MCP_ENV=prod` → `MCP_ENV`.
fn variables(span: &str) -> Vec<String> {
    let re =
        regex_lite::Regex::new(r"^([A-Z][A-Z0-9_]*[A-Z0-9*])((\|[A-Z0-9_]+)*)(=.*)?$").unwrap();
    let Some(c) = re.captures(span) else {
        return Vec::new();
    };
    let first = c[1].to_owned();
    let mut names = vec![first.clone()];
    let alternatives = c.get(2).map_or("", |m| m.as_str());
    if !alternatives.is_empty() {
        let stem = first.rsplit_once('_').map_or("", |(s, _)| s);
        for alt in alternatives.split('|').filter(|a| !a.is_empty()) {
            names.push(format!("{stem}_{alt}"));
        }
    }
    names
}

/// The commands of the document: `routeros-mcp …` spans and fenced lines, a fenced command's
/// continuation lines (ending `\` or indented) joined to it.
fn commands(spans: &[String], fenced: &[String]) -> Vec<String> {
    let mut out: Vec<String> = spans
        .iter()
        .filter(|s| s.starts_with("routeros-mcp "))
        .cloned()
        .collect();
    let mut current: Option<String> = None;
    for line in fenced {
        let trimmed = line.trim();
        let continues = current
            .as_ref()
            .is_some_and(|c| c.ends_with('\\') || line.starts_with(' '));
        if continues && !trimmed.is_empty() {
            if let Some(c) = current.as_mut() {
                *c = format!("{} {trimmed}", c.trim_end_matches('\\'));
            }
            continue;
        }
        if let Some(c) = current.take() {
            out.push(c);
        }
        let command = trimmed
            .split_once("routeros-mcp ")
            .filter(|(before, _)| before.is_empty() || before.ends_with(' '))
            .map(|(_, rest)| format!("routeros-mcp {rest}"));
        current = command;
    }
    out.extend(current);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operations_document_names_only_what_exists() {
    let doc = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    let (spans, fenced) = code(&doc);
    let product = product_text();
    let rows: BTreeSet<&str> = settings::table::ROWS.iter().map(|r| r.env).collect();
    let world = World::start(&[Profile::Home]).await;
    let server = world.http_server(&[]).await;
    let mut problems = Vec::new();
    let mut checked = BTreeSet::new();

    // Variables: a setting, or a name the product itself reads or sets.
    for span in &spans {
        for name in variables(span) {
            let known = match name.strip_suffix('*') {
                Some(prefix) => rows.iter().any(|r| r.starts_with(prefix)),
                None => rows.contains(name.as_str()) || product.contains(&name),
            };
            if !known {
                problems.push(format!(
                    "variable `{name}` (in `{span}`) is no setting and nothing reads it"
                ));
            }
            checked.insert(format!("variable {name}"));
        }
    }

    // Commands: the subcommand exists and takes every flag named.
    for command in commands(&spans, &fenced) {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let path: Vec<&str> = words
            .iter()
            .take_while(|w| {
                w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
            })
            .copied()
            .collect();
        let mut args = path.clone();
        args.push("--help");
        let help = world.cli(&args).await;
        let text = String::from_utf8_lossy(&help.stdout).to_string();
        if !help.status.success() {
            problems.push(format!(
                "command `{command}`: `routeros-mcp {}` does not exist",
                path.join(" ")
            ));
            continue;
        }
        let flag = regex_lite::Regex::new(r"--[a-z][a-z-]*").unwrap();
        for f in flag.find_iter(&command) {
            if !text.contains(f.as_str()) {
                problems.push(format!(
                    "command `{command}`: `routeros-mcp {}` has no {}",
                    path.join(" "),
                    f.as_str()
                ));
            }
        }
        checked.insert(format!("command {}", path.join(" ")));
    }

    // Metrics: every name with a metric family's prefix is a family the server exports.
    let (status, exported) = server.get("/metrics").await;
    assert_eq!(status, 200);
    let families: BTreeSet<&str> = exported
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let prefixes: BTreeSet<&str> = families
        .iter()
        .filter_map(|f| f.split('_').next())
        .collect();
    let metric = regex_lite::Regex::new(r"^([a-z][a-z0-9_]*\*?)(\{[a-z_,]*\})?$").unwrap();
    for span in &spans {
        let Some(c) = metric.captures(span) else {
            continue;
        };
        let name = &c[1];
        if !name.contains('_') || !prefixes.contains(name.split('_').next().unwrap_or("")) {
            continue;
        }
        let known = match name.strip_suffix('*') {
            Some(prefix) => families.iter().any(|f| f.starts_with(prefix)),
            None => families.contains(name),
        };
        if !known {
            problems.push(format!("metric `{span}` is not exported at /metrics"));
        }
        checked.insert(format!("metric {name}"));
    }

    // Endpoints: served (not 404); a templated admin path is in the OpenAPI document.
    let (_, openapi) = server.get("/v1/openapi.json").await;
    let openapi: Value = serde_json::from_str(&openapi).unwrap();
    for span in &spans {
        let path = span.strip_prefix("GET ").unwrap_or(span);
        let endpoint = [
            "/health",
            "/ready",
            "/metrics",
            "/v1",
            "/mcp",
            "/.well-known",
        ]
        .iter()
        .any(|p| path.starts_with(p));
        if !endpoint || path.contains(' ') {
            continue;
        }
        if path.contains('{') {
            if openapi["paths"].get(path).is_none() {
                problems.push(format!("endpoint `{path}` is not in /v1/openapi.json"));
            }
        } else {
            let (status, _) = server.get(path).await;
            if status == 404 {
                problems.push(format!("endpoint `{path}` answers 404"));
            }
        }
        checked.insert(format!("endpoint {path}"));
    }

    // Files: repository paths exist; data directory files exist in one in use; absolute paths
    // are the ones the deploy artefacts use.
    let data = world.dir.path().join("data");
    for span in &spans {
        if span.contains(' ') || span.starts_with('-') || span.contains("://") {
            continue;
        }
        let file = span.rsplit('/').next().unwrap_or(span);
        let in_data = file.ends_with(".sqlite") || file.ends_with(".key");
        if span.starts_with('/') && !span.starts_with("/v1") && !span.starts_with("/.well-known") {
            let endpoint = ["/health", "/ready", "/metrics", "/mcp"].contains(&span.as_str());
            if !endpoint && !product.contains(span.as_str()) && !in_data {
                problems.push(format!("path `{span}` is used by no deploy file"));
            }
            checked.insert(format!("path {span}"));
        } else if in_data {
            if !data.join(file).exists() {
                problems.push(format!("`{span}` is not in a data directory in use"));
            }
            checked.insert(format!("data file {file}"));
        } else if span.contains('/')
            && !span.starts_with('/')
            && span
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
            && (file.contains('.') || root().join(span.split('/').next().unwrap_or("")).exists())
        {
            if !root().join(span).exists() {
                problems.push(format!("file `{span}` is not in the repository"));
            }
            checked.insert(format!("file {span}"));
        }
    }

    // Links to other documents.
    let link = regex_lite::Regex::new(r"\]\(([^)#\s]+)(#[^)]*)?\)").unwrap();
    for c in link.captures_iter(&doc) {
        let target = &c[1];
        if target.starts_with("http") {
            continue;
        }
        if !root().join("docs").join(target).exists() {
            problems.push(format!("link to {target}, which does not exist"));
        }
        checked.insert(format!("link {target}"));
    }

    println!("checked {} names in docs/operations.md", checked.len());
    assert!(
        checked.len() > 60,
        "the extraction found too little: {checked:?}"
    );
    assert!(
        problems.is_empty(),
        "docs/operations.md names what does not exist:\n{}",
        problems.join("\n")
    );
    server.stop().await;
    world.stop().await;
}
