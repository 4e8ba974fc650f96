//! [`ManifestError`]: everything that can go wrong while loading `instances.toml`.
//!
//! Every message starts with the manifest file, then (where one applies) the
//! instance, then the full dotted key path, so an operator can find the line.

use std::path::{Path, PathBuf};

/// An error found while reading, parsing or validating a manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("{}: cannot read manifest: {source}", .file.display())]
    Read {
        /// The manifest file.
        file: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The file is not valid TOML.
    #[error("{}:{line}:{column}: TOML syntax error: {message}", .file.display())]
    Syntax {
        /// The manifest file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// The parser's description.
        message: String,
    },

    /// The same instance table (`[instances.NAME]`) appears twice.
    #[error("{}:{line}:{column}: instance `{instance}` is defined more than once (duplicate `[instances.{instance}]`)", .file.display())]
    DuplicateInstance {
        /// The manifest file.
        file: PathBuf,
        /// The instance defined twice.
        instance: String,
        /// 1-based line of the second definition.
        line: usize,
        /// 1-based column of the second definition.
        column: usize,
    },

    /// Some other key or table appears twice.
    #[error("{}:{line}:{column}: {}duplicate key `{key}`{}", .file.display(), in_instance(.instance), under(.within))]
    DuplicateKey {
        /// The manifest file.
        file: PathBuf,
        /// The instance the key belongs to, if any.
        instance: Option<String>,
        /// The duplicated key: its full dotted path when the parser knows
        /// the table, else the bare key (see `within`).
        key: String,
        /// For a bare `key` (duplicates inside inline tables and dotted
        /// keys): the `[table]` header the duplicate appears under.
        within: Option<String>,
        /// 1-based line of the second definition.
        line: usize,
        /// 1-based column of the second definition.
        column: usize,
    },

    /// A key the manifest format does not know (often a typo).
    #[error("{}: {}unknown key `{key}`{}; expected one of: {}", .file.display(), in_instance(.instance), did_you_mean(.suggestion), .expected.join(", "))]
    UnknownKey {
        /// The manifest file.
        file: PathBuf,
        /// The instance the key belongs to, if any.
        instance: Option<String>,
        /// The full dotted key path, e.g. `instances.billing.children.dispatcher.pol_interval_ms`.
        key: String,
        /// The closest known key, if one is close.
        suggestion: Option<String>,
        /// The keys allowed at this place.
        expected: Vec<String>,
    },

    /// A required key is absent.
    #[error("{}: {}missing required key `{key}`", .file.display(), in_instance(.instance))]
    MissingKey {
        /// The manifest file.
        file: PathBuf,
        /// The instance the key belongs to, if any.
        instance: Option<String>,
        /// The full dotted key path.
        key: String,
    },

    /// A key holds a value of the wrong TOML type.
    #[error("{}: {}key `{key}` must be {expected}, found {found}", .file.display(), in_instance(.instance))]
    WrongType {
        /// The manifest file.
        file: PathBuf,
        /// The instance the key belongs to, if any.
        instance: Option<String>,
        /// The full dotted key path.
        key: String,
        /// What the key must hold, e.g. `a positive integer`.
        expected: &'static str,
        /// The TOML type found, e.g. `string`.
        found: &'static str,
    },

    /// A key has the right type but an unacceptable value.
    #[error("{}: {}key `{key}`: {reason}", .file.display(), in_instance(.instance))]
    InvalidValue {
        /// The manifest file.
        file: PathBuf,
        /// The instance the key belongs to, if any.
        instance: Option<String>,
        /// The full dotted key path.
        key: String,
        /// Why the value is rejected.
        reason: String,
    },

    /// The manifest declares no instance at all.
    #[error("{}: no instances defined; add at least one `[instances.NAME]` table with a `database` key", .file.display())]
    NoInstances {
        /// The manifest file.
        file: PathBuf,
    },

    /// An instance name outside `[A-Za-z0-9_-]+`.
    #[error("{}: instance `{instance}`: invalid instance name in key `{key}`; names may contain only ASCII letters, digits, `_` and `-`", .file.display())]
    InvalidInstanceName {
        /// The manifest file.
        file: PathBuf,
        /// The rejected name.
        instance: String,
        /// The key path naming it.
        key: String,
    },

    /// The database URL uses a scheme this host cannot serve.
    #[error("{}: instance `{instance}`: key `{key}`: unsupported database URL scheme `{scheme}`; expected `postgres://`, `postgresql://` or `sqlite:`", .file.display())]
    UnsupportedDatabase {
        /// The manifest file.
        file: PathBuf,
        /// The instance.
        instance: String,
        /// The key path (`instances.NAME.database`).
        key: String,
        /// The scheme found (only the scheme, so credentials never reach logs).
        scheme: String,
    },

    /// A `${VAR}` reference names an environment variable that is not set.
    #[error("{}: instance `{instance}`: key `{key}`: environment variable `{var}` is not set (referenced as `${{{var}}}`)", .file.display())]
    UnsetEnvVar {
        /// The manifest file.
        file: PathBuf,
        /// The instance.
        instance: String,
        /// The key path holding the reference.
        key: String,
        /// The variable's name.
        var: String,
    },

    /// A child was given something other than an options table or `false`.
    #[error("{}: instance `{instance}`: key `{key}`: a child must be a table of options or `false` to leave it out, found {found}", .file.display())]
    InvalidChild {
        /// The manifest file.
        file: PathBuf,
        /// The instance.
        instance: String,
        /// The key path, e.g. `instances.default.children.dispatcher`.
        key: String,
        /// What was found, e.g. `true` or `integer`.
        found: String,
    },

    /// A workflow or activity component file does not exist (see
    /// [`Manifest::validate_files`](super::Manifest::validate_files)).
    #[error("{}: instance `{instance}`: key `{key}`: component file {} does not exist or is not a file", .file.display(), .path.display())]
    MissingModuleFile {
        /// The manifest file.
        file: PathBuf,
        /// The instance.
        instance: String,
        /// The key path, e.g. `instances.default.workflows.order-flow`.
        key: String,
        /// The resolved path that is missing.
        path: PathBuf,
    },

    /// An instance's database could not be opened at start-up.
    #[error("{}: instance `{instance}`: key `{key}`: the database is unreachable: {reason}", .file.display())]
    UnreachableDatabase {
        /// The manifest file.
        file: PathBuf,
        /// The instance.
        instance: String,
        /// The key path (`instances.NAME.database`).
        key: String,
        /// Why (the driver's message; never the URL, which may hold a password).
        reason: String,
    },
}

impl ManifestError {
    /// The manifest file this error is about.
    pub fn file(&self) -> &Path {
        match self {
            Self::Read { file, .. }
            | Self::Syntax { file, .. }
            | Self::DuplicateInstance { file, .. }
            | Self::DuplicateKey { file, .. }
            | Self::UnknownKey { file, .. }
            | Self::MissingKey { file, .. }
            | Self::WrongType { file, .. }
            | Self::InvalidValue { file, .. }
            | Self::NoInstances { file }
            | Self::InvalidInstanceName { file, .. }
            | Self::UnsupportedDatabase { file, .. }
            | Self::UnsetEnvVar { file, .. }
            | Self::InvalidChild { file, .. }
            | Self::MissingModuleFile { file, .. }
            | Self::UnreachableDatabase { file, .. } => file,
        }
    }
}

fn in_instance(instance: &Option<String>) -> String {
    match instance {
        Some(name) => format!("instance `{name}`: "),
        None => String::new(),
    }
}

fn under(within: &Option<String>) -> String {
    match within {
        Some(table) if !table.is_empty() => format!(" under `[{table}]`"),
        _ => String::new(),
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}
