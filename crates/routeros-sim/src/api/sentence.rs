//! What an API sentence means, and RouterOS's reply sentences.
//!
//! A command sentence is a command word (`/ip/address/add`), attribute words (`=name=value`),
//! the API attribute `.tag=…`, and query words (`?…`, read by `print`). The simulator answers
//! an API command exactly as it answers the same command posted to REST
//! (`POST /rest/ip/address/add` with the attributes as the JSON body), so both interfaces share
//! one implementation of every command; this module translates the sentence into that request
//! and the REST reply back into `!re`/`!empty`/`!done`/`!trap` sentences.

use hyper::Method;
use serde_json::{Map, Value};

use crate::rest::api::{RestReply, RestRequest};

/// Why a sentence cannot be run. Messages name what was wrong and what is allowed, never the
/// content of a word (it may be a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SentenceError {
    /// A word is not UTF-8.
    #[error("word {index} is not valid UTF-8; this router accepts UTF-8 text only")]
    NotUtf8 {
        /// 1-based position in the sentence.
        index: usize,
    },
    /// The first word does not start with `/`.
    #[error("the first word must be a command starting with /")]
    NotACommand,
    /// A word after the command has no known prefix.
    #[error(
        "word {index} is neither an attribute (=name=value), the .tag attribute nor a query (?…)"
    )]
    UnknownWord {
        /// 1-based position in the sentence.
        index: usize,
    },
}

/// A parsed command sentence. `Debug` shows attribute names only: values may be passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// The command word, `/ip/address/print`.
    pub word: String,
    /// `=name=value` attributes in order (`=name` alone has an empty value).
    pub attrs: Vec<(String, String)>,
    /// Query words without their leading `?`.
    pub queries: Vec<String>,
    /// The `.tag` value, if one was given and not empty.
    pub tag: Option<String>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("word", &self.word)
            .field(
                "attrs",
                &self.attrs.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("queries", &self.queries.len())
            .field("tag", &self.tag)
            .finish()
    }
}

/// The `.tag` of a sentence, read leniently so that even a sentence that cannot be parsed is
/// answered under its tag.
pub fn tag_of(words: &[Vec<u8>]) -> Option<String> {
    words
        .iter()
        .skip(1)
        .rev()
        .find_map(|w| w.strip_prefix(b".tag="))
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .filter(|t| !t.is_empty())
}

impl Command {
    /// Parses the words of a non-empty sentence.
    pub fn parse(words: &[Vec<u8>]) -> Result<Command, SentenceError> {
        let mut text = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let s = std::str::from_utf8(w).map_err(|_| SentenceError::NotUtf8 { index: i + 1 })?;
            text.push(s);
        }
        let Some((first, rest)) = text.split_first() else {
            return Err(SentenceError::NotACommand);
        };
        if !first.starts_with('/') {
            return Err(SentenceError::NotACommand);
        }
        let mut cmd = Command {
            word: (*first).to_string(),
            attrs: Vec::new(),
            queries: Vec::new(),
            tag: None,
        };
        for (i, w) in rest.iter().enumerate() {
            if let Some(attr) = w.strip_prefix('=') {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                cmd.attrs.push((k.to_string(), v.to_string()));
            } else if let Some(q) = w.strip_prefix('?') {
                cmd.queries.push(q.to_string());
            } else if let Some(t) = w.strip_prefix(".tag=") {
                cmd.tag = Some(t.to_string()).filter(|t| !t.is_empty());
            } else {
                return Err(SentenceError::UnknownWord { index: i + 2 });
            }
        }
        Ok(cmd)
    }

    /// The value of attribute `name`, the last one if repeated.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is `print` (or its API alias `getall`), whose empty result is `!empty`.
    pub fn is_print(&self) -> bool {
        matches!(self.word.rsplit('/').next(), Some("print" | "getall"))
    }

    /// The REST request that does what this command does: `POST /rest/<path>` with the
    /// attributes as the JSON body and the queries as `.query`. `getall` becomes `print`.
    pub fn to_rest(&self) -> RestRequest {
        let mut path = String::from("/rest");
        let segments: Vec<&str> = self.word.split('/').filter(|s| !s.is_empty()).collect();
        let last = segments.len().saturating_sub(1);
        for (i, seg) in segments.iter().enumerate() {
            path.push('/');
            let seg = if i == last && *seg == "getall" {
                "print"
            } else {
                seg
            };
            // The REST parser percent-decodes segments; keep a literal `%` literal.
            path.push_str(&seg.replace('%', "%25"));
        }
        let mut body = Map::new();
        for (k, v) in &self.attrs {
            body.insert(k.clone(), Value::String(v.clone()));
        }
        if !self.queries.is_empty() {
            body.insert(
                ".query".into(),
                Value::Array(self.queries.iter().cloned().map(Value::String).collect()),
            );
        }
        let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
        RestRequest::parse(&Method::POST, &path, "", &bytes)
    }
}

