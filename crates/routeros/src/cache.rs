//! Reads shared between callers, process-wide: identical reads in flight to one device at the
//! same time are made once (every waiter gets the one answer), and — when [`CacheLimits`] are
//! configured — answers are kept for a short time so a repeated read within the TTL does not
//! reach the device.
//!
//! Writes decide what may be served: every write through the client bumps the device's
//! *generation* and drops its cached answers, both before the write is sent and again after it
//! completes. A read joins only a read in flight of the current generation, and stores its answer
//! only if the generation has not moved while it was being made — so no read that starts after a
//! write began ever sees an answer from before it.
//!
//! What is cached is exactly what the driver returned (secrets are hidden later, by the tools);
//! nothing here logs an answer. [`observe`] tells a caller (a tool call) whether any read it made
//! was answered from the cache, and how old the oldest such answer was.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use domain::DeviceId;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::error::DriverError;
use crate::resilience::CacheLimits;
use crate::types::{MenuPath, PrintQuery, Record};

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Read from the device for this call (possibly shared with identical calls made at once).
    Fresh,
    /// Served from the read cache; the device answered `age` ago.
    Cached { age: Duration },
}

impl Freshness {
    /// The age of a cached answer.
    pub fn age(self) -> Option<Duration> {
        match self {
            Freshness::Fresh => None,
            Freshness::Cached { age } => Some(age),
        }
    }
}

/// What identifies a read of one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ReadKey {
    Print {
        menu: String,
        proplist: Option<Vec<String>>,
        filters: Vec<(String, String)>,
    },
    Export {
        verbose: bool,
    },
}

impl ReadKey {
    pub(crate) fn print(menu: &MenuPath, query: &PrintQuery) -> Self {
        ReadKey::Print {
            menu: menu.as_str().to_owned(),
            proplist: query.proplist.clone(),
            filters: query.filters.clone(),
        }
    }
}

/// A device's answer, shared between everyone who gets it.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Records(Arc<Vec<Record>>),
    Text(Arc<String>),
}

type Flight = Arc<OnceCell<Result<Answer, DriverError>>>;

#[derive(Debug)]
struct Entry {
    answer: Answer,
    at: Instant,
    /// Insertion order, for evicting the oldest.
    seq: u64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<(DeviceId, ReadKey), Entry>,
    /// `seq` → key: oldest first.
    order: BTreeMap<u64, (DeviceId, ReadKey)>,
    next_seq: u64,
    /// Bumped by every write; absent = 0.
    generations: HashMap<DeviceId, u64>,
    flights: HashMap<(DeviceId, u64, ReadKey), Flight>,
}

impl State {
    fn generation(&self, device: &DeviceId) -> u64 {
        self.generations.get(device).copied().unwrap_or(0)
    }

    fn remove(&mut self, key: &(DeviceId, ReadKey)) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.seq);
        }
    }

    fn insert(&mut self, key: (DeviceId, ReadKey), answer: Answer, limits: &CacheLimits) {
        self.remove(&key);
        while self.entries.len() >= limits.max_entries.max(1) {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, key.clone());
        self.entries.insert(
            key,
            Entry {
                answer,
                at: Instant::now(),
                seq,
            },
        );
    }
}

/// The process-wide shared reads.
#[derive(Debug)]
pub(crate) struct Reads {
    limits: Option<CacheLimits>,
    state: Mutex<State>,
}

impl Reads {
    pub(crate) fn new(limits: Option<CacheLimits>) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A cached answer still within the TTL.
    fn cached(&self, state: &mut State, key: &(DeviceId, ReadKey)) -> Option<(Answer, Duration)> {
        let limits = self.limits?;
        let entry = state.entries.get(key)?;
        let age = entry.at.elapsed();
        if age < limits.ttl {
            return Some((entry.answer.clone(), age));
        }
        state.remove(key);
        None
    }

