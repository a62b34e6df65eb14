//! The SSH server of a simulated device: password authentication against the device's users,
//! interactive shells with a RouterOS console, exec requests, and SFTP of the device's files.

pub mod link;
pub mod login;
pub mod server;
pub mod sftp;
pub mod terminal;

pub use link::LinkState;
pub use server::{Gate, GateAction, SshHost, SshServer, run, serve};
