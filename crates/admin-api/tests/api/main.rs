//! The admin API (and the runbook review queue beside it) driven through its router, as the server mounts it: real SQLite registries,
//! simulated routers on loopback addresses, principals inserted the way the server's
//! authentication middleware inserts them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod input;
mod openapi;
mod probes;
mod rbac;
mod review;
mod routes;
mod secrets;
mod support;
mod tenancy;
