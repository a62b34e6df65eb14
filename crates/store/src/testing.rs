//! Fresh databases for tests: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `TEST_DATABASE_URL` (dropped again when the guard goes).
//!
//! Every test gets its own database, so tests run in parallel and never see each other's rows.
//! A failure to set one up is a test failure, hence the `expect`s.

#![allow(clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;

use vault::ExposeSecret;
use vault::SecretString;

use crate::{Store, Target};

/// Environment variable naming the PostgreSQL server tests may create databases on.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub target: Target,
    /// Keeps the SQLite directory alive.
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (admin URL, database name) to drop on `cleanup`.
    pg: Option<(String, String)>,
}

impl TestDatabase {
    /// A SQLite file in a fresh temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the test database");
        let target = Target::Sqlite(dir.path().join("registry.sqlite"));
        Self {
            target,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a visible notice) when `TEST_DATABASE_URL`
    /// is not set.
    pub async fn postgres(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_URL) else {
            skip_notice(test);
            return None;
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Store::open(&Target::Postgres(SecretString::from(admin_url.clone())), 1)
            .await
            .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .expect("CREATE DATABASE on the test server");
        admin.close().await;
        let url = replace_database(&admin_url, &name);
        Some(Self {
            target: Target::Postgres(SecretString::from(url)),
            _dir: None,
            pg: Some((admin_url, name)),
        })
    }

    /// Opens the database and applies migrations.
    pub async fn store(&self) -> Store {
        Store::open_and_migrate(&self.target, 5)
            .await
            .expect("open and migrate the test database")
    }

    /// The SQLite file (for raw dumps), if this is SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.target {
            Target::Sqlite(p) => Some(p.clone()),
            Target::Postgres(_) => None,
        }
    }

    /// The PostgreSQL URL, if this is PostgreSQL.
    pub fn postgres_url(&self) -> Option<String> {
        match &self.target {
            Target::Postgres(url) => Some(url.expose_secret().to_owned()),
            Target::Sqlite(_) => None,
        }
    }

    /// Drops a PostgreSQL test database (connections must be closed first).
    pub async fn cleanup(self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(admin) =
                Store::open(&Target::Postgres(SecretString::from(admin_url.clone())), 1).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(admin.pool())
            .await;
            admin.close().await;
        }
    }
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/<name>?x`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Tells whoever runs the tests, once per test binary and outside the harness's output capture
/// (it writes to the stderr handle, not through `eprintln!`), that the PostgreSQL half did not run.
fn skip_notice(test: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let binary = std::env::args()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: PostgreSQL half SKIPPED in {binary} (first: {test}): set {TEST_DATABASE_URL}=postgres://USER@HOST/DB to run it"
        );
    });
}
