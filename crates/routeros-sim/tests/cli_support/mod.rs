//! A device for console tests without a network: a profile's configuration behind a lock, a
//! fixed clock (tests pause Tokio time so dates and uptime do not move), and the interpreter.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use chrono::TimeZone;
use routeros_sim::cli::{self, Globals, Session};
use routeros_sim::clock::SimClock;
use routeros_sim::model::RouterState;
use routeros_sim::profiles::{Profile, ProfileParams};

/// A device that lives only in memory.
pub struct TestDevice {
    pub state: RwLock<RouterState>,
    pub reboots: AtomicUsize,
    pub globals: Arc<Globals>,
}

impl cli::Device for TestDevice {
    fn read<R>(&self, f: impl FnOnce(&RouterState) -> R) -> R {
        f(&self.state.read().unwrap())
    }
    fn write<R>(&self, f: impl FnOnce(&mut RouterState) -> R) -> R {
        f(&mut self.state.write().unwrap())
    }
    fn reboot(&self) {
        self.reboots.fetch_add(1, Ordering::SeqCst);
    }
}

/// The simulated start time of every test device: 2025-03-24 14:13:48 UTC.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2025, 3, 24, 14, 13, 48)
        .single()
        .unwrap()
}

impl TestDevice {
    /// A device built from `profile` with seed 7 at 127.0.1.1.
    pub fn new(profile: Profile) -> Self {
        let params = ProfileParams::standalone(7, Ipv4Addr::new(127, 0, 1, 1), "secret-pass");
        let state = profile
            .build(&params, SimClock::starting_at(1.0, start_time()))
            .unwrap();
        TestDevice {
            state: RwLock::new(state),
            reboots: AtomicUsize::new(0),
            globals: Globals::new(),
        }
    }

    /// An admin console session (no confirmations: scripts and exec behave like this).
    pub fn session(&self) -> Session {
        Session::system("admin", self.globals.clone())
    }

    /// Runs `src` and returns what the console shows (output, then the error line).
    pub fn run(&self, session: &mut Session, src: &str) -> String {
        cli::run(self, session, src).console_text()
    }

    /// Runs `src` in a fresh admin session.
    pub fn run1(&self, src: &str) -> String {
        let mut s = self.session();
        self.run(&mut s, src)
    }
}
