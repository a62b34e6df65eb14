//! Reading grants out of a token's claims.
//!
//! Identity providers put roles in different places: a top-level `roles` array (Entra ID,
//! Auth0 with a rule), a nested one (`realm_access.roles` in Keycloak), a namespaced claim whose
//! name is a URL with dots in it, or a space-separated string. [`roles_from_claims`] reads any
//! of those, plus the standard `scope` claim, and turns each entry into a [`Grant`].
//!
//! An entry that cannot be read is skipped with a reason the caller can log; it never locks out
//! the other entries, and an entry naming an unknown role never grants anything.

use serde_json::Value;

use crate::role::{Grant, Role};

/// Most entries read from one claim; a token carrying more is malformed or hostile.
const MAX_ENTRIES: usize = 256;
/// How much of an unreadable entry a reason quotes.
const MAX_QUOTED: usize = 80;

/// What a grant entry may look like, for error messages.
const GRANT_FORMS: &str =
    "expected ROLE or ORG/PROJECT:ROLE, ROLE one of viewer, operator, approver or admin";

/// Parses one grant entry: `ROLE` (every project) or `ORG/PROJECT:ROLE` (that project).
///
/// Role words are case-insensitive; organization and project names follow the same rules as
/// everywhere else in the product (lowercase slugs). The error names the entry and the rule.
pub fn parse_grant(entry: &str) -> Result<Grant, String> {
    let entry = entry.trim();
    match entry.split_once(':') {
        None => entry
            .parse::<Role>()
            .map(Grant::everywhere)
            .map_err(|_| format!("\"{}\": unknown role; {GRANT_FORMS}", printable(entry))),
        Some((project, role)) => {
            let project = project
                .parse()
                .map_err(|e: domain::ParseError| format!("\"{}\": {e}", printable(entry)))?;
            let role = role
                .parse::<Role>()
                .map_err(|_| format!("\"{}\": unknown role; {GRANT_FORMS}", printable(entry)))?;
            Ok(Grant::in_project(role, project))
        }
    }
}

/// Reads grants from `claim_name` and from the standard `scope` claim.
///
/// `claim_name` is looked up as a top-level claim first (so namespaced names such as
/// `https://example.com/roles` work), then as a dotted path into nested objects
/// (`realm_access.roles`). Its value may be an array of strings or one space-separated string;
/// every entry is a grant (see [`parse_grant`]) and every entry that is not is returned with a
/// reason. From `scope`, only entries that parse as grants count; ordinary scopes such as
/// `openid` are ignored without a reason.
///
/// Returns the distinct grants in the order first seen, and the reasons.
pub fn roles_from_claims(claims: &Value, claim_name: &str) -> (Vec<Grant>, Vec<String>) {
    let mut grants: Vec<Grant> = Vec::new();
    let mut ignored = Vec::new();
    let keep = |g: Grant, grants: &mut Vec<Grant>| {
        if !grants.contains(&g) {
            grants.push(g);
        }
    };

    let claim_label = printable(claim_name);
    match lookup(claims, claim_name) {
        None => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_ENTRIES {
                ignored.push(format!(
                    "claim \"{claim_label}\" has {} entries; only the first {MAX_ENTRIES} were read",
                    items.len()
                ));
            }
            for (i, item) in items.iter().take(MAX_ENTRIES).enumerate() {
                match item.as_str() {
                    Some(text) if text.trim().is_empty() => {}
                    Some(text) => match parse_grant(text) {
                        Ok(g) => keep(g, &mut grants),
                        Err(reason) => ignored.push(reason),
                    },
                    None => ignored.push(format!(
                        "entry {i} of claim \"{claim_label}\" is not a string"
                    )),
                }
            }
        }
        Some(Value::String(text)) => {
            let words: Vec<&str> = text.split_whitespace().collect();
            if words.len() > MAX_ENTRIES {
                ignored.push(format!(
                    "claim \"{claim_label}\" has {} entries; only the first {MAX_ENTRIES} were read",
                    words.len()
                ));
            }
            for word in words.into_iter().take(MAX_ENTRIES) {
                match parse_grant(word) {
                    Ok(g) => keep(g, &mut grants),
                    Err(reason) => ignored.push(reason),
                }
            }
        }
        Some(_) => ignored.push(format!(
            "claim \"{claim_label}\" is neither a list of strings nor a space-separated string"
        )),
    }

    if claim_name != "scope"
        && let Some(Value::String(scope)) = claims.get("scope")
    {
        for word in scope.split_whitespace().take(MAX_ENTRIES) {
            if let Ok(g) = parse_grant(word) {
                keep(g, &mut grants);
            }
        }
    }
    (grants, ignored)
}

/// The claim named `name`: a top-level member first, then a dotted path.
fn lookup<'a>(claims: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    if !name.contains('.') {
        return None;
    }
    name.split('.').try_fold(claims, |v, part| v.get(part))
}

