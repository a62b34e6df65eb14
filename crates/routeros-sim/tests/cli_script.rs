//! The console language as a user notices it: quoting stores values literally, bad quoting
//! fails like RouterOS, variables and control flow work, item numbers and ids address items,
//! ordered menus move, and REST-visible state changes exactly as the console says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use cli_support::TestDevice;
use routeros_sim::cli::{self, Device};
use routeros_sim::model::menu;
use routeros_sim::profiles::Profile;

/// The comment stored on the address whose network is `net`, read through the model (what
/// REST returns).
fn comment_of(dev: &TestDevice, address: &str) -> Option<String> {
    let spec = menu("/ip/address").unwrap();
    dev.read(|s| {
        s.print(spec, None, None)
            .into_iter()
            .find(|r| r.get("address").as_deref() == Some(address))
            .and_then(|r| r.get("comment").map(|c| c.to_string()))
    })
}

/// RouterOS quoting of an arbitrary value, as a driver would produce it.
fn ros_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '?' => out.push_str("\\?"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[tokio::test(start_paused = true)]
async fn quoted_values_are_stored_literally() {
    let dev = TestDevice::new(Profile::Home);
    let nasty = [
        "plain",
        "two words",
        "quote \" inside",
        "back\\slash",
        "semi;colon",
        "dollar $x and $(1+1)",
        "brackets [find] {code}",
        "question?",
        "multi\nline\ttab",
        "unicode é ✓",
        "",
    ];
    for (i, value) in nasty.iter().enumerate() {
        let addr = format!("10.77.{i}.1/24");
        let cmd = format!(
            "/ip address add address={addr} interface=bridge comment={}",
            ros_quote(value)
        );
        let out = dev.run1(&cmd);
        assert_eq!(out, "", "{cmd}");
        let stored = comment_of(&dev, &addr);
        if value.is_empty() {
            assert!(stored.as_deref().unwrap_or("").is_empty());
        } else {
            assert_eq!(stored.as_deref(), Some(*value), "{cmd}");
        }
    }
    // Hex escapes and \_ are RouterOS spellings too.
    dev.run1("/ip address add address=10.78.0.1/24 interface=bridge comment=\"\\48\\49\\_\\3F\"");
    assert_eq!(comment_of(&dev, "10.78.0.1/24").as_deref(), Some("HI ?"));
}

#[tokio::test(start_paused = true)]
async fn export_quotes_so_that_importing_gives_the_same_values() {
    let dev = TestDevice::new(Profile::Home);
    let value = "a \"b\" \\c $d; [e] {f}?\nline two é";
    dev.run1(&format!(
        "/ip address add address=10.79.0.1/24 interface=bridge comment={}",
        ros_quote(value)
    ));
    let export = dev.run1("/ip address export");
    // Run the export on a fresh device (minus the addresses it already has).
    let fresh = TestDevice::new(Profile::Home);
    fresh.run1("/ip address remove [find]");
    let out = fresh.run1(&export);
    assert_eq!(out, "", "import failed: {out}\n{export}");
    assert_eq!(comment_of(&fresh, "10.79.0.1/24").as_deref(), Some(value));
}

#[tokio::test(start_paused = true)]
async fn wrong_quoting_fails_instead_of_storing_something_else() {
    let dev = TestDevice::new(Profile::Home);
    let before = dev.read(|s| s.dump(false).to_json_string());
    let cases = [
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=two words",
            "expected end of command",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=semi;colon",
            "bad command name colon",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=\"open",
            "syntax error",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=\"a\"b\"",
            "syntax error",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=a}b",
            "syntax error",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=\"\\e2\"",
            "syntax error",
        ),
        (
            "/ip address add address=10.80.0.1/24 interface=bridge comment=x\\y",
            "syntax error",
        ),
    ];
    for (cmd, expected) in cases {
        let out = dev.run1(cmd);
        assert!(out.starts_with(expected), "{cmd}: {out}");
        assert!(out.contains("(line 1 column "), "{cmd}: {out}");
    }
    let after = dev.read(|s| s.dump(false).to_json_string());
    assert_eq!(before, after, "a failed parse must not change anything");
}

