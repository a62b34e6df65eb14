//! A RouterOS 7 simulator: one process serving many simulated routers over REST and SSH.
//!
//! Layers, bottom up:
//! - [`model`]: the configuration tree, menu table, validation and RouterOS error wording —
//!   shared by every interface so REST and the console always agree;
//! - [`profiles`]: deterministic starting configurations (`home`, `switch48`, `edge`);
//! - [`clock`]: simulated time with a time-scale knob.

pub mod cli;
pub mod clock;
pub mod model;
pub mod profiles;
pub mod scheduler;
pub mod ssh;
