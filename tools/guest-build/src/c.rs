//! C guests: every `examples-wasm/c/<name>/` holding `.c` files is compiled
//! with the SDK of `sdk/c` and the wit-bindgen bindings of `sdk/wit` into
//! `components/c_<name>.wasm`: against the `workflow` world, or the
//! `activity` world when the directory's name ends in `-activities` (the
//! convention every language's guests share).
//!
//! The toolchain: Debian's clang 19 and wasm-ld 19 (packages `clang-19`,
//! `lld-19`, `libclang-rt-19-dev-wasm32`) with Debian's `wasi-libc` (a
//! wasip1 sysroot), installed with apt-get when missing and running as
//! root; and `wit-bindgen` (crate `wit-bindgen-cli`, pinned), installed on
//! first use into `target/guest-tools` with `cargo install --locked`. The
//! bindings are generated into `target/guest-tools/c-bindings/<world>/`
//! (never committed). wasi-libc imports WASI preview 1; the core module
//! becomes a component with the preview-1 adapter of wasmtime 48 (crate
//! `wasi-preview1-component-adapter-provider`), so the component imports
//! WASI 0.2.12 interfaces, which the host answers deterministically.
//!
//! A guest is built again only when its inputs changed: its files (and the
//! files of directories it `#include`s from, like `conformance-v2` does),
//! the SDK, the WIT, the compiler flags and the tool versions, hashed into
//! `components/.c_<name>.inputs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use continuum_guest_build::{Error, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::ComponentEncoder;

/// The wit-bindgen release the bindings are generated with (its MSRV,
/// 1.82, is below this workspace's; its encoding is the generation of the
/// `wit-component` 0.239 this tool uses).
pub const WIT_BINDGEN: &str = "0.46.0";
/// The Debian packages of the C toolchain.
const DEBIAN_PACKAGES: [&str; 4] = ["clang-19", "lld-19", "libclang-rt-19-dev-wasm32", "wasi-libc"];
/// clang 19, from `clang-19`; it finds `wasm-ld` (from `lld-19`) beside it.
const CLANG: &str = "/usr/lib/llvm-19/bin/clang";
const WASM_LD: &str = "/usr/lib/llvm-19/bin/wasm-ld";
/// The compiler runtime of the wasm32 target, from `libclang-rt-19-dev-wasm32`.
const BUILTINS: &str = "/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a";
/// Debian's wasi-libc sysroot (`/usr/include/wasm32-wasi`, `/usr/lib/wasm32-wasi`).
const SYSROOT: &str = "/usr";
const LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";
/// How a C guest is put together besides the flags (part of every inputs
/// hash, so a change of recipe rebuilds the guests).
const RECIPE: &str = "wasm32-wasi reactor, preview-1 reactor adapter 48.0.8, c-exit world";
/// Compiler and linker flags of every C guest: optimised for size,
/// warnings as errors, a reactor (no `main`), symbols and debug info stripped.
const CFLAGS: [&str; 9] = [
    "--target=wasm32-wasi",
    "-Oz",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
    "-mexec-model=reactor",
    "-Wl,--strip-all",
];

/// A C guest: its directory, the component it becomes, and its world.
pub struct CGuest {
    /// `examples-wasm/c/<name>`.
    pub dir: PathBuf,
    /// `c_<name>` (dashes as underscores).
    pub name: String,
    /// `workflow`, or `activity` for a `*-activities` directory.
    pub world: &'static str,
}

/// The C guests under `examples/c/`, by name.
pub fn guests(examples: &Path) -> Result<Vec<CGuest>> {
    let root = examples.join("c");
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
    let mut guests = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if !sources(&dir).is_empty() {
            let dir_name = entry.file_name().to_string_lossy().into_owned();
            let world = if dir_name.ends_with("-activities") { "activity" } else { "workflow" };
            guests.push(CGuest { dir, name: format!("c_{}", dir_name.replace('-', "_")), world });
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(guests)
}

/// The `.c` files of a directory, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "c") && p.is_file()).collect();
    files.sort();
    files
}

/// The C toolchain: clang with the wasi-libc sysroot, and wit-bindgen.
pub struct CToolchain {
    wit_bindgen: PathBuf,
    /// "clang 19.1.7 / wit-bindgen 0.46.0": part of every inputs hash.
    versions: String,
}

