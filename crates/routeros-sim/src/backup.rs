//! `/system backup save`: a binary backup of the device, written to `/file`.
//!
//! RouterOS writes `<name>.backup` (default `<identity>-<YYYYMMDD>-<HHMM>.backup`) and answers
//! `Configuration backup saved` on the console (`[]` over REST). With a password the file is
//! encrypted (`encryption=aes-sha256`, the default, or the legacy `rc4`); without one, or with
//! `dont-encrypt=yes`, it is not (RouterOS ≥ 6.43).
//!
//! The simulator's file is not RouterOS's format, only shaped like it: a 4-byte magic
//! (RouterOS's plaintext `0xB1A1AC88`, or `0x7391A8EF`/`0x7291A8EF` for AES/RC4, little endian),
//! then for an encrypted file a 32-byte salt, a 32-byte password check and the payload XORed with
//! a SHA-256 keystream of salt and password. The payload is the device's verbose export with
//! secrets, without its dated header line, so a backup is deterministic from the configuration
//! and [`is_backup_of`] can tell whether a file holds the device's current state. It is never
//! plaintext when a password was given.

use sha2::{Digest, Sha256};

use crate::cli::export::{ExportOptions, export};
use crate::model::{RosError, RouterState, menu};

const MAGIC_PLAIN: [u8; 4] = 0xB1A1_AC88_u32.to_le_bytes();
const MAGIC_AES: [u8; 4] = 0x7391_A8EF_u32.to_le_bytes();
const MAGIC_RC4: [u8; 4] = 0x7291_A8EF_u32.to_le_bytes();

/// How a backup file is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Not encrypted.
    None,
    /// `encryption=aes-sha256` (the default with a password).
    AesSha256,
    /// `encryption=rc4` (legacy).
    Rc4,
}

/// What `/system backup save` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRequest {
    /// File name with `.backup`, or `None` for RouterOS's default name.
    pub name: Option<String>,
    pub password: Option<String>,
    pub encryption: Encryption,
}

impl SaveRequest {
    /// Parses the command's arguments (`name`, `password`, `encryption`, `dont-encrypt`);
    /// anything else is an unknown parameter, as on RouterOS.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(args: &[(K, V)]) -> Result<Self, RosError> {
        let mut name = None;
        let mut password = None;
        let mut cipher = Encryption::AesSha256;
        let mut dont_encrypt = false;
        for (k, v) in args {
            let v = v.as_ref();
            match k.as_ref() {
                "name" => {
                    let n = if v.ends_with(".backup") {
                        v.to_owned()
                    } else {
                        format!("{v}.backup")
                    };
                    if !crate::model::files::valid_name(&n) {
                        return Err(RosError::InvalidValue("name".into()));
                    }
                    name = Some(n);
                }
                "password" => password = (!v.is_empty()).then(|| v.to_owned()),
                "encryption" => {
                    cipher = match v {
                        "aes-sha256" => Encryption::AesSha256,
                        "rc4" => Encryption::Rc4,
                        _ => return Err(RosError::InvalidValue("encryption".into())),
                    }
                }
                // A valueless flag arrives empty (console) or as "" (REST).
                "dont-encrypt" => {
                    dont_encrypt = match v {
                        "" | "yes" | "true" => true,
                        "no" | "false" => false,
                        _ => return Err(RosError::InvalidValue("dont-encrypt".into())),
                    }
                }
                other => return Err(RosError::UnknownParameter(other.to_owned())),
            }
        }
        let encryption = if dont_encrypt || password.is_none() {
            Encryption::None
        } else {
            cipher
        };
        Ok(SaveRequest {
            name,
            password,
            encryption,
        })
    }
}

/// Runs `/system backup save`: writes the file and returns its name.
pub fn save(state: &mut RouterState, req: &SaveRequest) -> Result<String, RosError> {
    let name = match &req.name {
        Some(n) => n.clone(),
        None => default_name(state),
    };
    let bytes = backup_bytes(state, req.password.as_deref(), req.encryption);
    state.write_file(&name, &bytes)?;
    state.log("system,info", "configuration backup saved");
    Ok(name)
}

