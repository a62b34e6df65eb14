//! `routeros-mcp org …` and `routeros-mcp project …`.

use anyhow::Result;
use serde_json::json;

use crate::cli::{OrgCommand, Output, ProjectCommand};
use crate::context::Context;
use crate::output;

pub async fn org(ctx: &Context, cmd: OrgCommand) -> Result<()> {
    let store = ctx.store().await?;
    match cmd {
        OrgCommand::Create { name, output: out } => {
            let org = store.create_org(&name, &ctx.audit()).await?;
            match out.output {
                Output::Json => output::print_record(Output::Json, vec![], &json!(org))?,
                Output::Table => println!(
                    "created organization {} with project {}/default",
                    org.name, org.name
                ),
            }
        }
        OrgCommand::List(out) => {
            let orgs = store.list_orgs().await?;
            let rows = orgs
                .iter()
                .map(|o| {
                    vec![
                        o.name.to_string(),
                        o.projects.to_string(),
                        o.created_at.clone(),
                    ]
                })
                .collect();
            output::print(
                out.output,
                &["NAME", "PROJECTS", "CREATED"],
                rows,
                &json!(orgs),
            )?;
        }
    }
    store.close().await;
    Ok(())
}

pub async fn project(ctx: &Context, cmd: ProjectCommand) -> Result<()> {
    let store = ctx.store().await?;
    match cmd {
        ProjectCommand::Create {
            project,
            output: out,
        } => {
            let p = store.create_project(&project, &ctx.audit()).await?;
            match out.output {
                Output::Json => output::print_record(Output::Json, vec![], &json!(p))?,
                Output::Table => println!("created project {}", p.reference()),
            }
        }
        ProjectCommand::List { org, output: out } => {
            let projects = store.list_projects(org.as_ref()).await?;
            let rows = projects
                .iter()
                .map(|p| {
                    vec![
                        p.reference().to_string(),
                        p.devices.to_string(),
                        p.created_at.clone(),
                    ]
                })
                .collect();
            output::print(
                out.output,
                &["PROJECT", "DEVICES", "CREATED"],
                rows,
                &json!(projects),
            )?;
        }
    }
    store.close().await;
    Ok(())
}
