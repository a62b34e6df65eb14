//! The `fleet.*` tools: reads across many devices at once, answered for the whole selection in
//! one call.
//!
//! Every fleet tool is built from the same four parts, so each answers the same way:
//!
//! 1. [`select`]: the devices, picked from the registry the way `device.list` does (project,
//!    environment, tags; active devices only — an inactive device is one an operator has taken
//!    out of service), limited to the projects the caller may see, with the registry generation
//!    they were read at.
//! 2. [`fan_out`]: every selected device contacted with at most `ctx.fleet_concurrency` calls in
//!    flight. Each device's outcome stands alone: one that is down, slow or rejecting
//!    credentials becomes an entry with its error, never the failure of the whole call, and a
//!    slow device holds only its own place (the others go on being probed). Devices' clients
//!    are served from memory while the registry generation holds, so asking the whole fleet
//!    again costs no query per device.
//! 3. The tool's summary, counted over every device of the selection (never over a page).
//! 4. [`AttentionFirst`]: the per-device list, devices needing attention first (unreachable,
//!    failed, or whatever the tool calls attention), then the ones worth listing, then — only
//!    when asked — the rest; in registry order within each group; cut to fit the token budget
//!    (the warning threshold unless the caller set `limit`), with a cursor to continue. A cursor
//!    names the last device shown, not an offset, so pages never overlap even when a device
//!    changes group between calls.

crate::toolkit::tools! {
    find_address,
    get_drift,
    get_health,
}

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{DeviceStatus, Environment, Tag};
use futures::StreamExt;
use routeros::DeviceClient;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::{Device, DeviceFilter};

use crate::budget::Budget;
use crate::paging::MAX_LIMIT;
use crate::{Ctx, ToolError};

/// The devices of a fleet-wide call, and the registry generation they were read at (their
/// clients are served from memory while it holds; see [`fleet::Fleet::client_at`]).
pub(crate) struct Selected {
    pub devices: Vec<Device>,
    generation: Option<i64>,
}

/// The active devices matching the registry filters, in registry order (project, name).
pub(crate) async fn select(
    ctx: &Ctx,
    project: Option<&str>,
    environment: Option<Environment>,
    tags: Option<&[String]>,
) -> Result<Selected, ToolError> {
    let project = project
        .map(str::parse)
        .transpose()
        .map_err(|e: domain::ParseError| ToolError::InvalidArguments(e.to_string()))?;
    let tags = tags
        .unwrap_or_default()
        .iter()
        .map(|t| t.parse::<Tag>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let generation = ctx.fleet.generation().await;
    let devices = crate::visible_devices(
        ctx,
        &DeviceFilter {
            project,
            environment,
            status: Some(DeviceStatus::Active),
            tags,
            include_decommissioned: false,
        },
    )
    .await?;
    Ok(Selected {
        devices,
        generation,
    })
}

/// Runs `f` against every device with at most `ctx.fleet_concurrency` in flight, returning
/// each device's outcome in the order given. Every call is bounded by the driver's timeout;
/// devices are started as places free up, whichever finished, so one that answers late delays
/// no other.
pub(crate) async fn fan_out<T, F, Fut>(
    ctx: &Ctx,
    selected: Selected,
    f: F,
) -> Vec<(Device, Result<T, ToolError>)>
where
    F: Fn(Device, Arc<DeviceClient>) -> Fut,
    Fut: Future<Output = Result<T, ToolError>>,
{
    let f = &f;
    let generation = selected.generation;
    let mut outcomes: Vec<(usize, Device, Result<T, ToolError>)> =
        futures::stream::iter(selected.devices.into_iter().enumerate())
            .map(|(i, d)| async move {
                let outcome = match ctx.fleet.client_at(generation, &d).await {
                    Ok(client) => f(d.clone(), client).await,
                    Err(e) => Err(ToolError::from(e)),
                };
                (i, d, outcome)
            })
            .buffer_unordered(ctx.fleet_concurrency.max(1))
            .collect()
            .await;
    outcomes.sort_by_key(|(i, _, _)| *i);
    outcomes.into_iter().map(|(_, d, o)| (d, o)).collect()
}

/// A device failure as fleet results show it: the error kind for grouping, and the message
/// (which names the device and says what to do).
pub(crate) fn error_value(e: &ToolError) -> Value {
    json!({"kind": e.kind(), "message": e.to_string()})
}

/// Counts of failed devices by error kind (`{"unreachable": 3, "auth_failed": 1}`), for a
/// summary: exact however many of them the list has room for.
#[derive(Debug, Default)]
pub(crate) struct ErrorCounts(BTreeMap<&'static str, u64>);

impl ErrorCounts {
    pub(crate) fn add(&mut self, e: &ToolError) {
        *self.0.entry(e.kind()).or_default() += 1;
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub(crate) fn value(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, n)| ((*k).into(), json!(n)))
                .collect(),
        )
    }
}

/// Where a device's entry goes in a fleet-wide list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Group {
    /// Listed first: unreachable, failed, or over a threshold the tool watches.
    Attention,
    /// Listed after those: what the call was looking for (a device where an address was found).
    Found,
    /// Only counted unless the caller asks for them (healthy devices).
    Quiet,
}

impl Group {
    fn rank(self) -> u8 {
        match self {
            Group::Attention => 0,
            Group::Found => 1,
            Group::Quiet => 2,
        }
    }
}

