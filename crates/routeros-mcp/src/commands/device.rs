//! `routeros-mcp device …`: register, list, show, update, decommission, rotate credentials.

use anyhow::Result;
use domain::DeviceId;
use serde_json::json;
use store::{Device, DeviceFilter, DevicePatch, NewDevice};

use std::os::unix::fs::PermissionsExt;

use anyhow::Context as _;
use fleet::import::{ImportDefaults, parse_file};
use fleet::{Onboarded, ProbeSummary, TrustMode};
use futures::StreamExt;

use crate::UsageError;
use crate::cli::{
    DeviceAdd, DeviceCommand, DeviceImport, DeviceList, DeviceRef, DeviceRotate, DeviceTest,
    DeviceUpdate, FlagSetting, Output,
};
use crate::context::Context;
use crate::output::{self, or_dash};
use crate::secrets::{read_password, read_password_from};

pub async fn run(ctx: &Context, cmd: DeviceCommand) -> Result<()> {
    match cmd {
        DeviceCommand::Add(args) => add(ctx, args).await,
        DeviceCommand::List(args) => list(ctx, args).await,
        DeviceCommand::Show(args) => show(ctx, args).await,
        DeviceCommand::Update(args) => update(ctx, args).await,
        DeviceCommand::Decommission(args) => decommission(ctx, args).await,
        DeviceCommand::RotateCredentials(args) => rotate(ctx, args).await,
        DeviceCommand::Test(args) => test(ctx, args).await,
        DeviceCommand::Import(args) => import(ctx, args).await,
    }
}

/// Said when a device is registered without an environment. A device never inherits the
/// server's environment: `lab` relaxes approvals, so it must be asked for by name.
const UNSAID_ENVIRONMENT: &str = "note: no environment given: recorded as prod (the restrictive default: no auto-approval, no approval from an MCP client); pass --env lab or --env staging to relax it";

async fn add(ctx: &Context, args: DeviceAdd) -> Result<()> {
    // Read the secret before touching anything, so a bad source changes nothing.
    let password = read_password(&args.password)?;
    if args.username.trim().is_empty() {
        return Err(UsageError("--username must not be empty".into()).into());
    }
    let environment = args.environment.unwrap_or_else(|| {
        eprintln!("{UNSAID_ENVIRONMENT}");
        domain::Environment::Prod
    });
    if args.insecure_http && environment == domain::Environment::Prod {
        return Err(UsageError(format!(
            "--insecure-http is refused for device {} because its environment is prod: REST must use HTTPS",
            args.name
        ))
        .into());
    }
    let contact = args.trust.trust_on_first_use
        || args.trust.tls_fingerprint.is_some()
        || args.trust.ssh_host_key.is_some()
        || args.insecure_http;
    let new = NewDevice {
        id: DeviceId::new(),
        project: args.project.project,
        name: args.name,
        address: args.address,
        rest_port: args.rest_port,
        ssh_port: args.ssh_port,
        http_port: args.insecure_http.then_some(args.http_port),
        insecure_http: args.insecure_http,
        driver: args.driver,
        environment,
        tags: args.tags,
        username: args.username,
        password,
        tls_cert_sha256: args.trust.tls_fingerprint.map(|f| f.hex()),
        ssh_host_key_sha256: args.trust.ssh_host_key.map(|f| f.hex()),
        facts: None,
    };
    let format = args.output.output;
    if !contact {
        let store = ctx.store().await?;
        let key = ctx.master_key()?;
        let device = store.add_device(&new, &key.key, &ctx.audit()).await?;
        if matches!(format, Output::Table) {
            println!(
                "added device {} ({}) in {}",
                device.name, device.id, device.project
            );
            println!(
                "note: not contacted; its certificate and host key are not pinned yet, so it will \
                 not be used until `routeros-mcp device test {} --trust-on-first-use` pins them",
                device.name
            );
        }
        print_device(format, &device)?;
        store.close().await;
        return Ok(());
    }
    let fleet = ctx.fleet().await?;
    let trust = if args.trust.trust_on_first_use {
        TrustMode::FirstUseWhereUnpinned
    } else {
        TrustMode::Registry
    };
    let result = fleet.onboard(new, trust, &ctx.audit()).await;
    fleet.store().close().await;
    match result {
        Ok(onboarded) => {
            if matches!(format, Output::Table) {
                print_probes(&onboarded.probes);
                println!(
                    "added device {} ({}) in {}",
                    onboarded.device.name, onboarded.device.id, onboarded.device.project
                );
            }
            print_onboarded(format, &onboarded)
        }
        Err(e) => {
            if matches!(format, Output::Table) {
                print_probes(&e.probes);
            } else {
                output::print_record(
                    Output::Json,
                    vec![],
                    &json!({ "error": e.reason, "probes": e.probes }),
                )?;
            }
            Err(anyhow::anyhow!("{}; nothing was added", e.reason))
        }
    }
}

