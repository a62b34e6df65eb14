//! What the engine does on one device: check preconditions (drift), perform a change, verify it,
//! and the idempotent inverse operations that undo it. Each function reads before it writes.

use std::collections::BTreeSet;

use routeros::{DeviceClient, DriverError, ErrorKind, MenuPath, PrintQuery, RosId};

use crate::error::WorkflowError;
use crate::menus;
use crate::model::{Action, Change, Inverse, ItemRef, Precondition, Props};
use crate::planner::order_hash;

fn menu(path: &str) -> Result<MenuPath, WorkflowError> {
    MenuPath::parse(path).map_err(WorkflowError::Invalid)
}

fn id(text: &str) -> Result<RosId, WorkflowError> {
    RosId::parse(text).map_err(WorkflowError::Invalid)
}

fn not_found(e: &DriverError) -> bool {
    matches!(e.kind, ErrorKind::NotFound(_))
}

/// Whether retrying may help (the device did not answer, or answered with a transient error).
pub(crate) fn transient(e: &WorkflowError) -> bool {
    match e {
        WorkflowError::Device(d) => matches!(
            d.kind,
            ErrorKind::Unreachable(_)
                | ErrorKind::Timeout(_)
                | ErrorKind::RateLimited(_)
                | ErrorKind::DeviceError(_)
        ),
        _ => false,
    }
}

