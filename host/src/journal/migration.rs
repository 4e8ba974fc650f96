//! Checked migration: moving runs to a new module version only if their
//! history is still the one a replay check approved.

/// A run a replay check approved for migration, and the history it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRun {
    /// The run id.
    pub run_id: String,
    /// The last journal `seq` the check replayed (0: an empty journal).
    pub last_seq: i64,
}

/// What a checked migration did with one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationOutcome {
    /// The run now records the new version.
    Migrated,
    /// The run recorded more entries since the check; it was not moved.
    HistoryGrew {
        /// The run's last `seq` now.
        last_seq: i64,
    },
    /// A live lease holds the run (it is executing, and may record more
    /// entries on its old version); it was not moved.
    Leased,
    /// No unfinished run of that workflow has that id (it finished, or
    /// belongs to another workflow); nothing was moved.
    Gone,
}