impl CToolchain {
    /// Finds the toolchain, installing what is missing: the Debian packages
    /// with apt-get (as root), wit-bindgen with `cargo install` into
    /// `<root>/target/guest-tools`.
    pub fn ensure(root: &Path) -> Result<CToolchain> {
        if !debian_missing().is_empty() {
            install_debian_packages()?;
            let still = debian_missing();
            if !still.is_empty() {
                return Err(Error(format!(
                    "C guests need {}; after installing {DEBIAN_PACKAGES:?}, still missing",
                    still.join(", ")
                )));
            }
        }
        let tools = root.join("target/guest-tools");
        let wit_bindgen = tools.join("bin/wit-bindgen");
        if wit_bindgen_version(&wit_bindgen).as_deref() != Some(WIT_BINDGEN) {
            println!("continuum-guest-build: installing wit-bindgen-cli {WIT_BINDGEN} into {}", tools.display());
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(&cargo)
                .args(["install", "--locked", "--quiet", "--root"])
                .arg(&tools)
                .args(["wit-bindgen-cli", "--version", WIT_BINDGEN, "--no-default-features", "--features", "c"])
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .status()
                .map_err(|e| Error(format!("cannot run {}: {e}", cargo.to_string_lossy())))?;
            if !status.success() {
                return Err(Error(format!(
                    "`cargo install wit-bindgen-cli --version {WIT_BINDGEN}` failed ({status}); C guests cannot be \
                     built without wit-bindgen (is crates.io reachable?)"
                )));
            }
            match wit_bindgen_version(&wit_bindgen) {
                Some(v) if v == WIT_BINDGEN => {}
                other => {
                    return Err(Error(format!(
                        "wit-bindgen {WIT_BINDGEN} was installed but {} reports {other:?}",
                        wit_bindgen.display()
                    )))
                }
            }
        }
        let clang = Command::new(CLANG).arg("--version").output().map_err(|e| Error(format!("cannot run {CLANG}: {e}")))?;
        let clang = String::from_utf8_lossy(&clang.stdout).lines().next().unwrap_or_default().trim().to_string();
        Ok(CToolchain { wit_bindgen, versions: format!("{clang} / wit-bindgen {WIT_BINDGEN}") })
    }

