//! Who may see and do what: the tenant rule and the role rule, in one place.
//!
//! A principal *sees* a project when it holds any role there (every role includes viewer). What
//! it cannot see does not exist for it: the answer is the same `404` a missing project, device
//! or plan gets, with the same message, so a caller cannot learn that another tenant's object
//! exists. `403` is given only for an object the principal sees, when the action needs a role
//! it does not hold there.

use auth::{Principal, ProjectSet, Role};
use domain::{OrgName, ProjectName, ProjectRef};

use crate::error::ApiError;

pub(crate) fn org_not_found_message(org: &str) -> String {
    format!("organization \"{org}\" not found")
}

pub(crate) fn project_not_found_message(project: &str) -> String {
    format!("project \"{project}\" not found")
}

pub(crate) fn plan_not_found_message(plan: &str) -> String {
    format!("plan \"{}\" not found", domain::text::escape(plan))
}

pub(crate) fn device_not_found(device: &str, project: &ProjectRef) -> ApiError {
    ApiError::not_found(format!(
        "device \"{}\" not found in project {project}",
        domain::text::escape(device)
    ))
}

pub(crate) fn plan_not_found(plan: &str, project: &ProjectRef) -> ApiError {
    ApiError::not_found(format!(
        "{} in project {project}",
        plan_not_found_message(plan)
    ))
}

/// The organization named in a path, or 400 naming the parameter.
pub(crate) fn org_name(org: &str) -> Result<OrgName, ApiError> {
    org.parse()
        .map_err(|e: domain::ParseError| ApiError::invalid(format!("path parameter org: {e}")))
}

/// The project named in a path, or 400 naming the parameter.
pub(crate) fn project_ref(org: &str, project: &str) -> Result<ProjectRef, ApiError> {
    Ok(ProjectRef {
        org: org_name(org)?,
        project: project.parse().map_err(|e: domain::ParseError| {
            ApiError::invalid(format!("path parameter project: {e}"))
        })?,
    })
}

/// Whether the principal holds any role in `project`.
pub(crate) fn sees(principal: &Principal, project: &ProjectRef) -> bool {
    principal.has(Role::Viewer, project)
}

/// 404 unless the principal holds a role in `project`.
pub(crate) fn see_project(principal: &Principal, project: &ProjectRef) -> Result<(), ApiError> {
    if sees(principal, project) {
        Ok(())
    } else {
        Err(ApiError::not_found(project_not_found_message(
            &project.to_string(),
        )))
    }
}

/// 403 unless the principal holds `role` in `project` (which it is known to see).
pub(crate) fn require_role(
    principal: &Principal,
    project: &ProjectRef,
    role: Role,
) -> Result<(), ApiError> {
    if principal.has(role, project) {
        return Ok(());
    }
    let held: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| {
            principal
                .grants
                .iter()
                .any(|g| g.role == *r && g.scope.covers(project))
        })
        .map(Role::as_str)
        .collect();
    Err(ApiError::forbidden(format!(
        "this needs the {role} role in project {project}; you hold {}",
        if held.is_empty() {
            "none".to_owned()
        } else {
            held.join(", ")
        }
    )))
}

/// Whether the principal is an admin of every project (a grant without a project).
pub(crate) fn is_global_admin(principal: &Principal) -> bool {
    principal.projects(Role::Admin) == ProjectSet::All
}

/// 403 unless the principal is an admin of every project.
pub(crate) fn require_global_admin(principal: &Principal, what: &str) -> Result<(), ApiError> {
    if is_global_admin(principal) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{what} needs the admin role for every project (a grant without a project)"
        )))
    }
}

/// 403 unless the principal holds `role` for every project (a grant without a project); `what`
/// says what needs it and why.
pub(crate) fn require_everywhere(
    principal: &Principal,
    role: Role,
    what: &str,
) -> Result<(), ApiError> {
    if principal.projects(role) == ProjectSet::All {
        return Ok(());
    }
    let mut held: Vec<String> = principal.grants.iter().map(ToString::to_string).collect();
    held.dedup();
    Err(ApiError::forbidden(format!(
        "{what} needs the {role} role for every project (a grant without a project); you hold {}",
        if held.is_empty() {
            "none".to_owned()
        } else {
            held.join(", ")
        }
    )))
}

/// Whether the principal sees some project of `org` among `projects` (the organization's
/// existing projects); a grant without a project sees every organization.
pub(crate) fn sees_org(principal: &Principal, org: &OrgName, projects: &[ProjectName]) -> bool {
    match principal.projects(Role::Viewer) {
        ProjectSet::All => true,
        ProjectSet::Only(list) => list
            .iter()
            .any(|p| &p.org == org && projects.contains(&p.project)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::PrincipalKind;

    fn principal(grants: &[&str]) -> Principal {
        Principal {
            subject: "u".into(),
            display: "u".into(),
            kind: PrincipalKind::Oidc,
            grants: grants.iter().map(|g| g.parse().expect("grant")).collect(),
        }
    }

    #[test]
    fn forbidden_names_the_role_needed_and_the_roles_held() {
        let p = principal(&["acme/a:viewer", "acme/a:approver", "acme/b:admin"]);
        let a: ProjectRef = "acme/a".parse().expect("project");
        let e = require_role(&p, &a, Role::Admin).expect_err("viewer is not admin");
        assert_eq!(
            e.to_string(),
            "this needs the admin role in project acme/a; you hold viewer, approver"
        );
        assert!(require_role(&p, &a, Role::Approver).is_ok());
    }

    #[test]
    fn only_a_grant_without_a_project_is_a_global_admin() {
        assert!(is_global_admin(&principal(&["admin"])));
        assert!(!is_global_admin(&principal(&["acme/a:admin", "viewer"])));
    }

    #[test]
    fn an_organization_is_seen_through_an_existing_project_only() {
        let p = principal(&["acme/a:viewer", "acme/ghost:viewer"]);
        let acme: OrgName = "acme".parse().expect("org");
        let a: ProjectName = "a".parse().expect("project");
        let b: ProjectName = "b".parse().expect("project");
        assert!(sees_org(&p, &acme, &[a.clone(), b.clone()]));
        assert!(!sees_org(&p, &acme, &[b]));
        assert!(!sees_org(&p, &"globex".parse().expect("org"), &[a]));
        assert!(sees_org(&principal(&["viewer"]), &acme, &[]));
    }
}
