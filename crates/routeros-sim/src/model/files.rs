//! The device's file store, `/file`: what `/system backup save` writes and what SFTP serves.
//!
//! RouterOS lists the files of its flash in `/file` (`print`, `remove`; REST `GET` and `DELETE
//! /rest/file/<id>`) with `name`, `type` (`backup`, `script`, `directory`, …), `size` in bytes,
//! `creation-time` and `last-modified`. Files are not configuration: the menu is never exported
//! or dumped, and writing one does not change the configuration generation. Their bytes are kept
//! beside the listing (base64 in a hidden property), so the SFTP server and tests read exactly
//! what was written.

use base64::Engine;

use super::error::RosError;
use super::ids::RosId;
use super::item::Item;
use super::spec::{MenuSpec, PropSpec, menu};
use super::state::RouterState;
use super::value::PropType;

const T: PropType = PropType::Text;

const fn p(name: &'static str, ty: PropType) -> PropSpec {
    PropSpec::new(name, ty)
}

const FILE_PROPS: &[PropSpec] = &[
    p("name", T).ro(),
    p("type", T).ro(),
    p("size", PropType::COUNTER).ro(),
    p("creation-time", T).ro(),
    p("last-modified", T).ro(),
    p("contents-base64", T).hidden(),
];

/// `/file`: listed and removed, never added or set through the menu (files are written by
/// commands such as `/system backup save`).
pub const FILE_MENU: MenuSpec = {
    let mut m = MenuSpec::list("/file", FILE_PROPS)
        .read_only()
        .named()
        .columns(&["name", "type", "size", "last-modified"]);
    m.can_remove = true;
    m
};

/// The RouterOS file type of a file name (`type` column).
pub fn file_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("backup") => "backup",
        Some("rsc") => "script",
        Some("txt" | "log") => ".txt file",
        Some("npk") => "package",
        _ => "file",
    }
}

/// Whether `name` is a file name this device accepts: a relative path of printable characters
/// without `..` segments, at most 255 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('/')
        && name
            .chars()
            .all(|c| !c.is_control() && c != '\\' && c != '"')
        && name.split('/').all(|seg| !seg.is_empty() && seg != "..")
}

impl RouterState {
    fn file_menu() -> Result<&'static MenuSpec, RosError> {
        menu("/file").ok_or(RosError::NoSuchCommandPrefix)
    }

    /// Writes (or overwrites) a file. Returns its id.
    pub fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<RosId, RosError> {
        if !valid_name(name) {
            return Err(RosError::InvalidValue("name".into()));
        }
        let spec = Self::file_menu()?;
        let now = self.clock().now().format("%Y-%m-%d %H:%M:%S").to_string();
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let existing = self
            .items(spec)
            .find(|it| it.get("name") == Some(name))
            .map(|it| (it.id(), it.get("creation-time").unwrap_or("").to_owned()));
        let (id, created) = match existing {
            Some((id, created)) => (id, created),
            None => (self.next_id(spec), now.clone()),
        };
        let mut it = Item::new(id);
        it.set("name", name);
        it.set("type", file_type(name));
        it.set("size", bytes.len().to_string());
        it.set("creation-time", created);
        it.set("last-modified", now);
        it.set("contents-base64", encoded);
        let t = self.table_mut(spec);
        match t.items.iter_mut().find(|x| x.id() == id) {
            Some(slot) => *slot = it,
            None => t.items.push(it),
        }
        Ok(id)
    }

    /// The bytes of the file called `name`, if it exists.
    pub fn read_file(&self, name: &str) -> Option<Vec<u8>> {
        let spec = menu("/file")?;
        let it = self.items(spec).find(|it| it.get("name") == Some(name))?;
        base64::engine::general_purpose::STANDARD
            .decode(it.get("contents-base64").unwrap_or(""))
            .ok()
    }

    /// Every file as (name, size, last-modified), in listing order.
    pub fn file_list(&self) -> Vec<(String, u64, String)> {
        let Some(spec) = menu("/file") else {
            return Vec::new();
        };
        self.items(spec)
            .map(|it| {
                (
                    it.get("name").unwrap_or("").to_owned(),
                    it.get("size").and_then(|s| s.parse().ok()).unwrap_or(0),
                    it.get("last-modified").unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;

    fn state() -> RouterState {
        RouterState::new(SimClock::new(1.0), 7)
    }

    #[test]
    fn a_written_file_is_listed_with_its_type_and_size_and_reads_back() {
        let mut s = state();
        let gen_before = s.generation();
        let id = s
            .write_file("daily.backup", b"\x88\xac\xa1\xb1abc")
            .unwrap();
        let rec = s.get(files_menu(), Some(id)).unwrap();
        assert_eq!(rec.get("name").as_deref(), Some("daily.backup"));
        assert_eq!(rec.get("type").as_deref(), Some("backup"));
        assert_eq!(rec.get("size").as_deref(), Some("7"));
        assert!(rec.get("creation-time").is_some() && rec.get("last-modified").is_some());
        // The bytes never show in a listing.
        assert!(rec.get("contents-base64").is_none());
        assert_eq!(s.read_file("daily.backup").unwrap(), b"\x88\xac\xa1\xb1abc");
        assert_eq!(s.generation(), gen_before, "a file is not configuration");
    }

    #[test]
    fn overwriting_keeps_the_id_and_removing_forgets_the_bytes() {
        let mut s = state();
        let a = s.write_file("x.rsc", b"one").unwrap();
        let b = s.write_file("x.rsc", b"two!").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            s.file_list(),
            vec![("x.rsc".into(), 4, s.file_list()[0].2.clone())]
        );
        s.remove(files_menu(), &[a]).unwrap();
        assert!(s.read_file("x.rsc").is_none());
        assert!(s.file_list().is_empty());
    }

    #[test]
    fn files_cannot_be_added_or_set_through_the_menu() {
        let mut s = state();
        let id = s.write_file("a.backup", b"z").unwrap();
        assert!(s.add(files_menu(), &[("name", "b.backup")]).is_err());
        assert!(s.set(files_menu(), Some(id), &[("name", "c")]).is_err());
    }

    #[test]
    fn bad_names_are_refused() {
        let mut s = state();
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a\\b",
            "q\"",
            "x\n",
            &"n".repeat(256),
        ] {
            assert!(s.write_file(bad, b"1").is_err(), "{bad:?} accepted");
        }
        assert!(s.file_list().is_empty());
        assert!(valid_name("flash/daily.backup"));
    }

    fn files_menu() -> &'static MenuSpec {
        menu("/file").unwrap()
    }
}
