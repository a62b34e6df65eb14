//! A RouterOS 7 simulator: one process serving many simulated routers over REST and SSH.

pub mod cli;
pub mod ssh;
