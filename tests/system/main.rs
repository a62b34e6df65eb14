//! System tests: the real `routeros-mcp` binary serving MCP over stdio and Streamable HTTP to a
//! real MCP client (rmcp's), in front of simulated routers (`routeros-sim`) registered in a real
//! database by the real CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apps;
mod auth;
mod budget;
mod cache;
mod console;
mod docs;
mod fleet;
mod jobs;
mod kill;
mod lifecycle;
mod load;
#[path = "../../crates/auth/tests/oidc/fixture.rs"]
mod oidc;
mod plans;
mod protocol;
mod review;
mod runbooks;
mod security;
mod security_http;
mod shutdown;
mod support;
mod systemd;
mod tools;
mod webhook;
