//! Python guests: every `examples-wasm/python/<name>/app.py` is built with
//! componentize-py against a world of `sdk/wit`, with the SDK of
//! `sdk/python` on its path, into `components/python_<name>.wasm`: the
//! `activity` world when `<name>` ends in `-activities` (an activity
//! component), else the `workflow` world.
//!
//! A drift variant, a guest named `<base>-v<N>` beside a guest `<base>`,
//! also has `<base>`'s directory on its path (after its own), so it can
//! import the modules it shares with `<base>` and change only what differs
//! (`conformance-v2` imports `conformance`'s cases); it is built again when
//! they change.
//!
//! componentize-py is installed on first use into a project-local venv,
//! `target/guest-tools/venv` (with `python3 -m venv` and pip). A guest is
//! built again only when its inputs changed: the hash of its own files, the
//! SDK's, the WIT's and the componentize-py version is kept beside the
//! component (`components/.python_<name>.inputs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use continuum_guest_build::{Error, Result};

/// The componentize-py release the guests are built with.
pub const COMPONENTIZE_PY: &str = "0.25.1";

/// A Python guest: its directory and the component it becomes.
pub struct PythonGuest {
    /// `examples-wasm/python/<name>`.
    pub dir: PathBuf,
    /// `python_<name>` (dashes as underscores).
    pub name: String,
    /// The WIT world it targets: `activity` for a `<name>-activities`
    /// guest, else `workflow`.
    pub world: &'static str,
    /// The base guest's directory of a drift variant (`<base>` of
    /// `<base>-v<N>`), put on its path after its own.
    pub base: Option<PathBuf>,
}

/// The world a guest directory's name implies.
fn world_of(dir_name: &str) -> &'static str {
    if dir_name.ends_with("-activities") {
        "activity"
    } else {
        "workflow"
    }
}

/// `<base>` of a drift variant's name `<base>-v<N>`.
fn variant_base(dir_name: &str) -> Option<&str> {
    let (base, version) = dir_name.rsplit_once("-v")?;
    let numbered = !version.is_empty() && version.chars().all(|c| c.is_ascii_digit());
    (numbered && !base.is_empty()).then_some(base)
}

