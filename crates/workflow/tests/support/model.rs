//! The independent model of a plan's effect that the fault campaign and the kill-at-every-step
//! test check routers against: what each change should have done to the configuration read
//! before the plan, written here from the plan's changes, not by the engine.

use std::collections::BTreeMap;

use routeros_sim::SimDevice;
use serde_json::Value;

/// One menu's configured items in order (dynamic items and ids left out).
pub type Menu = Vec<BTreeMap<String, String>>;

pub fn menus(sim: &SimDevice) -> BTreeMap<String, Value> {
    let v: Value = serde_json::from_str(&sim.state_dump(false).to_json_string()).unwrap();
    v.as_object().unwrap().clone().into_iter().collect()
}

pub fn list(v: &Value) -> Menu {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    r.as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn without_id(r: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut r = r.clone();
    r.remove(".id");
    r
}

/// What the plan should have done to `pre`, modelled change by change; `post` only supplies the
/// values RouterOS fills in for a new item (its defaults), which must include the planned ones.
pub fn expected(
    pre: &BTreeMap<String, Value>,
    post: &BTreeMap<String, Value>,
    plan: &workflow::Plan,
    device: &domain::DeviceId,
) -> Result<BTreeMap<String, Value>, String> {
    let mut model: BTreeMap<String, Menu> = pre.iter().map(|(k, v)| (k.clone(), list(v))).collect();
    let singles: BTreeMap<String, Value> = pre
        .iter()
        .filter(|(_, v)| v.is_object())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut singles = singles;
    for c in plan.changes_of(device) {
        let key = format!("/{}", c.menu);
        if let Some(single) = singles.get_mut(&key) {
            for (k, v) in &c.write.props {
                single[k] = Value::String(v.clone());
            }
            continue;
        }
        // Typed menus share ids with their parent (`/interface` items live in
        // `/interface/ethernet` in the dump): find the menu holding the target.
        let key = match &c.target {
            Some(target)
                if !model
                    .get(&key)
                    .is_some_and(|m| m.iter().any(|r| r.get(".id") == Some(target))) =>
            {
                TYPED
                    .iter()
                    .map(|t| format!("{key}/{t}"))
                    .find(|k| {
                        model
                            .get(k)
                            .is_some_and(|m| m.iter().any(|r| r.get(".id") == Some(target)))
                    })
                    .unwrap_or(key.clone())
            }
            _ => key,
        };
        let items = model.entry(key.clone()).or_default();
        let pos_of = |items: &Menu, id: &str| {
            items
                .iter()
                .position(|r| r.get(".id").map(String::as_str) == Some(id))
        };
        match c.action {
            workflow::Action::Add => {
                let post_items = list(&post[&key]);
                let pre_ids: Vec<&String> = items.iter().filter_map(|r| r.get(".id")).collect();
                let new: Vec<&BTreeMap<String, String>> = post_items
                    .iter()
                    .filter(|r| !pre_ids.contains(&r.get(".id").unwrap_or(&String::new())))
                    .filter(|r| c.write.props.iter().all(|(k, v)| r.get(k) == Some(v)))
                    .collect();
                let [one] = new.as_slice() else {
                    return Err(format!(
                        "{}: expected one new item, found {}",
                        c.description,
                        new.len()
                    ));
                };
                let at = match &c.write.place_before {
                    Some(workflow::ItemRef::Id(anchor)) => {
                        pos_of(items, anchor).ok_or("anchor gone")?
                    }
                    _ => items.len(),
                };
                items.insert(at, (*one).clone());
            }
            workflow::Action::Remove => {
                let at = pos_of(items, c.target.as_deref().unwrap())
                    .ok_or("removed item missing before")?;
                items.remove(at);
            }
            workflow::Action::Set | workflow::Action::Enable | workflow::Action::Disable => {
                let at = pos_of(items, c.target.as_deref().unwrap()).ok_or("set item missing")?;
                for (k, v) in &c.write.props {
                    items[at].insert(k.clone(), v.clone());
                }
                for u in &c.write.unset {
                    items[at].remove(u);
                }
            }
            workflow::Action::Move => {
                let from =
                    pos_of(items, c.target.as_deref().unwrap()).ok_or("moved item missing")?;
                let item = items.remove(from);
                let to = match &c.write.place_before {
                    Some(workflow::ItemRef::Id(d)) => {
                        pos_of(items, d).ok_or("destination missing")?
                    }
                    _ => items.len(),
                };
                items.insert(to, item);
            }
            workflow::Action::Command => return Err("no commands in the campaign".into()),
        }
    }
    let mut out = BTreeMap::new();
    for (k, v) in pre {
        if v.is_object() {
            out.insert(k.clone(), singles[k].clone());
        } else {
            out.insert(
                k.clone(),
                Value::Array(
                    model[k]
                        .iter()
                        .map(|r| serde_json::to_value(without_id(r)).unwrap())
                        .collect(),
                ),
            );
        }
    }
    Ok(out)
}

/// Interface menus whose items are `/interface` items (they share ids).
pub const TYPED: &[&str] = &["ethernet", "bridge", "vlan", "wireguard"];

/// Properties RouterOS derives from the configuration (a port's status follows its interface).
pub const DERIVED: &[&str] = &[
    "status",
    "inactive",
    "hw-offload",
    "running",
    "active",
    "invalid",
    "slave",
    "actual-interface",
];

pub fn without_derived(m: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for d in DERIVED {
                    map.remove(*d);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut m = m.clone();
    m.values_mut().for_each(strip);
    m
}

/// The configuration without ids, with the items of unordered menus sorted: RouterOS keeps
/// those in creation order but offers no way to place an item, so an item re-created by a
/// rollback comes back at the end — the same configuration, listed in another order.
pub fn stripped(m: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let mut m = m.clone();
    for (menu, v) in m.iter_mut() {
        super::strip_ids(v);
        let ordered = workflow::menus::spec(menu)
            .is_some_and(|s| s.kind == workflow::menus::MenuKind::Ordered);
        if let (false, Value::Array(items)) = (ordered, v) {
            items.sort_by_key(|i| i.to_string());
        }
    }
    m
}

/// First menu where two configurations differ, for the failure message.
pub fn first_difference(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> String {
    for (k, v) in a {
        if b.get(k) != Some(v) {
            return format!(
                "{k}:\n  got      {v}\n  expected {}",
                b.get(k).unwrap_or(&Value::Null)
            );
        }
    }
    "extra menus".into()
}
