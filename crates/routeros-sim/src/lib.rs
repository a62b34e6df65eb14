//! A RouterOS 7 simulator: one process serving many simulated routers over REST, SSH and the
//! RouterOS API.
//!
//! Layers, bottom up:
//! - [`model`]: the configuration tree, menu table, validation and RouterOS error wording —
//!   shared by every interface so REST and the console always agree;
//! - [`profiles`]: deterministic starting configurations (`home`, `switch48`, `edge`);
//! - [`clock`]: simulated time with a time-scale knob;
//! - [`faults`]: injected misbehaviour and the per-request decision every server calls;
//! - [`tls`]: device certificates and SSH host keys;
//! - [`fleet`]: devices ([`SimDevice`]) and fleets ([`Fleet`]) with their listeners;
//! - [`rest`]: the RouterOS REST API over HTTP and HTTPS;
//! - [`control`]: the loopback control API tests steer a fleet with;
//! - [`cli`]: the RouterOS console language, print formats and `/export`;
//! - [`ssh`]: the console over SSH;
//! - [`api`]: the RouterOS API protocol on 8728 and, over TLS, 8729;
//! - [`scheduler`]: `/system/scheduler` entries running on the simulated clock.
//!
//! In-process use:
//!
//! ```no_run
//! # async fn demo() -> Result<(), routeros_sim::SimError> {
//! use routeros_sim::{Fleet, FleetOptions, profiles::Profile};
//! let fleet = Fleet::start(FleetOptions {
//!     count: 3,
//!     profiles: vec![Profile::Home, Profile::Edge],
//!     seed: 7,
//!     ..FleetOptions::default()
//! })
//! .await?;
//! let manifest = fleet.manifest();
//! let dev = fleet.device("sim-0001").expect("three devices");
//! let before = dev.state_dump(false);
//! # let _ = (manifest, before);
//! fleet.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod control;
pub mod faults;
pub mod fleet;
pub mod model;
pub mod profiles;
pub mod rest;
pub mod scheduler;
pub mod ssh;
pub mod tls;

pub use faults::{FaultAction, Faults, RequestKind, Verdict};
pub use fleet::{
    CounterSnapshot, Fleet, FleetHandle, FleetOptions, Manifest, ManifestDevice, PathCut, Ports,
    RequestRecord, SimDevice, SimError, Transport,
};
