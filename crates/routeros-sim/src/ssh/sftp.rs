//! The SFTP subsystem of a simulated device: lists and reads the files of `/file`.
//!
//! RouterOS serves its flash over SFTP to users whose group has the `ftp` policy; backup tools
//! fetch `*.backup` and `*.rsc` files this way. The simulator serves the same files read-only:
//! `realpath`, `opendir`/`readdir` of the root, `stat`/`lstat`/`fstat`, `open` for reading,
//! `read`, `close`. Opening for writing, `remove`, `rename`, `mkdir` and the rest answer
//! "permission denied" or "operation unsupported" (RouterOS allows uploads; the simulator does
//! not take them). A file is read as it was when it was opened.

use std::collections::HashMap;
use std::sync::Arc;

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};

use super::server::SshHost;

/// Most bytes one `read` answers (clients ask for 32–256 KiB).
const MAX_READ: u32 = 256 * 1024;
/// Most handles one session may hold open.
const MAX_HANDLES: usize = 64;

/// One SFTP session of a logged-in user.
pub struct SftpSession<H: SshHost> {
    host: Arc<H>,
    /// Open files by handle: their bytes as of `open`.
    files: HashMap<String, Arc<Vec<u8>>>,
    /// Open directories by handle: whether their listing was sent.
    dirs: HashMap<String, bool>,
    next_handle: u64,
}

impl<H: SshHost> std::fmt::Debug for SftpSession<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpSession")
            .field("open_files", &self.files.len())
            .field("open_dirs", &self.dirs.len())
            .finish_non_exhaustive()
    }
}

impl<H: SshHost> SftpSession<H> {
    pub fn new(host: Arc<H>) -> Self {
        Self {
            host,
            files: HashMap::new(),
            dirs: HashMap::new(),
            next_handle: 0,
        }
    }

    fn handle(&mut self) -> Result<String, StatusCode> {
        if self.files.len() + self.dirs.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure);
        }
        self.next_handle += 1;
        Ok(format!("h{}", self.next_handle))
    }

    /// The `/file` name a client path means (`/a.backup`, `./a.backup`, `a.backup`).
    fn file_name(path: &str) -> String {
        path.trim_start_matches("./")
            .trim_start_matches('/')
            .to_owned()
    }

    fn is_root(path: &str) -> bool {
        matches!(path, "" | "." | "/" | "./" | "/.")
    }

    fn attrs_of(&self, name: &str) -> Option<FileAttributes> {
        let (_, size, modified) = self
            .host
            .read(|s| s.file_list())
            .into_iter()
            .find(|(n, _, _)| n == name)?;
        Some(file_attrs(size, &modified))
    }
}

fn file_attrs(size: u64, modified: &str) -> FileAttributes {
    let mtime = chrono::NaiveDateTime::parse_from_str(modified, "%Y-%m-%d %H:%M:%S")
        .ok()
        .and_then(|t| u32::try_from(t.and_utc().timestamp()).ok())
        .unwrap_or(0);
    let mut a = FileAttributes {
        size: Some(size),
        permissions: Some(0o644),
        atime: Some(mtime),
        mtime: Some(mtime),
        ..FileAttributes::empty()
    };
    a.set_regular(true);
    a
}

fn dir_attrs() -> FileAttributes {
    let mut a = FileAttributes {
        size: Some(0),
        permissions: Some(0o755),
        ..FileAttributes::empty()
    };
    a.set_dir(true);
    a
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

impl<H: SshHost> russh_sftp::server::Handler for SftpSession<H> {
    type Error = StatusCode;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let name = if Self::is_root(&path) {
            "/".to_owned()
        } else {
            format!("/{}", Self::file_name(&path))
        };
        Ok(Name {
            id,
            files: vec![File::dummy(name)],
        })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        if !Self::is_root(&path) {
            return Err(StatusCode::NoSuchFile);
        }
        let handle = self.handle()?;
        self.dirs.insert(handle.clone(), false);
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.dirs.get_mut(&handle) {
            None => Err(StatusCode::Failure),
            Some(true) => Err(StatusCode::Eof),
            Some(sent) => {
                *sent = true;
                let files = self
                    .host
                    .read(|s| s.file_list())
                    .into_iter()
                    .map(|(name, size, modified)| File::new(name, file_attrs(size, &modified)))
                    .collect();
                Ok(Name { id, files })
            }
        }
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        if Self::is_root(&path) {
            return Ok(Attrs {
                id,
                attrs: dir_attrs(),
            });
        }
        let attrs = self
            .attrs_of(&Self::file_name(&path))
            .ok_or(StatusCode::NoSuchFile)?;
        Ok(Attrs { id, attrs })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat(id, path).await
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        if pflags.intersects(
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        ) {
            return Err(StatusCode::PermissionDenied);
        }
        let name = Self::file_name(&filename);
        let bytes = self
            .host
            .read(|s| s.read_file(&name))
            .ok_or(StatusCode::NoSuchFile)?;
        let handle = self.handle()?;
        self.files.insert(handle.clone(), Arc::new(bytes));
        Ok(Handle { id, handle })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let bytes = self.files.get(&handle).ok_or(StatusCode::Failure)?;
        Ok(Attrs {
            id,
            attrs: file_attrs(bytes.len() as u64, ""),
        })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let bytes = self.files.get(&handle).ok_or(StatusCode::Failure)?;
        let start = usize::try_from(offset).map_err(|_| StatusCode::Eof)?;
        if start >= bytes.len() {
            return Err(StatusCode::Eof);
        }
        let end = start
            .saturating_add(len.min(MAX_READ) as usize)
            .min(bytes.len());
        Ok(Data {
            id,
            data: bytes[start..end].to_vec(),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        let known = self.files.remove(&handle).is_some() | self.dirs.remove(&handle).is_some();
        if known {
            Ok(ok(id))
        } else {
            Err(StatusCode::Failure)
        }
    }

    async fn write(
        &mut self,
        _id: u32,
        _handle: String,
        _offset: u64,
        _data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        Err(StatusCode::PermissionDenied)
    }

    async fn remove(&mut self, _id: u32, _filename: String) -> Result<Status, Self::Error> {
        Err(StatusCode::PermissionDenied)
    }
}
