//! `routeros-mcp token …`: mint, list and revoke API tokens. A token is printed once, when it is
//! minted; the registry keeps only its SHA-256.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Output, TokenCommand, TokenCreate};
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, cmd: TokenCommand) -> Result<()> {
    let store = ctx.store().await?;
    let outcome = match cmd {
        TokenCommand::Create(args) => create(ctx, &store, args).await,
        TokenCommand::List(out) => list(&store, out.output).await,
        TokenCommand::Revoke { id, output: out } => {
            match store.revoke_api_token(&id, &ctx.audit()).await {
                Ok(t) => match out.output {
                    Output::Json => output::print_record(Output::Json, vec![], &json!(t)),
                    Output::Table => {
                        println!("revoked token {} ({})", t.id, t.name);
                        Ok(())
                    }
                },
                Err(e) => Err(e.into()),
            }
        }
    };
    store.close().await;
    outcome
}

async fn create(ctx: &Context, store: &store::Store, args: TokenCreate) -> Result<()> {
    let minted = admin_api::tokens::mint(
        store,
        args.role,
        args.project.clone(),
        args.expires,
        &args.name,
        &ctx.audit(),
    )
    .await
    .map_err(|e| match e {
        admin_api::tokens::MintError::Invalid(m) => {
            anyhow::Error::new(crate::UsageError(format!("--name: {m}")))
        }
        other => other.into(),
    })?;
    let (secret, token) = (minted.secret, minted.token);
    match args.output.output {
        Output::Json => output::print_record(
            Output::Json,
            vec![],
            &json!({
                "token": secret.expose(),
                "id": token.id,
                "name": token.name,
                "role": token.role,
                "project": token.project.as_ref().map(ToString::to_string),
                "expires_at": token.expires_at,
            }),
        )?,
        Output::Table => {
            println!("{}", secret.expose());
            eprintln!(
                "token {} ({}): role {} in {}, {}. It is shown only now; clients send it as \
                 `Authorization: Bearer <token>`.",
                token.id,
                token.name,
                token.role,
                token
                    .project
                    .as_ref()
                    .map_or_else(|| "every project".to_owned(), |p| format!("project {p}")),
                token
                    .expires_at
                    .as_deref()
                    .map_or_else(|| "never expires".to_owned(), |e| format!("expires {e}")),
            );
        }
    }
    Ok(())
}

async fn list(store: &store::Store, format: Output) -> Result<()> {
    let tokens = store.list_api_tokens().await?;
    let now = store::time::now();
    let rows = tokens
        .iter()
        .map(|t| {
            let state = if t.revoked_at.is_some() {
                "revoked"
            } else if !t.is_live(&now) {
                "expired"
            } else {
                "active"
            };
            vec![
                t.id.clone(),
                t.name.clone(),
                t.role.clone(),
                t.project
                    .as_ref()
                    .map_or_else(|| "*".to_owned(), ToString::to_string),
                state.to_owned(),
                t.expires_at.clone().unwrap_or_else(|| "never".into()),
                t.last_used_at.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    output::print(
        format,
        &[
            "ID",
            "NAME",
            "ROLE",
            "PROJECT",
            "STATE",
            "EXPIRES",
            "LAST USED",
        ],
        rows,
        &json!(tokens),
    )
}