/// RouterOS's default name: `<identity>-<YYYYMMDD>-<HHMM>.backup`.
fn default_name(state: &RouterState) -> String {
    let identity = menu("/system/identity")
        .and_then(|m| state.get(m, None).ok())
        .and_then(|r| r.get("name").map(|v| v.into_owned()))
        .unwrap_or_else(|| "MikroTik".into());
    format!(
        "{identity}-{}.backup",
        state.clock().now().format("%Y%m%d-%H%M")
    )
}

/// What a backup of the device holds: its verbose export with secrets, without the dated
/// header line.
fn payload(state: &RouterState) -> Vec<u8> {
    let text = export(
        state,
        &ExportOptions {
            verbose: true,
            show_sensitive: true,
            ..ExportOptions::default()
        },
    );
    text.lines()
        .filter(|l| !(l.starts_with("# ") && l.contains(" by RouterOS ")))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// The backup file of the device's current state.
pub fn backup_bytes(
    state: &RouterState,
    password: Option<&str>,
    encryption: Encryption,
) -> Vec<u8> {
    let plain = payload(state);
    let magic = match encryption {
        Encryption::None => MAGIC_PLAIN,
        Encryption::AesSha256 => MAGIC_AES,
        Encryption::Rc4 => MAGIC_RC4,
    };
    let mut out = magic.to_vec();
    match (encryption, password) {
        (Encryption::None, _) | (_, None) => {
            out[..4].copy_from_slice(&MAGIC_PLAIN);
            out.extend_from_slice(&u32::try_from(plain.len()).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&plain);
        }
        (Encryption::AesSha256 | Encryption::Rc4, Some(pw)) => {
            let salt: [u8; 32] = Sha256::new()
                .chain_update(b"salt")
                .chain_update(&plain)
                .finalize()
                .into();
            out.extend_from_slice(&salt);
            out.extend_from_slice(&check(&salt, pw));
            let mut body = plain;
            xor_keystream(&mut body, &salt, pw);
            out.extend_from_slice(&body);
        }
    }
    out
}

fn check(salt: &[u8], password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"check")
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize()
        .into()
}

fn xor_keystream(data: &mut [u8], salt: &[u8], password: &str) {
    for (i, chunk) in data.chunks_mut(32).enumerate() {
        let block: [u8; 32] = Sha256::new()
            .chain_update(salt)
            .chain_update(password.as_bytes())
            .chain_update((i as u64).to_le_bytes())
            .finalize()
            .into();
        for (b, k) in chunk.iter_mut().zip(block) {
            *b ^= k;
        }
    }
}

/// Why a backup file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not a backup file")]
    NotABackup,
    #[error("the backup is encrypted and needs a password")]
    PasswordNeeded,
    #[error("wrong password")]
    WrongPassword,
}

/// The payload of a backup file (what `/system backup load` would restore).
pub fn open(bytes: &[u8], password: Option<&str>) -> Result<Vec<u8>, OpenError> {
    let (magic, rest) = bytes.split_at_checked(4).ok_or(OpenError::NotABackup)?;
    if magic == MAGIC_PLAIN {
        let (len, body) = rest.split_at_checked(4).ok_or(OpenError::NotABackup)?;
        let len = u32::from_le_bytes(len.try_into().map_err(|_| OpenError::NotABackup)?);
        return if usize::try_from(len).ok() == Some(body.len()) {
            Ok(body.to_vec())
        } else {
            Err(OpenError::NotABackup)
        };
    }
    if magic != MAGIC_AES && magic != MAGIC_RC4 {
        return Err(OpenError::NotABackup);
    }
    let pw = password.ok_or(OpenError::PasswordNeeded)?;
    let (salt, rest) = rest.split_at_checked(32).ok_or(OpenError::NotABackup)?;
    let (sum, body) = rest.split_at_checked(32).ok_or(OpenError::NotABackup)?;
    if sum != check(salt, pw) {
        return Err(OpenError::WrongPassword);
    }
    let mut plain = body.to_vec();
    xor_keystream(&mut plain, salt, pw);
    Ok(plain)
}