/// What each driver found. Identity, version, board and errors come from the router: printed with
/// control characters made visible.
fn print_probes(probes: &[ProbeSummary]) {
    let shown = |v: Option<&str>| domain::text::escape(v.unwrap_or("?")).into_owned();
    for p in probes {
        if p.reachable {
            println!(
                "{:>5}: reachable, identity {}, RouterOS {}, {} {}, {:.1} ms{}",
                p.driver,
                shown(p.identity.as_deref()),
                shown(p.version.as_deref()),
                shown(p.board.as_deref()),
                shown(p.architecture.as_deref()),
                p.rtt_ms.unwrap_or_default(),
                p.presented
                    .as_ref()
                    .map(|f| format!(
                        ", presented {}",
                        if p.driver == "rest" {
                            format!("certificate sha256 {f}")
                        } else {
                            format!("host key {f}")
                        }
                    ))
                    .unwrap_or_default()
            );
        } else {
            println!(
                "{:>5}: NOT reachable: {}",
                p.driver,
                domain::text::escape(p.error.as_deref().unwrap_or("unknown error"))
            );
        }
    }
}

fn print_onboarded(format: Output, o: &Onboarded) -> Result<()> {
    match format {
        Output::Json => output::print_record(
            Output::Json,
            vec![],
            &json!({ "device": o.device, "probes": o.probes }),
        ),
        Output::Table => print_device(Output::Table, &o.device),
    }
}

async fn test(ctx: &Context, args: DeviceTest) -> Result<()> {
    let fleet = ctx.fleet().await?;
    let device = fleet
        .store()
        .find_device(args.device.project.as_ref(), &args.device.name)
        .await?;
    let trust = if args.trust_on_first_use {
        TrustMode::FirstUseWhereUnpinned
    } else {
        TrustMode::Registry
    };
    let tested = fleet.test(&device, trust, &ctx.audit()).await;
    fleet.store().close().await;
    let tested = tested?;
    match args.device.output.output {
        Output::Json => print_onboarded(Output::Json, &tested)?,
        Output::Table => print_probes(&tested.probes),
    }
    if tested.probes.iter().any(|p| p.reachable) {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "device {} is not reachable through any driver",
            device.name
        ))
    }
}

async fn import(ctx: &Context, args: DeviceImport) -> Result<()> {
    let meta = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        eprintln!(
            "warning: {} is readable by other users and holds device passwords; chmod 600 it",
            args.file.display()
        );
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let entries =
        parse_file(&text).map_err(|e| UsageError(format!("{}: {e}", args.file.display())))?;
    let defaults = ImportDefaults {
        project: args.project,
        environment: args.environment.unwrap_or_else(|| {
            if entries
                .iter()
                .any(|e| e.as_ref().is_ok_and(|e| e.env.is_none()))
            {
                eprintln!("{UNSAID_ENVIRONMENT}");
            }
            domain::Environment::Prod
        }),
    };
    let fleet = ctx.fleet().await?;
    let trust = if args.trust_on_first_use {
        TrustMode::FirstUseWhereUnpinned
    } else {
        TrustMode::Registry
    };
    let total = entries.len();
    let audit = ctx.audit();
    let results: Vec<serde_json::Value> = futures::stream::iter(entries.into_iter().enumerate())
        .map(|(i, entry)| {
            let fleet = fleet.clone();
            let defaults = defaults.clone();
            let audit = audit.clone();
            async move {
                let label = match &entry {
                    Ok(e) => e.name.clone(),
                    Err(_) => format!("entry {}", i + 1),
                };
                let outcome = match entry.and_then(|e| e.to_new_device(&defaults)) {
                    Err(problem) => Err((problem, Vec::new())),
                    Ok(new) => fleet
                        .onboard(new, trust, &audit)
                        .await
                        .map_err(|e| (e.reason, e.probes)),
                };
                (label, outcome)
            }
        })
        .buffer_unordered(usize::from(args.concurrency))
        .map(|(label, outcome)| match &outcome {
            Ok(o) => {
                if matches!(args.output.output, Output::Table) {
                    let p = o.probes.iter().find(|p| p.reachable);
                    println!(
                        "ok      {}: RouterOS {} on {} ({} via {})",
                        domain::text::escape(&label),
                        domain::text::escape(p.and_then(|p| p.version.as_deref()).unwrap_or("?")),
                        domain::text::escape(p.and_then(|p| p.board.as_deref()).unwrap_or("?")),
                        o.device.address,
                        o.probes
                            .iter()
                            .filter(|p| p.reachable)
                            .map(|p| p.driver)
                            .collect::<Vec<_>>()
                            .join("+")
                    );
                }
                json!({ "name": label, "ok": true, "id": o.device.id, "probes": o.probes })
            }
            Err((reason, probes)) => {
                if matches!(args.output.output, Output::Table) {
                    println!(
                        "FAILED  {}: {}",
                        domain::text::escape(&label),
                        domain::text::escape(reason)
                    );
                }
                json!({ "name": label, "ok": false, "error": reason, "probes": probes })
            }
        })
        .collect()
        .await;
    fleet.store().close().await;
    let failed = results.iter().filter(|r| r["ok"] == false).count();
    match args.output.output {
        Output::Json => output::print_record(
            Output::Json,
            vec![],
            &json!({ "imported": total - failed, "failed": failed, "devices": results }),
        )?,
        Output::Table => println!(
            "imported {} of {total} devices; {failed} failed",
            total - failed
        ),
    }
    if failed > 0 {
        return Err(anyhow::anyhow!(
            "{failed} of {total} devices were not imported"
        ));
    }
    Ok(())
}