    /// The answer to `key`: from the cache, from an identical read already in flight, or from
    /// `fetch` (made once however many callers wait for it).
    pub(crate) async fn read(
        &self,
        device: DeviceId,
        key: ReadKey,
        fetch: impl Future<Output = Result<Answer, DriverError>>,
    ) -> Result<(Answer, Freshness), DriverError> {
        let cache_key = (device, key);
        let (flight, generation) = {
            let mut state = self.state();
            if let Some((answer, age)) = self.cached(&mut state, &cache_key) {
                drop(state);
                note(age);
                return Ok((answer, Freshness::Cached { age }));
            }
            let generation = state.generation(&device);
            let flight_key = (device, generation, cache_key.1.clone());
            let flight = Arc::clone(state.flights.entry(flight_key).or_default());
            (flight, generation)
        };
        // If the caller running `fetch` is dropped, the next waiter runs its own.
        let result = flight.get_or_init(|| fetch).await.clone();
        let mut state = self.state();
        let flight_key = (device, generation, cache_key.1.clone());
        if state
            .flights
            .get(&flight_key)
            .is_some_and(|f| Arc::ptr_eq(f, &flight))
        {
            state.flights.remove(&flight_key);
        }
        if let (Ok(answer), Some(limits)) = (&result, self.limits)
            && state.generation(&device) == generation
            && !state.entries.contains_key(&cache_key)
        {
            state.insert(cache_key, answer.clone(), &limits);
        }
        result.map(|a| (a, Freshness::Fresh))
    }

    /// Keeps answers read outside [`Reads::read`] (several reads made in one request), unless a
    /// write has moved the device's generation since `generation`.
    pub(crate) fn store(&self, device: DeviceId, generation: u64, key: ReadKey, answer: Answer) {
        let Some(limits) = self.limits else { return };
        let mut state = self.state();
        if state.generation(&device) == generation {
            state.insert((device, key), answer, &limits);
        }
    }

    /// A cached answer for `key`, without reading.
    pub(crate) fn peek(&self, device: DeviceId, key: ReadKey) -> Option<(Answer, Duration)> {
        let mut state = self.state();
        let found = self.cached(&mut state, &(device, key));
        if let Some((_, age)) = &found {
            note(*age);
        }
        found
    }

    /// The device's current write generation.
    pub(crate) fn generation(&self, device: &DeviceId) -> u64 {
        self.state().generation(device)
    }

    /// Forgets every cached answer of `device`; reads in flight may no longer be stored or joined.
    pub(crate) fn invalidate(&self, device: &DeviceId) {
        let mut state = self.state();
        *state.generations.entry(*device).or_insert(0) += 1;
        let keys: Vec<(DeviceId, ReadKey)> = state
            .entries
            .keys()
            .filter(|(d, _)| d == device)
            .cloned()
            .collect();
        for key in keys {
            state.remove(&key);
        }
    }

    /// How many answers are cached (all devices).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state().entries.len()
    }
}

tokio::task_local! {
    /// The oldest cached answer a call observed by [`observe`] was given.
    static OLDEST: Cell<Option<Duration>>;
}

fn note(age: Duration) {
    // Outside `observe` there is nobody to tell.
    let _ = OLDEST.try_with(|c| c.set(Some(c.get().map_or(age, |a| a.max(age)))));
}

