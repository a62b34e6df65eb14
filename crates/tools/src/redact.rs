//! Secrets out of every result, and out of every filter a caller writes, by the one definition
//! in [`routeros::secret`].
//!
//! A result item has each secret property's value replaced by `"(hidden)"` and each script body
//! by `"(withheld)"` (unless the caller asked for scripts with a tier that allows it) before
//! anything else sees it, so neither `fields` nor a budget cut can bring a value back. A filter
//! key a caller gives must be a plain property name and never a secret or a script body: a
//! `<password` comparison, or an equality test on a password, answers questions about the
//! value even when the value itself is hidden.

use routeros::secret::{self, Sensitivity};
use serde_json::{Map, Value};

use crate::ToolError;

/// Whether script bodies are shown in a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scripts {
    Withheld,
    Shown,
}

/// Replaces the values of `menu`'s secret properties (and script bodies, unless `scripts`
/// says they are shown) in `item`.
pub(crate) fn item(menu: &str, item: &mut Map<String, Value>, scripts: Scripts) {
    for (key, value) in item.iter_mut() {
        let placeholder = match (secret::classify(menu, key), scripts) {
            (Sensitivity::Plain, _) | (Sensitivity::Withheld, Scripts::Shown) => None,
            (Sensitivity::Secret, _) => Some(secret::HIDDEN),
            (Sensitivity::Withheld, Scripts::Withheld) => Some(secret::WITHHELD),
        };
        if let Some(p) = placeholder {
            *value = Value::String(p.to_owned());
        }
    }
}

/// Refuses a caller's filter key `key` (given as argument `argument`, e.g. `where`) on `menu`
/// unless it is a plain property name that is neither a secret nor a script body.
pub(crate) fn filter_key(argument: &str, menu: &str, key: &str) -> Result<(), ToolError> {
    routeros::check_property_name(key)
        .map_err(|e| ToolError::InvalidArguments(format!("{argument}.{key}: {e}")))?;
    match secret::filter_refusal(menu, key) {
        None => Ok(()),
        Some(refusal) => Err(ToolError::Refused(format!("{argument}.{key}: {refusal}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_hidden_and_scripts_withheld_unless_shown() {
        let mut ppp = json!({"id": "*1", "name": "a", "password": "hunter2"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        item("ppp/secret", &mut ppp, Scripts::Shown);
        assert_eq!(
            Value::Object(ppp),
            json!({"id": "*1", "name": "a", "password": "(hidden)"})
        );
        let script = json!({"name": "s", "source": ":put 1"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut withheld = script.clone();
        item("system/script", &mut withheld, Scripts::Withheld);
        assert_eq!(withheld["source"], "(withheld)");
        let mut shown = script.clone();
        item("system/script", &mut shown, Scripts::Shown);
        assert_eq!(shown["source"], ":put 1");
    }

    #[test]
    fn filter_keys_must_be_plain_names_and_not_secrets() {
        assert!(filter_key("where", "ppp/secret", "name").is_ok());
        let e = filter_key("where", "ppp/secret", "<password").unwrap_err();
        assert!(matches!(e, ToolError::InvalidArguments(_)), "{e}");
        assert!(e.to_string().contains("where.<password"), "{e}");
        let e = filter_key("where", "ppp/secret", "password").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("where.password: filtering on a secret property is refused"),
            "{e}"
        );
    }
}
