//! The verified caller: who they are, how they proved it, and the grants they hold.

use domain::ProjectRef;

use crate::role::{Grant, Role, Scope};

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A JWT access token from the configured OpenID provider.
    Oidc,
    /// An API token this server minted.
    ApiToken,
    /// A Cloudflare Access assertion.
    CloudflareAccess,
    /// The local user of the stdio transport, or `MCP_AUTH_MODE=none` on a loopback bind.
    Local,
}

impl PrincipalKind {
    /// A stable lowercase label (audit records, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Oidc => "oidc",
            PrincipalKind::ApiToken => "api_token",
            PrincipalKind::CloudflareAccess => "cf_access",
            PrincipalKind::Local => "local",
        }
    }
}

/// A caller whose identity has been verified.
///
/// Holds no token material, so its `Debug` is safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The stable identifier (the token's `sub`, the API token's id, …).
    pub subject: String,
    /// What to show a person (user name or e-mail when the token has one).
    pub display: String,
    pub kind: PrincipalKind,
    pub grants: Vec<Grant>,
}

/// The projects in which a principal holds a role: all of them, or a finite list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSet {
    All,
    /// Distinct projects, in the order their grants appear (possibly none).
    Only(Vec<ProjectRef>),
}

impl ProjectSet {
    /// Whether `project` is in the set.
    pub fn contains(&self, project: &ProjectRef) -> bool {
        match self {
            ProjectSet::All => true,
            ProjectSet::Only(list) => list.contains(project),
        }
    }

    /// Whether the set has no project at all.
    pub fn is_empty(&self) -> bool {
        match self {
            ProjectSet::All => false,
            ProjectSet::Only(list) => list.is_empty(),
        }
    }
}

impl Principal {
    /// The local user: `role` in every project (stdio transport, or `MCP_AUTH_MODE=none`).
    pub fn local(role: Role) -> Self {
        Self {
            subject: "local".to_owned(),
            display: "local user".to_owned(),
            kind: PrincipalKind::Local,
            grants: vec![Grant::everywhere(role)],
        }
    }

    /// Whether a grant for every project, or for `project`, includes `role`.
    pub fn has(&self, role: Role, project: &ProjectRef) -> bool {
        self.grants
            .iter()
            .any(|g| g.role.includes(role) && g.scope.covers(project))
    }

    /// Whether `role` is held in at least one project.
    pub fn has_anywhere(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role.includes(role))
    }

    /// The projects in which `role` is held, for filtering lists.
    pub fn projects(&self, role: Role) -> ProjectSet {
        let mut only = Vec::new();
        for grant in self.grants.iter().filter(|g| g.role.includes(role)) {
            match &grant.scope {
                Scope::All => return ProjectSet::All,
                Scope::Project(p) => {
                    if !only.contains(p) {
                        only.push(p.clone());
                    }
                }
            }
        }
        ProjectSet::Only(only)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(s: &str) -> ProjectRef {
        s.parse().expect("valid project")
    }

    fn principal(grants: &[&str]) -> Principal {
        Principal {
            subject: "u1".into(),
            display: "User One".into(),
            kind: PrincipalKind::Oidc,
            grants: grants
                .iter()
                .map(|g| g.parse().expect("valid grant"))
                .collect(),
        }
    }

    #[test]
    fn a_project_grant_applies_to_that_project_only() {
        let p = principal(&["acme/web:operator"]);
        assert!(p.has(Role::Operator, &project("acme/web")));
        assert!(
            p.has(Role::Viewer, &project("acme/web")),
            "operator includes viewer"
        );
        assert!(!p.has(Role::Approver, &project("acme/web")));
        assert!(!p.has(Role::Viewer, &project("acme/db")));
        assert!(!p.has(Role::Viewer, &project("other/web")));
        assert!(p.has_anywhere(Role::Viewer));
        assert!(!p.has_anywhere(Role::Admin));
    }

    #[test]
    fn project_sets_list_exactly_where_a_role_is_held() {
        let p = principal(&["acme/web:operator", "acme/db:approver", "acme/web:viewer"]);
        assert_eq!(
            p.projects(Role::Viewer),
            ProjectSet::Only(vec![project("acme/web"), project("acme/db")])
        );
        assert_eq!(
            p.projects(Role::Approver),
            ProjectSet::Only(vec![project("acme/db")])
        );
        assert!(p.projects(Role::Admin).is_empty());
        let everywhere = principal(&["acme/web:operator", "viewer"]);
        assert_eq!(everywhere.projects(Role::Viewer), ProjectSet::All);
        assert!(everywhere.projects(Role::Viewer).contains(&project("x/y")));
    }

    #[test]
    fn no_grants_means_nothing() {
        let p = principal(&[]);
        for role in Role::ALL {
            assert!(!p.has_anywhere(role));
            assert!(!p.has(role, &ProjectRef::default()));
        }
    }

    #[test]
    fn local_principals_hold_their_role_everywhere() {
        let p = Principal::local(Role::Admin);
        assert!(p.has(Role::Approver, &project("any/where")));
        assert_eq!(p.kind.as_str(), "local");
        let viewer = Principal::local(Role::Viewer);
        assert!(!viewer.has(Role::Operator, &ProjectRef::default()));
    }
}