/// Whether `bytes` is a backup of the device's current configuration (opened with `password`).
pub fn is_backup_of(state: &RouterState, bytes: &[u8], password: Option<&str>) -> bool {
    open(bytes, password).is_ok_and(|p| p == payload(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;
    use crate::profiles::Profile;

    fn state() -> RouterState {
        let params = crate::profiles::ProfileParams::standalone(7, [10, 9, 0, 1].into(), "pw");
        Profile::Home.build(&params, SimClock::new(1.0)).unwrap()
    }

    fn req(args: &[(&str, &str)]) -> SaveRequest {
        SaveRequest::parse(args).unwrap()
    }

    #[test]
    fn a_password_backup_is_encrypted_deterministic_and_opens_only_with_its_password() {
        let mut s = state();
        let name = save(
            &mut s,
            &req(&[("name", "nightly"), ("password", "Pa55-word")]),
        )
        .unwrap();
        assert_eq!(name, "nightly.backup");
        let bytes = s.read_file("nightly.backup").unwrap();
        assert_eq!(&bytes[..4], &MAGIC_AES);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("/interface"),
            "payload readable without the password"
        );
        assert_eq!(
            bytes,
            backup_bytes(&s, Some("Pa55-word"), Encryption::AesSha256)
        );
        assert!(is_backup_of(&s, &bytes, Some("Pa55-word")));
        assert_eq!(open(&bytes, Some("wrong")), Err(OpenError::WrongPassword));
        assert_eq!(open(&bytes, None), Err(OpenError::PasswordNeeded));
        let plain = String::from_utf8(open(&bytes, Some("Pa55-word")).unwrap()).unwrap();
        assert!(plain.contains("/interface"));
    }

    #[test]
    fn a_changed_configuration_no_longer_matches_an_older_backup() {
        let mut s = state();
        save(&mut s, &req(&[("name", "a"), ("password", "p")])).unwrap();
        let bytes = s.read_file("a.backup").unwrap();
        let identity = menu("/system/identity").unwrap();
        s.set(identity, None, &[("name", "changed")]).unwrap();
        assert!(!is_backup_of(&s, &bytes, Some("p")));
    }

    #[test]
    fn without_a_password_or_with_dont_encrypt_the_file_is_plain() {
        let mut s = state();
        save(&mut s, &req(&[("name", "plain")])).unwrap();
        save(
            &mut s,
            &req(&[
                ("name", "de.backup"),
                ("password", "x"),
                ("dont-encrypt", ""),
            ]),
        )
        .unwrap();
        for n in ["plain.backup", "de.backup"] {
            let bytes = s.read_file(n).unwrap();
            assert_eq!(&bytes[..4], &MAGIC_PLAIN, "{n}");
            assert!(is_backup_of(&s, &bytes, None));
        }
    }

    #[test]
    fn the_default_name_is_identity_date_time() {
        let mut s = state();
        let stamp = |s: &RouterState| s.clock().now().format("%Y%m%d-%H%M").to_string();
        let before = stamp(&s);
        let name = save(&mut s, &req(&[])).unwrap();
        // The minute may turn between the two readings.
        let after = stamp(&s);
        assert!(
            [before, after].contains(
                &name
                    .trim_start_matches("sim-0001-")
                    .trim_end_matches(".backup")
                    .to_string()
            ),
            "{name}"
        );
        assert!(s.read_file(&name).is_some());
    }

    #[test]
    fn bad_arguments_are_refused_and_write_nothing() {
        for args in [
            vec![("name", "../escape")],
            vec![("encryption", "des")],
            vec![("dont-encrypt", "maybe")],
            vec![("compress", "yes")],
        ] {
            assert!(SaveRequest::parse(&args).is_err(), "{args:?}");
        }
        assert!(matches!(
            SaveRequest::parse(&[("colour", "x")]),
            Err(RosError::UnknownParameter(p)) if p == "colour"
        ));
    }

    #[test]
    fn garbage_is_not_a_backup() {
        assert_eq!(open(b"", None), Err(OpenError::NotABackup));
        assert_eq!(open(b"hello world", None), Err(OpenError::NotABackup));
        let mut truncated = MAGIC_PLAIN.to_vec();
        truncated.extend_from_slice(&100u32.to_le_bytes());
        truncated.extend_from_slice(b"short");
        assert_eq!(open(&truncated, None), Err(OpenError::NotABackup));
    }
}
