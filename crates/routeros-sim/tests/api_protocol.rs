//! The RouterOS API (8728, and 8729 over TLS) seen from outside: a third-party client
//! (`librouteros`, unchanged) and raw sockets sending what a hostile or broken peer sends.
//! Every adversarial case must end its own connection cleanly while the device keeps serving
//! everyone else, and change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use routeros_sim::api::ApiLimits;
use routeros_sim::api::codec::{
    SentenceLimits, encode_length, encode_sentence, read_sentence_after,
};
use routeros_sim::{Faults, FleetOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any single read may take before the test fails.
const READ: Duration = Duration::from_secs(10);

/// A raw API client: sends word lists, reads sentences as strings.
struct Raw {
    stream: TcpStream,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        Raw {
            stream: TcpStream::connect(addr).await.unwrap(),
        }
    }

    async fn send(&mut self, words: &[&str]) {
        let mut out = Vec::new();
        encode_sentence(words, &mut out);
        self.stream.write_all(&out).await.unwrap();
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next sentence, or `None` at end of stream.
    async fn sentence(&mut self) -> Option<Vec<String>> {
        let limits = SentenceLimits {
            max_word_len: 1 << 20,
            max_words: 100_000,
        };
        let read = async {
            let first = self.stream.read_u8().await.ok()?;
            read_sentence_after(first, &mut self.stream, limits)
                .await
                .ok()
        };
        let words = tokio::time::timeout(READ, read)
            .await
            .expect("no sentence within 10 s")?;
        Some(
            words
                .into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect(),
        )
    }

    /// Sentences up to and including the next `!done` (or a `!fatal`).
    async fn reply(&mut self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let s = self.sentence().await.expect("connection closed mid-reply");
            let end = s[0] == "!done" || s[0] == "!fatal";
            out.push(s);
            if end {
                return out;
            }
        }
        panic!("no !done within 100000 sentences");
    }

    async fn call(&mut self, words: &[&str]) -> Vec<Vec<String>> {
        self.send(words).await;
        self.reply().await
    }

    async fn login(&mut self, user: &str, password: &str) -> Vec<Vec<String>> {
        let name = format!("=name={user}");
        let pass = format!("=password={password}");
        self.call(&["/login", &name, &pass]).await
    }

    /// Asserts the peer closed the connection (after any final sentence).
    async fn closed(&mut self) {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(READ, self.stream.read(&mut buf))
            .await
            .expect("connection still open after 10 s");
        assert!(
            matches!(n, Ok(0) | Err(_)),
            "expected end of stream, got {n:?}"
        );
    }
}

fn s(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn api_addr(sim: &rest_support::Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.api_port)
}

/// A device answers a fresh, well-behaved client: the check after every adversarial case.
async fn still_serves(sim: &rest_support::Sim) {
    let mut c = Raw::connect(api_addr(sim)).await;
    assert_eq!(c.login("admin", "secret").await, [s(&["!done"])]);
    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(r, [s(&["!re", "=name=sim-0001"]), s(&["!done"])]);
}

fn short_limits() -> ApiLimits {
    ApiLimits {
        login_timeout: Duration::from_millis(600),
        transfer_timeout: Duration::from_millis(300),
        ..ApiLimits::default()
    }
}

async fn sim_with(limits: ApiLimits) -> rest_support::Sim {
    rest_support::start(FleetOptions {
        seed: 1,
        password: Some("secret".into()),
        api_limits: limits,
        ..FleetOptions::default()
    })
    .await
}

