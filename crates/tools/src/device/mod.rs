//! The `device` tools: the registry's view of the fleet (no device is contacted).

crate::toolkit::tools! {
    get,
    list,
}

/// A registered device as tools show it (never a secret).
pub(crate) fn summary(d: &store::Device) -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "id": d.id,
        "name": d.name,
        "project": d.project.to_string(),
        "address": d.address.to_string(),
        "environment": d.environment,
        "status": d.status,
        "driver": d.driver,
        "tags": d.tags,
        "routeros_version": d.routeros_version,
        "board": d.board,
        "identity": d.identity,
        "last_seen_at": d.last_seen_at,
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}