/// The item with `id`, or `None` when it does not exist.
async fn get(
    client: &DeviceClient,
    path: &str,
    item: &str,
) -> Result<Option<Props>, WorkflowError> {
    match client.get(&menu(path)?, &id(item)?).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn find(
    client: &DeviceClient,
    path: &str,
    props: &Props,
) -> Result<Vec<Props>, WorkflowError> {
    let mut q = PrintQuery::all();
    for (k, v) in props {
        if !menus::is_volatile(path, k) {
            q = q.filter(k, v);
        }
    }
    Ok(client.print(&menu(path)?, &q).await?)
}

async fn singleton(client: &DeviceClient, path: &str) -> Result<Props, WorkflowError> {
    Ok(client
        .print(&menu(path)?, &PrintQuery::all())
        .await?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// The id of the item `r` means right now, if it exists.
async fn locate(
    client: &DeviceClient,
    path: &str,
    r: &ItemRef,
) -> Result<Option<String>, WorkflowError> {
    match r {
        ItemRef::Id(i) => Ok(get(client, path, i).await?.map(|_| i.clone())),
        ItemRef::Match(p) => Ok(find(client, path, p)
            .await?
            .into_iter()
            .find_map(|x| x.get(".id").cloned())),
        ItemRef::Singleton => Ok(None),
    }
}

/// Ids of the configured items of an ordered menu, in order.
async fn static_order(client: &DeviceClient, path: &str) -> Result<Vec<String>, WorkflowError> {
    let items = client
        .print(
            &menu(path)?,
            &PrintQuery::all().proplist(&[".id", "dynamic"]),
        )
        .await?;
    Ok(items
        .iter()
        .filter(|i| i.get("dynamic").is_none_or(|d| d != "true"))
        .filter_map(|i| i.get(".id").cloned())
        .collect())
}

fn differences(menu: &str, want: &Props, have: &Props) -> Vec<String> {
    want.iter()
        .filter(|(k, _)| !menus::is_volatile(menu, k))
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| match have.get(k) {
            Some(h) => format!("{k} is {h:?}, expected {v:?}"),
            None => format!("{k} is unset, expected {v:?}"),
        })
        .collect()
}

/// Whether the auto-revert entry of `plan_id` is still on the device (it has yet to fire).
pub(crate) async fn revert_pending(
    client: &DeviceClient,
    plan_id: &str,
) -> Result<bool, WorkflowError> {
    let name = Props::from([("name".to_owned(), crate::script::entry_name(plan_id))]);
    Ok(!find(client, "system/scheduler", &name).await?.is_empty())
}

/// What no longer holds, in words; empty when nothing drifted.
pub(crate) async fn drift(
    client: &DeviceClient,
    changes: &[&Change],
) -> Result<Vec<String>, WorkflowError> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for c in changes {
        for p in &c.preconditions {
            let key = serde_json::to_string(p).unwrap_or_default();
            if !seen.insert(key) {
                continue;
            }
            match p {
                Precondition::Item { menu, id, props } => match get(client, menu, id).await? {
                    None => found.push(format!("/{menu} {id} was removed since planning")),
                    Some(item) => {
                        let spec = menus::spec(menu);
                        let now = spec.map_or_else(|| item.clone(), |s| s.config(&item));
                        let mut diffs: Vec<String> = props
                            .iter()
                            .filter(|(k, _)| !menus::is_volatile(menu, k))
                            .filter(|(k, v)| now.get(*k) != Some(*v))
                            .map(|(k, v)| match now.get(k) {
                                Some(n) => format!("{k} was {v:?} at planning, now {n:?}"),
                                None => format!("{k} was {v:?} at planning, now unset"),
                            })
                            .collect();
                        diffs.extend(
                            now.iter()
                                .filter(|(k, _)| !menus::is_volatile(menu, k))
                                .filter(|(k, _)| !props.contains_key(*k))
                                .map(|(k, n)| format!("{k} was unset at planning, now {n:?}")),
                        );
                        if !diffs.is_empty() {
                            found.push(format!("/{menu} {id}: {}", diffs.join(", ")));
                        }
                    }
                },
                Precondition::Singleton { menu, props } => {
                    let now = singleton(client, menu).await?;
                    let diffs: Vec<String> = props
                        .iter()
                        .filter(|(k, v)| now.get(*k) != Some(*v))
                        .map(|(k, v)| {
                            format!(
                                "{k} was {v:?} at planning, now {:?}",
                                now.get(k).map_or("", String::as_str)
                            )
                        })
                        .collect();
                    if !diffs.is_empty() {
                        found.push(format!("/{menu}: {}", diffs.join(", ")));
                    }
                }
                Precondition::Absent { menu, matching } => {
                    let existing = find(client, menu, matching).await?;
                    if let Some(x) = existing.first() {
                        found.push(format!(
                            "/{menu} now already has {} ({})",
                            crate::model::show_props(matching),
                            x.get(".id").map_or("?", String::as_str)
                        ));
                    }
                }
                Precondition::Order { menu, sha256 } => {
                    let items = client
                        .print(
                            &self::menu(menu)?,
                            &PrintQuery::all().proplist(&[".id", "dynamic"]),
                        )
                        .await?;
                    if order_hash(&items) != *sha256 {
                        found.push(format!(
                            "the items of /{menu} were added, removed or reordered since planning"
                        ));
                    }
                }
            }
        }
    }
    Ok(found)
}

/// Writes one change; returns the id an add created.
pub(crate) async fn perform(
    client: &DeviceClient,
    change: &Change,
) -> Result<Option<String>, WorkflowError> {
    let m = menu(&change.menu)?;
    let target = change.target.as_deref().map(id).transpose()?;
    let place = match &change.write.place_before {
        Some(ItemRef::Id(i)) => Some(id(i)?),
        _ => None,
    };
    match change.action {
        Action::Add => {
            let created = client.add(&m, &change.write.props, place.as_ref()).await?;
            Ok(created.get(".id").cloned())
        }
        Action::Set | Action::Enable | Action::Disable => {
            if !change.write.props.is_empty() {
                client.set(&m, target.as_ref(), &change.write.props).await?;
            }
            for name in &change.write.unset {
                client
                    .item_command(
                        &m,
                        "unset",
                        target.as_ref(),
                        &Props::from([("value-name".into(), name.clone())]),
                    )
                    .await?;
            }
            Ok(None)
        }
        Action::Remove => {
            let target = target.ok_or_else(|| WorkflowError::Invalid("no target".into()))?;
            client.remove(&m, &target).await?;
            Ok(None)
        }
        Action::Move => {
            let target = target.ok_or_else(|| WorkflowError::Invalid("no target".into()))?;
            client.move_items(&m, &[target], place.as_ref()).await?;
            Ok(None)
        }
        Action::Command => {
            let command = change.write.command.as_deref().unwrap_or_default();
            client
                .item_command(&m, command, target.as_ref(), &Props::new())
                .await?;
            Ok(None)
        }
    }
}

/// Reads the change back; the mismatches, in words.
pub(crate) async fn verify(
    client: &DeviceClient,
    change: &Change,
    created: Option<&str>,
) -> Result<Vec<String>, WorkflowError> {
    let what = &change.description;
    let mut problems = Vec::new();
    match change.action {
        Action::Add => {
            let item = match created {
                Some(c) => get(client, &change.menu, c).await?,
                None => find(client, &change.menu, &change.write.props)
                    .await?
                    .into_iter()
                    .next(),
            };
            match item {
                None => problems.push(format!("{what}: the new item is not there")),
                Some(item) => {
                    for d in differences(&change.menu, &change.write.props, &item) {
                        problems.push(format!("{what}: {d}"));
                    }
                }
            }
        }
        Action::Set | Action::Enable | Action::Disable => {
            let item = match &change.target {
                Some(t) => get(client, &change.menu, t).await?,
                None => Some(singleton(client, &change.menu).await?),
            };
            match item {
                None => problems.push(format!("{what}: the item is gone")),
                Some(item) => {
                    for d in differences(&change.menu, &change.write.props, &item) {
                        problems.push(format!("{what}: {d}"));
                    }
                    // RouterOS prints some unset properties as empty (7.15+ WireGuard peers'
                    // `client-endpoint=`): empty counts as unset.
                    for u in &change.write.unset {
                        if item.get(u).is_some_and(|v| !v.is_empty()) {
                            problems.push(format!("{what}: {u} is still set"));
                        }
                    }
                }
            }
        }
        Action::Remove => {
            if let Some(t) = &change.target
                && get(client, &change.menu, t).await?.is_some()
            {
                problems.push(format!("{what}: the item is still there"));
            }
        }
        Action::Move => {
            let order = static_order(client, &change.menu).await?;
            let target = change.target.clone().unwrap_or_default();
            let pos = order.iter().position(|i| *i == target);
            let ok = match (&change.write.place_before, pos) {
                (Some(ItemRef::Id(dest)), Some(p)) => order.get(p + 1) == Some(dest),
                (None, Some(p)) => p + 1 == order.len(),
                _ => false,
            };
            if !ok {
                problems.push(format!("{what}: the item is not where it was moved"));
            }
        }
        Action::Command => {
            if let Some(t) = &change.target {
                match get(client, &change.menu, t).await? {
                    Some(item) if item.get("dynamic").is_some_and(|d| d == "true") => {
                        problems.push(format!("{what}: the item is still dynamic"));
                    }
                    Some(_) => {}
                    None => problems.push(format!("{what}: the item is gone")),
                }
            }
        }
    }
    Ok(problems)
}

/// What the plan wrote to property `key` of `change`'s item: `Some(Some(v))` it set `v`,
/// `Some(None)` it unset it, `None` it did not write it.
fn written<'a>(change: &'a Change, key: &str) -> Option<Option<&'a String>> {
    if let Some(v) = change.write.props.get(key) {
        return Some(Some(v));
    }
    change.write.unset.iter().any(|u| u == key).then_some(None)
}

