//! `[instances.NAME.sandbox]`: what the instance's WASM activity components
//! may touch through WASI.
//!
//! ```toml
//! [instances.default.sandbox]
//! dir = "sandbox/default"            # created if missing; relative to the manifest;
//!                                    # default <data_dir>/sandbox/<instance>
//! env = ["PAYMENTS_API_KEY"]         # host variables visible to activities (only these)
//! allow_hosts = ["example.com:443"]  # TCP connections allowed to these pairs; default none
//! ```

use std::path::{Component, Path, PathBuf};

use toml::{Table, Value};

use crate::activities::{invalid_env_name, AllowedHost, SandboxConfig};

use super::reader::{resolve_path, Ctx, TableReader};
use super::ManifestError;

/// Parses the table at `prefix` (absent: the defaults). `data_dir` and
/// `instance` give the default directory; `base` anchors a relative `dir`.
pub(super) fn parse_sandbox(
    ctx: Ctx<'_>,
    prefix: String,
    table: Option<Table>,
    base: &Path,
    data_dir: &Path,
    instance: &str,
) -> Result<SandboxConfig, ManifestError> {
    let mut r = TableReader::new(ctx.clone(), prefix, table.unwrap_or_default());
    let dir = match r.string("dir")? {
        Some(d) if d.is_empty() => return Err(ctx.invalid(r.key("dir"), "must not be empty")),
        Some(d) => resolve_path(base, Path::new(&d)),
        None => data_dir.join("sandbox").join(instance),
    };
    let env_key = r.key("env");
    let env = strings(&ctx, &env_key, r.take("env"))?;
    for (i, name) in env.iter().enumerate() {
        if let Some(reason) = invalid_env_name(name) {
            return Err(ctx.invalid(format!("{env_key}[{i}]"), format!("`{name}` is not a variable name: {reason}")));
        }
    }
    let hosts_key = r.key("allow_hosts");
    let mut allow_hosts = Vec::new();
    for (i, entry) in strings(&ctx, &hosts_key, r.take("allow_hosts"))?.into_iter().enumerate() {
        let host = entry.parse::<AllowedHost>().map_err(|e| ctx.invalid(format!("{hosts_key}[{i}]"), e.to_string()))?;
        allow_hosts.push(host);
    }
    r.finish()?;
    Ok(SandboxConfig { dir: Some(dir), env, allow_hosts })
}

/// Refuses two instances whose sandbox directories are the same or one
/// inside the other: each instance's activities must not reach another's
/// files. The error names the later instance's `dir` key (in name order)
/// and the other instance.
pub(super) fn check_disjoint<'a>(
    file: &Path,
    sandboxes: impl IntoIterator<Item = (&'a str, &'a SandboxConfig)>,
) -> Result<(), ManifestError> {
    let dirs: Vec<(&str, PathBuf)> = sandboxes
        .into_iter()
        .filter_map(|(name, s)| s.dir.as_deref().map(|d| (name, lexical(d))))
        .collect();
    for (i, (name, dir)) in dirs.iter().enumerate() {
        for (other, other_dir) in &dirs[..i] {
            let relation = if dir == other_dir {
                "is the same directory as"
            } else if dir.starts_with(other_dir) {
                "is inside"
            } else if other_dir.starts_with(dir) {
                "contains"
            } else {
                continue;
            };
            return Err(ManifestError::InvalidValue {
                file: file.to_path_buf(),
                instance: Some((*name).to_owned()),
                key: format!("instances.{name}.sandbox.dir"),
                reason: format!(
                    "`{}` {relation} the sandbox of instance `{other}` (`{}`); each instance needs a directory of its own",
                    dir.display(),
                    other_dir.display()
                ),
            });
        }
    }
    Ok(())
}

