//! Roles, the projects they apply to, and the lattice that says which role includes which.
//!
//! - **viewer**: the free (read-only) tools, and reads of devices, plans and the audit log.
//! - **operator**: everything a viewer may do, plus the basic and professional tools: proposing
//!   plans, and `plan.apply` with an approval token a person minted.
//! - **approver**: everything a viewer may do, plus approving and rejecting plans. An approver
//!   is *not* an operator and an operator is not an approver: the person who approves a change
//!   need not be able to propose one, and the other way round.
//! - **admin**: everything, including devices, credentials, keys, API tokens, organizations
//!   and projects.
//!
//! A [`Grant`] pairs a role with a [`Scope`]: every project, or one `ORG/PROJECT`.

use std::fmt;
use std::str::FromStr;

use domain::ProjectRef;

/// What a caller may do. The derived order (viewer < operator < approver < admin) is only a
/// stable sort order for display; whether one role covers another is [`Role::includes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
    Approver,
    Admin,
}

/// The words roles are written with (claims, configuration, CLI).
const ROLE_WORDS: &str = "viewer, operator, approver or admin";

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    /// The role's word, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Whether holding `self` grants everything `other` grants: admin includes every role;
    /// operator and approver each include viewer; operator and approver are independent.
    pub fn includes(self, other: Role) -> bool {
        match (self, other) {
            (Role::Admin, _) => true,
            (Role::Operator, Role::Operator | Role::Viewer) => true,
            (Role::Operator, Role::Approver | Role::Admin) => false,
            (Role::Approver, Role::Approver | Role::Viewer) => true,
            (Role::Approver, Role::Operator | Role::Admin) => false,
            (Role::Viewer, Role::Viewer) => true,
            (Role::Viewer, Role::Operator | Role::Approver | Role::Admin) => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not one of the four roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role \"{given}\": expected {ROLE_WORDS}")]
pub struct UnknownRole {
    given: String,
}

impl FromStr for Role {
    type Err = UnknownRole;

    /// The exact role words, in any letter case; nothing else (no abbreviations, no spaces).
    fn from_str(s: &str) -> Result<Self, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownRole {
                given: crate::claims::printable(s),
            })
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every project of every organization.
    All,
    /// One project.
    Project(ProjectRef),
}

impl Scope {
    /// Whether this scope includes `project`.
    pub fn covers(&self, project: &ProjectRef) -> bool {
        match self {
            Scope::All => true,
            Scope::Project(p) => p == project,
        }
    }
}

/// A role held in a scope. Written `ROLE` (all projects) or `ORG/PROJECT:ROLE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// `role` in every project.
    pub fn everywhere(role: Role) -> Self {
        Self {
            role,
            scope: Scope::All,
        }
    }

    /// `role` in `project` only.
    pub fn in_project(role: Role, project: ProjectRef) -> Self {
        Self {
            role,
            scope: Scope::Project(project),
        }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Scope::All => write!(f, "{}", self.role),
            Scope::Project(p) => write!(f, "{p}:{}", self.role),
        }
    }
}

impl FromStr for Grant {
    type Err = String;

    /// `ROLE` or `ORG/PROJECT:ROLE`; the error says what was wrong and what is allowed.
    fn from_str(s: &str) -> Result<Self, String> {
        crate::claims::parse_grant(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_words_parse_in_any_case_and_nothing_else_does() {
        assert_eq!("viewer".parse(), Ok(Role::Viewer));
        assert_eq!("OPERATOR".parse(), Ok(Role::Operator));
        assert_eq!("Approver".parse(), Ok(Role::Approver));
        assert_eq!("aDmIn".parse(), Ok(Role::Admin));
        for bad in [
            "",
            "admins",
            "view",
            " admin",
            "admin ",
            "root",
            "operator,admin",
        ] {
            let err = bad.parse::<Role>().expect_err("not a role word");
            assert!(
                err.to_string()
                    .contains("expected viewer, operator, approver or admin")
            );
        }
        assert_eq!(Role::Approver.to_string(), "approver");
    }

    #[test]
    fn the_lattice_is_exactly_admin_over_all_and_operator_approver_over_viewer() {
        use Role::*;
        let expected = [
            (Admin, [true, true, true, true]),
            (Operator, [true, true, false, false]),
            (Approver, [true, false, true, false]),
            (Viewer, [true, false, false, false]),
        ];
        for (holder, row) in expected {
            for (other, want) in Role::ALL.into_iter().zip(row) {
                assert_eq!(holder.includes(other), want, "{holder} includes {other}");
            }
        }
    }

    #[test]
    fn grants_print_the_way_they_are_written() {
        let g: Grant = "acme/web:OPERATOR".parse().expect("valid grant");
        assert_eq!(g.to_string(), "acme/web:operator");
        assert_eq!(Grant::everywhere(Role::Viewer).to_string(), "viewer");
    }
}
