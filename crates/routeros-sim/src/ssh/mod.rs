//! The SSH server of a simulated device: password authentication against the device's users,
//! interactive shells with a RouterOS console, and exec requests.

pub mod login;
pub mod terminal;