#[tokio::test]
async fn librouteros_works_unchanged_over_plain_and_tls() {
    let sim = rest_support::home().await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/librouteros_check.py");
    let run = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&sim.dev.address)
        .arg(sim.dev.api_port.to_string())
        .arg(sim.dev.api_ssl_port.to_string())
        .arg(&sim.dev.tls_sha256)
        .arg("admin")
        .arg("secret")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("librouteros did not finish within 120 s")
        .expect("python3 could not be started; install Python 3 and `python3 -m pip install librouteros`");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(3),
        "librouteros is required: python3 -m pip install librouteros ({stderr})"
    );
    assert!(
        output.status.success(),
        "librouteros failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let steps: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let step = |name: &str| -> &Value {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name} in {stdout}"))
    };
    for (label, octet, spare) in [("plain", 1, 9), ("tls", 2, 8)] {
        assert_eq!(
            step(&format!("{label}-identity"))["rows"],
            json!([{"name": "sim-0001"}])
        );
        assert!(step(&format!("{label}-print"))["count"].as_u64().unwrap() >= 3);
        let id = step(&format!("{label}-add-set"))["id"].as_str().unwrap();
        assert!(id.starts_with('*'), "=ret= carries the new id: {id}");
        // `?interface=ether2 ?interface=bridge ?#|` with `.proplist=address,comment`.
        let rows = step(&format!("{label}-query"))["rows"].as_array().unwrap();
        assert!(
            rows.contains(&json!({"address": "192.168.88.1/24", "comment": "defconf"})),
            "{rows:?}"
        );
        assert!(
            rows.contains(
                &json!({"address": format!("192.0.2.{octet}/24"), "comment": format!("{label}-set")})
            ),
            "{rows:?}"
        );
        assert!(rows.iter().all(|r| r.as_object().unwrap().len() <= 2));
        assert_eq!(step(&format!("{label}-remove"))["rows"], json!([]));
        assert_eq!(
            step(&format!("{label}-trap"))["message"],
            "failure: already have such address"
        );
        // What librouteros changed is what REST shows.
        let (_, list) = sim.get("/ip/address").await;
        let list = list.as_array().unwrap();
        let mine = list
            .iter()
            .find(|a| a["address"] == format!("192.0.2.{octet}/24"))
            .unwrap_or_else(|| panic!("192.0.2.{octet}/24 missing over REST: {list:?}"));
        assert_eq!(mine["comment"], format!("{label}-set"));
        assert_eq!(mine[".id"], id);
        assert!(
            !list
                .iter()
                .any(|a| a["address"] == format!("192.0.2.{spare}/24")),
            "the removed address is gone"
        );
    }
    assert_eq!(
        step("bad-password")["message"],
        "invalid user name or password (6)"
    );
    step("done");
    let via_tls = sim.fleet.devices()[0].read_state(|st| {
        st.items_of("/log")
            .any(|l| l.get("message") == Some("user admin logged in from 127.0.0.1 via api-ssl"))
    });
    assert!(via_tls, "logins over TLS are logged via api-ssl");
    let counters = sim.fleet.devices()[0].counters().snapshot();
    assert!(counters.api_connections >= 2 && counters.api_ssl_connections >= 1);
    assert!(
        counters
            .requests
            .iter()
            .any(|r| r.method == "api" && r.path == "/ip/address/add")
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn tags_proplist_queries_empty_and_rest_changes_are_visible() {
    let sim = rest_support::home().await;
    let mut c = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        c.call(&["/login", "=name=admin", "=password=secret", ".tag=l"])
            .await,
        [s(&["!done", ".tag=l"])]
    );
    // A change over REST shows over the API.
    sim.patch("/system/identity", json!({"name": "edge-7"}))
        .await;
    assert_eq!(
        c.call(&["/system/identity/getall", ".tag=a"]).await,
        [
            s(&["!re", "=name=edge-7", ".tag=a"]),
            s(&["!done", ".tag=a"])
        ]
    );
    let r = c
        .call(&[
            "/ip/address/print",
            "=.proplist=.id,address",
            "?interface=bridge",
            "?interface=wg0",
            "?#|",
        ])
        .await;
    assert_eq!(
        r,
        [
            s(&["!re", "=.id=*2", "=address=192.168.88.1/24"]),
            s(&["!re", "=.id=*3", "=address=10.100.0.1/24"]),
            s(&["!done"]),
        ]
    );
    // Nothing matches: RouterOS 7.18+ answers !empty before !done.
    assert_eq!(
        c.call(&["/ip/address/print", "?comment=none", ".tag=e"])
            .await,
        [s(&["!empty", ".tag=e"]), s(&["!done", ".tag=e"])]
    );
    assert_eq!(
        c.call(&["/ip/address/print", "=count-only="]).await,
        [s(&["!done", "=ret=3"])]
    );
    // A change over the API shows over REST; errors carry the console's wording.
    let r = c
        .call(&[
            "/ip/address/add",
            "=address=10.9.9.1/24",
            "=interface=ether3",
        ])
        .await;
    assert_eq!(r.len(), 1);
    let id = r[0][1].strip_prefix("=ret=").unwrap().to_string();
    let (status, obj) = sim.get(&format!("/ip/address/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(obj["network"], "10.9.9.0");
    assert_eq!(
        c.call(&["/ip/address/add", "=address=10.9.9.2/24", "=interface=nope"])
            .await,
        [
            s(&[
                "!trap",
                "=category=1",
                "=message=input does not match any value of interface"
            ]),
            s(&["!done"])
        ]
    );
    assert_eq!(
        c.call(&["/ip/nothing/print"]).await,
        [
            s(&["!trap", "=category=0", "=message=no such command prefix"]),
            s(&["!done"])
        ]
    );
    let set = format!("=.id={id}");
    assert_eq!(
        c.call(&["/ip/address/set", &set, "=comment=via-api"]).await,
        [s(&["!done"])]
    );
    let (_, obj) = sim.get(&format!("/ip/address/{id}")).await;
    assert_eq!(obj["comment"], "via-api");
    assert_eq!(c.call(&["/ip/address/remove", &set]).await, [s(&["!done"])]);
    let (status, _) = sim.get(&format!("/ip/address/{id}")).await;
    assert_eq!(status, 404);
    // The login was logged as RouterOS logs it.
    let logged = sim.fleet.devices()[0].read_state(|st| {
        st.items_of("/log")
            .any(|l| l.get("message") == Some("user admin logged in from 127.0.0.1 via api"))
    });
    assert!(logged);
    // /quit ends the session with !fatal.
    c.send(&["/quit"]).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&["!fatal", "session terminated on request"])
    );
    c.closed().await;
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn cancel_interrupts_a_running_command_and_the_next_one_runs() {
    let sim = rest_support::home().await;
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    // Fifty pings take fifty simulated seconds at time scale 1.
    c.send(&["/ping", "=address=192.168.88.1", "=count=50", ".tag=p"])
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.send(&["/cancel", "=tag=p", ".tag=c"]).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&["!trap", "=category=2", "=message=interrupted", ".tag=p"])
    );
    assert_eq!(c.sentence().await.unwrap(), s(&["!done", ".tag=c"]));
    assert_eq!(c.sentence().await.unwrap(), s(&["!done", ".tag=p"]));
    let r = c.call(&["/system/identity/print", ".tag=n"]).await;
    assert_eq!(r[0], s(&["!re", "=name=sim-0001", ".tag=n"]));
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn tagged_commands_run_side_by_side_up_to_the_connection_limit() {
    // Side by side: the identity answers while a fifty-second ping runs on the same connection.
    let sim = rest_support::home().await;
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    c.send(&["/ping", "=address=192.168.88.1", "=count=50", ".tag=p"])
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.send(&["/system/identity/print", ".tag=n"]).await;
    let first = tokio::time::timeout(Duration::from_secs(5), c.sentence())
        .await
        .expect("the second command answers while the first runs");
    assert_eq!(first.unwrap(), s(&["!re", "=name=sim-0001", ".tag=n"]));
    assert_eq!(c.sentence().await.unwrap(), s(&["!done", ".tag=n"]));
    c.send(&["/cancel", "=tag=p", ".tag=c"]).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&["!trap", "=category=2", "=message=interrupted", ".tag=p"])
    );
    sim.fleet.shutdown().await;

    // One at a time: the identity waits until the ping is cancelled, then answers.
    let sim = sim_with(ApiLimits {
        concurrent_commands: 1,
        ..ApiLimits::default()
    })
    .await;
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    c.send(&["/ping", "=address=192.168.88.1", "=count=50", ".tag=p"])
        .await;
    c.send(&["/system/identity/print", ".tag=n"]).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(700), c.sentence())
            .await
            .is_err(),
        "with one slot the second command waits"
    );
    c.send(&["/cancel", "=tag=p", ".tag=c"]).await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(c.sentence().await.unwrap());
    }
    assert!(
        seen.contains(&s(&["!re", "=name=sim-0001", ".tag=n"])),
        "{seen:?}"
    );
    assert!(seen.contains(&s(&["!done", ".tag=n"])), "{seen:?}");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn commands_before_login_are_refused_and_wrong_passwords_are_bounded() {
    let sim = rest_support::home().await;
    let mut c = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        c.call(&[
            "/ip/address/add",
            "=address=10.1.1.1/24",
            "=interface=ether2"
        ])
        .await,
        [s(&["!trap", "=message=not logged in"]), s(&["!done"])]
    );
    // The same connection can still log in.
    assert_eq!(c.login("admin", "secret").await, [s(&["!done"])]);
    let unchanged = sim.fleet.devices()[0].read_state(|st| {
        !st.items_of("/ip/address")
            .any(|a| a.get("address") == Some("10.1.1.1/24"))
    });
    assert!(unchanged, "a command before login changes nothing");

    let mut bad = Raw::connect(api_addr(&sim)).await;
    for attempt in 1..=3 {
        assert_eq!(
            bad.login("admin", "wrong").await,
            [
                s(&["!trap", "=message=invalid user name or password (6)"]),
                s(&["!done"])
            ],
            "attempt {attempt}"
        );
    }
    assert_eq!(
        bad.sentence().await.unwrap(),
        s(&[
            "!fatal",
            "too many failed logins (3); at most 3 per connection"
        ])
    );
    bad.closed().await;
    let failures = sim.fleet.devices()[0].read_state(|st| {
        st.items_of("/log")
            .filter(|l| {
                l.get("message") == Some("login failure for user admin from 127.0.0.1 via api")
            })
            .count()
    });
    assert_eq!(failures, 3);
    // A user whose group lacks the `api` policy cannot log in, with the right password.
    let (status, _) = sim
        .put(
            "/user/group",
            json!({"name": "rest-only", "policy": "read,rest-api"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = sim
        .put(
            "/user",
            json!({"name": "restie", "group": "rest-only", "password": "pw-1"}),
        )
        .await;
    assert_eq!(status, 201);
    let mut denied = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        denied.login("restie", "pw-1").await[0],
        s(&["!trap", "=message=invalid user name or password (6)"])
    );
    // The old challenge login (no name) is refused like a wrong password.
    let mut old = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        old.call(&["/login"]).await[0],
        s(&["!trap", "=message=invalid user name or password (6)"])
    );
    still_serves(&sim).await;
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn oversized_and_malformed_lengths_end_the_connection_with_fatal() {
    let sim = rest_support::home().await;
    // Four gigabytes announced before login: refused at once, nothing allocated.
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.send_bytes(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&[
            "!fatal",
            "word of 4294967295 bytes is longer than the 4096 bytes allowed"
        ])
    );
    c.closed().await;
    // After login the cap is 64 KiB.
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    let mut big = Vec::new();
    encode_length(70_000, &mut big);
    big.extend(std::iter::repeat_n(b'a', 70_000));
    c.send_bytes(&big).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&[
            "!fatal",
            "word of 70000 bytes is longer than the 65536 bytes allowed"
        ])
    );
    c.closed().await;
    // A reserved control byte.
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.send_bytes(&[0xF8]).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&[
            "!fatal",
            "reserved control byte 0xF8 where a word length was expected"
        ])
    );
    c.closed().await;
    // Too many words in one sentence before login.
    let mut c = Raw::connect(api_addr(&sim)).await;
    let words: Vec<&str> = std::iter::repeat_n("=a=b", 17).collect();
    let mut out = Vec::new();
    encode_sentence(&words, &mut out);
    c.send_bytes(&out).await;
    assert_eq!(
        c.sentence().await.unwrap(),
        s(&["!fatal", "sentence has more than the 16 words allowed"])
    );
    c.closed().await;
    still_serves(&sim).await;
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn garbage_and_non_utf8_are_refused_without_changing_anything() {
    let sim = rest_support::home().await;
    let before = sim.fleet.devices()[0].state_dump(false);
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    // A word that is not UTF-8: refused, the session goes on.
    let mut out = Vec::new();
    encode_sentence(
        &[
            b"/system/identity/set".as_slice(),
            b"=name=\xff\xfe".as_slice(),
            b".tag=u".as_slice(),
        ],
        &mut out,
    );
    c.send_bytes(&out).await;
    assert_eq!(
        c.reply().await,
        [
            s(&[
                "!trap",
                "=message=word 2 is not valid UTF-8; this router accepts UTF-8 text only",
                ".tag=u"
            ]),
            s(&["!done", ".tag=u"])
        ]
    );
    // A command word without `/`, and a word with no known prefix.
    assert_eq!(
        c.call(&["hello"]).await[0],
        s(&[
            "!trap",
            "=message=the first word must be a command starting with /"
        ])
    );
    assert_eq!(
        c.call(&["/system/identity/set", "name=x"]).await[0],
        s(&[
            "!trap",
            "=message=word 2 is neither an attribute (=name=value), the .tag attribute nor a query (?…)"
        ])
    );
    // An empty sentence is ignored; the session still answers.
    c.send_bytes(&[0]).await;
    assert_eq!(
        c.call(&["/system/identity/print"]).await[0],
        s(&["!re", "=name=sim-0001"])
    );
    // Seeded random bytes: whatever they decode to, the connection ends or answers — it
    // never panics, and the configuration is untouched.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..20 {
        let mut junk = Vec::with_capacity(512);
        for _ in 0..512 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            junk.push((x >> 24) as u8);
        }
        let mut g = Raw::connect(api_addr(&sim)).await;
        if round % 2 == 1 {
            g.login("admin", "secret").await;
        }
        g.send_bytes(&junk).await;
        // Drain whatever comes back until the peer closes or stays quiet.
        for _ in 0..1000 {
            let mut buf = [0u8; 4096];
            match tokio::time::timeout(Duration::from_millis(300), g.stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) | Err(_) => break,
                Ok(Ok(_)) => {}
            }
        }
    }
    let after = sim.fleet.devices()[0].state_dump(false);
    assert_eq!(
        serde_json::to_value(&before).unwrap(),
        serde_json::to_value(&after).unwrap()
    );
    still_serves(&sim).await;
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn stalled_words_and_slow_logins_time_out_while_others_are_served() {
    let sim = sim_with(short_limits()).await;
    // A word announced as 5 bytes of which 2 arrive: closed after the transfer timeout.
    let mut stalled = Raw::connect(api_addr(&sim)).await;
    stalled.login("admin", "secret").await;
    stalled.send_bytes(&[0x05, b'/', b'q']).await;
    // Meanwhile another client is served at once.
    still_serves(&sim).await;
    let started = std::time::Instant::now();
    assert_eq!(
        stalled.sentence().await.unwrap(),
        s(&["!fatal", "sentence not completed within 0.3 s"])
    );
    stalled.closed().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // Connecting and never logging in: closed after the login timeout.
    let mut idle = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        idle.sentence().await.unwrap(),
        s(&["!fatal", "not logged in within 0.6 s"])
    );
    idle.closed().await;
    // A logged-in connection that is merely idle stays open, as on RouterOS.
    let mut quiet = Raw::connect(api_addr(&sim)).await;
    quiet.login("admin", "secret").await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        quiet.call(&["/system/identity/print"]).await[0],
        s(&["!re", "=name=sim-0001"])
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn faults_apply_to_the_api_as_to_rest() {
    let sim = rest_support::home().await;
    let dev = sim.fleet.devices()[0].clone();
    // reject_auth: every login fails as bad credentials.
    dev.set_faults(Faults {
        reject_auth: true,
        ..Faults::default()
    });
    let mut c = Raw::connect(api_addr(&sim)).await;
    assert_eq!(
        c.login("admin", "secret").await[0],
        s(&["!trap", "=message=invalid user name or password (6)"])
    );
    // fail_write: the first write fails and is not applied.
    dev.set_faults(Faults {
        fail_write: Some(1),
        ..Faults::default()
    });
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.login("admin", "secret").await;
    assert_eq!(
        c.call(&["/system/identity/set", "=name=changed"]).await,
        [
            s(&["!trap", "=message=failure: simulated internal error"]),
            s(&["!done"])
        ]
    );
    assert_eq!(dev.identity(), "sim-0001");
    // drop_after: the next request has its connection closed without a reply.
    dev.set_faults(Faults {
        drop_after: Some(0),
        ..Faults::default()
    });
    c.send(&["/system/identity/print"]).await;
    c.closed().await;
    // hang: nothing is answered until the fault is cleared, then the held command is.
    dev.set_faults(Faults::default());
    let mut h = Raw::connect(api_addr(&sim)).await;
    h.login("admin", "secret").await;
    dev.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    h.send(&["/system/identity/print"]).await;
    let mut buf = [0u8; 16];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), h.stream.read(&mut buf))
            .await
            .is_err(),
        "a hanging device answers nothing"
    );
    dev.set_faults(Faults::default());
    assert_eq!(h.reply().await[0], s(&["!re", "=name=sim-0001"]));
    // latency: the reply waits.
    dev.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    h.call(&["/system/identity/print"]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // reboot: open connections close, new ones are closed at once, then it serves again.
    dev.set_faults(Faults::default());
    dev.reboot(Duration::from_millis(700));
    h.closed().await;
    let mut during = Raw::connect(api_addr(&sim)).await;
    during.closed().await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    still_serves(&sim).await;
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn a_disabled_api_service_refuses_connections() {
    let sim = rest_support::home().await;
    let (status, _) = sim
        .patch("/ip/service/api", json!({"disabled": "true"}))
        .await;
    assert_eq!(status, 200);
    let mut c = Raw::connect(api_addr(&sim)).await;
    c.closed().await;
    // api-ssl is its own service and still answers the TLS handshake.
    let ssl = SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.api_ssl_port);
    let tcp = TcpStream::connect(ssl).await.unwrap();
    let config = rest_support::tls_config(&sim.dev.tls_sha256);
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(sim.dev.address.clone()).unwrap();
    let mut tls = tokio::time::timeout(READ, connector.connect(name, tcp))
        .await
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    encode_sentence(&["/login", "=name=admin", "=password=secret"], &mut out);
    tls.write_all(&out).await.unwrap();
    let first = tls.read_u8().await.unwrap();
    let words = read_sentence_after(
        first,
        &mut tls,
        SentenceLimits {
            max_word_len: 1024,
            max_words: 16,
        },
    )
    .await
    .unwrap();
    assert_eq!(words, [b"!done".to_vec()]);
    sim.fleet.shutdown().await;
}