/// `path` with `.` dropped and `..` applied, without touching the file
/// system (the directories may not exist yet).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// An array of strings (possibly empty); absent gives an empty list.
fn strings(ctx: &Ctx<'_>, key: &str, value: Option<Value>) -> Result<Vec<String>, ManifestError> {
    let items = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(ctx.wrong_type(key.to_owned(), "an array of strings", &other)),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::String(s) => out.push(s),
            other => return Err(ctx.wrong_type(format!("{key}[{i}]"), "a string", &other)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::activities::AllowedHost;
    use crate::manifest::{Manifest, ManifestError};

    const FILE: &str = "/etc/app/instances.toml";

    fn parse(extra: &str) -> Result<Manifest, ManifestError> {
        let text = format!(
            "data_dir = \"/var/lib/continuum\"\n[instances.default]\ndatabase = \"sqlite::memory:\"\n{extra}\n\
             [instances.billing]\ndatabase = \"sqlite::memory:\"\n"
        );
        Manifest::parse_with_env(&text, Path::new(FILE), &|_| None)
    }

    fn err(extra: &str, needles: &[&str]) -> ManifestError {
        let e = match parse(extra) {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(e) => e,
        };
        let msg = e.to_string();
        for n in needles {
            assert!(msg.contains(n), "`{msg}` should contain `{n}`");
        }
        e
    }

    #[test]
    fn the_default_sandbox_is_a_directory_per_instance_under_data_dir_and_nothing_else() {
        let m = parse("").unwrap_or_else(|e| panic!("{e}"));
        let d = &m.instances["default"].sandbox;
        assert_eq!(d.dir.as_deref(), Some(Path::new("/var/lib/continuum/sandbox/default")));
        assert!(d.env.is_empty() && d.allow_hosts.is_empty());
        let b = &m.instances["billing"].sandbox;
        assert_eq!(b.dir.as_deref(), Some(Path::new("/var/lib/continuum/sandbox/billing")));
    }

    #[test]
    fn a_full_sandbox_table_parses_with_dir_relative_to_the_manifest() {
        let m = parse(
            "[instances.default.sandbox]\ndir = \"boxes/default\"\nenv = [\"API_KEY\", \"REGION\"]\n\
             allow_hosts = [\"example.com:443\", \"127.0.0.1:8080\", \"[::1]:9000\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let s = &m.instances["default"].sandbox;
        assert_eq!(s.dir, Some(PathBuf::from("/etc/app/boxes/default")));
        assert_eq!(s.env, vec!["API_KEY".to_string(), "REGION".to_string()]);
        assert_eq!(s.allow_hosts[0], AllowedHost { host: "example.com".into(), port: 443 });
        assert_eq!(s.allow_hosts[2], AllowedHost { host: "::1".into(), port: 9000 });
        let abs = parse("[instances.default.sandbox]\ndir = \"/srv/box\"\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(abs.instances["default"].sandbox.dir, Some(PathBuf::from("/srv/box")));
    }

    #[test]
    fn an_unknown_sandbox_key_names_file_instance_and_key() {
        let e = err(
            "[instances.default.sandbox]\nallow_host = [\"a:1\"]\n",
            &[FILE, "default", "instances.default.sandbox.allow_host", "allow_hosts"],
        );
        assert!(matches!(e, ManifestError::UnknownKey { .. }));
    }

    #[test]
    fn bad_sandbox_values_are_refused_with_their_key() {
        err("[instances.default.sandbox]\ndir = \"\"\n", &["instances.default.sandbox.dir", "empty"]);
        err("[instances.default.sandbox]\ndir = 3\n", &["instances.default.sandbox.dir", "string"]);
        err("[instances.default.sandbox]\nenv = \"HOME\"\n", &["instances.default.sandbox.env", "array"]);
        err("[instances.default.sandbox]\nenv = [\"A=B\"]\n", &["instances.default.sandbox.env[0]", "="]);
        err("[instances.default.sandbox]\nenv = [\"\"]\n", &["instances.default.sandbox.env[0]"]);
        err("[instances.default.sandbox]\nenv = [1]\n", &["instances.default.sandbox.env[0]", "string"]);
        err(
            "[instances.default.sandbox]\nallow_hosts = [\"ok.com:1\", \"example.com\"]\n",
            &["instances.default.sandbox.allow_hosts[1]", "host:port"],
        );
        err("[instances.default.sandbox]\nallow_hosts = [\"a.com:0\"]\n", &["allow_hosts[0]", "port"]);
        err("sandbox = true\n", &["instances.default.sandbox", "table"]);
    }
}
