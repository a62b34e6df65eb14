//! One module per command group; `run` dispatches.

mod audit;
mod backup;
mod catalog;
mod check;
mod config;
mod device;
mod key;
mod plan;
mod review;
mod serve;
mod tenancy;
mod token;

use anyhow::Result;

use crate::cli::{Cli, Command, ConfigCommand, Output, OutputArgs, RunbookCommand};
use crate::context::Context;
use crate::output;

pub async fn run(cli: Cli) -> Result<()> {
    let serving = matches!(cli.command, Command::Serve(_));
    let ctx = Context::load(cli.config, serving)?;
    match cli.command {
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Catalog(cmd) => catalog::run(&ctx, cmd),
        Command::Device(cmd) => device::run(&ctx, cmd).await,
        Command::Org(cmd) => tenancy::org(&ctx, cmd).await,
        Command::Project(cmd) => tenancy::project(&ctx, cmd).await,
        Command::Migrate(args) => migrate(&ctx, args).await,
        Command::Check(args) => check::run(&ctx, args, check::Mode::Check, None).await,
        Command::Preflight(args) => {
            let transport = args.transport.map(Into::into);
            check::run(&ctx, args.output, check::Mode::Preflight, transport).await
        }
        Command::Key(cmd) => key::run(&ctx, cmd).await,
        Command::Config(ConfigCommand::Show(args)) => config::show(&ctx, args),
        Command::Audit(cmd) => audit::run(&ctx, cmd).await,
        Command::Plan(cmd) => plan::run(&ctx, cmd).await,
        Command::Backup(cmd) => backup::run(&ctx, cmd).await,
        Command::Token(cmd) => token::run(&ctx, cmd).await,
        Command::Runbook(RunbookCommand::Review(cmd)) => review::run(&ctx, cmd).await,
    }
}

async fn migrate(ctx: &Context, args: OutputArgs) -> Result<()> {
    let store = ctx.open_store().await?;
    let applied = store.migrate().await?;
    let current = store.applied_migrations().await?;
    let json = serde_json::json!({
        "backend": store.backend().as_str(),
        "applied_now": applied.iter().map(|(v, d)| serde_json::json!({"version": v, "description": d})).collect::<Vec<_>>(),
        "current_version": current.last().map(|(v, _)| *v),
    });
    match args.output {
        Output::Json => output::print_record(Output::Json, vec![], &json)?,
        Output::Table => {
            for (v, d) in &applied {
                println!("applied {v} {d}");
            }
            println!(
                "{} database is up to date at migration {}",
                store.backend().as_str(),
                current.last().map_or(0, |(v, _)| *v)
            );
        }
    }
    store.close().await;
    Ok(())
}