#[tokio::test(start_paused = true)]
async fn a_script_with_a_syntax_error_runs_nothing() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1("/system identity set name=changed\n/ip address print bogus-word");
    assert_eq!(out, "expected end of command (line 2 column 19)\n");
    assert_eq!(dev.run1(":put [/system identity get name]"), "sim-0001\n");
}

#[tokio::test(start_paused = true)]
async fn variables_and_control_flow() {
    let dev = TestDevice::new(Profile::Home);
    let script = r#"
:local n 0
:foreach a in=[/ip address find] do={ :set n ($n + 1) }
:put "addresses: $n"
:if ($n > 2) do={ :put big } else={ :put small }
:for i from=1 to=3 do={ :put ("i=" . $i) }
:global g "kept"
:local arr {a=1;b="two"}
:put ($arr->"b")
:put [:len $arr]
:do { :error "boom" } on-error={ :put "caught" }
:local s "x"; :while ([:len $s] < 4) do={ :set s ($s . "y") }; :put $s
:put [:typeof 10.0.0.1/24]
:put [:pick "abcdef" 1 3]
:put [:find "hello" "l"]
:put [:tostr 1d2h]
"#;
    let out = dev.run1(script);
    assert_eq!(
        out,
        "addresses: 3\nbig\ni=1\ni=2\ni=3\ntwo\n2\ncaught\nxyyy\nip-prefix\nbc\n2\n1d02:00:00\n"
    );
    // Globals outlive the script.
    assert_eq!(dev.run1(":global g; :put $g"), "kept\n");
}

#[tokio::test(start_paused = true)]
async fn item_numbers_ids_names_and_find() {
    let dev = TestDevice::new(Profile::Home);
    let mut s = dev.session();
    dev.run(&mut s, "/interface print");
    assert_eq!(dev.run(&mut s, "/interface set 2 mtu=1400"), "");
    assert_eq!(
        dev.run(&mut s, ":put [/interface get ether3 mtu]"),
        "1400\n"
    );
    assert_eq!(
        dev.run(
            &mut s,
            "/interface set [find name=ether4] comment=\"via find\""
        ),
        ""
    );
    assert_eq!(
        dev.run(&mut s, ":put [/interface get [find comment~\"via\"] name]"),
        "ether4\n"
    );
    let id = dev.run(&mut s, ":put [/interface find name=ether5]");
    assert_eq!(
        dev.run(&mut s, &format!("/interface disable {}", id.trim())),
        ""
    );
    assert_eq!(
        dev.run(&mut s, ":put [/interface get ether5 disabled]"),
        "true\n"
    );
    assert!(
        dev.run(&mut s, "/interface print where disabled")
            .contains("ether5")
    );
    assert_eq!(dev.run(&mut s, "/interface enable ether5"), "");
    assert_eq!(
        dev.run(&mut s, "/interface set 99 mtu=1400"),
        "no such item\n"
    );
    assert_eq!(
        dev.run(
            &mut s,
            ":put [/ip address print count-only where address in 192.168.0.0/16]"
        ),
        "1\n"
    );
}

#[tokio::test(start_paused = true)]
async fn firewall_rules_keep_order_and_move() {
    let dev = TestDevice::new(Profile::Home);
    let mut s = dev.session();
    let chains = |dev: &TestDevice, s: &mut cli::Session| {
        dev.run(s, ":foreach r in=[/ip firewall filter find chain=input] do={ :put [/ip firewall filter get $r comment] }")
    };
    let before = chains(&dev, &mut s);
    assert!(
        before.starts_with("defconf: accept established"),
        "{before}"
    );
    dev.run(
        &mut s,
        "/ip firewall filter add chain=input action=accept comment=first place-before=0",
    );
    assert!(chains(&dev, &mut s).starts_with("first\n"));
    dev.run(&mut s, "/ip firewall filter print");
    assert_eq!(
        dev.run(&mut s, "/ip firewall filter move 0 destination=3"),
        ""
    );
    let after = chains(&dev, &mut s);
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines[2], "first", "{after}");
}

