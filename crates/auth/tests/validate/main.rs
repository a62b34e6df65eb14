//! Black-box tests of token validation: against a real OpenID provider (oidc-provider under
//! node), against a loopback issuer whose key the test holds (for tokens no real provider
//! would sign), and of Cloudflare Access assertions.

#![allow(clippy::expect_used)]

mod cf_access;
mod forged;
mod login;
mod provider;
mod support;
