//! Who is calling, proven, and what they may do.
//!
//! The Streamable HTTP transport hands this crate an incoming request's headers and gets back
//! either a verified [`Principal`] or a [`Refusal`] that already knows its HTTP status, its
//! RFC 6750 error code and its `WWW-Authenticate` challenge. Three ways of proving who is
//! calling are provided:
//!
//! - [`OidcValidator`]: JWT access tokens from an OpenID provider, found through discovery,
//!   verified against the provider's published keys (refetched when an unknown key id appears,
//!   at most once per floor interval), with roles read from a configurable claim.
//! - [`ApiTokenSecret`] / [`TokenHash`]: the format and hashing of long-lived API tokens the
//!   server mints itself (storing and revoking them is the server's business).
//! - [`OidcLogin`]: the authorization code flow with PKCE that signs a person in to the web
//!   console, its ID token verified like an access token (audience: the console's client id).
//! - [`CfAccessValidator`]: the `Cf-Access-Jwt-Assertion` header Cloudflare Access adds in front
//!   of a tunnel.
//!
//! Roles ([`Role`]) and where they apply ([`Scope`]) are the product's RBAC vocabulary; the
//! MCP layer asks the principal `has(role, project)` before a call and `projects(role)` to
//! filter lists. [`protected_resource_metadata`] builds the RFC 9728 document the MCP
//! authorization specification asks a protected resource to publish.
//!
//! Nothing here logs or returns token material: refusals describe what was wrong with a token
//! without quoting it, and every type holding a secret has a redacting `Debug`.

mod api_token;
mod cf_access;
mod claims;
mod error;
mod fetch;
mod jwks;
mod jwt;
mod login;
mod metadata;
mod oidc;
mod principal;
mod refusal;
mod role;

pub use api_token::{API_TOKEN_PREFIX, ApiTokenSecret, TokenHash, constant_time_eq};
pub use cf_access::{CF_ACCESS_HEADER, CfAccessValidator};
pub use claims::{parse_grant, roles_from_claims};
pub use error::AuthError;
pub use fetch::LOOPBACK_HTTP_RULE;
pub use login::{LoginError, LoginStart, OidcLogin, pkce_challenge, random_token};
pub use metadata::{PROTECTED_RESOURCE_METADATA_PATH, protected_resource_metadata};
pub use oidc::{OidcConfig, OidcValidator};
pub use principal::{Principal, PrincipalKind, ProjectSet};
pub use refusal::{BearerError, FailureReason, Refusal, bearer_from_headers};
pub use reqwest::Url;
pub use role::{Grant, Role, Scope, UnknownRole};
