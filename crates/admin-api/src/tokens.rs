//! Minting API tokens, shared by `routeros-mcp token create` and `POST /v1/tokens`: a token is
//! generated from the operating system's random source, shown once, and only its SHA-256 is
//! stored with the one role it grants, its project (or none: every project) and its expiry.

use auth::Role;
use domain::ProjectRef;
use store::{ApiToken, AuditContext, NewApiToken, Store, StoreError};

/// How long a minted token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    Never,
    For(chrono::Duration),
}

/// What a lifetime may be, for error messages.
pub const LIFETIME_RULE: &str = "a whole number with a unit, m (minutes), h (hours), d (days) or w (weeks), e.g. 30d, up to 5 years; or `never`";

impl std::str::FromStr for Lifetime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let problem = || {
            format!(
                "\"{}\" is not a lifetime: use {LIFETIME_RULE}",
                printable(text)
            )
        };
        if text == "never" {
            return Ok(Lifetime::Never);
        }
        if !text.is_ascii() || text.len() < 2 {
            return Err(problem());
        }
        let (number, unit) = text.split_at(text.len() - 1);
        let n: i64 = number.parse().map_err(|_| problem())?;
        let minutes = match unit {
            "m" => Some(n),
            "h" => n.checked_mul(60),
            "d" => n.checked_mul(60 * 24),
            "w" => n.checked_mul(60 * 24 * 7),
            _ => None,
        }
        .ok_or_else(problem)?;
        if minutes <= 0 || minutes > 5 * 366 * 24 * 60 {
            return Err(problem());
        }
        Ok(Lifetime::For(chrono::Duration::minutes(minutes)))
    }
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// Why a token was not minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token just minted: the secret (shown once) and its record.
#[derive(Debug)]
pub struct Minted {
    pub secret: auth::ApiTokenSecret,
    pub token: ApiToken,
}

/// Mints a token granting `role` in `project` (none: every project), recorded under `ctx`.
pub async fn mint(
    store: &Store,
    role: Role,
    project: Option<ProjectRef>,
    lifetime: Lifetime,
    name: &str,
    ctx: &AuditContext,
) -> Result<Minted, MintError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(MintError::Invalid(
            "the token's name must be 1 to 100 printable characters".into(),
        ));
    }
    let (secret, hash) = auth::ApiTokenSecret::generate()?;
    let expires_at = match lifetime {
        Lifetime::Never => None,
        Lifetime::For(d) => Some(
            (chrono::Utc::now() + d)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
        ),
    };
    let token = store
        .create_api_token(
            &NewApiToken {
                id: secret.id().to_owned(),
                name: name.to_owned(),
                role: role.as_str().to_owned(),
                project,
                token_hash: hash.to_hex(),
                expires_at,
            },
            ctx,
        )
        .await?;
    Ok(Minted { secret, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_a_number_and_a_unit_or_never() {
        assert_eq!("never".parse::<Lifetime>(), Ok(Lifetime::Never));
        assert_eq!(
            "30d".parse::<Lifetime>(),
            Ok(Lifetime::For(chrono::Duration::days(30)))
        );
        assert_eq!(
            "2w".parse::<Lifetime>(),
            Ok(Lifetime::For(chrono::Duration::weeks(2)))
        );
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "30",
            "30y",
            "9999999999w",
            "1.5d",
            "é1d",
            "30 d",
        ] {
            let e = bad.parse::<Lifetime>().unwrap_err();
            assert!(e.contains("is not a lifetime"), "{bad}: {e}");
        }
    }
}
