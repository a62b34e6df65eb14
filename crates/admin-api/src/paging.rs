//! Lists come a page at a time: `limit` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]) and an
//! opaque `cursor` that the previous page returned as `next_cursor`.
//!
//! A cursor is base64url JSON naming the listing it belongs to and where the page ended (a
//! device's name and id, a plan's creation time and id, an audit event's sequence number). It
//! carries nothing the caller could not already see, and a cursor of another listing, or one
//! that was edited, is refused with a clear error rather than silently restarting.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Items on a page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items a page may have.
pub const MAX_LIMIT: u32 = 500;

/// The page size asked for (the query string's text), or 400 naming `limit`.
pub(crate) fn limit(given: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = given else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid(format!(
            "query parameter limit: \"{}\" is not allowed; expected a whole number from 1 to {MAX_LIMIT}",
            domain::text::escape(text)
        ))),
    }
}

/// Where a page ended, in the listing `kind`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<T> {
    k: String,
    at: T,
}

/// The cursor continuing `kind` after `at`.
pub(crate) fn encode<T: Serialize>(kind: &str, at: T) -> String {
    let text = serde_json::to_vec(&Envelope {
        k: kind.to_owned(),
        at,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(text)
}

/// The position a cursor of `kind` names, or 400 naming `cursor`.
pub(crate) fn decode<T: DeserializeOwned>(kind: &str, cursor: &str) -> Result<T, ApiError> {
    let refuse = || {
        ApiError::invalid(format!(
            "query parameter cursor: not a cursor of this {kind} listing; pass the next_cursor of the page before, unchanged, or leave it out to start at the beginning"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refuse())?;
    let envelope: Envelope<T> = serde_json::from_slice(&bytes).map_err(|_| refuse())?;
    if envelope.k != kind {
        return Err(refuse());
    }
    Ok(envelope.at)
}

/// Splits one item more than a page off `items` (fetched with `limit + 1`) and returns the
/// page and whether more follow.
pub(crate) fn split<T>(mut items: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    (items, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_one_listing() {
        let c = encode("devices", ("core-1", "0191"));
        let at: (String, String) = decode("devices", &c).expect("own cursor");
        assert_eq!(at, ("core-1".to_owned(), "0191".to_owned()));
        let e = decode::<(String, String)>("plans", &c).expect_err("another listing's cursor");
        assert!(e.to_string().contains("not a cursor of this plans listing"));
        assert!(decode::<i64>("audit", "!!").is_err());
        assert!(decode::<i64>("audit", &encode("audit", "text")).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(limit(Some("500")).ok(), Some(MAX_LIMIT));
        for bad in ["0", "501", "-1", "ten", ""] {
            let e = limit(Some(bad)).expect_err("out of range");
            assert!(e.to_string().contains("from 1 to 500"), "{e}");
        }
        let (page, more) = split(vec![1, 2, 3], 2);
        assert_eq!((page, more), (vec![1, 2], true));
        let (page, more) = split(vec![1, 2], 2);
        assert_eq!((page, more), (vec![1, 2], false));
    }
}
