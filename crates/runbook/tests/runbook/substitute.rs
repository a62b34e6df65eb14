//! Inputs, env.yaml, placeholders and the redactor.

use std::collections::BTreeMap;

use runbook::substitute::{Context, Placeholder, placeholders};
use runbook::{Env, InputError, Inputs, Redactor, Runbook, SubstituteError};
use serde_json::{Map, Value, json};

fn runbook() -> Runbook {
    let text = crate::MINIMAL.replace(
        "  device: {type: device, description: The router, required: true}",
        "  device: {type: device, description: The router, required: true}
  target: {type: address, description: Where to ping, required: true}
  count: {type: integer, default: 3, description: Pings}
  ratio: {type: number, description: A ratio}
  enabled: {type: boolean, description: A flag}
  port: {type: interface, description: A port}
  password: {type: string, description: A secret, secret: true}
  note: {type: string, description: Free text}",
    );
    Runbook::parse("t.md", &text).unwrap()
}

fn given(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn inputs_are_typed_defaults_applied_and_every_problem_listed_at_once() {
    let r = runbook();
    let ok = Inputs::resolve(
        &r,
        &given(&[
            ("device", json!("core-1")),
            ("target", json!("10.0.0.0/24")),
            ("ratio", json!("2.5")),
            ("enabled", json!("TRUE")),
            ("port", json!("sfp-sfpplus1")),
        ]),
    )
    .unwrap();
    assert_eq!(ok.get("count"), Some(&json!(3)), "the default");
    assert_eq!(ok.get("ratio"), Some(&json!(2.5)), "text becomes a number");
    assert_eq!(ok.get("enabled"), Some(&json!(true)));
    assert_eq!(
        ok.get("note"),
        None,
        "optional without a default stays unset"
    );
    let device_id = Inputs::resolve(
        &r,
        &given(&[
            ("device", json!("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")),
            ("target", json!("::1")),
        ]),
    );
    assert!(device_id.is_ok(), "a device id works as well as a name");

    let err: InputError = Inputs::resolve(
        &r,
        &given(&[
            ("count", json!("three")),
            ("ratio", json!([1])),
            ("enabled", json!("yes")),
            ("port", json!("ether1\u{1b}[2J")),
            ("password", json!(12)),
            ("colour", json!("red")),
            ("evil\u{1b}[2J", json!(1)),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.missing, ["device", "target"]);
    let invalid: Vec<&str> = err.invalid.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(invalid, ["count", "ratio", "enabled", "port"]);
    assert_eq!(err.unknown, ["colour", "evil\\e[2J"]);
    let text = err.to_string();
    assert!(
        text.starts_with("missing required variables: device, target; "),
        "{text}"
    );
    assert!(
        text.contains("variable count is \"three\": expected a whole number such as 5"),
        "{text}"
    );
    assert!(text.contains("unknown variables: colour, evil\\e[2J (this runbook takes device, target, count, ratio, enabled, port, password, note)"), "{text}");
    assert!(text.contains("U+001B"), "{text}");
    assert!(domain::text::find_control(&text).is_none(), "{text}");
    // Thousands of unknown names are listed briefly.
    let many: BTreeMap<String, Value> = (0..5000).map(|i| (format!("v{i:04}"), json!(1))).collect();
    let err = Inputs::resolve(&r, &many).unwrap_err();
    assert_eq!(err.unknown.len(), 21);
    assert_eq!(err.unknown[20], "and 4980 more");
    // A secret's wrong value is not echoed.
    let err = Inputs::resolve(
        &r,
        &given(&[
            ("device", json!("r1")),
            ("target", json!("192.0.2.1")),
            ("password", json!("hunter2\u{7}")),
        ]),
    )
    .unwrap_err();
    assert_eq!(err.invalid[0].given, "(hidden)");
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn type_checkers_accept_and_refuse() {
    use runbook::VarType::*;
    for (t, good, bad) in [
        (
            Integer,
            vec![json!(5), json!("-3"), json!(" 7 ")],
            vec![json!(2.5), json!("5x"), json!(true)],
        ),
        (
            Number,
            vec![json!(2.5), json!("1e3"), json!(4)],
            vec![json!("NaN"), json!("inf"), json!(null)],
        ),
        (
            Boolean,
            vec![json!(false), json!("true"), json!("False")],
            vec![json!("yes"), json!(1)],
        ),
        (
            Device,
            vec![json!("core-1"), json!("r1.site")],
            vec![json!("-bad"), json!("a b"), json!("")],
        ),
        (
            Address,
            vec![
                json!("192.0.2.1"),
                json!("2001:db8::1/64"),
                json!("10.0.0.0/8"),
            ],
            vec![
                json!("10.0.0.300"),
                json!("10.0.0.0/33"),
                json!("host.example"),
                json!("10.0.0.1/"),
            ],
        ),
        (
            Interface,
            vec![
                json!("ether1"),
                json!("vlan10.wan"),
                json!("ether1 - uplink"),
            ],
            vec![json!(""), json!(" ether1"), json!("a\"b"), json!("x{y}")],
        ),
        (
            String,
            vec![json!("anything {var.x}"), json!(12)],
            vec![json!("x".repeat(1025)), json!("a\nb"), json!([1])],
        ),
    ] {
        for g in good {
            assert!(t.coerce(&g).is_ok(), "{t} should accept {g}");
        }
        for b in bad {
            assert!(t.coerce(&b).is_err(), "{t} should refuse {b}");
        }
    }
}

fn context<'a>(
    inputs: &'a Inputs,
    env: Option<&'a Env>,
    steps: Option<&'a BTreeMap<usize, Value>>,
) -> Context<'a> {
    Context {
        inputs,
        env,
        steps,
        keep_unset: false,
    }
}

#[test]
fn substitution_types_whole_placeholders_and_never_expands_twice() {
    let r = runbook();
    let inputs = Inputs::resolve(
        &r,
        &given(&[
            ("device", json!("r1")),
            ("target", json!("192.0.2.1")),
            // Values that look like placeholders are copied as text, never expanded again.
            ("note", json!("{var.password} {env[token]} {step.1./x}")),
            ("password", json!("s3cr\"et")),
        ]),
    )
    .unwrap();
    let mut env = Env::new();
    env.insert("site", "{var.password}", false);
    env.insert("token", "tok-123", true);
    let results = BTreeMap::from([(1, json!({"items": [{"id": "*1A", "mtu": 1500}]}))]);
    let ctx = context(&inputs, Some(&env), Some(&results));
    let template: Map<String, Value> = serde_json::from_value(json!({
        "device_id": "{var.device}",
        "count": "{var.count}",
        "label": "n={var.count} at {env[site]}",
        "note": "{var.note}",
        "id": "{step.1./items/0/id}",
        "mtu": "{step.1./items/0/mtu}",
        "list": ["{var.target}", {"deep": "{env[token]}"}],
        "literal": 7
    }))
    .unwrap();
    let out = ctx.arguments(&template).unwrap();
    assert_eq!(
        Value::Object(out),
        json!({
            "device_id": "r1",
            "count": 3,
            "label": "n=3 at {var.password}",
            "note": "{var.password} {env[token]} {step.1./x}",
            "id": "*1A",
            "mtu": 1500,
            "list": ["192.0.2.1", {"deep": "tok-123"}],
            "literal": 7
        })
    );
    assert_eq!(
        ctx.text("ping {var.target} x{var.count}").unwrap(),
        "ping 192.0.2.1 x3"
    );
}

#[test]
fn substitution_errors_name_what_is_missing() {
    let r = runbook();
    let inputs = Inputs::resolve(
        &r,
        &given(&[("device", json!("r1")), ("target", json!("192.0.2.1"))]),
    )
    .unwrap();
    let mut env = Env::new();
    env.insert("site", "hq", false);
    let results = BTreeMap::from([(1, json!({"a": 1}))]);
    let ctx = context(&inputs, Some(&env), Some(&results));
    let err = |t: &str| ctx.text(t).unwrap_err();
    assert_eq!(
        err("{var.note}"),
        SubstituteError::Unset {
            name: "note".into()
        }
    );
    assert_eq!(
        err("{var.nope}").to_string(),
        "{var.nope}: the runbook declares no variable nope"
    );
    assert_eq!(
        err("{env[wan]}").to_string(),
        "{env[wan]}: env.yaml has no key wan (it has site)"
    );
    assert_eq!(err("{step.2./a}"), SubstituteError::StepNotRun { step: 2 });
    assert_eq!(
        err("{step.1./b}").to_string(),
        "{step.1./b}: step 1's result has nothing at /b"
    );
    assert!(matches!(err("{bogus.x}"), SubstituteError::Malformed(_)));
    let no_env = context(&inputs, None, None);
    assert_eq!(
        no_env.text("{env[wan]}").unwrap_err().to_string(),
        "{env[wan]}: env.yaml has no key wan (no env.yaml values are loaded)"
    );
    // Without results (a dry run), step placeholders stay as written.
    assert_eq!(
        no_env.text("id {step.3./items/0/id}").unwrap(),
        "id {step.3./items/0/id}"
    );
}

#[test]
fn placeholders_are_found_and_misshapen_ones_refused() {
    assert_eq!(
        placeholders("a {var.x} b {env[API_KEY.v-1]} {step.12./items/0} {step.3.}").unwrap(),
        [
            Placeholder::Var { name: "x".into() },
            Placeholder::Env {
                key: "API_KEY.v-1".into()
            },
            Placeholder::Step {
                step: 12,
                pointer: "/items/0".into()
            },
            Placeholder::Step {
                step: 3,
                pointer: String::new()
            },
        ]
    );
    assert!(
        placeholders("{\"json\": 1} {status=\"up\"} {} {x}")
            .unwrap()
            .is_empty()
    );
    for bad in [
        "{var.X}",
        "{var.}",
        "{env[]}",
        "{env[a b]}",
        "{step.0./x}",
        "{step.01./x}",
        "{step.x./y}",
        "{step.1.x}",
        "{foo.bar}",
        "{var.x",
    ] {
        assert!(placeholders(bad).is_err(), "{bad}");
    }
}

#[test]
fn env_yaml_forms_secrets_and_mistakes() {
    let env = Env::parse(
        "env.yaml",
        "site: hq\nwan_gateway: 203.0.113.1\nport: 8443\napi_token: {value: tok-1, secret: true}\nplain: {value: x}\n",
    )
    .unwrap();
    assert_eq!(env.get("port").unwrap().value, "8443");
    assert!(env.get("api_token").unwrap().secret);
    assert!(!env.get("plain").unwrap().secret);
    assert!(
        !format!("{env:?}").contains("tok-1"),
        "Debug hides secret values"
    );
    assert_eq!(env.redactor().redact("Bearer tok-1"), "Bearer (hidden)");
    // The `env:` wrapper of the original format.
    let wrapped = Env::parse("env.yaml", "env:\n  key: value\n").unwrap();
    assert_eq!(wrapped.get("key").unwrap().value, "value");
    assert!(Env::parse("env.yaml", "").unwrap().is_empty());

    let err = Env::parse(
        "env.yaml",
        "good: 1\nbad key: 2\nempty:\nlist: [1]\nobj: {value: x, secret: maybe, colour: red}\nnone: {secret: true}\nctl: \"a\\u001bb\"\n",
    )
    .unwrap_err();
    let text: Vec<String> = err.iter().map(ToString::to_string).collect();
    for expected in [
        "env.yaml:2: key \"bad key\" is not allowed",
        "env.yaml:3: empty has no value",
        "env.yaml:4: list must be a value or {value: ..., secret: true}, not a list",
        "env.yaml:5: obj: value is text, secret is true or false",
        "env.yaml:5: obj: unknown field \"colour\"",
        "env.yaml:6: none needs a value",
        "env.yaml:7: ctl: the control character U+001B",
    ] {
        assert!(
            text.iter().any(|t| t.starts_with(expected)),
            "{expected:?} not in {text:#?}"
        );
    }
    assert!(Env::parse("env.yaml", "a: &x 1\nb: *x\n").is_err());
    assert!(Env::parse("env.yaml", "- 1\n- 2\n").is_err());
}

#[test]
fn the_redactor_masks_every_form_of_a_secret_longest_first() {
    let mut r = Redactor::with(["abc", "abcdef"]);
    r.add("");
    r.add("quo\"te");
    assert_eq!(r.redact("x abcdef y abc z"), "x (hidden) y (hidden) z");
    assert_eq!(r.redact("nothing here"), "nothing here");
    // Also inside serialized JSON, where the quote is escaped.
    let v = json!({"k": "quo\"te", "quo\"te": ["abc"]});
    assert_eq!(
        r.redact(&v.to_string()),
        r#"{"k":"(hidden)","(hidden)":["(hidden)"]}"#
    );
    assert_eq!(
        r.redact_value(&v),
        json!({"k": "(hidden)", "(hidden)": ["(hidden)"]})
    );
    assert!(!format!("{r:?}").contains("abc"));
    // A secret variable's value is in the inputs' redactor; its Debug hides it.
    let run = runbook();
    let inputs = Inputs::resolve(
        &run,
        &given(&[
            ("device", json!("r1")),
            ("target", json!("192.0.2.1")),
            ("password", json!("pw-9")),
        ]),
    )
    .unwrap();
    assert_eq!(inputs.redactor().redact("login pw-9"), "login (hidden)");
    assert!(!format!("{inputs:?}").contains("pw-9"));
}
