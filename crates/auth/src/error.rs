//! Errors of setting up verification (discovery, configuration, randomness).
//!
//! A request's own failure is a [`crate::Refusal`], not one of these. URLs quoted here never
//! carry credentials: any URL with a user name or password is refused before it is used.

/// Setting up a validator or minting a token failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A URL breaks the transport rule ([`crate::LOOPBACK_HTTP_RULE`]) or carries credentials.
    #[error("{what} {url} is not allowed: {rule}")]
    InsecureUrl {
        what: &'static str,
        url: String,
        rule: &'static str,
    },
    /// A document could not be fetched or read.
    #[error("could not fetch {what} from {url}: {detail}")]
    Fetch {
        what: &'static str,
        url: String,
        detail: String,
    },
    /// The discovery document names another issuer than the configured one.
    #[error(
        "the provider at {url} says its issuer is \"{advertised}\" but the configured issuer is \
         \"{configured}\"; they must be identical (check OIDC_ISSUER, including any trailing slash)"
    )]
    IssuerMismatch {
        url: String,
        configured: String,
        advertised: String,
    },
    /// A configuration value is unusable.
    #[error("invalid {what}: {detail}")]
    InvalidConfig { what: &'static str, detail: String },
    /// The HTTP client could not be built.
    #[error("HTTP client setup failed: {0}")]
    Client(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
}
