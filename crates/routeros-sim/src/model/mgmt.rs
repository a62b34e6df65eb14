//! The management-path rule: can a client reach the device's management address right now?
//!
//! A real router answers its management address only while the configuration carries a path to
//! the client: the interface holding that address is enabled and running, the address itself is
//! present and enabled, and the client is either on that address's network or covered by an
//! active route leaving through the same interface. When a change cuts any of these, the router
//! silently stops answering — it does not send an error, the packets simply go nowhere — until
//! something on the device (a scheduler script, the safe-mode undo) restores the path.
//!
//! This module is the single definition of that rule; the REST server and the SSH server both
//! call [`management_path_ok`] before answering.

use std::net::Ipv4Addr;

use super::routing::{Egress, Routing};
use super::state::RouterState;

/// Whether the device answers `client` on its management address `mgmt`.
///
/// The rule, in order:
/// 1. an enabled `/ip/address` whose address is `mgmt` exists on an existing interface;
/// 2. that interface is enabled and running (for a VLAN, its parent too);
/// 3. `client` is `mgmt` itself, or the longest-prefix match for `client` over connected
///    networks and active routes of the `main` table leaves through that same interface
///    (a blackhole or a route through another interface means no answer).
///
/// Clients of the simulator usually connect from `127.0.0.1`, which lies outside a device's
/// `127.x.y.0/24` management network, so the default route is part of the path.
pub fn management_path_ok(state: &RouterState, mgmt: Ipv4Addr, client: Ipv4Addr) -> bool {
    let routing = Routing::build(state);
    let Some(own) = routing
        .connected
        .iter()
        .find(|c| c.address == mgmt && c.active)
    else {
        return false;
    };
    if client == mgmt {
        return true;
    }
    match routing.egress(state, client) {
        Some(Egress::Connected { iface }) | Some(Egress::Via { iface, .. }) => iface == own.iface,
        Some(Egress::Blackhole) | None => false,
    }
}