#[tokio::test(start_paused = true)]
async fn navigation_changes_the_prompt() {
    let dev = TestDevice::new(Profile::Home);
    let mut s = dev.session();
    assert_eq!(s.prompt("sim-0001"), "[admin@sim-0001] > ");
    dev.run(&mut s, "/ip address");
    assert_eq!(s.prompt("sim-0001"), "[admin@sim-0001] /ip/address> ");
    assert!(dev.run(&mut s, "print").contains("192.168.88.1/24"));
    dev.run(&mut s, "..");
    assert_eq!(s.prompt("sim-0001"), "[admin@sim-0001] /ip> ");
    dev.run(&mut s, "firewall filter");
    assert_eq!(s.menu, "ip/firewall/filter");
    dev.run(&mut s, "/");
    assert_eq!(s.prompt("sim-0001"), "[admin@sim-0001] > ");
}

#[tokio::test(start_paused = true)]
async fn scripts_run_from_the_script_menu() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1(
        "/system script add name=hello source=\":put \\\"hi \\$[/system identity get name]\\\"\"",
    );
    assert_eq!(out, "");
    assert_eq!(dev.run1("/system script run hello"), "hi sim-0001\n");
    assert_eq!(dev.run1(":put [/system script get hello run-count]"), "1\n");
    assert_eq!(dev.run1("/system script run nosuch"), "no such item\n");
}

#[tokio::test(start_paused = true)]
async fn serialize_and_deserialize_json() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1(":put [:serialize to=json [/system identity print as-value]]");
    assert_eq!(out, "{\"name\":\"sim-0001\"}\n");
    let out = dev.run1(":local v [:deserialize from=json value=\"{\\\"a\\\":[1,2],\\\"b\\\":\\\"x\\\"}\"]; :put ($v->\"b\"); :put [:len ($v->\"a\")]");
    assert_eq!(out, "x\n2\n");
}