fn shown(v: Option<&String>) -> String {
    v.map_or_else(|| "unset".to_owned(), |v| format!("{v:?}"))
}

/// Runs one inverse step (idempotent). `created` is the id the change's add produced.
///
/// With `change` (the change being undone), the step undoes only what still holds the value
/// the plan wrote: a property someone changed since, or an added item someone edited, is left
/// as it is and named in the returned list — drift for a person, never overwritten. Without
/// `change` (the server's own bookkeeping, such as its auto-revert entry) it is unconditional.
pub(crate) async fn ensure(
    client: &DeviceClient,
    inv: &Inverse,
    created: Option<&str>,
    change: Option<&Change>,
) -> Result<Vec<String>, WorkflowError> {
    let mut left = Vec::new();
    match inv {
        Inverse::Absent {
            menu: path,
            id: known,
            matching,
        } => {
            let m = menu(path)?;
            if let Some(known) = known {
                // An item that existed before the plan (a lease made static): remove it only if
                // the change happened, never the dynamic original.
                if let Some(item) = get(client, path, known).await?
                    && item.get("dynamic").is_none_or(|d| d != "true")
                {
                    remove(client, &m, known).await?;
                }
                return Ok(left);
            }
            if let Some(c) = created {
                // The item the plan added, by id: removed only while it is as the plan wrote it.
                if let Some(item) = get(client, path, c).await? {
                    let want = change.map_or(matching, |ch| &ch.write.props);
                    let edits = differences(path, want, &item);
                    if edits.is_empty() || change.is_none() {
                        remove(client, &m, c).await?;
                    } else {
                        left.push(format!(
                            "/{path} {c}, the item the plan added, was edited since ({}); left as it is",
                            edits.join(", ")
                        ));
                    }
                }
                return Ok(left);
            }
            // The add's id was never journaled (interrupted between the write and the journal):
            // the item is found by what the plan wrote. The plan's precondition made sure no
            // such item existed before it.
            if !matching.is_empty() {
                for item in find(client, path, matching).await? {
                    if let Some(i) = item.get(".id") {
                        remove(client, &m, i).await?;
                    }
                }
            }
            Ok(left)
        }
        Inverse::Props {
            menu: path,
            target,
            set,
            unset,
        } => {
            let m = menu(path)?;
            let (target_id, item) = match target {
                ItemRef::Singleton => (None, singleton(client, path).await?),
                other => {
                    let Some(found) = locate(client, path, other).await? else {
                        return Err(WorkflowError::Refused(format!(
                            "cannot restore /{path}: the item is gone"
                        )));
                    };
                    let item = get(client, path, &found).await?.unwrap_or_default();
                    (Some(id(&found)?), item)
                }
            };
            // Whether the property still holds what the plan wrote (or the plan did not say).
            let ours = |key: &str| -> Result<(), String> {
                let Some(change) = change else {
                    return Ok(());
                };
                if menus::is_volatile(path, key) {
                    return Ok(());
                }
                match written(change, key) {
                    None => Ok(()),
                    Some(w) if w == item.get(key) => Ok(()),
                    Some(w) => Err(format!(
                        "/{path} {key} is now {} but the plan wrote {}: someone changed it since; left as it is",
                        shown(item.get(key)),
                        shown(w)
                    )),
                }
            };
            let mut diff = Props::new();
            for (k, v) in set {
                if item.get(k) == Some(v) {
                    continue;
                }
                match ours(k) {
                    Ok(()) => {
                        diff.insert(k.clone(), v.clone());
                    }
                    Err(note) => left.push(format!("{note} (before the plan it was {v:?})")),
                }
            }
            if !diff.is_empty() {
                client.set(&m, target_id.as_ref(), &diff).await?;
            }
            for name in unset.iter().filter(|n| item.contains_key(*n)) {
                if let Err(note) = ours(name) {
                    left.push(format!("{note} (before the plan it was unset)"));
                    continue;
                }
                client
                    .item_command(
                        &m,
                        "unset",
                        target_id.as_ref(),
                        &Props::from([("value-name".into(), name.clone())]),
                    )
                    .await?;
            }
            Ok(left)
        }
        Inverse::Present {
            menu: path,
            props,
            place_before,
        } => {
            if !find(client, path, props).await?.is_empty() {
                return Ok(left);
            }
            let at = match place_before {
                Some(r) => locate(client, path, r).await?,
                None => None,
            };
            let at = at.as_deref().map(id).transpose()?;
            match client.add(&menu(path)?, props, at.as_ref()).await {
                Ok(_) => Ok(left),
                // The router's own auto-revert can re-create the item between the look and the
                // add (both undo the same change): then it is back, which is all this step wants.
                Err(e)
                    if matches!(e.kind, ErrorKind::Conflict(_))
                        && !find(client, path, props).await?.is_empty() =>
                {
                    Ok(left)
                }
                Err(e) => Err(e.into()),
            }
        }
        Inverse::Position {
            menu: path,
            target,
            place_before,
        } => {
            let Some(subject) = locate(client, path, target).await? else {
                return Ok(left);
            };
            let order = static_order(client, path).await?;
            let pos = order.iter().position(|i| *i == subject);
            let before = |dest: &Option<String>| match (dest, pos) {
                (Some(d), Some(p)) => order.get(p + 1) == Some(d),
                (None, Some(p)) => p + 1 == order.len(),
                _ => true,
            };
            let dest = match place_before {
                Some(r) => locate(client, path, r).await?,
                None => None,
            };
            if before(&dest) {
                return Ok(left);
            }
            if let Some(change) = change {
                // Moved back only from where the plan put it.
                let planned = match &change.write.place_before {
                    Some(r) => locate(client, path, r).await?,
                    None => None,
                };
                if !before(&planned) {
                    left.push(format!(
                        "/{path} {subject} was moved again since the plan moved it; left where it is"
                    ));
                    return Ok(left);
                }
            }
            let dest = dest.as_deref().map(id).transpose()?;
            client
                .move_items(&menu(path)?, &[id(&subject)?], dest.as_ref())
                .await?;
            Ok(left)
        }
    }
}

