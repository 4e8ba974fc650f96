//! The two journal stores an end-to-end scenario runs on: a fresh Postgres
//! database of its own, or a fresh SQLite file in a temporary directory.
//! `on_both_stores!` turns one scenario body into a `postgres` and a
//! `sqlite` test.

use sqlx::Connection;

use crate::{PgDb, TempDir};

/// Which store a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// A database of its own on the test Postgres server.
    Postgres,
    /// A SQLite file in a temporary directory (one host process at a time).
    Sqlite,
}

impl Store {
    /// Creates a fresh, empty database on this store.
    pub async fn create(self) -> StoreDb {
        match self {
            Store::Postgres => {
                let db = PgDb::create().await;
                StoreDb { url: db.url.clone(), store: self, _keep: Keep::Postgres { _db: db } }
            }
            Store::Sqlite => {
                let dir = TempDir::new();
                let url = format!("sqlite:{}", dir.0.join("journal.db").display());
                StoreDb { url, store: self, _keep: Keep::Sqlite { _dir: dir } }
            }
        }
    }
}

/// What a [`StoreDb`] holds so its database goes when it does.
enum Keep {
    Postgres { _db: PgDb },
    Sqlite { _dir: TempDir },
}

/// A fresh database on a store, dropped (or deleted) with this value.
pub struct StoreDb {
    /// The database URL a manifest or an instance builder takes.
    pub url: String,
    /// The store it is on.
    pub store: Store,
    _keep: Keep,
}

impl StoreDb {
    /// A connection of the test's own, for the few checks and changes a
    /// scenario makes behind the host's back.
    pub async fn sql(&self) -> Sql {
        match self.store {
            Store::Postgres => Sql::Postgres(sqlx::PgConnection::connect(&self.url).await.expect("connect to Postgres")),
            Store::Sqlite => Sql::Sqlite(sqlx::SqliteConnection::connect(&self.url).await.expect("open the SQLite file")),
        }
    }

    /// SQL for "an hour from now" as the store keeps lease expiries
    /// (`timestamptz` on Postgres, epoch milliseconds on SQLite).
    pub fn an_hour_from_now(&self) -> &'static str {
        match self.store {
            Store::Postgres => "now() + interval '1 hour'",
            Store::Sqlite => "(CAST(strftime('%s', 'now') AS INTEGER) + 3600) * 1000",
        }
    }
}

/// An argument bound to a `$1`, `$2`, ... placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text.
    Text(&'a str),
    /// An integer.
    Int(i64),
}

/// A connection to either store. Statements are written with `$N`
/// placeholders; on SQLite they become `?N`.
pub enum Sql {
    /// Postgres.
    Postgres(sqlx::PgConnection),
    /// SQLite.
    Sqlite(sqlx::SqliteConnection),
}

macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match *a {
                Arg::Text(s) => q.bind(s.to_string()),
                Arg::Int(i) => q.bind(i),
            };
        }
        q
    }};
}

impl Sql {
    /// Runs a statement; returns the rows it affected.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> u64 {
        match self {
            Sql::Postgres(c) => bound!(sqlx::query(sql), args).execute(c).await.expect("execute").rows_affected(),
            Sql::Sqlite(c) => {
                let sql = sqlite(sql);
                bound!(sqlx::query(&sql), args).execute(c).await.expect("execute").rows_affected()
            }
        }
    }

    /// Runs a query of one integer.
    pub async fn int(&mut self, sql: &str, args: &[Arg<'_>]) -> i64 {
        match self {
            Sql::Postgres(c) => bound!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(c).await.expect("query"),
            Sql::Sqlite(c) => {
                let sql = sqlite(sql);
                bound!(sqlx::query_scalar::<_, i64>(&sql), args).fetch_one(c).await.expect("query")
            }
        }
    }

    /// Runs a query of one text column.
    pub async fn texts(&mut self, sql: &str, args: &[Arg<'_>]) -> Vec<String> {
        match self {
            Sql::Postgres(c) => bound!(sqlx::query_scalar::<_, String>(sql), args).fetch_all(c).await.expect("query"),
            Sql::Sqlite(c) => {
                let sql = sqlite(sql);
                bound!(sqlx::query_scalar::<_, String>(&sql), args).fetch_all(c).await.expect("query")
            }
        }
    }
}

fn sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Runs one scenario body on both stores: `on_both_stores!(async fn
/// name(store: Store) { ... })` makes the module `name` with the tests
/// `name::postgres` and `name::sqlite`, each calling the body with its
/// [`Store`].
#[macro_export]
macro_rules! on_both_stores {
    ($(#[$meta:meta])* async fn $name:ident($store:ident: Store) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($store: $crate::Store) $body

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                scenario($crate::Store::Postgres).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                scenario($crate::Store::Sqlite).await
            }
        }
    };
}
