//! From a change request to a plan: read each device's current state, resolve which items the
//! request means, and compute for every change exactly what will be written, what must still hold
//! when it is applied, how to undo it, how risky it is, and one line saying it in RouterOS terms.
//! Nothing is written to any device here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use domain::Environment;
use fleet::Fleet;
use routeros::{DeviceClient, MenuPath, PrintQuery};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::Device;

use crate::error::WorkflowError;
use crate::menus::{self, MenuKind, MenuSpec};
use crate::model::{
    Action, Change, Inverse, ItemRef, PlanDevice, Precondition, Props, Risk, Write, console_menu,
    show_props,
};
use crate::risk::{self, ManagementPath};

/// Which item a change means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    /// A RouterOS id (`*1A`).
    Id(String),
    /// The one item whose properties equal these.
    Where(Props),
    /// A singleton menu.
    Singleton,
    /// The item a plan recorded by id — or, when that id is gone because the item was removed
    /// and added back since (RouterOS never reuses ids), the one item with these properties.
    Recorded { id: String, matching: Props },
}

/// What to do to a menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Op {
    Add {
        props: Props,
        #[serde(default)]
        place_before: Option<Selector>,
    },
    Set {
        target: Selector,
        #[serde(default)]
        props: Props,
        #[serde(default)]
        unset: Vec<String>,
    },
    Remove {
        target: Selector,
    },
    Enable {
        target: Selector,
    },
    Disable {
        target: Selector,
    },
    Move {
        target: Selector,
        /// `None` moves it to the end.
        #[serde(default)]
        place_before: Option<Selector>,
    },
    Command {
        target: Selector,
        command: String,
    },
}

/// One change asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub menu: String,
    #[serde(flatten)]
    pub op: Op,
}

/// The changes asked for on one device (by id or name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub device: String,
    pub changes: Vec<ChangeRequest>,
}

/// A whole request: devices in rollout order (the first is the canary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub title: String,
    pub tool: String,
    pub devices: Vec<DeviceRequest>,
}

/// What planning produced.
#[derive(Debug)]
pub(crate) struct Planned {
    pub devices: Vec<PlanDevice>,
    pub changes: Vec<Change>,
    pub risk: Risk,
    pub reasons: Vec<String>,
    pub environment: Environment,
    pub first_device: domain::DeviceId,
}

/// A slot of an ordered menu while planning: an item that exists, or one this plan adds.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Existing(String),
    Planned(u32),
}

/// The state of one menu of one device as read, plus the order as it will be after each change.
#[derive(Debug)]
struct MenuState {
    spec: &'static MenuSpec,
    items: Vec<Props>,
    order: Vec<Slot>,
    /// Written props of adds planned here, by seq.
    planned: HashMap<u32, Props>,
}

impl MenuState {
    fn find(&self, id: &str) -> Option<&Props> {
        self.items
            .iter()
            .find(|i| i.get(".id").is_some_and(|x| x == id))
    }

    fn is_static(&self, id: &str) -> bool {
        self.find(id)
            .is_some_and(|i| i.get("dynamic").is_none_or(|d| d != "true"))
    }

    /// SHA-256 of the ids of the configured (non-dynamic) items in order.
    fn order_hash(&self) -> String {
        order_hash(&self.items)
    }
}

/// SHA-256 of the ids of the configured (non-dynamic) items, in order.
pub(crate) fn order_hash(items: &[Props]) -> String {
    let ids: Vec<&str> = items
        .iter()
        .filter(|i| i.get("dynamic").is_none_or(|d| d != "true"))
        .filter_map(|i| i.get(".id").map(String::as_str))
        .collect();
    hex::encode(Sha256::digest(ids.join(",").as_bytes()))
}

fn invalid(text: impl Into<String>) -> WorkflowError {
    WorkflowError::Invalid(text.into())
}

