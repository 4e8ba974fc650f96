//! Turning `toml` parse errors into [`ManifestError`]s with line, column and,
//! for duplicate tables and keys, the instance and key involved.

use std::ops::Range;
use std::path::Path;

use super::ManifestError;

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Turn a TOML parse error into [`ManifestError::Syntax`], or a duplicate
/// error naming the instance when the parser reports a duplicate key.
pub(super) fn syntax_error(file: &Path, text: &str, err: &toml::de::Error) -> ManifestError {
    let span: Range<usize> = err.span().unwrap_or(0..0);
    let (line, column) = line_col(text, span.start);
    let message = err.message().trim().to_owned();
    let Some((key, table)) = parse_duplicate(&message) else {
        return ManifestError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            message,
        };
    };
    let file = file.to_path_buf();
    let Some(table) = table else {
        // Inline tables and dotted keys: the parser does not say which table,
        // so name the nearest `[header]` above and the instance it belongs to.
        let within = enclosing_header(text, span.start);
        let instance = within.as_deref().and_then(instance_of);
        return ManifestError::DuplicateKey {
            file,
            instance,
            key,
            within,
            line,
            column,
        };
    };
    if table == "instances" {
        return ManifestError::DuplicateInstance {
            file,
            instance: key,
            line,
            column,
        };
    }
    ManifestError::DuplicateKey {
        file,
        instance: instance_of(&table),
        key: if table.is_empty() {
            key
        } else {
            format!("{table}.{key}")
        },
        within: None,
        line,
        column,
    }
}

/// The instance named by a dotted table path `instances.NAME[...]`.
fn instance_of(table: &str) -> Option<String> {
    let mut segments = table.split('.');
    match (segments.next(), segments.next()) {
        (Some("instances"), Some(name)) if !name.is_empty() => Some(name.to_owned()),
        _ => None,
    }
}

/// From "duplicate key `K` in table `T`" (or "... in document root", or
/// without a table) return `(K, Some(T) / Some("") / None)`.
fn parse_duplicate(message: &str) -> Option<(String, Option<String>)> {
    let start = message.find("duplicate key `")? + "duplicate key `".len();
    let rest = message.get(start..)?;
    let end = rest.find('`')?;
    let key = rest.get(..end)?.to_owned();
    let tail = rest.get(end + 1..)?;
    let table = if let Some(t) = tail.strip_prefix(" in table `") {
        t.find('`').and_then(|e| t.get(..e)).map(str::to_owned)
    } else if tail.starts_with(" in document root") {
        Some(String::new())
    } else {
        None
    };
    Some((key, table))
}

/// The `[table]` header (without brackets) governing byte `offset`, if any.
fn enclosing_header(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    // The header of the line holding `offset` counts only if it starts there.
    before.lines().rev().find_map(|line| {
        let line = line.trim();
        let inner = line.strip_prefix('[')?;
        let inner = inner.strip_prefix('[').unwrap_or(inner);
        let end = inner.find(']')?;
        Some(
            inner
                .get(..end)?
                .split('.')
                .map(|s| s.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join("."),
        )
    })
}