/// `s` cut to a readable length with control characters replaced, for quoting in reasons.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_QUOTED)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > MAX_QUOTED {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Scope;
    use serde_json::json;

    fn project(s: &str) -> domain::ProjectRef {
        s.parse().expect("valid project")
    }

    #[test]
    fn an_array_claim_gives_global_and_project_grants() {
        let claims = json!({ "roles": ["operator", "acme/web:approver", "Viewer"] });
        let (grants, ignored) = roles_from_claims(&claims, "roles");
        assert_eq!(
            grants,
            vec![
                Grant::everywhere(Role::Operator),
                Grant::in_project(Role::Approver, project("acme/web")),
                Grant::everywhere(Role::Viewer),
            ]
        );
        assert!(ignored.is_empty(), "{ignored:?}");
    }

    #[test]
    fn a_space_separated_string_claim_works_too() {
        let claims = json!({ "groups": "  admin\tacme/web:viewer  " });
        let (grants, ignored) = roles_from_claims(&claims, "groups");
        assert_eq!(
            grants,
            vec![
                Grant::everywhere(Role::Admin),
                Grant::in_project(Role::Viewer, project("acme/web"))
            ]
        );
        assert!(ignored.is_empty());
    }

    #[test]
    fn the_scope_claim_adds_grants_and_ordinary_scopes_are_silently_skipped() {
        let claims =
            json!({ "scope": "openid profile operator acme/lab:admin mcp:tools offline_access" });
        let (grants, ignored) = roles_from_claims(&claims, "roles");
        assert_eq!(
            grants,
            vec![
                Grant::everywhere(Role::Operator),
                Grant::in_project(Role::Admin, project("acme/lab"))
            ]
        );
        assert!(ignored.is_empty(), "{ignored:?}");
        // Asking for `scope` itself reads it once, reporting what it could not use.
        let (grants, ignored) = roles_from_claims(&claims, "scope");
        assert_eq!(grants.len(), 2);
        assert_eq!(ignored.len(), 4);
    }

    #[test]
    fn dotted_names_walk_nested_objects_and_top_level_names_win() {
        let keycloak = json!({ "realm_access": { "roles": ["approver", "offline_access", "uma_authorization"] } });
        let (grants, ignored) = roles_from_claims(&keycloak, "realm_access.roles");
        assert_eq!(grants, vec![Grant::everywhere(Role::Approver)]);
        assert_eq!(
            ignored.len(),
            2,
            "Keycloak's own roles are reported, not granted"
        );

        let namespaced = json!({ "https://mcp.example.com/roles": ["admin"], "https://mcp": { "example": { "com/roles": ["viewer"] } } });
        let (grants, _) = roles_from_claims(&namespaced, "https://mcp.example.com/roles");
        assert_eq!(grants, vec![Grant::everywhere(Role::Admin)]);

        let (grants, ignored) = roles_from_claims(&keycloak, "realm_access.missing.roles");
        assert!(grants.is_empty() && ignored.is_empty());
    }

    #[test]
    fn malformed_entries_are_reported_and_never_lock_out_the_rest() {
        let claims = json!({ "roles": [
            "superuser", "Acme/web:operator", "acme:viewer", "acme/web:", ":admin",
            "acme/web:operator:admin", 42, null, "", "acme/web/x:viewer", "admin\u{7}", "operator"
        ] });
        let (grants, ignored) = roles_from_claims(&claims, "roles");
        assert_eq!(grants, vec![Grant::everywhere(Role::Operator)]);
        assert_eq!(ignored.len(), 10, "{ignored:#?}");
        assert!(ignored[0].contains("\"superuser\": unknown role"));
        assert!(ignored[1].contains("Acme/web"), "{}", ignored[1]);
        assert!(
            ignored
                .iter()
                .any(|r| r.contains("entry 6 of claim \"roles\" is not a string"))
        );
        assert!(
            ignored.iter().all(|r| !r.chars().any(char::is_control)),
            "reasons are printable: {ignored:?}"
        );
    }

    #[test]
    fn a_claim_of_the_wrong_type_is_one_reason() {
        let (grants, ignored) = roles_from_claims(&json!({ "roles": { "admin": true } }), "roles");
        assert!(grants.is_empty());
        assert_eq!(
            ignored,
            vec!["claim \"roles\" is neither a list of strings nor a space-separated string"]
        );
    }

    #[test]
    fn huge_claims_are_cut_and_duplicates_collapse() {
        let many: Vec<String> = (0..1000).map(|_| "viewer".to_owned()).collect();
        let (grants, ignored) = roles_from_claims(&json!({ "roles": many }), "roles");
        assert_eq!(grants, vec![Grant::everywhere(Role::Viewer)]);
        assert_eq!(ignored.len(), 1);
        assert!(ignored[0].contains("1000 entries"));
    }

    #[test]
    fn project_grants_carry_validated_names() {
        let g = parse_grant("acme/branch-1:approver").expect("valid");
        assert_eq!(g.scope, Scope::Project(project("acme/branch-1")));
        let err = parse_grant(&format!("acme/{}:viewer", "x".repeat(100))).expect_err("too long");
        assert!(err.contains('…'), "long entries are cut when quoted: {err}");
    }
}
