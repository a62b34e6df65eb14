//! Fetching the provider's JSON documents (discovery, JWKS): which URLs may be fetched, over a
//! client with bounded time, bounded size and the `ring` TLS provider with the operating
//! system's trust store.

use std::error::Error as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::redirect;
use serde_json::Value;

use crate::error::AuthError;

/// The transport rule every provider URL must follow.
pub const LOOPBACK_HTTP_RULE: &str = "https is required; plain http is allowed only for a loopback host (127.0.0.0/8, ::1 or localhost)";

/// Largest document read from a provider.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Most redirects followed for one document.
const MAX_REDIRECTS: usize = 3;

/// Whether `url` is https, or http to a loopback host.
pub(crate) fn transport_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Whether the URL's host is 127.0.0.0/8, ::1 or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Refuses a URL that breaks [`LOOPBACK_HTTP_RULE`] or carries a user name or password.
pub(crate) fn check_url(what: &'static str, url: &Url) -> Result<(), AuthError> {
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        // Best effort: the credentials must not reach the message.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(AuthError::InsecureUrl {
            what,
            url: shown.to_string(),
            rule: "a provider URL must not carry a user name or password",
        });
    }
    if !transport_allowed(url) {
        return Err(AuthError::InsecureUrl {
            what,
            url: url.to_string(),
            rule: LOOPBACK_HTTP_RULE,
        });
    }
    Ok(())
}

/// An HTTP client for provider documents.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

impl Fetcher {
    /// A client whose every request (connect, send, read) ends within `timeout`. `needs_tls`
    /// says whether an https URL will be fetched: without it, a machine without a trust store
    /// can still talk to a loopback provider.
    pub(crate) fn new(timeout: Duration, needs_tls: bool) -> Result<Self, AuthError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| AuthError::Client(format!("TLS configuration: {e}")))?;
        let tls = match rustls_platform_verifier::Verifier::new(provider) {
            Ok(verifier) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth(),
            Err(e) if needs_tls => {
                return Err(AuthError::Client(format!(
                    "the operating system's trusted certificates could not be loaded: {e}"
                )));
            }
            Err(_) => builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        let policy = redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if transport_allowed(attempt.url()) {
                attempt.follow()
            } else {
                attempt.error(LOOPBACK_HTTP_RULE)
            }
        });
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(policy)
            .connect_timeout(timeout)
            .timeout(timeout)
            // Requests to the provider are minutes apart (keys, a sign-in's code exchange): a
            // pooled connection would by then have been closed by the provider, and a request
            // sent on it as it closes fails. Each request opens its own.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("routeros-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AuthError::Client(chain(&e)))?;
        Ok(Self {
            client,
            max_bytes: MAX_DOCUMENT_BYTES,
        })
    }

    /// GETs `url` and parses the body as a JSON object.
    pub(crate) async fn json(&self, what: &'static str, url: &Url) -> Result<Value, AuthError> {
        let fail = |detail: String| AuthError::Fetch {
            what,
            url: url.to_string(),
            detail,
        };
        let response = self
            .client
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| fail(chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!("HTTP {}", status.as_u16())));
        }
        self.read_object(response, fail).await
    }

    /// POSTs `form` to `url` with HTTP Basic client authentication and parses the answer as a
    /// JSON object. An error answer is described by its OAuth `error` code only (the
    /// description a provider writes may quote what was sent).
    pub(crate) async fn post_form(
        &self,
        what: &'static str,
        url: &Url,
        basic: (&str, &str),
        form: &[(&str, &str)],
    ) -> Result<Value, AuthError> {
        let fail = |detail: String| AuthError::Fetch {
            what,
            url: url.to_string(),
            detail,
        };
        // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding.
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", encode(basic.0), encode(basic.1)),
        );
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let response = self
            .client
            .post(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::AUTHORIZATION, format!("Basic {credentials}"))
            .body(body)
            .send()
            .await
            .map_err(|e| fail(chain(&e)))?;
        let status = response.status();
        let value = self.read_object(response, fail).await;
        if status.is_success() {
            return value;
        }
        let code = value
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(printable_code))
            .unwrap_or_else(|| "no error code".to_owned());
        Err(fail(format!("HTTP {} ({code})", status.as_u16())))
    }

    /// Reads a body of at most the document limit and parses it as a JSON object.
    async fn read_object(
        &self,
        mut response: reqwest::Response,
        fail: impl Fn(String) -> AuthError,
    ) -> Result<Value, AuthError> {
        let limit = self.max_bytes;
        let too_large = || fail(format!("the document is larger than {limit} bytes"));
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(chain(&e)))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the document is not JSON: {e}")))?;
        if !value.is_object() {
            return Err(fail("the document is not a JSON object".to_owned()));
        }
        Ok(value)
    }
}

/// An OAuth error code as shown: its own characters only (RFC 6749 §5.2), at most 64.
fn printable_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

/// An error and its causes on one line.
fn chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid URL")
    }

    #[test]
    fn http_is_allowed_only_on_loopback() {
        for ok in [
            "https://id.example.com",
            "https://10.0.0.1/realms/x",
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/x",
            "http://localhost:1",
            "http://LOCALHOST",
        ] {
            assert!(check_url("issuer", &url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com",
            "http://10.0.0.1",
            "http://127.0.0.1.nip.io",
            "http://localhost.example.com",
            "http://[::ffff:127.0.0.1]",
            "http://0.0.0.0",
            "ftp://127.0.0.1",
        ] {
            let err = check_url("issuer", &url(bad)).expect_err(bad).to_string();
            assert!(err.contains("https is required"), "{err}");
        }
    }

    #[test]
    fn urls_with_credentials_are_refused_without_quoting_them() {
        let err = check_url("issuer", &url("https://alice:hunter2@id.example.com/"))
            .expect_err("credentials")
            .to_string();
        assert!(
            err.contains("must not carry a user name or password"),
            "{err}"
        );
        assert!(!err.contains("hunter2") && !err.contains("alice"), "{err}");
    }
}