/// One reply sentence: a reply word and its attribute words.
pub type Reply = Vec<String>;

/// `!done`, with `=ret=` when there is a value to return.
pub fn done(ret: Option<&str>) -> Reply {
    let mut s = vec!["!done".to_string()];
    if let Some(r) = ret {
        s.push(format!("=ret={r}"));
    }
    s
}

/// `!trap` with RouterOS's error category (when it has one) and message.
pub fn trap(message: &str, category: Option<u8>) -> Reply {
    let mut s = vec!["!trap".to_string()];
    if let Some(c) = category {
        s.push(format!("=category={c}"));
    }
    s.push(format!("=message={message}"));
    s
}

/// A failure as RouterOS answers it: `!trap` then `!done`.
pub fn failure(message: &str) -> Vec<Reply> {
    vec![trap(message, category(message)), done(None)]
}

/// RouterOS's trap category for a console error line: 0 missing item or command, 1 argument
/// value failure; other failures carry none.
pub fn category(message: &str) -> Option<u8> {
    const MISSING: [&str; 3] = ["no such item", "no such command", "no such command prefix"];
    const ARGUMENT: [&str; 5] = [
        "unknown parameter ",
        "invalid value for argument ",
        "input does not match any value of ",
        "missing value(s) of argument(s) ",
        "value of ",
    ];
    if MISSING.contains(&message) || message.starts_with("no such command or directory") {
        Some(0)
    } else if ARGUMENT.iter().any(|p| message.starts_with(p)) {
        Some(1)
    } else {
        None
    }
}

fn attribute(key: &str, v: &Value) -> String {
    match v {
        Value::String(s) => format!("={key}={s}"),
        other => format!("={key}={other}"),
    }
}

fn record(obj: &Map<String, Value>) -> Reply {
    let mut s = vec!["!re".to_string()];
    s.extend(obj.iter().map(|(k, v)| attribute(k, v)));
    s
}

