//! Where notifications go: the receiver's URL, checked once and then kept secret.
//!
//! A Slack incoming-webhook URL is a credential (`https://hooks.slack.com/services/T…/B…/<token>`:
//! whoever has it can post to the channel), and other receivers embed tokens the same way. So the
//! URL lives only in a [`SecretString`]: no `Debug`, `Display`, log line or error of this crate
//! shows it. What may be shown is the host ([`Endpoint::host`]), which says which receiver is
//! meant without handing out the right to post to it.
//!
//! Notifications carry plan titles and device names, so they travel over TLS — except to a
//! receiver on this machine (a relay, a test), where plain HTTP cannot be read off the network.

use std::fmt;
use std::net::IpAddr;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

/// The transport rule every webhook URL must follow, as error messages state it.
pub const RULE: &str = "it must be an https:// URL, or http:// only to a loopback address \
     (127.0.0.0/8, ::1 or localhost)";

/// A webhook URL that follows [`RULE`].
#[derive(Clone)]
pub struct Endpoint {
    url: SecretString,
    host: String,
}

/// Why a webhook URL was refused. Never quotes the URL: at most its scheme and host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Not an absolute URL with a host (the parser's reason, which never quotes the input).
    #[error("the webhook URL does not parse ({reason}); {RULE}")]
    NotAUrl { reason: String },
    /// A scheme or host the rule does not allow.
    #[error("the webhook URL is {scheme}:// to {host}; {RULE}")]
    Insecure { scheme: String, host: String },
}

impl Endpoint {
    /// Checks `url` against [`RULE`].
    pub fn parse(url: SecretString) -> Result<Self, EndpointError> {
        let parsed =
            Url::parse(url.expose_secret().trim()).map_err(|e| EndpointError::NotAUrl {
                reason: e.to_string(),
            })?;
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| EndpointError::NotAUrl {
                reason: "it names no host".into(),
            })?
            .to_owned();
        let allowed = match parsed.scheme() {
            "https" => true,
            "http" => is_loopback(&host),
            _ => false,
        };
        if !allowed {
            return Err(EndpointError::Insecure {
                scheme: parsed.scheme().to_owned(),
                host,
            });
        }
        Ok(Self {
            url: SecretString::from(parsed.as_str().to_owned()),
            host,
        })
    }

    /// The receiver's host, the most of the URL any message may show.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether notifications go over TLS (plain HTTP only ever reaches this machine).
    pub fn is_https(&self) -> bool {
        self.url.expose_secret().starts_with("https:")
    }

    /// The URL itself, for the request only.
    pub(crate) fn expose(&self) -> &str {
        self.url.expose_secret()
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("url", &"[REDACTED]")
            .finish()
    }
}

/// 127.0.0.0/8, ::1 or `localhost` (not `localhost.example.com`, not `127.0.0.1.nip.io`).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(SecretString::from(url.to_owned()))
    }

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        for ok in [
            "https://hooks.slack.com/services/T0/B0/abcdef",
            "https://10.0.0.1/hook",
            "http://127.0.0.1:8080/hook",
            "http://127.3.4.5/x",
            "http://[::1]:9000/x",
            "http://localhost:1/",
            "http://LOCALHOST/",
            " https://hooks.example.com/with-space-around ",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for (bad, host) in [
            (
                "http://hooks.slack.com/services/T0/B0/abcdef",
                "hooks.slack.com",
            ),
            ("http://10.0.0.1/hook", "10.0.0.1"),
            ("http://127.0.0.1.nip.io/hook", "127.0.0.1.nip.io"),
            ("http://localhost.example.com/hook", "localhost.example.com"),
            ("http://[::ffff:127.0.0.1]/hook", "[::ffff:7f00:1]"),
            ("http://0.0.0.0/hook", "0.0.0.0"),
            ("ftp://127.0.0.1/hook", "127.0.0.1"),
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                matches!(&err, EndpointError::Insecure { host: h, .. } if h == host),
                "{bad}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(RULE), "{text}");
            assert!(
                !text.contains("/hook") && !text.contains("abcdef"),
                "{text}"
            );
        }
    }

    #[test]
    fn what_does_not_parse_is_refused_without_quoting_it() {
        for bad in [
            "",
            "hooks.slack.com/services/secret-part",
            "https://",
            "mailto:a@b",
        ] {
            let err = parse(bad).expect_err(bad).to_string();
            assert!(err.contains("https://"), "{err}");
            assert!(!err.contains("secret-part"), "{err}");
        }
    }

    #[test]
    fn debug_shows_the_host_and_never_the_url() {
        let e = parse("https://hooks.slack.com/services/T0/B0/s3cr3tT0ken").unwrap();
        let shown = format!("{e:?}");
        assert!(shown.contains("hooks.slack.com"), "{shown}");
        assert!(
            !shown.contains("s3cr3tT0ken") && !shown.contains("/services"),
            "{shown}"
        );
        assert_eq!(e.host(), "hooks.slack.com");
        assert!(e.is_https());
    }
}