async fn list(ctx: &Context, args: DeviceList) -> Result<()> {
    let store = ctx.store().await?;
    let devices = store
        .list_devices(&DeviceFilter {
            project: args.project,
            environment: args.environment,
            status: args.status,
            tags: args.tags,
            include_decommissioned: args.all,
        })
        .await?;
    let rows = devices
        .iter()
        .map(|d| {
            vec![
                d.name.to_string(),
                d.project.to_string(),
                format!("{}", d.address),
                d.driver.to_string(),
                d.environment.to_string(),
                d.status.to_string(),
                or_dash(d.routeros_version.as_deref()),
                tags_text(d),
                d.id.to_string(),
            ]
        })
        .collect();
    output::print(
        args.output.output,
        &[
            "NAME", "PROJECT", "ADDRESS", "DRIVER", "ENV", "STATUS", "VERSION", "TAGS", "ID",
        ],
        rows,
        &json!(devices),
    )?;
    store.close().await;
    Ok(())
}

async fn show(ctx: &Context, args: DeviceRef) -> Result<()> {
    let store = ctx.store().await?;
    let device = store.find_device(args.project.as_ref(), &args.name).await?;
    print_device(args.output.output, &device)?;
    store.close().await;
    Ok(())
}

async fn update(ctx: &Context, args: DeviceUpdate) -> Result<()> {
    if let Some(status) = args.status
        && status == domain::DeviceStatus::Decommissioned
    {
        return Err(UsageError(
            "--status accepts active or inactive; use `routeros-mcp device decommission` to retire a device".into(),
        )
        .into());
    }
    let pins = (
        args.tls_fingerprint.map(|f| f.hex()),
        args.ssh_host_key.map(|f| f.hex()),
    );
    let patch = DevicePatch {
        name: args.rename,
        address: args.address,
        rest_port: args.rest_port,
        ssh_port: args.ssh_port,
        http_port: args.http_port,
        insecure_http: args.insecure_http,
        driver: args.driver,
        environment: args.environment,
        status: args.status,
        set_tags: args.tags,
        remove_tags: args.remove_tags,
        allow_basic_writes: args.allow_basic_writes.map(FlagSetting::stored),
        allow_professional_workflows: args.allow_professional_workflows.map(FlagSetting::stored),
    };
    if patch.is_empty() && pins.0.is_none() && pins.1.is_none() {
        return Err(UsageError(
            "nothing to update: give at least one of --rename, --address, --rest-port, --ssh-port, \
             --http-port, --insecure-http, --driver, --env, --status, --tag, --remove-tag, \
             --tls-fingerprint, --ssh-host-key, --allow-basic-writes, --allow-professional-workflows"
                .into(),
        )
        .into());
    }
    let store = ctx.store().await?;
    let device = store
        .find_device(args.device.project.as_ref(), &args.device.name)
        .await?;
    let environment = patch.environment.unwrap_or(device.environment);
    if patch.insecure_http.unwrap_or(device.insecure_http)
        && environment == domain::Environment::Prod
    {
        return Err(UsageError(format!(
            "plain HTTP is refused for device {} in prod: REST must use HTTPS",
            device.name
        ))
        .into());
    }
    let audit = ctx.audit();
    let mut updated = if patch.is_empty() {
        device.clone()
    } else {
        store.update_device(&device.id, &patch, &audit).await?
    };
    if pins.0.is_some() || pins.1.is_some() {
        updated = store
            .set_pins(&device.id, pins.0.as_deref(), pins.1.as_deref(), &audit)
            .await?;
    }
    print_device(args.device.output.output, &updated)?;
    store.close().await;
    Ok(())
}

