//! Refusing a request: the HTTP status, the RFC 6750 error, a safe description, a stable reason
//! label for metrics, and the `WWW-Authenticate` challenge. Also reading the bearer token out
//! of the request headers.
//!
//! Descriptions are written by this crate and never quote the token, so a refusal can be logged,
//! returned to the client and counted as it is.

use std::fmt;

use http::{HeaderMap, StatusCode, header::AUTHORIZATION};

use crate::role::Role;

/// Longest bearer token accepted (JWTs with many claims stay well below this).
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The RFC 6750 §3.1 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BearerError {
    /// The request is malformed (for example, two `Authorization` headers). HTTP 400.
    InvalidRequest,
    /// The token is expired, revoked, malformed or not verifiable. HTTP 401.
    InvalidToken,
    /// The token is fine but does not grant what the request needs. HTTP 403.
    InsufficientScope,
}

impl BearerError {
    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }
}

/// Why a request was refused, as a stable label for `auth_failures_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// No credentials at all.
    Missing,
    /// Not a well-formed token or request (bad shape, missing required claim, two headers).
    Malformed,
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    BadSignature,
    BadIssuer,
    BadAudience,
    /// An algorithm other than the allowed asymmetric ones, or one that does not fit the key.
    BadAlgorithm,
    /// Signed with a key the provider does not publish, even after a refetch.
    UnknownKey,
    /// An API token that was revoked (or never existed).
    Revoked,
    /// A Cloudflare Access assertion was missing or did not verify.
    CfAccess,
    /// The provider's keys could not be fetched.
    ProviderUnreachable,
    /// Authenticated, but the grants do not include the role the request needs.
    InsufficientRole,
}

impl FailureReason {
    /// Every reason, so a metric can be registered with all its label values at start.
    pub const ALL: [FailureReason; 13] = [
        FailureReason::Missing,
        FailureReason::Malformed,
        FailureReason::Expired,
        FailureReason::NotYetValid,
        FailureReason::BadSignature,
        FailureReason::BadIssuer,
        FailureReason::BadAudience,
        FailureReason::BadAlgorithm,
        FailureReason::UnknownKey,
        FailureReason::Revoked,
        FailureReason::CfAccess,
        FailureReason::ProviderUnreachable,
        FailureReason::InsufficientRole,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Missing => "missing",
            FailureReason::Malformed => "malformed",
            FailureReason::Expired => "expired",
            FailureReason::NotYetValid => "not_yet_valid",
            FailureReason::BadSignature => "bad_signature",
            FailureReason::BadIssuer => "bad_issuer",
            FailureReason::BadAudience => "bad_audience",
            FailureReason::BadAlgorithm => "bad_algorithm",
            FailureReason::UnknownKey => "unknown_key",
            FailureReason::Revoked => "revoked",
            FailureReason::CfAccess => "cf_access",
            FailureReason::ProviderUnreachable => "provider_unreachable",
            FailureReason::InsufficientRole => "insufficient_role",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request, ready to become an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400 (`invalid_request`), 401 (no or bad credentials) or 403 (not allowed).
    pub status: StatusCode,
    /// The RFC 6750 error code; `None` when no credentials were sent (RFC 6750 §3.1) and for
    /// Cloudflare Access refusals, which are not bearer-token errors.
    pub error: Option<BearerError>,
    /// What was wrong, for the client and the log. Never contains the token.
    pub description: String,
    pub reason: FailureReason,
}

impl Refusal {
    /// No credentials: 401 with a bare challenge.
    pub fn missing() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: "a bearer token is required".to_owned(),
            reason: FailureReason::Missing,
        }
    }

    /// A token that does not verify: 401 `invalid_token`.
    pub fn invalid_token(reason: FailureReason, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: Some(BearerError::InvalidToken),
            description: description.into(),
            reason,
        }
    }

    /// A malformed request: 400 `invalid_request` (RFC 6750 §3.1).
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Some(BearerError::InvalidRequest),
            description: description.into(),
            reason: FailureReason::Malformed,
        }
    }

    /// An API token that is unknown or revoked: 401 `invalid_token`.
    pub fn revoked() -> Self {
        Self::invalid_token(
            FailureReason::Revoked,
            "token is unknown or has been revoked",
        )
    }

    /// A verified caller without the role a request needs: 403 `insufficient_scope`.
    pub fn insufficient_role(role: Role) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            error: Some(BearerError::InsufficientScope),
            description: format!("this requires the {role} role"),
            reason: FailureReason::InsufficientRole,
        }
    }

    /// A Cloudflare Access assertion that is missing or does not verify: 403, no bearer error.
    pub fn cf_access(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            error: None,
            description: format!("Cloudflare Access: {}", description.into()),
            reason: FailureReason::CfAccess,
        }
    }

    /// The keys needed to verify the token could not be fetched: 401 `invalid_token`.
    pub(crate) fn provider_unreachable() -> Self {
        Self::invalid_token(
            FailureReason::ProviderUnreachable,
            "the identity provider's signing keys could not be fetched; try again later",
        )
    }

    /// The `WWW-Authenticate` value for this refusal (RFC 6750 §3, RFC 9728 §5.1):
    /// `Bearer resource_metadata="…", error="…", error_description="…", scope="…"`.
    ///
    /// `error`/`error_description` appear only when there is an error code (not for a request
    /// without credentials). `resource_metadata` is a quoted-string with `"` and `\` escaped;
    /// `error_description` and `scope` are restricted to the characters RFC 6750 allows in
    /// them (printable ASCII without `"` and `\`): a `"` becomes `'`, a `\` becomes `/`, and
    /// anything else outside the set becomes `?`.
    pub fn www_authenticate(&self, resource_metadata_url: &str, scope: Option<&str>) -> String {
        let mut out = format!(
            "Bearer resource_metadata=\"{}\"",
            quoted_string(resource_metadata_url)
        );
        if let Some(error) = self.error {
            out.push_str(&format!(
                ", error=\"{}\", error_description=\"{}\"",
                error.as_str(),
                rfc6750_chars(&self.description, true)
            ));
        }
        if let Some(scope) = scope {
            out.push_str(&format!(", scope=\"{}\"", rfc6750_chars(scope, false)));
        }
        out
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.status.as_u16(),
            self.description,
            self.reason
        )
    }
}