    /// Generates the C bindings of `world` into
    /// `<root>/target/guest-tools/c-bindings/<world>/` and returns that
    /// directory. For the `workflow` world, also the bindings of a world
    /// importing `wasi:cli/exit` (`c_exit.h`): the SDK's `_Exit` calls its
    /// `exit-with-code`, so `exit(3)` fails a run with code 3 (the
    /// preview-1 adapter's `proc_exit` only tells 0 from not 0).
    pub fn bindings(&self, root: &Path, world: &str) -> Result<PathBuf> {
        let dir = root.join("target/guest-tools/c-bindings").join(world);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error(format!("creating {}: {e}", dir.display())))?;
        self.wit_bindgen(&root.join("sdk/wit"), world, &dir)?;
        if world == "workflow" {
            let wit = root.join("target/guest-tools/c-wit");
            write_exit_world(&root.join("sdk/wit/deps"), &wit)?;
            self.wit_bindgen(&wit, "c-exit", &dir)?;
        }
        Ok(dir)
    }

    fn wit_bindgen(&self, wit: &Path, world: &str, out: &Path) -> Result<()> {
        let output = Command::new(&self.wit_bindgen)
            // wit-parser 0.239 cannot resolve `sdk/wit/deps` unless the
            // unstable `clocks-timezone` (which `wasi:cli/imports` names
            // behind that gate) is on; no guest uses it.
            .args(["c", "--features", "clocks-timezone", "--world", world, "--out-dir"])
            .arg(out)
            .arg(wit)
            .output()
            .map_err(|e| Error(format!("cannot run {}: {e}", self.wit_bindgen.display())))?;
        if !output.status.success() {
            return Err(Error(format!(
                "wit-bindgen c --world {world} {} failed ({}):\n{}",
                wit.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// Builds `guest` into `out` with the bindings in `bindings`, unless its
    /// inputs are unchanged since the last build; returns whether it built.
    pub fn build(&self, root: &Path, guest: &CGuest, bindings: &Path, out: &Path) -> Result<bool> {
        let stamp = out.with_file_name(format!(".{}.inputs", guest.name));
        let inputs = self.inputs_hash(root, guest)?;
        let unchanged = out.exists() && std::fs::read_to_string(&stamp).map(|s| s.trim() == inputs).unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        println!("continuum-guest-build: clang {} ...", guest.dir.display());
        let scratch = root.join("target/guest-tools/c-build").join(&guest.name);
        std::fs::create_dir_all(&scratch).map_err(|e| Error(format!("creating {}: {e}", scratch.display())))?;
        let core = scratch.join("core.wasm");
        let sdk = root.join("sdk/c");
        let mut cmd = Command::new(CLANG);
        cmd.args(CFLAGS)
            .arg(format!("--sysroot={SYSROOT}"))
            .arg("-I")
            .arg(&sdk)
            .arg("-I")
            .arg(bindings)
            .args(sources(&guest.dir))
            .args(sdk_sources(&sdk, guest.world))
            .args(binding_files(bindings)?)
            .arg("-o")
            .arg(&core)
            .current_dir(&guest.dir);
        let output = cmd.output().map_err(|e| Error(format!("cannot run {CLANG}: {e}")))?;
        if !output.status.success() {
            return Err(Error(format!(
                "clang failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let module = std::fs::read(&core).map_err(|e| Error(format!("reading {}: {e}", core.display())))?;
        let component = componentize_wasip1(&module)?;
        std::fs::write(out, &component).map_err(|e| Error(format!("writing {}: {e}", out.display())))?;
        std::fs::write(&stamp, format!("{inputs}\n")).map_err(|e| Error(format!("writing {}: {e}", stamp.display())))?;
        Ok(true)
    }

    /// A hash of everything a C guest's component is made of.
    fn inputs_hash(&self, root: &Path, guest: &CGuest) -> Result<String> {
        let mut files = BTreeMap::new();
        let mut dirs = vec![guest.dir.clone(), root.join("sdk/c"), root.join("sdk/wit")];
        dirs.extend(included_dirs(&guest.dir));
        for dir in &dirs {
            collect(dir, &mut files)?;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(self.versions.as_bytes());
        feed(RECIPE.as_bytes());
        feed(guest.world.as_bytes());
        for flag in CFLAGS {
            feed(flag.as_bytes());
        }
        for (path, bytes) in &files {
            feed(path.strip_prefix(root).unwrap_or(path).to_string_lossy().as_bytes());
            feed(&(bytes.len() as u64).to_le_bytes());
            feed(bytes);
        }
        Ok(format!("{h:016x}"))
    }
}

/// The SDK's sources for a world: all of `sdk/c/*.c` except the glue of
/// the other world (`workflow.c`, `child.c`, `exit.c` and `query.c` are the workflow
/// world's, `activity.c` the activity world's).
fn sdk_sources(sdk: &Path, world: &str) -> Vec<PathBuf> {
    let others: &[&str] = if world == "workflow" { &["activity.c"] } else { &["workflow.c", "child.c", "exit.c", "query.c"] };
    sources(sdk).into_iter().filter(|p| p.file_name().is_none_or(|n| !others.iter().any(|o| n == *o))).collect()
}

/// The generated sources and component-type objects of a bindings directory.
fn binding_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error(format!("reading {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c") || p.to_string_lossy().ends_with("_component_type.o"))
        .collect();
    files.sort();
    Ok(files)
}

/// Writes the WIT package of the `c-exit` world (it imports
/// `wasi:cli/exit`) into `dir`, with `sdk/wit/deps` beside it.
fn write_exit_world(deps: &Path, dir: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let io = |e: std::io::Error| Error(format!("writing {}: {e}", dir.display()));
    std::fs::create_dir_all(dir.join("deps")).map_err(io)?;
    std::fs::write(
        dir.join("c-exit.wit"),
        "// Generated by continuum-guest-build (tools/guest-build/src/c.rs).\n\
         package continuum:c-guest@0.1.0;\n\nworld c-exit {\n  import wasi:cli/exit@0.2.12;\n}\n",
    )
    .map_err(io)?;
    for entry in std::fs::read_dir(deps).map_err(|e| Error(format!("reading {}: {e}", deps.display())))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "wit") {
            std::fs::copy(entry.path(), dir.join("deps").join(entry.file_name())).map_err(io)?;
        }
    }
    Ok(())
}

/// The directories a guest's sources include files from (`#include
/// "../conformance/conformance.c"`), so their changes rebuild it.
fn included_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for source in sources(dir) {
        let Ok(text) = std::fs::read_to_string(&source) else { continue };
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("#include \"") else { continue };
            let Some(path) = rest.split('"').next() else { continue };
            if let Some(parent) = dir.join(path).parent() {
                if parent != dir && parent.is_dir() && !dirs.contains(&parent.to_path_buf()) {
                    dirs.push(parent.to_path_buf());
                }
            }
        }
    }
    dirs
}

/// Turns a wasip1 core module (with wit-bindgen's `component-type`
/// section) into a component, adapting its WASI preview 1 imports with
/// wasmtime 48's reactor adapter.
pub fn componentize_wasip1(module: &[u8]) -> Result<Vec<u8>> {
    ComponentEncoder::default()
        .module(module)
        .map_err(|e| Error(format!("reading the core module: {e:#}")))?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
        .map_err(|e| Error(format!("reading the WASI preview 1 adapter: {e:#}")))?
        .validate(true)
        .encode()
        .map_err(|e| Error(format!("encoding the component: {e:#}")))
}

/// What the Debian toolchain lacks, in words.
fn debian_missing() -> Vec<String> {
    let mut missing = Vec::new();
    for (path, package) in [(CLANG, "clang-19"), (WASM_LD, "lld-19"), (BUILTINS, "libclang-rt-19-dev-wasm32"), (LIBC, "wasi-libc")] {
        if !Path::new(path).exists() {
            missing.push(format!("{path} (package {package})"));
        }
    }
    missing
}

fn install_debian_packages() -> Result<()> {
    let missing = debian_missing().join(", ");
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref().ok() != Some("0") {
        return Err(Error(format!(
            "C guests need {missing}; not running as root, so cannot install them: run `apt-get install -y {}` as root",
            DEBIAN_PACKAGES.join(" ")
        )));
    }
    let install = || {
        println!("continuum-guest-build: C guests need {missing}: running `apt-get install -y {}`", DEBIAN_PACKAGES.join(" "));
        Command::new("apt-get").arg("install").arg("-y").args(DEBIAN_PACKAGES).stdout(Stdio::null()).status()
    };
    match install() {
        Ok(s) if s.success() => return Ok(()),
        _ => println!("continuum-guest-build: apt-get install failed; running `apt-get update` and trying again"),
    }
    let _ = Command::new("apt-get").arg("update").stdout(Stdio::null()).status();
    match install() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(Error(format!(
            "C guests need {missing}; `apt-get install -y {}` failed ({s})",
            DEBIAN_PACKAGES.join(" ")
        ))),
        Err(e) => Err(Error(format!("C guests need {missing}; cannot run apt-get: {e}"))),
    }
}

fn wit_bindgen_version(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").output().ok()?;
    // "wit-bindgen-cli 0.46.0"
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1).map(str::to_string)
}

fn collect(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error(format!("reading {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
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

    fn names(world: &str) -> Vec<String> {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/c");
        sdk_sources(&sdk, world).iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn each_world_compiles_only_its_own_glue_of_the_c_sdk() {
        let workflow = names("workflow");
        for own in ["workflow.c", "child.c", "exit.c", "json.c"] {
            assert!(workflow.iter().any(|n| n == own), "{own} missing from {workflow:?}");
        }
        assert!(!workflow.iter().any(|n| n == "activity.c"), "{workflow:?}");
        let activity = names("activity");
        assert!(activity.iter().any(|n| n == "activity.c") && activity.iter().any(|n| n == "json.c"), "{activity:?}");
        for other in ["workflow.c", "child.c", "exit.c"] {
            assert!(!activity.iter().any(|n| n == other), "{other} in {activity:?}");
        }
    }
}
