//! The RouterOS 7 configuration model shared by every interface of the simulator.
//!
//! The model is what makes REST and the console agree: both resolve paths through the same
//! [menu table](MenuSpec), validate and normalise through the same [types](PropType), and change the
//! configuration through the same [`RouterState`] operations, which fail with the same
//! [`RosError`] wording RouterOS uses. Nothing here does I/O; the device layer wraps a
//! `RouterState` in a lock and serves it.
//!
//! Typical use by an interface:
//!
//! ```
//! use routeros_sim::model::{menu, RouterState, Query};
//! use routeros_sim::clock::SimClock;
//!
//! let mut state = RouterState::new(SimClock::new(1.0), 7);
//! let ether = menu("/interface/ethernet").unwrap();
//! state.insert_raw("/interface/ethernet", &[("name", "ether1"), ("default-name", "ether1")]).unwrap();
//! let addr = menu("/ip/address").unwrap();
//! let id = state.add(addr, &[("address", "192.168.88.1/24"), ("interface", "ether1")]).unwrap();
//! let rec = state.get(addr, Some(id)).unwrap();
//! assert_eq!(rec.get("network").as_deref(), Some("192.168.88.0"));
//! let err = state.add(addr, &[("address", "192.168.88.1/24"), ("interface", "ether1")]).unwrap_err();
//! assert_eq!(err.detail(), "failure: already have such address");
//! # let _ = (ether, Query::all());
//! ```

mod commands;
mod error;
pub mod files;
mod hooks;
mod ids;
mod item;
mod menus;
mod menus_more;
mod mgmt;
mod query;
mod render;
mod rng;
mod routing;
mod spec;
pub(crate) mod state;
mod value;

pub use commands::{Effect, Tool, ToolOutput};
pub use error::RosError;
pub use hooks::{generated_mac, parse_clock_time, parse_date, wg_private_key, wg_public_key};
pub use ids::{BadId, RosId};
pub use item::Item;
pub use menus::POLICIES;
pub use menus_more::WIFI_PACKAGE;
pub use mgmt::management_path_ok;
pub use query::{Query, QueryWord};
pub use render::{ComputeFn, Record, RenderCtx, RestObject, render};
pub use rng::{SimRng, hash_str, mix};
pub use routing::{Connected, Egress, IfaceInfo, Routing};
pub use spec::{
    Access, FlagSpec, MenuKind, MenuSpec, PropSpec, UniqueSpec, ViewSpec, children, menu,
    menu_index, menus, storage_of,
};
pub use state::{
    DumpMenu, LoginFailure, RouterState, StateDump, UserInfo, WriteCtx, WriteHook, fingerprint,
};
pub use value::{
    PropType, RefSpec, bool_str, contains, format_duration, format_secs, mask, netmask_bits,
    normalize, parse_bool, parse_duration, parse_int, parse_prefix,
};
