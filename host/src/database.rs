//! An opened database that several instances of one process share.

use crate::journal::{self, SharedJournal};
use crate::Error;

/// An opened database (`postgres://...` or `sqlite:...`), to give several
/// instances of this process one connection pool (for SQLite: one file,
/// one writer) with [`crate::InstanceBuilder::shared_database`]. Opaque:
/// it offers no access to the stored runs.
#[derive(Clone)]
pub struct Database {
    pub(crate) journal: SharedJournal,
}

impl Database {
    /// Opens the database a URL names, with a pool of `max_connections`.
    /// Does not migrate (building an instance does). Gives up after 5 s.
    pub async fn open(url: &str, max_connections: u32) -> Result<Database, Error> {
        Ok(Database { journal: journal::open(url, max_connections).await? })
    }

    /// `"postgres"` or `"sqlite"`.
    pub fn kind(&self) -> &'static str {
        self.journal.kind()
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("kind", &self.kind()).finish()
    }
}
