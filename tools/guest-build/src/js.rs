//! JavaScript guests: every `examples-wasm/js/<name>/app.js` is built with
//! componentize-js into `components/js_<name>.wasm`, against the `workflow`
//! world of `sdk/wit`, or the `activity` world when the directory's name
//! ends in `-activities`. The app imports the SDK of `sdk/js` by a relative
//! path (`../../../sdk/js/continuum.js`): componentize-js resolves relative
//! imports itself, within the directory it is run from (the repository).
//!
//! componentize-js is installed on first use with npm into a project-local
//! prefix, `target/guest-tools/node`, and driven through its
//! `componentize()` API by `tools/guest-build/js/componentize.mjs` (the
//! `jco componentize` CLI fails on some file systems with "failed to get
//! path metadata (os error 44)"). Node.js and npm come from Debian
//! (`nodejs npm`, installed with apt-get when running as root). A guest is
//! built again only when its inputs changed: the hash of its own files, the
//! SDK's, the WIT's, those of `examples-wasm/js/shared/` (code several
//! guests import, like the conformance cases), the driver script and the
//! componentize-js version is kept beside the component
//! (`components/.js_<name>.inputs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use continuum_guest_build::{Error, Result};

/// The componentize-js release the guests are built with.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// The Debian packages that provide `node` and `npm`.
const DEBIAN_PACKAGES: [&str; 2] = ["nodejs", "npm"];
/// The driver script, relative to the repository root.
const DRIVER: &str = "tools/guest-build/js/componentize.mjs";

/// A JavaScript guest: its directory, the component it becomes and the
/// world it targets.
pub struct JsGuest {
    /// `examples-wasm/js/<name>`.
    pub dir: PathBuf,
    /// `js_<name>` (dashes as underscores).
    pub name: String,
    /// `workflow`, or `activity` for a directory named `*-activities`.
    pub world: &'static str,
}

/// The JavaScript guests under `examples/js/`, by name.
pub fn guests(examples: &Path) -> Result<Vec<JsGuest>> {
    let root = examples.join("js");
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
    let mut guests = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir.join("app.js").is_file() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let world = if file_name.ends_with("-activities") { "activity" } else { "workflow" };
            guests.push(JsGuest { dir, name: format!("js_{}", file_name.replace('-', "_")), world });
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(guests)
}

/// The project-local componentize-js, installed when missing.
pub struct Componentizer {
    node: PathBuf,
    module: PathBuf,
}