impl std::error::Error for Refusal {}

/// A quoted-string body (RFC 9110 §5.6.4): `"` and `\` escaped, control characters dropped.
fn quoted_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// RFC 6750's `error_description` set (%x20-21 / %x23-5B / %x5D-7E); `scope` additionally
/// excludes the space inside tokens but allows it as the separator, so the same set serves.
fn rfc6750_chars(value: &str, description: bool) -> String {
    const MAX: usize = 200;
    value
        .chars()
        .take(MAX)
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            '\t' | '\n' | '\r' if description => ' ',
            _ => '?',
        })
        .collect()
}

/// The bearer token of a request, if it has one.
///
/// `Authorization: Bearer <token>` with the scheme in any letter case. No `Authorization`
/// header, or one with another scheme (Basic, …), is `Ok(None)`: the caller answers with
/// [`Refusal::missing`]. More than one `Authorization` header, a `Bearer` without a token, a
/// token with characters outside RFC 6750's `b64token` set, or an oversized token is an
/// `invalid_request` refusal.
pub fn bearer_from_headers(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refusal::invalid_request(
            "more than one Authorization header; send exactly one",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| Refusal::invalid_request("the Authorization header must be visible ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(Refusal::invalid_request(
            "Authorization: Bearer carries no token",
        ));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::invalid_request(format!(
            "the bearer token is longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    if !is_b64token(token) {
        return Err(Refusal::invalid_request(
            "the bearer token may contain only letters, digits, '-', '.', '_', '~', '+', '/' \
             and trailing '='",
        ));
    }
    Ok(Some(token))
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                AUTHORIZATION,
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        map
    }

    #[test]
    fn bearer_tokens_are_read_with_any_scheme_case() {
        for v in [
            "Bearer abc.def-_~+/==",
            "bearer abc.def-_~+/==",
            "BEARER   abc.def-_~+/==  ",
        ] {
            let h = headers(&[v]);
            assert_eq!(bearer_from_headers(&h), Ok(Some("abc.def-_~+/==")), "{v}");
        }
    }

    #[test]
    fn no_header_or_another_scheme_is_no_token() {
        assert_eq!(bearer_from_headers(&HeaderMap::new()), Ok(None));
        assert_eq!(
            bearer_from_headers(&headers(&["Basic dXNlcjpwYXNz"])),
            Ok(None)
        );
        assert_eq!(bearer_from_headers(&headers(&["Bearerabc"])), Ok(None));
    }

    #[test]
    fn malformed_authorization_is_invalid_request_and_never_quotes_the_token() {
        let cases = [
            vec!["Bearer one", "Bearer two"],
            vec!["Bearer"],
            vec!["Bearer    "],
            vec!["Bearer secret with spaces"],
            vec!["Bearer secret\"quote"],
            vec!["Bearer ==="],
        ];
        for case in cases {
            let refusal = bearer_from_headers(&headers(&case)).expect_err("refused");
            assert_eq!(refusal.status, StatusCode::BAD_REQUEST, "{case:?}");
            assert_eq!(refusal.error, Some(BearerError::InvalidRequest));
            assert_eq!(refusal.reason, FailureReason::Malformed);
            assert!(!refusal.description.contains("secret"), "{refusal}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        let refusal = bearer_from_headers(&headers(&[&huge])).expect_err("too long");
        assert!(refusal.description.contains("longer than"));
    }

    #[test]
    fn challenges_follow_rfc_6750_and_9728() {
        let meta = "https://h/.well-known/oauth-protected-resource";
        assert_eq!(
            Refusal::missing().www_authenticate(meta, None),
            "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource\""
        );
        assert_eq!(
            Refusal::invalid_token(FailureReason::Expired, "token expired")
                .www_authenticate(meta, None),
            "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource\", \
             error=\"invalid_token\", error_description=\"token expired\""
        );
        assert_eq!(
            Refusal::insufficient_role(Role::Approver).www_authenticate(meta, Some("approver")),
            "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource\", \
             error=\"insufficient_scope\", error_description=\"this requires the approver role\", \
             scope=\"approver\""
        );
    }

    #[test]
    fn challenge_values_cannot_break_out_of_their_quotes() {
        let refusal = Refusal::invalid_token(
            FailureReason::Malformed,
            "bad \"value\"\\, error=\"x\"\r\nX-Injected: 1 — ünïcode",
        );
        let header = refusal.www_authenticate("https://h/meta\"data\\x", Some("a\"b c"));
        assert_eq!(
            header,
            "Bearer resource_metadata=\"https://h/meta\\\"data\\\\x\", error=\"invalid_token\", \
             error_description=\"bad 'value'/, error='x'  X-Injected: 1 ? ?n?code\", scope=\"a'b c\""
        );
        assert!(
            HeaderValue::from_str(&header).is_ok(),
            "a valid header value"
        );
        // Exactly four parameters survive parsing: nothing was injected.
        assert_eq!(header.matches("=\"").count(), 4);
    }

    #[test]
    fn every_reason_has_a_distinct_label() {
        let labels: std::collections::HashSet<_> =
            FailureReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), FailureReason::ALL.len());
        assert!(labels.contains("provider_unreachable"));
    }
}