#[tokio::test(start_paused = true)]
async fn read_only_users_cannot_change_anything() {
    let dev = TestDevice::new(Profile::Home);
    let mut s = cli::Session::new(
        "viewer",
        vec!["read".into(), "ssh".into()],
        dev.globals.clone(),
    );
    assert!(
        dev.run(&mut s, "/ip address print")
            .contains("192.168.88.1/24")
    );
    assert_eq!(
        dev.run(&mut s, "/system identity set name=x"),
        "not enough permissions (9)\n"
    );
    assert_eq!(
        dev.run(&mut s, "/system reboot"),
        "not enough permissions (9)\n"
    );
    assert_eq!(dev.reboots.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn print_stats_filters_and_combinations() {
    let dev = TestDevice::new(Profile::Home);
    // Counters live under `print stats`, not in `detail` or `terse`.
    let detail = dev.run1("/interface print detail where name=ether1");
    assert!(detail.contains("l2mtu=1568"), "{detail}");
    assert!(detail.contains("ifname=\"eth0\""), "{detail}");
    assert!(detail.contains("ifindex=7 id=1"), "{detail}");
    assert!(!detail.contains("rx-byte"), "{detail}");
    assert!(!dev.run1("/interface print terse").contains("rx-byte"));
    let stats = dev.run1("/interface print stats");
    assert!(
        stats.contains("Columns: NAME, RX-BYTE, TX-BYTE, RX-PACKET, TX-PACKET"),
        "{stats}"
    );
    assert!(!stats.contains("FP-RX-BYTE"), "{stats}");
    let sd = dev.run1("/interface print stats-detail where name=ether1");
    assert!(sd.contains("name=\"ether1\" rx-byte="), "{sd}");
    assert!(sd.contains("fp-tx-packet="), "{sd}");
    assert!(!sd.contains("mac-address"), "{sd}");
    let fw = dev.run1("/ip firewall filter print stats");
    assert!(
        fw.contains("Columns: CHAIN, ACTION, BYTES, PACKETS"),
        "{fw}"
    );
    let fw_detail = dev.run1("/ip firewall filter print all without-paging");
    assert!(
        fw_detail.contains("chain=input action=accept"),
        "{fw_detail}"
    );
    assert!(!fw_detail.contains("bytes="), "{fw_detail}");
    // dynamic / static select items; they combine with count-only, terse and where.
    let all: usize = dev
        .run1("/ip route print count-only")
        .trim()
        .parse()
        .unwrap();
    let dynamic: usize = dev
        .run1("/ip route print count-only dynamic")
        .trim()
        .parse()
        .unwrap();
    let stat: usize = dev
        .run1("/ip route print static count-only")
        .trim()
        .parse()
        .unwrap();
    assert!(dynamic > 0 && stat > 0, "{dynamic} {stat}");
    assert_eq!(dynamic + stat, all);
    let terse = dev.run1("/ip route print terse dynamic where dst-address in 192.168.0.0/16");
    assert!(!terse.is_empty());
    for line in terse.lines() {
        assert!(line.starts_with("DAc dst-address=192.168."), "{line}");
        assert!(
            line.contains(
                " routing-table=main gateway=bridge immediate-gw=bridge distance=0 scope=10"
            ),
            "{line}"
        );
    }
    let brief = dev.run1("/interface print brief where name=ether1");
    assert!(brief.contains("Columns: NAME, TYPE"), "{brief}");
    // An unknown print option is still refused, naming where.
    assert!(
        dev.run1("/interface print statz")
            .contains("expected end of command"),
    );
}

#[tokio::test(start_paused = true)]
async fn print_options() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1("/ip address print show-ids where interface=bridge");
    assert!(out.contains("\n*2 192.168.88.1/24"), "{out}");
    let out = dev.run1("/interface print proplist=name,mtu where name=ether1");
    assert!(out.contains("Columns: NAME, MTU\n"), "{out}");
    assert!(!out.contains("MAC-ADDRESS"), "{out}");
    let out = dev.run1("/ip address print terse proplist=address where interface=bridge");
    // No flag is set on any row: terse shows no flag positions (recorded 7.x wireguard peers).
    assert_eq!(out, " 1 address=192.168.88.1/24\n");
    assert_eq!(dev.run1(":put [/system identity get]"), "name=sim-0001\n");
    let out = dev.run1("/ip address export terse");
    assert!(out.contains("\n/ip address add address=192.168.88.1/24 comment=defconf interface=bridge network=192.168.88.0\n"), "{out}");
    // Counting from nothing, a common RouterOS idiom.
    assert_eq!(
        dev.run1(":global n; :set n ($n + 1); :set n ($n + 1); :put $n"),
        "2\n"
    );
    // print as-value inside [] returns the value without printing it.
    assert_eq!(
        dev.run1(":local a [/ip address print as-value]; :put [:len $a]"),
        "3\n"
    );
}

#[tokio::test(start_paused = true)]
async fn runaway_recursion_fails_instead_of_crashing() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1(":global f do={ :global f; $f }; $f");
    assert_eq!(out, "failure: too many nested calls\n");
    dev.run1("/system script add name=loop source=\"/system script run loop\"");
    assert_eq!(
        dev.run1("/system script run loop"),
        "failure: too many nested calls\n"
    );
}

#[tokio::test(start_paused = true)]
async fn functions_take_named_and_positional_arguments() {
    let dev = TestDevice::new(Profile::Home);
    let out = dev.run1(":global add do={ :return ($a + $b) }; :put [$add a=2 b=3]; :global greet do={ :put \"hi $1\" }; $greet world");
    assert_eq!(out, "5\nhi world\n");
}