async fn remove(client: &DeviceClient, m: &MenuPath, item: &str) -> Result<(), WorkflowError> {
    match client.remove(m, &id(item)?).await {
        Ok(()) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether the device is back where it was before the plan, for the changes that ran: what
/// still differs, in words.
pub(crate) async fn restored(
    client: &DeviceClient,
    changes: &[&Change],
    created: &(dyn Fn(u32) -> Option<String> + Send + Sync),
) -> Result<Vec<String>, WorkflowError> {
    let mut problems = Vec::new();
    let menus_with_removes: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Remove)
        .map(|c| c.menu.as_str())
        .collect();
    for c in changes {
        let spec = menus::spec(&c.menu);
        match c.action {
            Action::Add => {
                if let Some(i) = created(c.seq)
                    && get(client, &c.menu, &i).await?.is_some()
                {
                    problems.push(format!(
                        "{}: the added item {i} is still there",
                        c.description
                    ));
                } else if !find(client, &c.menu, &c.write.props).await?.is_empty() {
                    problems.push(format!("{}: the added item is still there", c.description));
                }
            }
            Action::Remove => {
                let props = match (&c.state_read, spec) {
                    (Some(s), Some(spec)) => spec.config(s),
                    (Some(s), None) => s.clone(),
                    _ => Props::new(),
                };
                if find(client, &c.menu, &props).await?.is_empty() {
                    problems.push(format!("{}: the removed item is not back", c.description));
                }
            }
            Action::Command => {
                // Undoing make-static removes the static lease: gone or still dynamic is fine.
                if let Some(t) = &c.target
                    && let Some(item) = get(client, &c.menu, t).await?
                    && item.get("dynamic").is_none_or(|d| d != "true")
                {
                    problems.push(format!("{}: the item is still static", c.description));
                }
            }
            _ => {
                let item = match &c.target {
                    Some(t) => get(client, &c.menu, t).await?,
                    None => Some(singleton(client, &c.menu).await?),
                };
                let Some(item) = item else {
                    problems.push(format!("{}: the item is gone", c.description));
                    continue;
                };
                let now = spec.map_or_else(|| item.clone(), |s| s.config(&item));
                if let Some(before) = &c.state_read {
                    for d in differences(&c.menu, before, &now) {
                        problems.push(format!("{}: {d}", c.description));
                    }
                }
                if c.action == Action::Move && !menus_with_removes.contains(c.menu.as_str()) {
                    let order_pre = c.preconditions.iter().find_map(|p| match p {
                        Precondition::Order { sha256, .. } => Some(sha256.clone()),
                        _ => None,
                    });
                    if let Some(want) = order_pre {
                        let items = client
                            .print(
                                &menu(&c.menu)?,
                                &PrintQuery::all().proplist(&[".id", "dynamic"]),
                            )
                            .await?;
                        if order_hash(&items) != want {
                            problems.push(format!("{}: the order is not back", c.description));
                        }
                    }
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use domain::{DeviceId, DriverPreference};
    use routeros::{Connections, DeviceClient, Fingerprint, Limits, Target, Trust};
    use routeros_sim::profiles::Profile;
    use routeros_sim::{Faults, Fleet, FleetOptions};
    use vault::SecretString;

    use super::*;

    async fn one_router() -> (Fleet, Arc<DeviceClient>) {
        let sims = Fleet::start(FleetOptions {
            count: 1,
            profiles: vec![Profile::Home],
            seed: 3,
            base_address: std::net::Ipv4Addr::new(127, 94, 1, 1),
            ..FleetOptions::default()
        })
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
        let m = sims.manifest().devices[0].clone();
        let pin =
            |f: &str| Trust::Pinned(Fingerprint::parse(f).unwrap_or_else(|e| unreachable!("{e}")));
        let target = Target {
            device_id: DeviceId::new(),
            name: m.name.clone(),
            host: m.address.parse().unwrap_or_else(|e| unreachable!("{e:?}")),
            rest_port: m.https_port,
            http_port: m.http_port,
            ssh_port: m.ssh_port,
            username: m.username.clone(),
            password: SecretString::from(m.password.clone()),
            tls: pin(&m.tls_sha256),
            ssh: pin(&m.ssh_host_key_sha256),
            insecure_http: false,
        };
        let limits = Limits {
            rate_per_second: 1000,
            burst: 1000,
            timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let client =
            Connections::new(limits, None).client(target, DriverPreference::Rest, Some("7.16"));
        (sims, client)
    }

    /// RouterOS 7.15+ prints a WireGuard peer's unset `client-endpoint` as empty: verifying an
    /// unset accepts that, and still catches a property that kept its value.
    #[tokio::test]
    async fn an_unset_property_printed_empty_verifies_and_one_that_kept_its_value_does_not() {
        let (sims, client) = one_router().await;
        let change = |unset: &[&str]| Change {
            seq: 1,
            device_id: DeviceId::new(),
            device_order: 0,
            menu: "interface/wireguard/peers".into(),
            action: Action::Set,
            target: Some("*1".into()),
            write: crate::model::Write {
                props: Props::new(),
                unset: unset.iter().map(|u| (*u).to_owned()).collect(),
                place_before: None,
                command: None,
            },
            state_read: None,
            preconditions: Vec::new(),
            inverse: Vec::new(),
            description: "/interface/wireguard/peers set *1".into(),
        };
        let clean = verify(&client, &change(&["client-endpoint"]), None)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(clean.is_empty(), "{clean:?}");
        let kept = verify(&client, &change(&["client-address"]), None)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            kept,
            ["/interface/wireguard/peers set *1: client-address is still set"]
        );
        sims.shutdown().await;
    }

    /// The router's auto-revert and the server's rollback undo the same remove at once: the
    /// entry appears between the server's look and its add. Found by the 10,000-plan soak.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_undo_racing_the_routers_own_revert_counts_the_recreated_item_as_restored() {
        let (sims, client) = one_router().await;
        let name = sims.manifest().devices[0].name.clone();
        let sim = sims.device(&name).unwrap_or_else(|| unreachable!());
        let props = Props::from([
            ("name".to_owned(), "race.lan".to_owned()),
            ("address".to_owned(), "10.9.9.9".to_owned()),
        ]);
        // Every request waits 400 ms before it is handled: the look answers at ~0.4 s, the add
        // is handled at ~0.8 s; the router's own revert re-creates the entry at ~0.6 s.
        sim.set_faults(Faults {
            latency_ms: 400,
            ..Faults::none()
        });
        let revert = {
            let sim = Arc::clone(&sim);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(600)).await;
                sim.write_state(|s| {
                    let spec = routeros_sim::model::menu("/ip/dns/static")
                        .unwrap_or_else(|| unreachable!());
                    s.add(spec, &[("name", "race.lan"), ("address", "10.9.9.9")])
                        .map(|_| ())
                })
            })
        };
        let undo = Inverse::Present {
            menu: "ip/dns/static".into(),
            props: props.clone(),
            place_before: None,
        };
        let result = ensure(&client, &undo, None, None).await;
        assert!(
            matches!(revert.await, Ok(Ok(()))),
            "the revert re-created it"
        );
        sim.set_faults(Faults::none());
        assert!(result.is_ok(), "{result:?}");
        let entries = find(&client, "ip/dns/static", &props)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(entries.len(), 1, "{entries:?}");
        sims.shutdown().await;
    }
}
