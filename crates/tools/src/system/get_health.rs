//! `system.get_health`: the board's sensors — voltages, temperatures, fan speeds, power-supply
//! states — from `/system/health`, each with a kind, a typed value and its unit, so a model can
//! compare readings and spot a failed power supply without knowing each board's sensor names.
//!
//! RouterOS 7 lists one item per sensor (`name`, `value`, `type` = unit); RouterOS 6 prints one
//! record whose properties are the sensors, values carrying their unit (`cpu-temperature: 46C`).
//! Both shapes become the same list. Boards without sensors (CHR, x86, small devices) report an
//! empty list, and so does a device without the menu at all.

use routeros::{ErrorKind, PrintQuery, Record};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("system.get_health", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let (dev, client) = device(&ctx, &p.device_id).await?;
    let records = match client
        .print(&menu("system/health"), &PrintQuery::all())
        .await
    {
        Ok(r) => r,
        Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let sensors = sensors(&records);
    let failed: Vec<Value> = sensors
        .iter()
        .filter(|s| s.get("ok") == Some(&Value::Bool(false)))
        .filter_map(|s| s.get("name").cloned())
        .collect();
    let mut out = device_ref(&dev);
    out.insert(
        "sensors".into(),
        Value::Array(sensors.into_iter().map(Value::Object).collect()),
    );
    out.insert("failed".into(), Value::Array(failed));
    Ok(ToolOutput::new(Value::Object(out)))
}

/// Sensors from either shape of `/system/health`.
fn sensors(records: &[Record]) -> Vec<Map<String, Value>> {
    let listed = records
        .iter()
        .any(|r| r.contains_key("name") && r.contains_key("value"));
    if listed {
        records
            .iter()
            .filter_map(|r| {
                let name = r.get("name")?;
                let value = r.get("value")?;
                let unit = r.get("type").map(String::as_str).unwrap_or_default();
                Some(sensor(name, value, unit))
            })
            .collect()
    } else {
        // RouterOS 6: one record, one property per sensor, the unit glued to the value.
        records
            .iter()
            .flat_map(|r| r.iter())
            .filter(|(name, _)| !name.starts_with('.') && kind_of(name, "").is_some())
            .map(|(name, raw)| {
                let split = raw
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                    .unwrap_or(raw.len());
                let (number, unit) = raw.split_at(split);
                if number.is_empty() {
                    sensor(name, raw, "")
                } else {
                    sensor(name, number, unit)
                }
            })
            .collect()
    }
}

/// One sensor: `{name, kind, value, unit}`, plus `ok` for state sensors.
fn sensor(name: &str, raw: &str, unit: &str) -> Map<String, Value> {
    let kind = kind_of(name, unit).unwrap_or("other");
    let value = match raw.parse::<f64>() {
        Ok(n) if n.fract() == 0.0 && n.abs() < 1e15 => json!(n as i64),
        Ok(n) if n.is_finite() => json!(n),
        _ => json!(raw),
    };
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("kind".into(), json!(kind));
    m.insert("value".into(), value);
    m.insert(
        "unit".into(),
        if unit.is_empty() {
            Value::Null
        } else {
            json!(unit)
        },
    );
    if kind == "psu" || kind == "state" {
        m.insert("ok".into(), json!(raw.eq_ignore_ascii_case("ok")));
    }
    m
}

/// What a sensor measures, from its unit or (RouterOS 6, no unit column) its name; `None` for
/// properties that are settings rather than readings (`cpu-overtemp-threshold`, `fan-mode`).
fn kind_of(name: &str, unit: &str) -> Option<&'static str> {
    if name.contains("overtemp") || name.contains("threshold") || name.contains("mode") {
        return None;
    }
    let by_unit = match unit {
        "C" => Some("temperature"),
        "V" => Some("voltage"),
        "RPM" => Some("fan"),
        "A" => Some("current"),
        "W" => Some("power"),
        _ => None,
    };
    by_unit.or_else(|| {
        if name.ends_with("-state") {
            Some(if name.starts_with("psu") {
                "psu"
            } else {
                "state"
            })
        } else if name.contains("temperature") {
            Some("temperature")
        } else if name.contains("voltage") {
            Some("voltage")
        } else if name.starts_with("fan") && name.ends_with("-speed") {
            Some("fan")
        } else if name.ends_with("current") {
            Some("current")
        } else if name.starts_with("power") {
            Some("power")
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use routeros::Record;
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_sensors_of_each_board_and_the_device_down() {
        let h = Harness::start(&[Profile::Switch48, Profile::Home]).await;
        let sw = h.ok("system.get_health", json!({"device_id": "r1"})).await;
        let sensors = sw["sensors"].as_array().unwrap();
        let by_name = |n: &str| sensors.iter().find(|s| s["name"] == n).unwrap().clone();
        let fan = by_name("fan1-speed");
        assert_eq!(fan["kind"], "fan");
        assert_eq!(fan["unit"], "RPM");
        let rpm = fan["value"].as_i64().unwrap();
        assert!((3860..=3880).contains(&rpm), "{fan}");
        let volts = by_name("voltage");
        assert_eq!(volts["kind"], "voltage");
        let v = volts["value"].as_f64().unwrap();
        assert!((23.4..=24.6).contains(&v), "{volts}");
        let psu = by_name("psu1-state");
        assert_eq!(psu["kind"], "psu");
        assert_eq!(psu["value"], "ok");
        assert_eq!(psu["ok"], true);
        assert_eq!(psu["unit"], Value::Null);
        assert_eq!(by_name("switch-temperature")["kind"], "temperature");
        assert_eq!(sw["failed"], json!([]));

        let home = h.ok("system.get_health", json!({"device_id": "r2"})).await;
        let kinds: Vec<&str> = home["sensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["temperature", "temperature"], "{home}");
        assert!(home["sensors"][0]["value"].is_i64());

        h.sim("r2").reboot(Duration::from_secs(30));
        let e = h
            .call("system.get_health", json!({"device_id": "r2"}))
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("device r2: "), "{e}");
    }

    #[test]
    fn routeros_6_single_record_and_empty_boards() {
        assert!(super::sensors(&[]).is_empty(), "no sensors, no items");
        // As RouterOS 6 prints it on a CCR1072 (MikroTik's System/Health manual page).
        let v6 = Record::from([
            ("cpu-overtemp-check".into(), "yes".into()),
            ("cpu-overtemp-threshold".into(), "100C".into()),
            ("cpu-temperature".into(), "46C".into()),
            ("power-consumption".into(), "62.9W".into()),
            ("psu1-voltage".into(), "12.1V".into()),
            ("psu2-current".into(), "0A".into()),
            ("fan1-speed".into(), "6375RPM".into()),
            ("psu2-state".into(), "fail".into()),
        ]);
        let s = super::sensors(&[v6]);
        let get = |n: &str| s.iter().find(|x| x["name"] == n).cloned();
        assert!(
            get("cpu-overtemp-threshold").is_none(),
            "settings are not sensors"
        );
        assert!(get("cpu-overtemp-check").is_none());
        assert_eq!(
            Value::Object(get("cpu-temperature").unwrap()),
            json!({"name": "cpu-temperature", "kind": "temperature", "value": 46, "unit": "C"})
        );
        assert_eq!(get("power-consumption").unwrap()["value"], 62.9);
        assert_eq!(get("psu1-voltage").unwrap()["kind"], "voltage");
        assert_eq!(get("psu2-current").unwrap()["kind"], "current");
        assert_eq!(get("fan1-speed").unwrap()["unit"], "RPM");
        let psu = get("psu2-state").unwrap();
        assert_eq!(
            (psu["kind"].clone(), psu["ok"].clone()),
            (json!("psu"), json!(false))
        );
    }
}
