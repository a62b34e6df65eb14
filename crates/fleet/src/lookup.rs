//! Resolved devices kept in memory while the registry proves them current.
//!
//! Every tool call names a device. Resolving it from the registry costs two queries (the device,
//! then its current credentials) and a decryption; [`Lookups`] keeps the answer and, on the next
//! call, reads only the registry's generation (`Store::registry_generation`, a counter that
//! database triggers move with every change to a device, its credentials, its project or its
//! organization). An entry is served only while the generation is exactly the one read before
//! the entry was fetched, so a decommissioned device is never contacted and a rotated credential
//! or a new pin takes effect on the next call — in every process sharing the database, with no
//! time-to-live to wait out. Any other generation empties the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use domain::ProjectRef;
use routeros::DeviceClient;
use store::Device;

/// Most resolved names kept; past it the cache starts over (a fleet this large resolves each
/// device again once). Room for a 10,000-device fleet asked for as a whole (by id) and by name.
const MAX_ENTRIES: usize = 30_000;

type Key = (Option<ProjectRef>, String);

/// The cache: entries valid at one registry generation.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The generation every entry was fetched at (none before the first lookup).
    generation: Option<i64>,
    entries: HashMap<Key, (Device, Arc<DeviceClient>)>,
}

impl Lookups {
    /// The entry for `key`, if it was fetched at `generation` (the one just read). A different
    /// generation means the registry changed: every entry is dropped.
    pub(crate) fn get(
        &self,
        generation: i64,
        project: Option<&ProjectRef>,
        id_or_name: &str,
    ) -> Option<(Device, Arc<DeviceClient>)> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.generation != Some(generation) {
            inner.generation = Some(generation);
            inner.entries.clear();
            return None;
        }
        inner
            .entries
            .get(&(project.cloned(), id_or_name.to_owned()))
            .map(|(d, c)| (d.clone(), Arc::clone(c)))
    }

    /// Keeps what was fetched after reading `generation`, unless the cache has since seen
    /// another generation (the entry could be older than what is current).
    pub(crate) fn put(
        &self,
        generation: i64,
        project: Option<&ProjectRef>,
        id_or_name: &str,
        found: (Device, Arc<DeviceClient>),
    ) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.generation != Some(generation) {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner
            .entries
            .insert((project.cloned(), id_or_name.to_owned()), found);
    }
}
