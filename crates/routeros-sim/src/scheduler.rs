//! The device's `/system/scheduler`: entries really run their `on-event` on the device's
//! simulated clock.
//!
//! One task per device. An entry with `start-time=startup` runs 3 s (simulated) after every
//! boot; any other entry runs at `start-date`/`start-time` and then every `interval` (an
//! `interval` of 0 runs once). Times are on the simulated clock, so `--time-scale 60` makes a
//! `5m` interval fire every five real seconds. A slot that is already past when the entry is
//! created (or changed, or the device boots) is not run; if the task falls behind (a long
//! script), missed slots collapse into one run, as on RouterOS. `on-event` is either the name of
//! a `/system/script` entry (whose `run-count` then counts up too) or script source. Each run
//! updates `run-count` and `next-run`; a failing script is logged under `script,error`.
//!
//! Scripts run even while the device cannot be reached over the network: this is what makes
//! device-side auto-revert work (a change cuts the management path, a scheduler entry created
//! beforehand restores it). They do not run while the device is rebooting.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::cli::{self, Globals, Session};
use crate::clock::SimClock;
use crate::model::{self as mspec, RosId, RouterState};

/// What the scheduler needs from a device.
pub trait SchedulerHost: cli::Device + Send + Sync + 'static {
    /// A number that changes whenever the device reboots.
    fn boot_epoch(&self) -> u64;
    /// Whether the device is running (not in the middle of a reboot).
    fn is_up(&self) -> bool;
    /// The device's global script variables (cleared at every boot).
    fn globals(&self) -> Arc<Globals>;
    /// Completes when the device's configuration, faults or boot status change.
    fn changed(&self) -> impl std::future::Future<Output = ()> + Send + '_;
}

/// Delay of `start-time=startup` entries after boot (simulated), as on RouterOS.
const STARTUP_DELAY: chrono::Duration = chrono::Duration::seconds(3);
/// Longest real pause between two looks at the configuration (changes wake the task sooner).
const POLL: Duration = Duration::from_secs(1);
/// Pause while the device reboots.
const DOWN_POLL: Duration = Duration::from_millis(100);

/// One scheduler entry as the task sees it.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: RosId,
    name: String,
    on_event: String,
    owner: String,
    /// `None` for `startup`.
    start: Option<DateTime<Utc>>,
    interval: chrono::Duration,
}

/// When the task armed an entry and the next slot it will run.
#[derive(Debug, Clone)]
struct Armed {
    /// The timing fields the slot was computed from (re-armed when they change).
    signature: (Option<DateTime<Utc>>, chrono::Duration),
    next: Option<DateTime<Utc>>,
    /// The `next-run` last written to the model (`None` = not yet written).
    published: Option<Option<DateTime<Utc>>>,
}

/// Starts the scheduler task of a device; it ends when `shutdown` is cancelled.
pub fn spawn<H: SchedulerHost>(
    host: Arc<H>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(host, shutdown))
}

/// The scheduler loop of a device, until `shutdown` is cancelled.
pub async fn run<H: SchedulerHost>(host: Arc<H>, shutdown: CancellationToken) {
    let clock = host.read(|s| s.clock().clone());
    let mut epoch: Option<u64> = None;
    let mut boot_at = clock.now();
    let mut armed: HashMap<RosId, Armed> = HashMap::new();
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        if !host.is_up() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(DOWN_POLL) => continue,
            }
        }
        let now = clock.now();
        let e = host.boot_epoch();
        if epoch != Some(e) {
            if epoch.is_some() {
                // A reboot forgets the global variables.
                host.globals().clear();
            }
            epoch = Some(e);
            boot_at = clock.boot_time();
            armed.clear();
        }
        let entries = host.read(read_entries);
        armed.retain(|id, _| entries.iter().any(|e| e.id == *id));
        let mut due = Vec::new();
        for entry in &entries {
            let signature = (entry.start, entry.interval);
            let slot = armed.entry(entry.id).or_insert_with(|| Armed {
                signature,
                next: first_slot(entry, boot_at, now),
                published: None,
            });
            if slot.signature != signature {
                *slot = Armed {
                    signature,
                    next: first_slot(entry, boot_at, now),
                    published: None,
                };
            }
            if let Some(next) = slot.next
                && next <= now
            {
                slot.next = following_slot(entry, next, now);
                due.push(entry.clone());
            }
        }
        let changed: Vec<(RosId, Option<DateTime<Utc>>)> = armed
            .iter_mut()
            .filter(|(_, a)| a.published != Some(a.next))
            .map(|(id, a)| {
                a.published = Some(a.next);
                (*id, a.next)
            })
            .collect();
        if !changed.is_empty() {
            host.write(|s| {
                for (id, next) in &changed {
                    set_next_run(s, *id, *next);
                }
            });
        }
        for entry in due {
            run_entry(&host, &entry, &shutdown).await;
        }
        if !due_soon(&armed, &clock) {
            let next_due = armed.values().filter_map(|a| a.next).min();
            let wait = match next_due {
                Some(t) => {
                    let sim = (t - clock.now()).to_std().unwrap_or(Duration::ZERO);
                    clock.to_real(sim).min(POLL)
                }
                None => POLL,
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait.max(Duration::from_millis(1))) => {}
                _ = host.changed() => {}
            }
        }
    }
}

