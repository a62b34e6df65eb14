//! The vocabulary of a plan: risks, statuses, changes, what must still hold when it is applied
//! (preconditions), and how each change is undone (inverse operations).
//!
//! Everything here is plain data with a stable JSON form: it is what the database stores, what
//! the content hash covers, and what tools show.

use std::collections::BTreeMap;

use domain::{DeviceId, Environment};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// RouterOS properties as RouterOS prints them (every value a string).
pub type Props = BTreeMap<String, String>;

domain::text_enum! {
    /// How much can go wrong. `critical` touches the path the server reaches the device by.
    Risk, "risk" {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

domain::text_enum! {
    /// Where a plan is in its life.
    PlanStatus, "plan status" {
        /// Waiting for a human decision.
        Pending = "pending",
        /// Approved: an approval token exists that `plan.apply` can use.
        Approved = "approved",
        /// Being applied (or interrupted while being applied: recovery resolves it).
        Applying = "applying",
        Applied = "applied",
        /// Failed while applying; every device was restored to its state before the plan.
        RolledBack = "rolled_back",
        /// Failed, and at least one device could not be restored: an operator must look.
        Failed = "failed",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

impl PlanStatus {
    /// Whether the plan is finished (nothing can happen to it any more).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PlanStatus::Applied
                | PlanStatus::RolledBack
                | PlanStatus::Failed
                | PlanStatus::Rejected
                | PlanStatus::Cancelled
        )
    }
}

domain::text_enum! {
    /// A plan that changes routers, or one that undoes an applied plan.
    PlanKind, "plan kind" {
        Change = "change",
        Rollback = "rollback",
    }
}

domain::text_enum! {
    /// What a change does to a menu.
    Action, "action" {
        Add = "add",
        Set = "set",
        Remove = "remove",
        Move = "move",
        Enable = "enable",
        Disable = "disable",
        /// A menu command on an item (`make-static`).
        Command = "command",
    }
}

/// An item as an operation finds it when it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRef {
    /// By RouterOS id: the item exists before and after the plan and keeps its id.
    Id(String),
    /// By its configuration: the item is (re)created by the plan or its inverse, so its id is
    /// not known in advance.
    Match(Props),
    /// The menu itself (`/system/identity`).
    Singleton,
}

/// What is written by a change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Write {
    /// Properties to add or set (normalised to RouterOS's printed form).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: Props,
    /// Properties to unset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
    /// Add or move before this item (ordered menus); `None` means at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_before: Option<ItemRef>,
    /// The menu command (`make-static`) for [`Action::Command`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// What must still hold when the plan is applied (checked per device before anything is
/// written): the drift check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Precondition {
    /// The item exists with these property values (as read when planning).
    Item {
        menu: String,
        id: String,
        props: Props,
    },
    /// A singleton menu has these values.
    Singleton { menu: String, props: Props },
    /// No item matches these properties (an add would duplicate it).
    Absent { menu: String, matching: Props },
    /// The order of an ordered menu's configured items is what it was (its SHA-256).
    Order { menu: String, sha256: String },
}

/// One step of undoing a change. Every step is idempotent — it reads first and writes only what
/// differs — so it may be repeated after a failure, and a step for a change that never happened
/// does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Inverse {
    /// Remove the item a change created: by `id` when it is known when planning (a lease made
    /// static), else by the id the journal recorded for the add, else by its properties.
    Absent {
        menu: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        matching: Props,
    },
    /// Put properties back (and unset those that had no value).
    Props {
        menu: String,
        target: ItemRef,
        set: Props,
        unset: Vec<String>,
    },
    /// Recreate an item a remove took away, at its place.
    Present {
        menu: String,
        props: Props,
        place_before: Option<ItemRef>,
    },
    /// Put an item back at its place in an ordered menu.
    Position {
        menu: String,
        target: ItemRef,
        place_before: Option<ItemRef>,
    },
}

/// One change to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the plan (apply order), from 1.
    pub seq: u32,
    pub device_id: DeviceId,
    /// The device's place in the rollout (0 is the canary).
    pub device_order: u32,
    /// RouterOS menu, `ip/firewall/filter`.
    pub menu: String,
    pub action: Action,
    /// The item's RouterOS id when planning (none for adds and singleton menus).
    pub target: Option<String>,
    pub write: Write,
    /// The item as read when planning (configuration properties only).
    pub state_read: Option<Props>,
    pub preconditions: Vec<Precondition>,
    pub inverse: Vec<Inverse>,
    /// The change in RouterOS terms: `/ip/dns/static add name=nas.lan address=192.168.88.20`.
    pub description: String,
}

/// A device of a plan, in rollout order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDevice {
    pub device_id: DeviceId,
    pub name: String,
    pub environment: Environment,
}

/// A plan as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub project_id: String,
    pub title: String,
    /// The tool (or command) that proposed it.
    pub tool: String,
    pub kind: PlanKind,
    pub rollback_of: Option<String>,
    pub status: PlanStatus,
    pub risk: Risk,
    pub risk_reasons: Vec<String>,
    /// The strictest environment among its devices; approval policy follows it.
    pub environment: Environment,
    pub content_hash: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub devices: Vec<PlanDevice>,
    pub changes: Vec<Change>,
    /// What happened when it was applied (per device), once it was.
    pub outcome: Option<Value>,
    /// How it rolls out when it is a staged rollout (waves, soak, gates); covered by the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::rollout::RolloutSpec>,
}

