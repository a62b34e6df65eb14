//! `routeros-mcp device …`: register, list, show, update, decommission, rotate credentials.

use anyhow::Result;
use domain::DeviceId;
use serde_json::json;
use store::{Device, DeviceFilter, DevicePatch, NewDevice};

use crate::UsageError;
use crate::cli::{
    DeviceAdd, DeviceCommand, DeviceList, DeviceRef, DeviceRotate, DeviceUpdate, Output,
};
use crate::context::Context;
use crate::output::{self, or_dash};
use crate::secrets::read_password;

pub async fn run(ctx: &Context, cmd: DeviceCommand) -> Result<()> {
    match cmd {
        DeviceCommand::Add(args) => add(ctx, args).await,
        DeviceCommand::List(args) => list(ctx, args).await,
        DeviceCommand::Show(args) => show(ctx, args).await,
        DeviceCommand::Update(args) => update(ctx, args).await,
        DeviceCommand::Decommission(args) => decommission(ctx, args).await,
        DeviceCommand::RotateCredentials(args) => rotate(ctx, args).await,
    }
}

async fn add(ctx: &Context, args: DeviceAdd) -> Result<()> {
    // Read the secret before touching anything, so a bad source changes nothing.
    let password = read_password(&args.password)?;
    if args.username.trim().is_empty() {
        return Err(UsageError("--username must not be empty".into()).into());
    }
    let store = ctx.store().await?;
    let key = ctx.master_key()?;
    let device = store
        .add_device(
            &NewDevice {
                id: DeviceId::new(),
                project: args.project.project,
                name: args.name,
                address: args.address,
                rest_port: args.rest_port,
                ssh_port: args.ssh_port,
                http_port: None,
                insecure_http: false,
                driver: args.driver,
                environment: args.environment.unwrap_or(ctx.settings().environment),
                tags: args.tags,
                username: args.username,
                password,
                tls_cert_sha256: None,
                ssh_host_key_sha256: None,
                facts: None,
            },
            &key.key,
            &ctx.audit(),
        )
        .await?;
    if matches!(args.output.output, Output::Table) {
        println!(
            "added device {} ({}) in {}",
            device.name, device.id, device.project
        );
    }
    print_device(args.output.output, &device)?;
    store.close().await;
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
    let patch = DevicePatch {
        name: args.rename,
        address: args.address,
        rest_port: args.rest_port,
        ssh_port: args.ssh_port,
        http_port: None,
        insecure_http: None,
        driver: args.driver,
        environment: args.environment,
        status: args.status,
        set_tags: args.tags,
        remove_tags: args.remove_tags,
    };
    if patch.is_empty() {
        return Err(UsageError(
            "nothing to update: give at least one of --rename, --address, --rest-port, --ssh-port, \
             --driver, --env, --status, --tag, --remove-tag"
                .into(),
        )
        .into());
    }
    let store = ctx.store().await?;
    let device = store
        .find_device(args.device.project.as_ref(), &args.device.name)
        .await?;
    let updated = store
        .update_device(&device.id, &patch, &ctx.audit())
        .await?;
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
    let password = read_password(&args.password)?;
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
            ("decommissioned", or_dash(d.decommissioned_at.as_deref())),
        ],
        &json!(d),
    )
}