/// Runs `f` and says whether any read it made (on this task) was answered from the cache, with
/// the age of the oldest such answer.
pub async fn observe<F: Future>(f: F) -> (F::Output, Option<Duration>) {
    OLDEST
        .scope(Cell::new(None), async move {
            let out = f.await;
            (out, OLDEST.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(v: &str) -> Answer {
        Answer::Records(Arc::new(vec![Record::from([("v".into(), v.into())])]))
    }

    fn key(n: usize) -> ReadKey {
        ReadKey::Export { verbose: n == 1 }
    }

    fn value(a: &Answer) -> String {
        match a {
            Answer::Records(r) => r[0]["v"].clone(),
            Answer::Text(t) => t.to_string(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn serves_within_the_ttl_and_forgets_on_a_write() {
        let reads = Reads::new(Some(CacheLimits {
            ttl: Duration::from_secs(3),
            max_entries: 10,
        }));
        let d = DeviceId::new();
        let (a, f) = reads
            .read(d, key(0), async { Ok(records("1")) })
            .await
            .unwrap();
        assert_eq!((value(&a), f), ("1".into(), Freshness::Fresh));
        tokio::time::advance(Duration::from_secs(2)).await;
        let (read, oldest) = observe(reads.read(d, key(0), async { Ok(records("2")) })).await;
        let (a, f) = read.unwrap();
        assert_eq!(oldest, Some(Duration::from_secs(2)));
        assert_eq!(value(&a), "1");
        assert_eq!(
            f,
            Freshness::Cached {
                age: Duration::from_secs(2)
            }
        );
        reads.invalidate(&d);
        let (a, _) = reads
            .read(d, key(0), async { Ok(records("3")) })
            .await
            .unwrap();
        assert_eq!(value(&a), "3", "a write drops the device's answers");
        tokio::time::advance(Duration::from_secs(3)).await;
        let (a, f) = reads
            .read(d, key(0), async { Ok(records("4")) })
            .await
            .unwrap();
        assert_eq!((value(&a), f), ("4".into(), Freshness::Fresh), "expired");
    }

    #[tokio::test(start_paused = true)]
    async fn observe_reports_the_oldest_cached_answer() {
        let reads = Reads::new(Some(CacheLimits {
            ttl: Duration::from_secs(10),
            max_entries: 10,
        }));
        let d = DeviceId::new();
        reads
            .read(d, key(0), async { Ok(records("a")) })
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        reads
            .read(d, key(1), async { Ok(records("b")) })
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let (_, oldest) = observe(async {
            reads
                .read(d, key(1), async { Ok(records("x")) })
                .await
                .unwrap();
            reads
                .read(d, key(0), async { Ok(records("x")) })
                .await
                .unwrap();
        })
        .await;
        assert_eq!(oldest, Some(Duration::from_secs(5)));
        let (_, none) = observe(async {}).await;
        assert_eq!(none, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_raced_a_write_is_not_kept() {
        let reads = Reads::new(Some(CacheLimits {
            ttl: Duration::from_secs(10),
            max_entries: 10,
        }));
        let d = DeviceId::new();
        let (a, _) = reads
            .read(d, key(0), async {
                // The write starts while this read is on the wire.
                reads.invalidate(&d);
                Ok(records("before"))
            })
            .await
            .unwrap();
        assert_eq!(value(&a), "before");
        let (a, f) = reads
            .read(d, key(0), async { Ok(records("after")) })
            .await
            .unwrap();
        assert_eq!((value(&a), f), ("after".into(), Freshness::Fresh));
    }

    #[tokio::test(start_paused = true)]
    async fn the_oldest_entry_goes_first_beyond_the_maximum() {
        let reads = Reads::new(Some(CacheLimits {
            ttl: Duration::from_secs(10),
            max_entries: 2,
        }));
        let devices = [DeviceId::new(), DeviceId::new(), DeviceId::new()];
        for (i, d) in devices.iter().enumerate() {
            reads
                .read(*d, key(0), async move { Ok(records(&i.to_string())) })
                .await
                .unwrap();
        }
        assert_eq!(reads.len(), 2);
        assert!(reads.peek(devices[0], key(0)).is_none(), "evicted");
        assert!(reads.peek(devices[1], key(0)).is_some());
        assert!(reads.peek(devices[2], key(0)).is_some());
    }

    #[tokio::test]
    async fn without_a_cache_every_sequential_read_is_made() {
        let reads = Reads::new(None);
        let d = DeviceId::new();
        for i in 0..3 {
            let (a, f) = reads
                .read(d, key(0), async move { Ok(records(&i.to_string())) })
                .await
                .unwrap();
            assert_eq!((value(&a), f), (i.to_string(), Freshness::Fresh));
        }
        assert_eq!(reads.len(), 0);
    }
}