/// Turns the REST reply to [`Command::to_rest`] into the API's reply sentences: records as
/// `!re`, an empty `print` as `!empty`, `{"ret":…}` as `!done =ret=…`, an error as `!trap`;
/// every reply ends with `!done`.
pub fn from_rest(reply: &RestReply, print: bool) -> Vec<Reply> {
    let parsed = reply
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok());
    if reply.status >= 400 {
        let detail = parsed
            .as_ref()
            .and_then(|v| v.get("detail"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| match reply.status {
                404 => "no such command prefix".to_string(),
                other => crate::rest::api::reason(other).to_lowercase(),
            });
        // REST names the unknown word ("no such command or directory (x)"); the API protocol
        // answers a path that names nothing with "no such command prefix".
        if detail.starts_with("no such command or directory") {
            return failure("no such command prefix");
        }
        return failure(&detail);
    }
    match parsed {
        Some(Value::Array(items)) => {
            let mut out: Vec<Reply> = items
                .iter()
                .filter_map(Value::as_object)
                .map(record)
                .collect();
            if out.is_empty() && print {
                out.push(vec!["!empty".to_string()]);
            }
            out.push(done(None));
            out
        }
        Some(Value::Object(obj)) => match obj.get("ret") {
            Some(ret) if obj.len() == 1 => {
                let ret = match ret {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                vec![done(Some(&ret))]
            }
            _ => vec![record(&obj), done(None)],
        },
        Some(_) | None => vec![done(None)],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn sentences_parse_into_attributes_queries_and_tag() {
        let c = Command::parse(&words(&[
            "/ip/address/print",
            "=.proplist=address,interface",
            "?=interface=ether1",
            "?#|",
            "=detail",
            ".tag=7",
        ]))
        .unwrap();
        assert_eq!(c.word, "/ip/address/print");
        assert_eq!(c.attr(".proplist"), Some("address,interface"));
        assert_eq!(c.attr("detail"), Some(""));
        assert_eq!(c.queries, ["=interface=ether1", "#|"]);
        assert_eq!(c.tag.as_deref(), Some("7"));
        assert!(c.is_print());
        let v = Command::parse(&words(&["/system/identity/set", "=name=a=b", ".tag="])).unwrap();
        assert_eq!(v.attr("name"), Some("a=b"), "values may hold =");
        assert_eq!(v.tag, None, "an empty tag is no tag");
    }

    #[test]
    fn debug_never_shows_attribute_values() {
        let c = Command::parse(&words(&["/login", "=name=admin", "=password=hunter2"])).unwrap();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("password") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn bad_words_are_named_by_position_without_their_content() {
        let e = Command::parse(&[b"/login".to_vec(), b"=password=\xff\xfe".to_vec()]).unwrap_err();
        assert_eq!(e, SentenceError::NotUtf8 { index: 2 });
        assert!(!e.to_string().contains("password"));
        let e = Command::parse(&words(&["/login", "password=hunter2"])).unwrap_err();
        assert_eq!(e, SentenceError::UnknownWord { index: 2 });
        assert!(!e.to_string().contains("hunter2"));
        assert_eq!(
            Command::parse(&words(&["login"])).unwrap_err(),
            SentenceError::NotACommand
        );
        assert_eq!(
            tag_of(&[b"\xff".to_vec(), b".tag=9".to_vec()]).as_deref(),
            Some("9")
        );
    }

    #[test]
    fn replies_follow_routeros_shapes() {
        let reply = |status, body: &str| RestReply {
            status,
            body: Some(body.as_bytes().to_vec()),
            effect: None,
        };
        assert_eq!(
            from_rest(&reply(200, r#"[{".id":"*1","name":"x"}]"#), true),
            [vec!["!re", "=.id=*1", "=name=x"], vec!["!done"]]
        );
        assert_eq!(
            from_rest(&reply(200, "[]"), true),
            [vec!["!empty"], vec!["!done"]]
        );
        assert_eq!(from_rest(&reply(200, "[]"), false), [vec!["!done"]]);
        assert_eq!(
            from_rest(&reply(200, r#"{"ret":"*A"}"#), false),
            [vec!["!done", "=ret=*A"]]
        );
        assert_eq!(
            from_rest(
                &reply(
                    400,
                    r#"{"detail":"input does not match any value of interface","error":400,"message":"Bad Request"}"#
                ),
                false
            ),
            [
                vec![
                    "!trap",
                    "=category=1",
                    "=message=input does not match any value of interface"
                ],
                vec!["!done"]
            ]
        );
        assert_eq!(
            failure("failure: already have such address"),
            [
                vec!["!trap", "=message=failure: already have such address"],
                vec!["!done"]
            ]
        );
        assert_eq!(category("no such item"), Some(0));
    }
}