async fn decommission(ctx: &Context, args: DeviceRef) -> Result<()> {
    let store = ctx.store().await?;
    let device = store.find_device(args.project.as_ref(), &args.name).await?;
    let gone = store.decommission_device(&device.id, &ctx.audit()).await?;
    if matches!(args.output.output, Output::Table) {
        println!(
            "decommissioned {} ({}): it will not be contacted again; its stored credentials were \
             wiped and its audit history is kept",
            gone.name, gone.id
        );
    } else {
        print_device(Output::Json, &gone)?;
    }
    store.close().await;
    Ok(())
}

async fn rotate(ctx: &Context, args: DeviceRotate) -> Result<()> {
    if args.on_device {
        return rotate_on_device(ctx, args).await;
    }
    let password = read_password_from(args.password_stdin, args.password_env.as_deref())?;
    let store = ctx.store().await?;
    let key = ctx.master_key()?;
    let device = store
        .find_device(args.device.project.as_ref(), &args.device.name)
        .await?;
    let creds = store
        .rotate_credentials(
            &device.id,
            args.username.as_deref(),
            &password,
            &key.key,
            &ctx.audit(),
        )
        .await?;
    let json = json!({ "device": device.name, "id": device.id, "username": creds.username, "credential_version": creds.version });
    match args.device.output.output {
        Output::Json => output::print_record(Output::Json, vec![], &json)?,
        Output::Table => println!(
            "stored credential version {} for {} (user {})",
            creds.version, device.name, creds.username
        ),
    }
    store.close().await;
    Ok(())
}

async fn rotate_on_device(ctx: &Context, args: DeviceRotate) -> Result<()> {
    let fleet = ctx.fleet().await?;
    let device = fleet
        .store()
        .find_device(args.device.project.as_ref(), &args.device.name)
        .await?;
    let outcome = fleet.rotate_on_device(&device, &ctx.audit()).await;
    fleet.store().close().await;
    let outcome = outcome?;
    let json = json!({
        "device": device.name,
        "old_username": outcome.old_username,
        "new_username": outcome.new_username,
        "credential_version": outcome.credential_version,
        "old_user_disabled": outcome.old_user_disabled.is_ok(),
        "warning": outcome.old_user_disabled.as_ref().err().map(ToString::to_string),
    });
    match args.device.output.output {
        Output::Json => output::print_record(Output::Json, vec![], &json)?,
        Output::Table => {
            println!(
                "{}: now using user {} (credential version {}); old user {} {}",
                device.name,
                outcome.new_username,
                outcome.credential_version,
                outcome.old_username,
                if outcome.old_user_disabled.is_ok() {
                    "disabled"
                } else {
                    "NOT disabled"
                }
            );
        }
    }
    if let Err(e) = &outcome.old_user_disabled {
        eprintln!(
            "warning: the old user {} is still enabled on {} ({e}); disable it on the device",
            outcome.old_username, device.name
        );
    }
    Ok(())
}

fn tags_text(d: &Device) -> String {
    if d.tags.is_empty() {
        return "-".into();
    }
    d.tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn print_device(format: Output, d: &Device) -> Result<()> {
    output::print_record(
        format,
        vec![
            ("name", d.name.to_string()),
            ("id", d.id.to_string()),
            ("project", d.project.to_string()),
            ("address", d.address.to_string()),
            ("rest port", d.rest_port.to_string()),
            ("ssh port", d.ssh_port.to_string()),
            (
                "http",
                if d.insecure_http {
                    format!(
                        "plain HTTP on port {}",
                        d.http_port.map_or(80, domain::Port::get)
                    )
                } else {
                    "HTTPS only".into()
                },
            ),
            ("driver", d.driver.to_string()),
            ("environment", d.environment.to_string()),
            ("status", d.status.to_string()),
            ("tags", tags_text(d)),
            ("username", or_dash(d.username.as_deref())),
            (
                "credential version",
                d.credential_version.map_or("-".into(), |v| v.to_string()),
            ),
            ("routeros version", or_dash(d.routeros_version.as_deref())),
            ("board", or_dash(d.board.as_deref())),
            ("architecture", or_dash(d.architecture.as_deref())),
            ("identity", or_dash(d.identity.as_deref())),
            (
                "tls certificate sha256",
                or_dash(d.tls_cert_sha256.as_deref()),
            ),
            (
                "ssh host key sha256",
                or_dash(d.ssh_host_key_sha256.as_deref()),
            ),
            ("created", d.created_at.clone()),
            ("updated", d.updated_at.clone()),
            ("last seen", or_dash(d.last_seen_at.as_deref())),
            ("decommissioned", or_dash(d.decommissioned_at.as_deref())),
        ],
        &json!(d),
    )
}