/// The server's address towards `ip`, as the device will see it (no packet is sent).
fn local_address_towards(ip: IpAddr, port: u16) -> Option<IpAddr> {
    let bind = match ip {
        IpAddr::V4(_) => "0.0.0.0:0",
        IpAddr::V6(_) => "[::]:0",
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect((ip, port)).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

async fn device_ip(device: &Device) -> Option<IpAddr> {
    match &device.address {
        domain::Host::Ip(ip) => Some(*ip),
        domain::Host::Name(name) => {
            tokio::net::lookup_host((name.as_str(), device.rest_port.get()))
                .await
                .ok()?
                .next()
                .map(|a| a.ip())
        }
    }
}

/// Rounds of following VLAN parents, bridges and bonds from the management interface: deeper
/// nesting than this does not occur on a router that answers.
const PATH_DEPTH: usize = 6;

/// Reads how the server reaches `device`: its address, the server's address as the device sees
/// it, every interface that traffic depends on, and the services and ports it uses. The routes
/// are added per device by [`path_routes`] once `/ip/route` is read.
async fn management_path(
    device: &Device,
    client: &DeviceClient,
) -> Result<ManagementPath, WorkflowError> {
    let device_ip = device_ip(device).await;
    let server_ip = device_ip.and_then(|ip| local_address_towards(ip, device.rest_port.get()));
    let mut interfaces: Vec<(String, String)> = Vec::new();
    if let Some(ip) = device_ip {
        let menu = if ip.is_ipv4() {
            "ip/address"
        } else {
            "ipv6/address"
        };
        let addresses = client.print(&menu_path(menu)?, &PrintQuery::all()).await?;
        for a in &addresses {
            let matches = a
                .get("address")
                .and_then(|v| v.split('/').next())
                .and_then(|v| v.parse::<IpAddr>().ok())
                == Some(ip);
            if let (true, Some(iface)) = (matches, a.get("interface"))
                && !interfaces.iter().any(|(n, _)| n == iface)
            {
                interfaces.push((iface.clone(), "carries the management address".into()));
            }
        }
    }
    if !interfaces.is_empty() {
        let vlans = print_if_present(client, "interface/vlan").await?;
        let ports = print_if_present(client, "interface/bridge/port").await?;
        let bonds = print_if_present(client, "interface/bonding").await?;
        for _ in 0..PATH_DEPTH {
            let mut found: Vec<(String, String)> = Vec::new();
            let on_path = |n: &str| interfaces.iter().any(|(x, _)| x == n);
            for v in &vlans {
                if let (Some(name), Some(parent)) = (v.get("name"), v.get("interface"))
                    && on_path(name)
                {
                    found.push((
                        parent.clone(),
                        format!("is the parent of VLAN {name} on the management path"),
                    ));
                }
            }
            for p in &ports {
                if let (Some(port), Some(bridge)) = (p.get("interface"), p.get("bridge")) {
                    if on_path(bridge) {
                        found.push((
                            port.clone(),
                            format!("is a port of bridge {bridge} on the management path"),
                        ));
                    }
                    if on_path(port) {
                        found.push((
                            bridge.clone(),
                            format!("is the bridge of {port} on the management path"),
                        ));
                    }
                }
            }
            for b in &bonds {
                if let (Some(name), Some(slaves)) = (b.get("name"), b.get("slaves"))
                    && on_path(name)
                {
                    for slave in slaves.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        found.push((
                            slave.to_owned(),
                            format!("is a slave of bond {name} on the management path"),
                        ));
                    }
                }
            }
            let before = interfaces.len();
            for (name, role) in found {
                if !interfaces.iter().any(|(x, _)| *x == name) {
                    interfaces.push((name, role));
                }
            }
            if interfaces.len() == before {
                break;
            }
        }
    }
    let mut services = vec!["www-ssl".to_owned(), "ssh".to_owned()];
    let mut ports = vec![device.rest_port.get(), device.ssh_port.get()];
    if device.insecure_http {
        services.push("www".into());
        ports.push(device.http_port.map_or(80, |p| p.get()));
    }
    let configured = print_if_present(client, "ip/service").await?;
    for svc in &configured {
        if let (Some(name), Some(port)) = (svc.get("name"), svc.get("port"))
            && services.contains(name)
            && let Ok(port) = port.parse::<u16>()
            && !ports.contains(&port)
        {
            ports.push(port);
        }
    }
    Ok(ManagementPath {
        device_ip,
        server_ip,
        interfaces,
        routes: Vec::new(),
        services,
        ports,
    })
}

/// Every item of `menu`; none when the device has no such menu (no bonding package, say). Any
/// other failure fails planning: a path read in part could rate a change too low.
async fn print_if_present(client: &DeviceClient, menu: &str) -> Result<Vec<Props>, WorkflowError> {
    match client.print(&menu_path(menu)?, &PrintQuery::all()).await {
        Ok(items) => Ok(items),
        Err(e) if matches!(e.kind, routeros::ErrorKind::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The ids of the routes carrying the server's traffic: the most specific active routes of the
/// main table whose destination covers the server (the default route when nothing narrower does).
fn path_routes(routes: &[Props], server_ip: Option<IpAddr>) -> Vec<String> {
    let candidates: Vec<(&Props, u8)> = routes
        .iter()
        .filter(|r| {
            r.get("routing-table")
                .is_none_or(|t| t.is_empty() || t == "main")
                && r.get("disabled").is_none_or(|d| d != "true")
                && r.get("active").is_none_or(|a| a == "true")
        })
        .filter_map(|r| {
            let dst = r.get("dst-address")?;
            if risk::covers(dst, server_ip) != Some(true) {
                return None;
            }
            let len = dst
                .split_once('/')
                .and_then(|(_, l)| l.parse::<u8>().ok())?;
            Some((r, len))
        })
        .collect();
    let best = candidates.iter().map(|(_, l)| *l).max();
    candidates
        .iter()
        .filter(|(_, l)| Some(*l) == best)
        .filter_map(|(r, _)| r.get(".id").cloned())
        .collect()
}

fn menu_path(menu: &str) -> Result<MenuPath, WorkflowError> {
    MenuPath::parse(menu).map_err(invalid)
}

fn normalized(spec: &MenuSpec, props: &Props) -> Result<Props, WorkflowError> {
    let mut out = Props::new();
    for (k, v) in props {
        if routeros::ssh::check_property(k).is_err() {
            return Err(invalid(format!(
                "\"{k}\" is not a RouterOS property name: expected lowercase letters, digits and '-'"
            )));
        }
        if !spec.is_writable(k) {
            let allowed = spec
                .writable
                .map(|w| format!(" (writable here: {})", w.join(", ")))
                .unwrap_or_default();
            return Err(invalid(format!(
                "{k} of /{} cannot be written by a plan: RouterOS computes it or the server does not allow it{allowed}",
                spec.path
            )));
        }
        out.insert(k.clone(), menus::normalize(spec.path, k, v));
    }
    Ok(out)
}

/// Whether `item` has every property of `wanted` with an equal (normalised) value.
fn matches(spec: &MenuSpec, item: &Props, wanted: &Props) -> bool {
    wanted.iter().all(|(k, v)| {
        let want = menus::normalize(spec.path, k, v);
        item.get(k).is_some_and(|have| *have == want) || (k == ".id" && item.get(".id") == Some(v))
    })
}

/// Plans a whole request (reads only).
pub(crate) async fn plan(fleet: &Fleet, request: &PlanRequest) -> Result<Planned, WorkflowError> {
    if request.devices.is_empty() {
        return Err(invalid("a plan needs at least one device"));
    }
    let mut devices = Vec::new();
    let mut changes = Vec::new();
    let mut risk = Risk::Low;
    let mut reasons: Vec<String> = Vec::new();
    let mut seq = 0u32;
    let mut environment = Environment::Lab;
    let mut first_device = None;
    for (order, req) in request.devices.iter().enumerate() {
        if req.changes.is_empty() {
            return Err(invalid(format!("no changes for device {}", req.device)));
        }
        let (device, client) = fleet.find(None, &req.device).await?;
        if devices
            .iter()
            .any(|d: &PlanDevice| d.device_id == device.id)
        {
            return Err(invalid(format!(
                "device {} is listed twice; put all its changes in one entry",
                device.name
            )));
        }
        if device.status != domain::DeviceStatus::Active {
            return Err(WorkflowError::Refused(format!(
                "device {} is {}: only active devices are changed",
                device.name, device.status
            )));
        }
        first_device.get_or_insert(device.id);
        environment = environment.max(device.environment);
        let path = management_path(&device, &client).await?;
        let order = u32::try_from(order).unwrap_or(u32::MAX);
        let planned = plan_device(&device, &client, &req.changes, &path, order, &mut seq).await?;
        for (change, (r, why)) in planned {
            risk = risk.max(r);
            if let Some(why) = why
                && !reasons.contains(&why)
            {
                reasons.push(why);
            }
            changes.push(change);
        }
        devices.push(PlanDevice {
            device_id: device.id,
            name: device.name.to_string(),
            environment: device.environment,
        });
    }
    Ok(Planned {
        devices,
        changes,
        risk,
        reasons,
        environment,
        first_device: first_device.ok_or_else(|| invalid("no devices"))?,
    })
}

/// The target of a change, resolved against the state read.
fn resolve<'a>(
    state: &'a MenuState,
    selector: &Selector,
    what: &str,
) -> Result<Option<&'a Props>, WorkflowError> {
    let spec = state.spec;
    match selector {
        Selector::Singleton => {
            if spec.kind != MenuKind::Singleton {
                return Err(invalid(format!(
                    "/{} is a list: say which item {what} (an id or properties)",
                    spec.path
                )));
            }
            Ok(state.items.first())
        }
        _ if spec.kind == MenuKind::Singleton => Err(invalid(format!(
            "/{} has a single item: no id or filter is needed",
            spec.path
        ))),
        Selector::Id(id) => state.find(id).map(Some).ok_or_else(|| {
            invalid(format!(
                "no item {id} in /{}: list the menu to see its ids",
                spec.path
            ))
        }),
        Selector::Recorded { id, matching } => match state.find(id) {
            Some(item) => Ok(Some(item)),
            None => resolve(state, &Selector::Where(matching.clone()), what).map_err(|e| {
                let why = match e {
                    WorkflowError::Invalid(m) => m,
                    other => other.to_string(),
                };
                invalid(format!(
                    "the item recorded as {id} in /{} is gone, and by its properties: {why}",
                    spec.path
                ))
            }),
        },
        Selector::Where(props) => {
            if props.is_empty() {
                return Err(invalid(format!(
                    "an empty filter would match every item of /{}",
                    spec.path
                )));
            }
            let found: Vec<&Props> = state
                .items
                .iter()
                .filter(|i| matches(spec, i, props))
                .collect();
            match found.as_slice() {
                [one] => Ok(Some(*one)),
                [] => Err(invalid(format!(
                    "no item of /{} has {}",
                    spec.path,
                    show_props(props)
                ))),
                many => Err(invalid(format!(
                    "{} items of /{} have {}: {}; say which by id",
                    many.len(),
                    spec.path,
                    show_props(props),
                    many.iter()
                        .take(5)
                        .map(|i| format!(
                            "{} ({})",
                            i.get(".id").map_or("?", String::as_str),
                            spec.label(i)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
    }
}

fn id_of(item: &Props) -> String {
    item.get(".id").cloned().unwrap_or_default()
}

/// How the inverse finds the item at `slot`: by id when nothing in this plan removes it, by its
/// configuration otherwise (it will have been re-created with a new id).
fn reference(state: &MenuState, slot: &Slot, removed: &BTreeSet<String>) -> Option<ItemRef> {
    match slot {
        Slot::Planned(seq) => state.planned.get(seq).cloned().map(ItemRef::Match),
        Slot::Existing(id) if removed.contains(id) => state
            .find(id)
            .map(|i| ItemRef::Match(writable(state.spec, i))),
        Slot::Existing(id) => Some(ItemRef::Id(id.clone())),
    }
}

/// The next configured slot after `id` in the simulated order.
fn next_slot(state: &MenuState, id: &str) -> Option<Slot> {
    let pos = state
        .order
        .iter()
        .position(|s| *s == Slot::Existing(id.to_owned()))?;
    state.order[pos + 1..]
        .iter()
        .find(|s| match s {
            Slot::Existing(x) => state.is_static(x),
            Slot::Planned(_) => true,
        })
        .cloned()
}

/// The configuration of an item, as written back to re-create it.
fn writable(spec: &MenuSpec, item: &Props) -> Props {
    spec.config(item)
}

async fn plan_device(
    device: &Device,
    client: &DeviceClient,
    requests: &[ChangeRequest],
    path: &ManagementPath,
    device_order: u32,
    seq: &mut u32,
) -> Result<Vec<(Change, (Risk, Option<String>))>, WorkflowError> {
    let name = device.name.to_string();
    let mut states: BTreeMap<String, MenuState> = BTreeMap::new();
    for r in requests {
        let spec = menus::spec(&r.menu).ok_or_else(|| {
            invalid(format!(
                "plans do not change /{}; they change: {}",
                r.menu.trim_matches('/'),
                menus::allowed()
                    .iter()
                    .map(|m| format!("/{m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if states.contains_key(spec.path) {
            continue;
        }
        let items = client
            .print(&menu_path(spec.path)?, &PrintQuery::all())
            .await?;
        let order = items
            .iter()
            .filter_map(|i| i.get(".id").cloned().map(Slot::Existing))
            .collect();
        states.insert(
            spec.path.to_owned(),
            MenuState {
                spec,
                items,
                order,
                planned: HashMap::new(),
            },
        );
    }
    // Items removed anywhere in this device's changes: the inverse finds them by configuration.
    let mut removed: BTreeSet<String> = BTreeSet::new();
    for r in requests {
        if let Op::Remove { target } = &r.op
            && let Some(spec) = menus::spec(&r.menu)
            && let Some(state) = states.get(spec.path)
            && let Ok(Some(item)) = resolve(state, target, "to remove")
        {
            removed.insert(id_of(item));
        }
    }
    let mut path = path.clone();
    if let Some(routes) = states.get("ip/route") {
        path.routes = path_routes(&routes.items, path.server_ip);
    }
    let mut out = Vec::new();
    for r in requests {
        let Some(spec) = menus::spec(&r.menu) else {
            continue;
        };
        let action = action_of(&r.op);
        if !spec.actions.contains(&action) {
            return Err(invalid(format!(
                "/{} does not take {action}; it takes {}",
                spec.path,
                spec.actions
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        *seq += 1;
        let state = states
            .get_mut(spec.path)
            .ok_or_else(|| invalid("menu state missing"))?;
        let change = plan_change(state, &r.op, *seq, device, device_order, &removed)?;
        // Risk is assessed on the item as read, computed properties included (a service's name).
        let as_read = match (&change.target, spec.kind) {
            (Some(id), _) => state.find(id),
            (None, MenuKind::Singleton) => state.items.first(),
            (None, MenuKind::List | MenuKind::Ordered) => None,
        };
        let assessed = risk::assess(spec, change.action, as_read, &change.write, &path, &name);
        out.push((change, assessed));
    }
    Ok(out)
}

fn action_of(op: &Op) -> Action {
    match op {
        Op::Add { .. } => Action::Add,
        Op::Set { .. } => Action::Set,
        Op::Remove { .. } => Action::Remove,
        Op::Enable { .. } => Action::Enable,
        Op::Disable { .. } => Action::Disable,
        Op::Move { .. } => Action::Move,
        Op::Command { .. } => Action::Command,
    }
}

fn describe_item(spec: &MenuSpec, item: &Props) -> String {
    let label = spec.label(item);
    match item.get(".id") {
        Some(id) if label != *id && !label.is_empty() => format!("{id} ({label})"),
        Some(id) => id.clone(),
        None => label,
    }
}

fn plan_change(
    state: &mut MenuState,
    op: &Op,
    seq: u32,
    device: &Device,
    device_order: u32,
    removed: &BTreeSet<String>,
) -> Result<Change, WorkflowError> {
    let spec = state.spec;
    let menu = spec.path.to_owned();
    let shown = console_menu(spec.path);
    let mut change = Change {
        seq,
        device_id: device.id,
        device_order,
        menu: menu.clone(),
        action: action_of(op),
        target: None,
        write: Write::default(),
        state_read: None,
        preconditions: Vec::new(),
        inverse: Vec::new(),
        description: String::new(),
    };
    let item_precondition = |item: &Props| Precondition::Item {
        menu: menu.clone(),
        id: id_of(item),
        props: spec.config(item),
    };
    match op {
        Op::Add {
            props,
            place_before,
        } => {
            if spec.kind == MenuKind::Singleton {
                return Err(invalid(format!(
                    "/{} has a single item: use set",
                    spec.path
                )));
            }
            let props = normalized(spec, props)?;
            if props.is_empty() {
                return Err(invalid("an add needs properties"));
            }
            if state.items.iter().any(|i| matches(spec, i, &props)) {
                return Err(invalid(format!(
                    "/{} already has an item with {}",
                    spec.path,
                    show_props(&props)
                )));
            }
            let anchor = match place_before {
                Some(sel) => {
                    if spec.kind != MenuKind::Ordered {
                        return Err(invalid(format!(
                            "/{} is not ordered: place_before does not apply",
                            spec.path
                        )));
                    }
                    let item = resolve(state, sel, "to place before")?
                        .ok_or_else(|| invalid("no item to place before"))?;
                    Some(id_of(item))
                }
                None => None,
            };
            change.preconditions.push(Precondition::Absent {
                menu: menu.clone(),
                matching: props.clone(),
            });
            let mut text = format!("{shown} add {}", show_props(&props));
            if let Some(anchor) = &anchor {
                let item = state.find(anchor).cloned().unwrap_or_default();
                change.preconditions.push(item_precondition(&item));
                text.push_str(&format!(" place-before={}", describe_item(spec, &item)));
                change.write.place_before = Some(ItemRef::Id(anchor.clone()));
            }
            if spec.kind == MenuKind::Ordered {
                change.preconditions.push(Precondition::Order {
                    menu: menu.clone(),
                    sha256: state.order_hash(),
                });
                let pos = anchor
                    .as_ref()
                    .and_then(|a| {
                        state
                            .order
                            .iter()
                            .position(|s| *s == Slot::Existing(a.clone()))
                    })
                    .unwrap_or(state.order.len());
                state.order.insert(pos, Slot::Planned(seq));
                state.planned.insert(seq, props.clone());
            }
            change.inverse.push(Inverse::Absent {
                menu: menu.clone(),
                id: None,
                matching: props.clone(),
            });
            change.write.props = props;
            change.description = text;
        }
        Op::Set {
            target,
            props,
            unset,
        } => {
            let item = resolve(state, target, "to set")?
                .cloned()
                .unwrap_or_default();
            refuse_dynamic(spec, &item)?;
            let props = normalized(spec, props)?;
            for u in unset {
                if !spec.is_writable(u) {
                    return Err(invalid(format!(
                        "{u} of /{} cannot be unset by a plan",
                        spec.path
                    )));
                }
            }
            let changed: Props = props
                .iter()
                .filter(|(k, v)| item.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let unset: Vec<String> = unset
                .iter()
                .filter(|u| item.contains_key(*u) && !props.contains_key(*u))
                .cloned()
                .collect();
            if changed.is_empty() && unset.is_empty() {
                return Err(invalid(format!(
                    "nothing to change: {shown} {} already has {}",
                    describe_item(spec, &item),
                    show_props(&props)
                )));
            }
            let mut old = Props::new();
            let mut old_unset = Vec::new();
            for k in changed.keys().chain(unset.iter()) {
                match item.get(k) {
                    Some(v) => {
                        old.insert(k.clone(), v.clone());
                    }
                    None => old_unset.push(k.clone()),
                }
            }
            let target_ref = if spec.kind == MenuKind::Singleton {
                change.preconditions.push(Precondition::Singleton {
                    menu: menu.clone(),
                    props: spec.config(&item),
                });
                ItemRef::Singleton
            } else {
                change.preconditions.push(item_precondition(&item));
                change.target = Some(id_of(&item));
                ItemRef::Id(id_of(&item))
            };
            let was: Vec<String> = changed
                .keys()
                .map(|k| match item.get(k) {
                    Some(v) => format!("{k} was {v:?}"),
                    None => format!("{k} was unset"),
                })
                .collect();
            let mut text = format!("{shown} set");
            if spec.kind != MenuKind::Singleton {
                text.push_str(&format!(" {}", describe_item(spec, &item)));
            }
            if !changed.is_empty() {
                text.push_str(&format!(" {}", show_props(&changed)));
            }
            for u in &unset {
                text.push_str(&format!(" !{u}"));
            }
            if !was.is_empty() {
                text.push_str(&format!(" ({})", was.join(", ")));
            }
            change.inverse.push(Inverse::Props {
                menu: menu.clone(),
                target: target_ref,
                set: old,
                unset: old_unset,
            });
            change.state_read = Some(spec.config(&item));
            change.write.props = changed;
            change.write.unset = unset;
            change.description = text;
        }
        Op::Enable { target } | Op::Disable { target } => {
            let item = resolve(state, target, "to enable or disable")?
                .cloned()
                .unwrap_or_default();
            refuse_dynamic(spec, &item)?;
            let disable = matches!(op, Op::Disable { .. });
            let now = item.get("disabled").is_some_and(|d| d == "true");
            if now == disable {
                return Err(invalid(format!(
                    "nothing to change: {shown} {} is already {}",
                    describe_item(spec, &item),
                    if disable { "disabled" } else { "enabled" }
                )));
            }
            change.preconditions.push(item_precondition(&item));
            change.target = Some(id_of(&item));
            change.write.props = Props::from([("disabled".into(), disable.to_string())]);
            change.inverse.push(Inverse::Props {
                menu: menu.clone(),
                target: ItemRef::Id(id_of(&item)),
                set: Props::from([("disabled".into(), now.to_string())]),
                unset: Vec::new(),
            });
            change.description = format!(
                "{shown} {} {}",
                if disable { "disable" } else { "enable" },
                describe_item(spec, &item)
            );
            change.state_read = Some(spec.config(&item));
        }
        Op::Remove { target } => {
            let item = resolve(state, target, "to remove")?
                .cloned()
                .unwrap_or_default();
            refuse_dynamic(spec, &item)?;
            if spec.kind == MenuKind::Singleton {
                return Err(invalid(format!("/{} cannot be removed", spec.path)));
            }
            let secrets = spec.secrets_of(&item);
            if !secrets.is_empty() {
                return Err(WorkflowError::Refused(format!(
                    "{} of /{} has a secret ({}): its undo would have to carry it, and a plan never carries secrets; remove it on the router",
                    describe_item(spec, &item),
                    spec.path,
                    secrets.join(", ")
                )));
            }
            let id = id_of(&item);
            change.preconditions.push(item_precondition(&item));
            let place_before = if spec.kind == MenuKind::Ordered {
                change.preconditions.push(Precondition::Order {
                    menu: menu.clone(),
                    sha256: state.order_hash(),
                });
                let next = next_slot(state, &id).and_then(|s| reference(state, &s, removed));
                state.order.retain(|s| *s != Slot::Existing(id.clone()));
                next
            } else {
                None
            };
            change.target = Some(id.clone());
            change.inverse.push(Inverse::Present {
                menu: menu.clone(),
                props: writable(spec, &item),
                place_before,
            });
            change.description = format!("{shown} remove {}", describe_item(spec, &item));
            change.state_read = Some(spec.config(&item));
        }
        Op::Move {
            target,
            place_before,
        } => {
            if spec.kind != MenuKind::Ordered {
                return Err(invalid(format!("/{} is not ordered", spec.path)));
            }
            let item = resolve(state, target, "to move")?
                .cloned()
                .unwrap_or_default();
            refuse_dynamic(spec, &item)?;
            let id = id_of(&item);
            if removed.contains(&id) {
                return Err(invalid(format!(
                    "{id} is both moved and removed by this plan"
                )));
            }
            let dest = match place_before {
                Some(sel) => Some(
                    resolve(state, sel, "to move before")?
                        .cloned()
                        .unwrap_or_default(),
                ),
                None => None,
            };
            if dest.as_ref().is_some_and(|d| id_of(d) == id) {
                return Err(invalid("an item cannot be moved before itself"));
            }
            let old_next = next_slot(state, &id);
            let dest_slot = dest.as_ref().map(|d| Slot::Existing(id_of(d)));
            if old_next == dest_slot {
                return Err(invalid(format!(
                    "nothing to change: {} is already there",
                    describe_item(spec, &item)
                )));
            }
            change.preconditions.push(item_precondition(&item));
            if let Some(d) = &dest {
                change.preconditions.push(item_precondition(d));
            }
            change.preconditions.push(Precondition::Order {
                menu: menu.clone(),
                sha256: state.order_hash(),
            });
            change.inverse.push(Inverse::Position {
                menu: menu.clone(),
                target: ItemRef::Id(id.clone()),
                place_before: old_next.and_then(|s| reference(state, &s, removed)),
            });
            // The simulated order after the move.
            state.order.retain(|s| *s != Slot::Existing(id.clone()));
            let pos = dest_slot
                .as_ref()
                .and_then(|d| state.order.iter().position(|s| s == d))
                .unwrap_or(state.order.len());
            state.order.insert(pos, Slot::Existing(id.clone()));
            change.target = Some(id);
            change.write.place_before = dest.as_ref().map(|d| ItemRef::Id(id_of(d)));
            change.description = match &dest {
                Some(d) => format!(
                    "{shown} move {} before {}",
                    describe_item(spec, &item),
                    describe_item(spec, d)
                ),
                None => format!("{shown} move {} to the end", describe_item(spec, &item)),
            };
            change.state_read = Some(spec.config(&item));
        }
        Op::Command { target, command } => {
            if !spec.commands.contains(&command.as_str()) {
                return Err(invalid(format!(
                    "/{} does not take the command {command:?}{}",
                    spec.path,
                    if spec.commands.is_empty() {
                        String::new()
                    } else {
                        format!("; it takes {}", spec.commands.join(", "))
                    }
                )));
            }
            let item = resolve(state, target, "for the command")?
                .cloned()
                .unwrap_or_default();
            if command == "make-static" && item.get("dynamic").is_none_or(|d| d != "true") {
                return Err(invalid(format!(
                    "nothing to change: {shown} {} is already static",
                    describe_item(spec, &item)
                )));
            }
            let id = id_of(&item);
            change.preconditions.push(item_precondition(&item));
            change.target = Some(id.clone());
            change.write.command = Some(command.clone());
            let key: Props = spec
                .key
                .iter()
                .filter_map(|k| item.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            change.inverse.push(Inverse::Absent {
                menu: menu.clone(),
                id: Some(id),
                matching: key,
            });
            change.description = format!("{shown} {command} {}", describe_item(spec, &item));
            change.state_read = Some(spec.config(&item));
        }
    }
    Ok(change)
}

fn refuse_dynamic(spec: &MenuSpec, item: &Props) -> Result<(), WorkflowError> {
    if item.get("dynamic").is_some_and(|d| d == "true") {
        return Err(invalid(format!(
            "{} of /{} is dynamic: RouterOS manages it, a plan cannot change it",
            describe_item(spec, item),
            spec.path
        )));
    }
    Ok(())
}