/// Whether a slot is already due (run again at once instead of sleeping).
fn due_soon(armed: &HashMap<RosId, Armed>, clock: &SimClock) -> bool {
    let now = clock.now();
    armed.values().filter_map(|a| a.next).any(|t| t <= now)
}

fn read_entries(state: &RouterState) -> Vec<Entry> {
    let Some(spec) = mspec::menu("/system/scheduler") else {
        return Vec::new();
    };
    state
        .items(spec)
        .filter(|it| !it.is_true("disabled"))
        .map(|it| {
            let start_time = it.get("start-time").unwrap_or("");
            let start = if start_time == "startup" {
                None
            } else {
                let date = it.get("start-date").and_then(parse_date);
                let time = it.get("start-time").and_then(parse_time_of_day);
                Some(match (date, time) {
                    (Some(d), Some(t)) => NaiveDateTime::new(d, t).and_utc(),
                    (Some(d), None) => NaiveDateTime::new(d, NaiveTime::MIN).and_utc(),
                    // No date: today at that time; neither: armed "now" (RouterOS fills in the
                    // creation time for both).
                    (None, Some(t)) => {
                        NaiveDateTime::new(state.clock().now().date_naive(), t).and_utc()
                    }
                    (None, None) => DateTime::<Utc>::MIN_UTC,
                })
            };
            let interval = it
                .get("interval")
                .and_then(crate::cli::value::parse_time)
                .map(chrono::Duration::nanoseconds)
                .unwrap_or_else(chrono::Duration::zero);
            Entry {
                id: it.id(),
                name: it.get("name").unwrap_or("").to_string(),
                on_event: it.get("on-event").unwrap_or("").to_string(),
                owner: it.get("owner").unwrap_or("admin").to_string(),
                start,
                interval,
            }
        })
        .collect()
}

/// The first slot to run after arming an entry at `now`.
fn first_slot(entry: &Entry, boot_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let start = match entry.start {
        None => {
            let first = boot_at + STARTUP_DELAY;
            if first >= now - chrono::Duration::milliseconds(1) {
                return Some(first);
            }
            // Booted a while ago: only the repetitions remain.
            first
        }
        Some(t) if t == DateTime::<Utc>::MIN_UTC => now,
        Some(t) => t,
    };
    if start > now {
        return Some(start);
    }
    if entry.interval <= chrono::Duration::zero() {
        return None;
    }
    next_after(start, entry.interval, now)
}

/// The slot after `fired`, skipping slots already in the past at `now`.
fn following_slot(
    entry: &Entry,
    fired: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if entry.interval <= chrono::Duration::zero() {
        return None;
    }
    next_after(fired, entry.interval, now)
}

/// The first `start + k·interval` strictly after `now`.
fn next_after(
    start: DateTime<Utc>,
    interval: chrono::Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let step = interval.num_milliseconds().max(1);
    let elapsed = (now - start).num_milliseconds();
    let k = if elapsed < 0 { 0 } else { elapsed / step + 1 };
    Some(start + chrono::Duration::milliseconds(k.saturating_mul(step)))
}

/// Parses `2025-01-31` (RouterOS ≥ 7.10) or `jan/31/2025`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
        let mut parts = s.split('/');
        let mon = parts.next()?.to_ascii_lowercase();
        let day: u32 = parts.next()?.parse().ok()?;
        let year: i32 = parts.next()?.parse().ok()?;
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        let m = MONTHS.iter().position(|x| *x == mon)? as u32 + 1;
        NaiveDate::from_ymd_opt(year, m, day)
    })
}

fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .ok()
        .or_else(|| NaiveTime::parse_from_str(s, "%H:%M").ok())
}

fn set_next_run(state: &mut RouterState, id: RosId, next: Option<DateTime<Utc>>) {
    let Some(spec) = mspec::menu("/system/scheduler") else {
        return;
    };
    if spec.prop("next-run").is_none() {
        return;
    }
    let text = next
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    let current = state
        .item(spec, id)
        .and_then(|it| it.get("next-run"))
        .unwrap_or("")
        .to_string();
    if current != text {
        let _ = state.set_raw(spec, Some(id), "next-run", &text);
    }
}

