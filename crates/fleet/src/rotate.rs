//! Rotating a device's credentials on the device itself.
//!
//! Order matters, so that no failure can lock the server out: create a new RouterOS user (same
//! group, random strong password) with the current login; prove the new login works over a fresh
//! connection; store it; only then disable the old user, with the new login. A failure before the
//! store step removes the new user again (or, if the device refuses even that, says so and names
//! it) and leaves the old credentials stored and working. If
//! only the last step fails, the new credentials are stored and working and the old user is still
//! enabled — reported, with its name, so an operator can disable it.

use rand::distr::{Alphanumeric, SampleString};
use routeros::{DriverError, MenuPath, PrintQuery, Props, RosId};
use serde_json::json;
use store::{AuditContext, Device};
use vault::SecretString;

use crate::{Fleet, FleetError, TrustMode};

/// What a completed rotation did.
#[derive(Debug)]
pub struct RotationOutcome {
    pub old_username: String,
    pub new_username: String,
    pub credential_version: i64,
    /// Whether the old user was disabled on the device (`Err` leaves it enabled).
    pub old_user_disabled: Result<(), DriverError>,
}

fn user_menu() -> MenuPath {
    MenuPath::parse("user").unwrap_or_else(|e| unreachable!("{e}"))
}

/// `mcp` → `mcp-3f9a1c`; `mcp-3f9a1c` → `mcp-77d0e2` (the suffix of an earlier rotation is
/// replaced, so names do not grow).
fn next_username(current: &str) -> String {
    let base = match current.rsplit_once('-') {
        Some((base, suffix))
            if suffix.len() == 6
                && suffix.bytes().all(|b| b.is_ascii_hexdigit())
                && !base.is_empty() =>
        {
            base
        }
        _ => current,
    };
    format!("{base}-{:06x}", rand::random::<u32>() & 0x00ff_ffff)
}

impl Fleet {
    /// Rotates the device's credentials on the device; see the module documentation for the
    /// guarantees on failure.
    pub async fn rotate_on_device(
        &self,
        device: &Device,
        ctx: &AuditContext,
    ) -> Result<RotationOutcome, FleetError> {
        let client = self.client(device).await?;
        let current = self.store().credentials(device, self.key()).await?;
        let users = client
            .print(
                &user_menu(),
                &PrintQuery::all().filter("name", &current.username),
            )
            .await?;
        let old = users.first().ok_or_else(|| {
            FleetError::Refused(format!(
                "user \"{}\" does not exist on device {}; cannot rotate its credentials",
                current.username, device.name
            ))
        })?;
        let old_id = old
            .get(".id")
            .and_then(|id| RosId::parse(id).ok())
            .ok_or_else(|| FleetError::Refused("the device did not report the user's id".into()))?;
        let group = old
            .get("group")
            .cloned()
            .unwrap_or_else(|| "full".to_owned());

        let new_username = next_username(&current.username);
        let password = SecretString::from(Alphanumeric.sample_string(&mut rand::rng(), 32));
        let mut props = Props::new();
        props.insert("name".into(), new_username.clone());
        props.insert("group".into(), group.clone());
        props.insert(
            "password".into(),
            vault::ExposeSecret::expose_secret(&password).to_owned(),
        );
        props.insert(
            "comment".into(),
            format!(
                "routeros-mcp service account (replaces {})",
                current.username
            ),
        );
        let created = client.add(&user_menu(), &props, None).await?;
        let new_id = created.get(".id").and_then(|id| RosId::parse(id).ok());

        // Undo the new user with the old login, and say why we stopped.
        let unused = new_username.clone();
        let abandon = |why: FleetError| async move {
            let Some(id) = &new_id else { return why };
            match client.remove(&user_menu(), id).await {
                Ok(()) => why,
                Err(e) => {
                    tracing::warn!(device = %device.name, error = %e, "could not remove the unused new user");
                    FleetError::Refused(format!(
                        "{why}; the unused new user {unused} could not be removed ({}): remove it on the device",
                        e.kind
                    ))
                }
            }
        };

        // A fresh connection with the new login proves it works.
        let mut target = self.target(device, TrustMode::Registry).await?;
        target.username = new_username.clone();
        target.password = password.clone();
        let probe =
            self.connections()
                .uncached(target, device.driver, device.routeros_version.as_deref());
        let verified = probe
            .print(
                &MenuPath::parse("system/identity").unwrap_or_else(|e| unreachable!("{e}")),
                &PrintQuery::all(),
            )
            .await;
        if let Err(e) = verified {
            return Err(abandon(FleetError::Refused(format!(
                "the new user {new_username} could not log in ({}); it was removed and the old \
                 credentials stay in use",
                e.kind
            )))
            .await);
        }

        let stored = self
            .store()
            .rotate_credentials(&device.id, Some(&new_username), &password, self.key(), ctx)
            .await;
        let stored = match stored {
            Ok(c) => c,
            Err(e) => return Err(abandon(FleetError::Store(e)).await),
        };

        let mut disable = Props::new();
        disable.insert("disabled".into(), "true".into());
        let old_user_disabled = probe.set(&user_menu(), Some(&old_id), &disable).await;
        if let Err(e) = &old_user_disabled {
            tracing::warn!(device = %device.name, error = %e, old_user = %current.username, "the old user is still enabled");
        }
        self.audit(
            ctx,
            "device.rotate_credentials.on_device",
            device,
            json!({
                "name": device.name.as_str(),
                "old_username": current.username,
                "new_username": new_username,
                "group": group,
                "old_user_disabled": old_user_disabled.is_ok(),
            }),
        )
        .await;
        self.connections().forget(&device.id);
        Ok(RotationOutcome {
            old_username: current.username,
            new_username,
            credential_version: stored.version,
            old_user_disabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names_keep_their_base() {
        let a = next_username("mcp");
        assert!(a.starts_with("mcp-") && a.len() == 10, "{a}");
        let b = next_username(&a);
        assert!(b.starts_with("mcp-") && b.len() == 10, "{b}");
        assert!(next_username("svc-ops").starts_with("svc-ops-"));
    }
}
