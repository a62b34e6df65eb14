//! The RouterOS API protocol (`api` on 8728, `api-ssl` over TLS on 8729) of one device.
//!
//! - [`codec`]: words and sentences on the wire, with caps on what a peer may send;
//! - [`sentence`]: what a command sentence means and RouterOS's reply sentences — a command
//!   runs through the same code as the REST request that does the same thing, so the API,
//!   REST and the console always agree;
//! - [`server`]: listeners, login, the command queue, `/cancel`, `/quit`, faults and limits.

pub mod codec;
pub mod sentence;
pub mod server;

use std::time::Duration;

pub use server::serve;

/// What an API peer may send, and how long it may take. The defaults are generous for real
/// clients and small enough that a hostile peer holds little: a connection that does not log in
/// within a minute, or stalls in the middle of a sentence, is closed with `!fatal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest word after login, bytes.
    pub max_word_len: usize,
    /// Most words in one sentence after login.
    pub max_words: usize,
    /// Largest word before login, bytes (a login sentence is short).
    pub login_max_word_len: usize,
    /// Most words in one sentence before login.
    pub login_max_words: usize,
    /// Most sentences read before login; the next closes the connection.
    pub login_sentences: usize,
    /// Failed logins allowed on one connection; the last one closes it.
    pub login_attempts: usize,
    /// Time from connecting to a successful login.
    pub login_timeout: Duration,
    /// Time to receive a sentence once its first byte arrived, and to write a reply.
    pub transfer_timeout: Duration,
    /// Commands queued behind the running ones before reading pauses.
    pub queued_commands: usize,
    /// Commands of one connection that run at once (RouterOS runs tagged commands side by
    /// side); the next waits for one to finish.
    pub concurrent_commands: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_word_len: 64 * 1024,
            max_words: 4096,
            login_max_word_len: 4096,
            login_max_words: 16,
            login_sentences: 16,
            login_attempts: 3,
            login_timeout: Duration::from_secs(60),
            transfer_timeout: Duration::from_secs(30),
            queued_commands: 64,
            concurrent_commands: 8,
        }
    }
}

impl ApiLimits {
    /// Checks that every limit lets a client through; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let mut zero = Vec::new();
        for (name, value) in [
            ("max_word_len", self.max_word_len),
            ("max_words", self.max_words),
            ("login_max_word_len", self.login_max_word_len),
            ("login_max_words", self.login_max_words),
            ("login_sentences", self.login_sentences),
            ("login_attempts", self.login_attempts),
            ("queued_commands", self.queued_commands),
            ("concurrent_commands", self.concurrent_commands),
        ] {
            if value == 0 {
                zero.push(name);
            }
        }
        if self.login_timeout.is_zero() {
            zero.push("login_timeout");
        }
        if self.transfer_timeout.is_zero() {
            zero.push("transfer_timeout");
        }
        if zero.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "API limits must be above zero: {}",
                zero.join(", ")
            ))
        }
    }
}