fn bump(state: &mut RouterState, path: &str, id: RosId) {
    let Some(spec) = mspec::menu(path) else {
        return;
    };
    if spec.prop("run-count").is_none() {
        return;
    }
    let n = state
        .item(spec, id)
        .and_then(|it| it.get("run-count"))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let _ = state.set_raw(spec, Some(id), "run-count", &(n + 1).to_string());
}

/// Runs one entry's `on-event` on a blocking thread and records the run.
async fn run_entry<H: SchedulerHost>(host: &Arc<H>, entry: &Entry, shutdown: &CancellationToken) {
    host.write(|s| bump(s, "/system/scheduler", entry.id));
    // `on-event` naming a script runs that script.
    let script = host.read(|s| {
        let spec = mspec::menu("/system/script")?;
        let it = s
            .items(spec)
            .find(|it| it.get("name") == Some(entry.on_event.trim()))?;
        Some((it.id(), it.get("source").unwrap_or("").to_string()))
    });
    let source = match &script {
        Some((id, src)) => {
            host.write(|s| bump(s, "/system/script", *id));
            src.clone()
        }
        None => entry.on_event.clone(),
    };
    let mut session = Session::system(entry.owner.clone(), host.globals());
    session.job_name = entry.name.clone();
    let cancel = session.cancel.clone();
    let h = host.clone();
    let job = tokio::task::spawn_blocking(move || cli::run(&*h, &mut session, &source));
    let out = tokio::select! {
        r = job => r.ok(),
        _ = shutdown.cancelled() => {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            None
        }
    };
    if let Some(out) = out
        && let Some(err) = out.error
    {
        let name = entry.name.clone();
        host.write(|s| {
            s.log(
                "script,error",
                &format!(
                    "executing script from scheduler ({name}) failed, please check it manually"
                ),
            );
            s.log("script,error", &format!("({name}) {err}"));
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, h, m, s).single().unwrap()
    }

    fn entry(start: Option<DateTime<Utc>>, interval_s: i64) -> Entry {
        Entry {
            id: RosId::new(1),
            name: "t".into(),
            on_event: String::new(),
            owner: "admin".into(),
            start,
            interval: chrono::Duration::seconds(interval_s),
        }
    }

    #[test]
    fn future_start_runs_at_start() {
        assert_eq!(
            first_slot(&entry(Some(at(1, 0, 0)), 0), at(0, 0, 0), at(0, 30, 0)),
            Some(at(1, 0, 0))
        );
    }

    #[test]
    fn past_start_with_interval_runs_at_next_repetition() {
        let e = entry(Some(at(0, 0, 0)), 600);
        assert_eq!(
            first_slot(&e, at(0, 0, 0), at(0, 25, 0)),
            Some(at(0, 30, 0))
        );
        assert_eq!(
            following_slot(&e, at(0, 30, 0), at(0, 30, 1)),
            Some(at(0, 40, 0))
        );
        // A late run skips the slots it missed.
        assert_eq!(
            following_slot(&e, at(0, 30, 0), at(1, 5, 0)),
            Some(at(1, 10, 0))
        );
    }

    #[test]
    fn past_start_without_interval_never_runs() {
        assert_eq!(
            first_slot(&entry(Some(at(0, 0, 0)), 0), at(0, 0, 0), at(0, 25, 0)),
            None
        );
    }

    #[test]
    fn startup_runs_three_seconds_after_boot() {
        assert_eq!(
            first_slot(&entry(None, 0), at(0, 0, 0), at(0, 0, 1)),
            Some(at(0, 0, 3))
        );
        assert_eq!(first_slot(&entry(None, 0), at(0, 0, 0), at(0, 5, 0)), None);
        assert_eq!(
            first_slot(&entry(None, 60), at(0, 0, 0), at(0, 5, 0)),
            Some(at(0, 5, 3))
        );
    }

    #[test]
    fn no_start_means_armed_now() {
        let e = entry(Some(DateTime::<Utc>::MIN_UTC), 10);
        assert_eq!(first_slot(&e, at(0, 0, 0), at(0, 1, 0)), Some(at(0, 1, 10)));
    }

    #[test]
    fn dates_in_both_spellings() {
        assert_eq!(
            parse_date("2025-03-24"),
            NaiveDate::from_ymd_opt(2025, 3, 24)
        );
        assert_eq!(
            parse_date("mar/24/2025"),
            NaiveDate::from_ymd_opt(2025, 3, 24)
        );
        assert_eq!(
            parse_time_of_day("12:30:00"),
            NaiveTime::from_hms_opt(12, 30, 0)
        );
    }
}