/// One device's entry in a fleet-wide list.
#[derive(Debug)]
pub(crate) struct Entry {
    pub group: Group,
    pub device: Device,
    /// What the list shows for it (starts with its `id` and `name`).
    pub value: Value,
}

impl Entry {
    /// The entry's place in the list: group, then registry order.
    fn key(&self) -> Position {
        Position {
            group: self.group.rank(),
            project: self.device.project.to_string(),
            name: self.device.name.to_string(),
        }
    }
}

/// A place in a fleet-wide list, as a cursor carries it: after this device of this group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Position {
    group: u8,
    project: String,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorText {
    after: Position,
    /// The query the cursor belongs to ([`crate::paging::scope`]).
    scope: String,
}

/// The longest cursor accepted (one this server issues is far shorter).
const MAX_CURSOR: usize = 1024;

/// How a fleet-wide list is cut, from the tool's arguments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Window {
    /// Most entries per answer; `None`: as many as fit the warning threshold.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Also list [`Group::Quiet`] entries.
    pub include_quiet: bool,
}

/// Builds the list part of a fleet-wide answer (see the module docs).
#[derive(Debug)]
pub(crate) struct AttentionFirst {
    /// Fingerprint of the query: the tool and its filters ([`crate::paging::scope`]).
    pub scope: String,
    pub budget: Budget,
}

impl AttentionFirst {
    /// The answer: `envelope` (summary and the tool's context) with `items`, `total` (entries
    /// the list has in all), `returned`, `next_cursor` and, when cut, a `note` saying how to go
    /// on. Fits the warning threshold when `window.limit` is unset, the error threshold
    /// otherwise; always at least one entry when there is one, so a walk always progresses.
    pub(crate) fn answer(
        &self,
        envelope: Map<String, Value>,
        entries: Vec<Entry>,
        window: &Window,
    ) -> Result<Value, ToolError> {
        let after = window
            .cursor
            .as_deref()
            .map(|c| self.decode(c))
            .transpose()?;
        let mut listed: Vec<(Position, Value)> = entries
            .into_iter()
            .filter(|e| window.include_quiet || e.group != Group::Quiet)
            .map(|e| (e.key(), e.value))
            .collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let total = listed.len();
        let rest: Vec<(Position, Value)> = match &after {
            Some(after) => listed.into_iter().filter(|(p, _)| p > after).collect(),
            None => listed,
        };
        let remaining = rest.len();
        let limit = window
            .limit
            .map_or(MAX_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
            .clamp(1, MAX_LIMIT)
            .min(remaining);
        let ceiling = match window.limit {
            Some(_) => self.budget.error,
            None => self.budget.warning,
        };
        let build = |n: usize| {
            let mut v = envelope.clone();
            let items: Vec<Value> = rest.iter().take(n).map(|(_, v)| v.clone()).collect();
            v.insert("total".into(), json!(total));
            v.insert("returned".into(), json!(n));
            v.insert(
                "next_cursor".into(),
                if n < remaining {
                    rest.get(n.saturating_sub(1))
                        .map_or(Value::Null, |(p, _)| json!(self.encode(p)))
                } else {
                    Value::Null
                },
            );
            if n < remaining {
                v.insert(
                    "note".into(),
                    json!(format!(
                        "{} more entries: continue with next_cursor; the summary already counts every device",
                        remaining - n
                    )),
                );
            }
            v.insert("items".into(), Value::Array(items));
            Value::Object(v)
        };
        // The largest count within the ceiling (at least one entry).
        let (mut lo, mut hi) = (limit.min(1), limit);
        if crate::budget::estimate_tokens(&build(hi)) > ceiling {
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                if crate::budget::estimate_tokens(&build(mid)) <= ceiling {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
        } else {
            lo = hi;
        }
        Ok(build(lo))
    }

    fn encode(&self, after: &Position) -> String {
        let text = CursorText {
            after: after.clone(),
            scope: self.scope.clone(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&text).unwrap_or_default())
    }

    fn decode(&self, cursor: &str) -> Result<Position, ToolError> {
        let invalid = || {
            ToolError::InvalidArguments(
                "cursor is not one this server issued: pass the next_cursor of the previous answer unchanged".into(),
            )
        };
        if cursor.len() > MAX_CURSOR {
            return Err(invalid());
        }
        let text: CursorText = URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid)?;
        if text.scope != self.scope {
            return Err(ToolError::InvalidArguments(
                "cursor belongs to a different query: repeat the same filters, or start again without a cursor".into(),
            ));
        }
        Ok(text.after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> AttentionFirst {
        AttentionFirst {
            scope: "abc".into(),
            budget: Budget {
                warning: 5_000,
                error: 50_000,
            },
        }
    }

    #[test]
    fn foreign_and_forged_cursors_are_refused() {
        let l = list();
        let p = Position {
            group: 0,
            project: "default/default".into(),
            name: "r1".into(),
        };
        let other = AttentionFirst {
            scope: "def".into(),
            ..list()
        };
        let c = other.encode(&p);
        let e = l.decode(&c).unwrap_err().to_string();
        assert!(e.contains("different query"), "{e}");
        for bad in ["", "!!!", "e30", &"A".repeat(MAX_CURSOR + 1)] {
            let e = l.decode(bad).unwrap_err().to_string();
            assert!(e.contains("not one this server issued"), "{bad}: {e}");
        }
        assert_eq!(l.decode(&l.encode(&p)).unwrap(), p);
    }
}
