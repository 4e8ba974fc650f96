//! Helpers for walking a parsed `toml::Table` with precise error locations:
//! a [`TableReader`] consumes known keys and reports every leftover key as
//! unknown, naming its full dotted path.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use super::ManifestError;

/// Where in the manifest a table lives: the file, the instance (if inside
/// `[instances.NAME]`) and the dotted key path of the table itself.
#[derive(Debug, Clone)]
pub(super) struct Ctx<'a> {
    pub file: &'a Path,
    pub instance: Option<&'a str>,
}

impl Ctx<'_> {
    pub fn file(&self) -> PathBuf {
        self.file.to_path_buf()
    }

    pub fn instance(&self) -> Option<String> {
        self.instance.map(str::to_owned)
    }

    pub fn wrong_type(&self, key: String, expected: &'static str, found: &Value) -> ManifestError {
        ManifestError::WrongType {
            file: self.file(),
            instance: self.instance(),
            key,
            expected,
            found: found.type_str(),
        }
    }

    pub fn invalid(&self, key: String, reason: impl Into<String>) -> ManifestError {
        ManifestError::InvalidValue {
            file: self.file(),
            instance: self.instance(),
            key,
            reason: reason.into(),
        }
    }
}

/// Join a key path and one more key, quoting the key when it is not bare.
pub(super) fn join_key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let segment = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        segment
    } else {
        format!("{prefix}.{segment}")
    }
}

/// Consumes the keys of one table; [`TableReader::finish`] rejects the rest.
pub(super) struct TableReader<'a> {
    ctx: Ctx<'a>,
    prefix: String,
    table: Table,
    known: Vec<&'static str>,
}

impl<'a> TableReader<'a> {
    pub fn new(ctx: Ctx<'a>, prefix: String, table: Table) -> Self {
        Self {
            ctx,
            prefix,
            table,
            known: Vec::new(),
        }
    }

    pub fn ctx(&self) -> &Ctx<'a> {
        &self.ctx
    }

    /// The full dotted path of `key` inside this table.
    pub fn key(&self, key: &str) -> String {
        join_key(&self.prefix, key)
    }

    /// Remove `key` and remember it as known.
    pub fn take(&mut self, key: &'static str) -> Option<Value> {
        self.known.push(key);
        self.table.remove(key)
    }

    pub fn string(&mut self, key: &'static str) -> Result<Option<String>, ManifestError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.ctx.wrong_type(self.key(key), "a string", &other)),
        }
    }

    pub fn table(&mut self, key: &'static str) -> Result<Option<Table>, ManifestError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(other) => Err(self.ctx.wrong_type(self.key(key), "a table", &other)),
        }
    }

    /// A positive integer that fits in `u64`.
    pub fn positive(&mut self, key: &'static str, default: u64) -> Result<u64, ManifestError> {
        match self.take(key) {
            None => Ok(default),
            Some(Value::Integer(n)) if n > 0 => Ok(n.unsigned_abs()),
            Some(Value::Integer(n)) => Err(self.ctx.invalid(
                self.key(key),
                format!("must be a positive integer, found {n}"),
            )),
            Some(other) => Err(self
                .ctx
                .wrong_type(self.key(key), "a positive integer", &other)),
        }
    }

    /// A positive integer that fits in `u32`.
    pub fn positive_u32(&mut self, key: &'static str, default: u32) -> Result<u32, ManifestError> {
        let n = self.positive(key, u64::from(default))?;
        u32::try_from(n).map_err(|_| {
            self.ctx.invalid(
                self.key(key),
                format!("{n} is too large (at most {})", u32::MAX),
            )
        })
    }

    /// A positive integer that fits in `usize`.
    pub fn positive_usize(
        &mut self,
        key: &'static str,
        default: usize,
    ) -> Result<usize, ManifestError> {
        let fallback = u64::try_from(default).unwrap_or(u64::MAX);
        let n = self.positive(key, fallback)?;
        usize::try_from(n).map_err(|_| self.ctx.invalid(self.key(key), format!("{n} is too large")))
    }

    /// A positive number of milliseconds.
    pub fn millis(
        &mut self,
        key: &'static str,
        default: Duration,
    ) -> Result<Duration, ManifestError> {
        let fallback = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        Ok(Duration::from_millis(self.positive(key, fallback)?))
    }

    /// A non-empty array of non-empty strings.
    pub fn string_list(
        &mut self,
        key: &'static str,
        default: &[&str],
    ) -> Result<Vec<String>, ManifestError> {
        let items = match self.take(key) {
            None => return Ok(default.iter().map(|s| (*s).to_owned()).collect()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self
                    .ctx
                    .wrong_type(self.key(key), "an array of strings", &other))
            }
        };
        if items.is_empty() {
            return Err(self.ctx.invalid(self.key(key), "must not be empty"));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let item_key = format!("{}[{i}]", self.key(key));
            match item {
                Value::String(s) if !s.is_empty() => out.push(s),
                Value::String(_) => return Err(self.ctx.invalid(item_key, "must not be empty")),
                other => return Err(self.ctx.wrong_type(item_key, "a string", &other)),
            }
        }
        Ok(out)
    }

    /// Fail on the first key that was never taken.
    pub fn finish(self) -> Result<(), ManifestError> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(unknown) => Err(ManifestError::UnknownKey {
                file: self.ctx.file(),
                instance: self.ctx.instance(),
                key: join_key(&self.prefix, unknown),
                suggestion: closest(unknown, &self.known).map(str::to_owned),
                expected: self.known.iter().map(|k| (*k).to_owned()).collect(),
            }),
        }
    }
}

/// The known key closest to `word`, if it is plausibly a typo of it.
fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Why `${VAR}` substitution failed.
#[derive(Debug, PartialEq)]
pub(super) enum SubstError {
    Unset(String),
    Malformed(String),
}

/// Replace every `${VAR}` in `raw` by the value `env` gives for `VAR`.
/// A `$` not followed by `{` is kept as is.
pub(super) fn substitute_env(
    raw: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, SubstError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| SubstError::Malformed("`${` without a closing `}`".to_owned()))?;
        let name = &after[..end];
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(SubstError::Malformed(format!(
                "`${{{name}}}` is not a valid environment variable reference"
            )));
        }
        let value = env(name).ok_or_else(|| SubstError::Unset(name.to_owned()))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `path` resolved against `base` (absolute paths stay), with `.` segments dropped.
pub(super) fn resolve_path(base: &Path, path: &Path) -> PathBuf {
    base.join(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Why a database URL was rejected.
pub(super) enum DatabaseError {
    /// The scheme (text before `:`), or empty when there is none.
    UnsupportedScheme(String),
}

/// Check the scheme and make a relative SQLite path absolute against `base`.
pub(super) fn resolve_database(url: &str, base: &Path) -> Result<String, DatabaseError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_owned());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        let scheme = url
            .split(':')
            .next()
            .filter(|_| url.contains(':'))
            .unwrap_or("");
        return Err(DatabaseError::UnsupportedScheme(scheme.to_owned()));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if file.is_empty() || file == ":memory:" || Path::new(file).is_absolute() {
        return Ok(url.to_owned());
    }
    let resolved = resolve_path(base, Path::new(file));
    Ok(format!("sqlite:{}{query}", resolved.to_string_lossy()))
}