/// The Python guests under `examples-wasm/python/`, by name.
pub fn guests(examples: &Path) -> Result<Vec<PythonGuest>> {
    let root = examples.join("python");
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
    let mut guests = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir.join("app.py").is_file() {
            let dir_name = entry.file_name().to_string_lossy().into_owned();
            let name = format!("python_{}", dir_name.replace('-', "_"));
            let base = variant_base(&dir_name).map(|b| root.join(b)).filter(|b| b.join("app.py").is_file());
            guests.push(PythonGuest { dir, name, world: world_of(&dir_name), base });
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(guests)
}

/// The project-local componentize-py, installed when missing.
pub struct Componentizer {
    exe: PathBuf,
}

impl Componentizer {
    /// Finds componentize-py in `<root>/target/guest-tools/venv`, creating
    /// the venv and installing it there when it is missing or another
    /// version.
    pub fn ensure(root: &Path) -> Result<Componentizer> {
        let venv = root.join("target/guest-tools/venv");
        let exe = venv.join("bin/componentize-py");
        if version_of(&exe).as_deref() == Some(COMPONENTIZE_PY) {
            return Ok(Componentizer { exe });
        }
        let python = venv.join("bin/python3");
        if !python.exists() {
            println!("continuum-guest-build: creating the venv {}", venv.display());
            let status = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
            match status {
                Ok(s) if s.success() => {}
                Ok(s) => {
                    return Err(Error(format!(
                        "`python3 -m venv {}` failed ({s}): Python guests need python3 with the venv module \
                         (Debian: `apt-get install python3-venv`)",
                        venv.display()
                    )))
                }
                Err(e) => {
                    return Err(Error(format!(
                        "cannot run python3 ({e}): Python guests need python3 (Debian: `apt-get install python3 python3-venv`)"
                    )))
                }
            }
        }
        println!("continuum-guest-build: installing componentize-py {COMPONENTIZE_PY} into {}", venv.display());
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", &format!("componentize-py=={COMPONENTIZE_PY}")])
            .status()
            .map_err(|e| Error(format!("cannot run {}: {e}", python.display())))?;
        if !status.success() {
            return Err(Error(format!(
                "`pip install componentize-py=={COMPONENTIZE_PY}` failed ({status}); Python guests cannot be built \
                 without componentize-py (is the package index reachable?)"
            )));
        }
        match version_of(&exe) {
            Some(v) if v == COMPONENTIZE_PY => Ok(Componentizer { exe }),
            other => Err(Error(format!(
                "componentize-py {COMPONENTIZE_PY} was installed but {} reports {other:?}",
                exe.display()
            ))),
        }
    }

    /// Builds `guest` into `out` unless its inputs are unchanged since the
    /// last build; returns whether it built.
    pub fn build(&self, root: &Path, guest: &PythonGuest, out: &Path) -> Result<bool> {
        let stamp = out.with_file_name(format!(".{}.inputs", guest.name));
        let inputs = inputs_hash(root, guest)?;
        let unchanged = out.exists() && std::fs::read_to_string(&stamp).map(|s| s.trim() == inputs).unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        println!("continuum-guest-build: componentize-py {} ...", guest.dir.display());
        let tmp = out.with_extension("wasm.tmp");
        let mut command = Command::new(&self.exe);
        command
            .arg("-d")
            .arg(root.join("sdk/wit"))
            .args(["-w", guest.world, "componentize"])
            .arg("-p")
            .arg(root.join("sdk/python"))
            .arg("-p")
            .arg(&guest.dir);
        if let Some(base) = &guest.base {
            command.arg("-p").arg(base);
        }
        let output = command
            .arg("app")
            .arg("-o")
            .arg(&tmp)
            .current_dir(&guest.dir)
            .output()
            .map_err(|e| Error(format!("cannot run {}: {e}", self.exe.display())))?;
        if !output.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error(format!(
                "componentize-py failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        std::fs::rename(&tmp, out).map_err(|e| Error(format!("writing {}: {e}", out.display())))?;
        std::fs::write(&stamp, format!("{inputs}\n")).map_err(|e| Error(format!("writing {}: {e}", stamp.display())))?;
        Ok(true)
    }
}

fn version_of(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "componentize-py 0.25.1"
    text.split_whitespace().nth(1).map(str::to_string)
}

/// A hash of everything a Python guest's component is made of: the files
/// of its directory (and its base's, for a drift variant), the SDK, the
/// WIT, its world and the componentize-py version.
fn inputs_hash(root: &Path, guest: &PythonGuest) -> Result<String> {
    let mut files = BTreeMap::new();
    let dirs = [Some(guest.dir.clone()), guest.base.clone(), Some(root.join("sdk/python")), Some(root.join("sdk/wit"))];
    for dir in dirs.into_iter().flatten() {
        collect(&dir, &mut files)?;
    }
    // FNV-1a over names and contents: a change detector, not a digest.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(COMPONENTIZE_PY.as_bytes());
    feed(guest.world.as_bytes());
    for (path, bytes) in &files {
        feed(path.strip_prefix(root).unwrap_or(path).to_string_lossy().as_bytes());
        feed(&(bytes.len() as u64).to_le_bytes());
        feed(bytes);
    }
    Ok(format!("{h:016x}"))
}

fn collect(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error(format!("reading {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            collect(&path, files)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|e| Error(format!("reading {}: {e}", path.display())))?;
            files.insert(path, bytes);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_guests_target_the_activity_world() {
        assert_eq!(world_of("notes-activities"), "activity");
        assert_eq!(world_of("order-flow"), "workflow");
        assert_eq!(world_of("activities-flow"), "workflow");
    }

    #[test]
    fn a_drift_variant_names_its_base() {
        assert_eq!(variant_base("conformance-v2"), Some("conformance"));
        assert_eq!(variant_base("my-flow-v12"), Some("my-flow"));
        assert_eq!(variant_base("conformance"), None);
        assert_eq!(variant_base("conformance-v"), None);
        assert_eq!(variant_base("-v2"), None);
        assert_eq!(variant_base("flow-vx"), None);
    }
}