impl Plan {
    /// The hash of everything an approval vouches for: the changes (with their devices and
    /// rollout order), the state they were computed from, their inverse, and the risk. Key order
    /// and whitespace do not matter; a device renamed after planning does not change it.
    pub fn compute_hash(&self) -> String {
        let content = serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "rollback_of": self.rollback_of,
            "title": self.title,
            "risk": self.risk,
            "risk_reasons": self.risk_reasons,
            "changes": self.changes,
        });
        // Only a staged rollout has the key, so the hashes of other plans stay as they were.
        let mut content = content;
        if let (Some(spec), Some(map)) = (&self.rollout, content.as_object_mut()) {
            map.insert(
                "rollout".into(),
                serde_json::to_value(spec).unwrap_or(Value::Null),
            );
        }
        let mut hasher = Sha256::new();
        hasher.update(canonical(&content).as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Whether applying arms a device-side auto-revert on each device first: always, except for
    /// a low-risk plan whose every change is on the allow-list of changes that cannot affect how
    /// the server reaches a router ([`crate::risk::cannot_affect_reachability`]). A wrong risk
    /// guess can then never strand a router: whatever cuts it off is undone by the router.
    pub fn arms_auto_revert(&self) -> bool {
        self.risk != Risk::Low
            || !self
                .changes
                .iter()
                .all(crate::risk::cannot_affect_reachability)
    }

    /// The changes of one device, in order.
    pub fn changes_of(&self, device: &DeviceId) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| &c.device_id == device)
    }

    pub fn device_name(&self, device: &DeviceId) -> &str {
        self.devices
            .iter()
            .find(|d| &d.device_id == device)
            .map_or("?", |d| d.name.as_str())
    }
}

impl Inverse {
    /// What undoing does, in RouterOS terms.
    pub fn describe(&self) -> String {
        let target = |r: &ItemRef| match r {
            ItemRef::Id(id) => id.clone(),
            ItemRef::Match(p) => format!("[find {}]", show_props(p)),
            ItemRef::Singleton => String::new(),
        };
        match self {
            Inverse::Absent { menu, id, matching } => match id {
                Some(id) => format!("{} remove {id}", console_menu(menu)),
                None => format!(
                    "{} remove the added item ({})",
                    console_menu(menu),
                    show_props(matching)
                ),
            },
            Inverse::Props {
                menu,
                target: t,
                set,
                unset,
            } => {
                let mut text = format!("{} set", console_menu(menu));
                let t = target(t);
                if !t.is_empty() {
                    text.push_str(&format!(" {t}"));
                }
                if !set.is_empty() {
                    text.push_str(&format!(" {}", show_props(set)));
                }
                for u in unset {
                    text.push_str(&format!(" !{u}"));
                }
                text
            }
            Inverse::Present {
                menu,
                props,
                place_before,
            } => {
                let mut text = format!("{} add {}", console_menu(menu), show_props(props));
                if let Some(p) = place_before {
                    text.push_str(&format!(" place-before={}", target(p)));
                }
                text
            }
            Inverse::Position {
                menu,
                target: t,
                place_before,
            } => match place_before {
                Some(p) => format!(
                    "{} move {} before {}",
                    console_menu(menu),
                    target(t),
                    target(p)
                ),
                None => format!("{} move {} to the end", console_menu(menu), target(t)),
            },
        }
    }
}

/// JSON with object keys sorted at every level and no whitespace: one text per value.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String((*k).clone()),
                        canonical(map.get(*k).unwrap_or(&Value::Null))
                    )
                })
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

/// RouterOS console form of a menu: `ip/dns/static` → `/ip/dns/static`.
pub fn console_menu(menu: &str) -> String {
    format!("/{menu}")
}

/// `key=value` pairs as the console shows them (values quoted when needed).
pub fn show_props(props: &Props) -> String {
    props
        .iter()
        .map(|(k, v)| {
            if !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._:/,*+@".contains(c))
            {
                format!("{k}={v}")
            } else {
                format!("{k}={v:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Risk {
    /// Whether anything but an operator may approve a plan of this risk: policy (auto-approval)
    /// and an MCP client's user (elicitation, whose answer the server cannot verify) may approve
    /// low and medium plans only, whatever the configuration says.
    pub fn may_be_approved_without_a_person(self) -> bool {
        match self {
            Risk::Low | Risk::Medium => true,
            Risk::High | Risk::Critical => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":null}}"#)
            .unwrap_or_default();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#)
            .unwrap_or_default();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn risks_order() {
        assert!(Risk::Low < Risk::Medium && Risk::High < Risk::Critical);
    }

    #[test]
    fn console_text_quotes_what_needs_quoting() {
        let p = Props::from([
            ("name".into(), "nas.lan".into()),
            ("comment".into(), "two words".into()),
        ]);
        assert_eq!(show_props(&p), r#"comment="two words" name=nas.lan"#);
    }
}