impl Componentizer {
    /// Finds componentize-js in `<root>/target/guest-tools/node`,
    /// installing it there with npm when it is missing or another version
    /// (and Node.js and npm with apt-get when they are missing and this
    /// runs as root).
    pub fn ensure(root: &Path) -> Result<Componentizer> {
        let prefix = root.join("target/guest-tools/node");
        let package = prefix.join("node_modules/@bytecodealliance/componentize-js");
        let module = package.join("src/componentize.js");
        ensure_node()?;
        let node = PathBuf::from("node");
        if version_of(&package).as_deref() == Some(COMPONENTIZE_JS) && module.is_file() {
            return Ok(Componentizer { node, module });
        }
        println!("continuum-guest-build: installing componentize-js {COMPONENTIZE_JS} into {}", prefix.display());
        std::fs::create_dir_all(&prefix).map_err(|e| Error(format!("creating {}: {e}", prefix.display())))?;
        let status = Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&prefix)
            .args(["--save-exact", "--no-audit", "--no-fund", "--loglevel=error"])
            .arg(format!("@bytecodealliance/componentize-js@{COMPONENTIZE_JS}"))
            .status()
            .map_err(|e| Error(format!("cannot run npm ({e}): JavaScript guests need npm (Debian: `apt-get install npm`)")))?;
        if !status.success() {
            return Err(Error(format!(
                "`npm install @bytecodealliance/componentize-js@{COMPONENTIZE_JS}` failed ({status}); JavaScript guests \
                 cannot be built without componentize-js (is the npm registry reachable?)"
            )));
        }
        match version_of(&package) {
            Some(v) if v == COMPONENTIZE_JS && module.is_file() => Ok(Componentizer { node, module }),
            other => Err(Error(format!(
                "componentize-js {COMPONENTIZE_JS} was installed but {} holds {other:?}",
                package.display()
            ))),
        }
    }

    /// Builds `guest` into `out` unless its inputs are unchanged since the
    /// last build; returns whether it built.
    pub fn build(&self, root: &Path, guest: &JsGuest, out: &Path) -> Result<bool> {
        let stamp = out.with_file_name(format!(".{}.inputs", guest.name));
        let inputs = inputs_hash(root, guest)?;
        let unchanged = out.exists() && std::fs::read_to_string(&stamp).map(|s| s.trim() == inputs).unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        println!("continuum-guest-build: componentize-js {} ({} world) ...", guest.dir.display(), guest.world);
        let tmp = out.with_extension("wasm.tmp");
        // Run from the repository, which holds the app and the SDK: the app's
        // relative imports resolve inside the directory componentize-js is
        // run from.
        let output = Command::new(&self.node)
            .arg(root.join(DRIVER))
            .arg(&self.module)
            .arg(guest.dir.join("app.js"))
            .arg(root.join("sdk/wit"))
            .arg(guest.world)
            .arg(&tmp)
            .current_dir(root)
            .output()
            .map_err(|e| Error(format!("cannot run {}: {e}", self.node.display())))?;
        if !output.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error(format!(
                "componentize-js failed ({}):\n{}{}",
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

/// The version in an installed package's `package.json`.
fn version_of(package: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package.join("package.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc["version"].as_str().map(str::to_string)
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure `node` and `npm` run, installing Debian's packages when they
/// do not and this runs as root.
fn ensure_node() -> Result<()> {
    let missing: Vec<&str> = ["node", "npm"].into_iter().filter(|p| !runs(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = DEBIAN_PACKAGES.join(" ");
    println!("continuum-guest-build: JavaScript guests need {}, which are missing", missing.join(" and "));
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref().ok() != Some("0") {
        return Err(Error(format!(
            "JavaScript guests need Node.js and npm ({} not found), and this does not run as root to install them; \
             run `apt-get install -y {packages}` as root",
            missing.join(", ")
        )));
    }
    let install = || {
        println!("continuum-guest-build: running `apt-get install -y {packages}`");
        Command::new("apt-get").arg("install").arg("-y").args(DEBIAN_PACKAGES).status()
    };
    if !matches!(install(), Ok(s) if s.success()) {
        println!("continuum-guest-build: apt-get install failed; running `apt-get update` and trying again");
        let _ = Command::new("apt-get").arg("update").status();
        match install() {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(Error(format!("apt-get install -y {packages} failed ({s})"))),
            Err(e) => return Err(Error(format!("cannot run apt-get: {e}"))),
        }
    }
    let still: Vec<&str> = ["node", "npm"].into_iter().filter(|p| !runs(p)).collect();
    if !still.is_empty() {
        return Err(Error(format!("after installing {packages}, still missing: {}", still.join(", "))));
    }
    Ok(())
}

/// A hash of everything a JavaScript guest's component is made of: the
/// files of its directory, the SDK, the WIT, `examples-wasm/js/shared/`, the
/// driver script, the world and the componentize-js version.
fn inputs_hash(root: &Path, guest: &JsGuest) -> Result<String> {
    let mut files = BTreeMap::new();
    for dir in [guest.dir.clone(), root.join("sdk/js"), root.join("sdk/wit")] {
        collect(&dir, &mut files)?;
    }
    let shared = root.join("examples-wasm/js/shared");
    if shared.is_dir() {
        collect(&shared, &mut files)?;
    }
    let driver = root.join(DRIVER);
    let bytes = std::fs::read(&driver).map_err(|e| Error(format!("reading {}: {e}", driver.display())))?;
    files.insert(driver, bytes);
    // FNV-1a over names and contents: a change detector, not a digest.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(COMPONENTIZE_JS.as_bytes());
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
        if name.starts_with('.') || name == "node_modules" {
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
