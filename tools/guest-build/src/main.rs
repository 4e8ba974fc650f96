//! `continuum-guest-build`: builds every crate of `examples-wasm/` for
//! `wasm32-unknown-unknown` and turns each core module into a component in
//! `examples-wasm/components/<crate_name>.wasm`, builds every Python
//! guest of `examples-wasm/python/<name>/` (a workflow, or an activity
//! component when `<name>` ends in `-activities`) with componentize-py into
//! `examples-wasm/components/python_<name>.wasm` (see `python.rs`), builds
//! every C guest of `examples-wasm/c/<name>/` with clang and wasi-libc into
//! `examples-wasm/components/c_<name>.wasm` (see `c.rs`), builds every
//! JavaScript guest of `examples-wasm/js/<name>/` with componentize-js into
//! `examples-wasm/components/js_<name>.wasm` (see `js.rs`), then checks each
//! component against the Continuum contract (a `refused-*` crate is a test
//! fixture the check must refuse).
//!
//! ```text
//! cargo run -p continuum-guest-build --release [-- --print-wit]
//! ```
//!
//! Toolchain: a rustup toolchain with the `wasm32-unknown-unknown` target
//! when there is one; otherwise Debian's `rustc-web` (1.96, with
//! `rust-web-src` and `wasm-ld`), building std with `-Zbuild-std`. Missing
//! Debian packages are installed with apt-get when running as root.
//!
//! Environment: `CONTINUUM_ROOT` overrides the repository root (default:
//! two levels above this crate).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use continuum_guest_build::{check, componentize, print_wit, read, Error, Result};

mod c;
mod js;
mod python;

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library/Cargo.lock";
const DEBIAN_PACKAGES: [&str; 3] = ["rustc-web", "rust-web-src", "lld"];

fn main() -> ExitCode {
    let mut print = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--print-wit" => print = true,
            "-h" | "--help" => {
                println!("usage: continuum-guest-build [--print-wit]");
                println!("Builds examples-wasm/* into examples-wasm/components/<crate>.wasm and checks them.");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("continuum-guest-build: unknown argument `{other}` (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    match run(print) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("continuum-guest-build: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(print: bool) -> Result<()> {
    // The repository: `CONTINUUM_ROOT`, else the nearest directory upwards
    // from here holding `examples-wasm/` (a shared target directory may
    // hold a binary built from another checkout), else where it was built.
    let root = match std::env::var_os("CONTINUUM_ROOT") {
        Some(r) => PathBuf::from(r),
        None => std::env::current_dir()
            .ok()
            .and_then(|cwd| cwd.ancestors().find(|d| d.join("examples-wasm").is_dir()).map(Path::to_path_buf))
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")),
    };
    let examples = root
        .join("examples-wasm")
        .canonicalize()
        .map_err(|e| Error(format!("cannot find examples-wasm/ under {}: {e}", root.display())))?;

    let toolchain = Toolchain::detect()?;
    let modules = cargo_build(&examples, &toolchain)?;
    if modules.is_empty() {
        return Err(Error("cargo built no cdylib .wasm file in examples-wasm/".into()));
    }

    let out_dir = examples.join("components");
    std::fs::create_dir_all(&out_dir).map_err(|e| Error(format!("creating {}: {e}", out_dir.display())))?;

    let mut written = BTreeSet::new();
    let mut failures = Vec::new();
    for (name, module_path) in &modules {
        let out = out_dir.join(format!("{name}.wasm"));
        // A `refused-*` crate is a fixture the contract must refuse: it
        // is written as it is, and its check must fail.
        if name.starts_with("refused_") {
            match build_refused(module_path, &out) {
                Ok(why) => println!("  fixture  {} (refused as it must be: {why})", out.display()),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
            written.insert(format!("{name}.wasm"));
            continue;
        }
        match build_one(module_path, &out) {
            Ok((kind, changed, size)) => {
                let note = if changed { "" } else { " (unchanged)" };
                println!("  {kind:<8} {:>8} bytes  {}{note}", size, out.display());
                if print {
                    let wit = print_wit(&read(&out)?)?;
                    println!("--- WIT of {name} ---\n{wit}");
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        written.insert(format!("{name}.wasm"));
    }

    // Python guests (workflows and activities), with the project-local componentize-py.
    let python_guests = python::guests(&examples)?;
    if !python_guests.is_empty() {
        let componentizer = python::Componentizer::ensure(&root)?;
        for guest in &python_guests {
            let out = out_dir.join(format!("{}.wasm", guest.name));
            let built = componentizer.build(&root, guest, &out).and_then(|built| {
                let component = read(&out)?;
                let (kind, _) = check(&component)?;
                Ok((built, kind, component.len()))
            });
            match built {
                Ok((built, kind, size)) => {
                    let note = if built { "" } else { " (unchanged)" };
                    println!("  {kind:<8} {:>8} bytes  {}{note}", size, out.display());
                }
                Err(e) => failures.push(format!("{}: {e}", guest.name)),
            }
            written.insert(format!("{}.wasm", guest.name));
        }
    }

    // C guests, with Debian's clang and the project-local wit-bindgen.
    let c_guests = c::guests(&examples)?;
    if !c_guests.is_empty() {
        let toolchain = c::CToolchain::ensure(&root)?;
        let mut bindings = std::collections::BTreeMap::new();
        for guest in &c_guests {
            let out = out_dir.join(format!("{}.wasm", guest.name));
            let built = (|| {
                let dir = match bindings.get(guest.world) {
                    Some(dir) => Clone::clone(dir),
                    None => {
                        let dir = toolchain.bindings(&root, guest.world)?;
                        bindings.insert(guest.world, dir.clone());
                        dir
                    }
                };
                let built = toolchain.build(&root, guest, &dir, &out)?;
                let component = read(&out)?;
                let (kind, _) = check(&component)?;
                Ok::<_, Error>((built, kind, component.len()))
            })();
            match built {
                Ok((built, kind, size)) => {
                    let note = if built { "" } else { " (unchanged)" };
                    println!("  {kind:<8} {:>8} bytes  {}{note}", size, out.display());
                }
                Err(e) => failures.push(format!("{}: {e}", guest.name)),
            }
            written.insert(format!("{}.wasm", guest.name));
        }
    }

    // JavaScript guests, with the project-local componentize-js, run from
    // the repository (the canonical one: the apps import the SDK by a
    // relative path inside it).
    let js_guests = js::guests(&examples)?;
    if !js_guests.is_empty() {
        let repo = examples.parent().unwrap_or(&examples).to_path_buf();
        let componentizer = js::Componentizer::ensure(&repo)?;
        for guest in &js_guests {
            let out = out_dir.join(format!("{}.wasm", guest.name));
            let started = std::time::Instant::now();
            let built = componentizer.build(&repo, guest, &out).and_then(|built| {
                let component = read(&out)?;
                let (kind, _) = check(&component)?;
                Ok((built, kind, component.len()))
            });
            match built {
                Ok((built, kind, size)) => {
                    let note = if built { format!(" ({:.1} s)", started.elapsed().as_secs_f64()) } else { " (unchanged)".into() };
                    println!("  {kind:<8} {:>8} bytes  {}{note}", size, out.display());
                }
                Err(e) => failures.push(format!("{}: {e}", guest.name)),
            }
            written.insert(format!("{}.wasm", guest.name));
        }
    }

    // Components of crates that are no longer in the workspace.
    if let Ok(entries) = std::fs::read_dir(&out_dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".wasm") && !written.contains(&file) {
                println!("  removing stale {}", entry.path().display());
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    if !failures.is_empty() {
        return Err(Error(format!("{} component(s) failed:\n  {}", failures.len(), failures.join("\n  "))));
    }
    println!(
        "continuum-guest-build: {} component(s) in {}",
        modules.len() + python_guests.len() + c_guests.len() + js_guests.len(),
        out_dir.display()
    );
    Ok(())
}

/// Componentizes a fixture the contract must refuse and writes it; fails
/// when the contract check accepts it. Returns why it was refused.
fn build_refused(module_path: &Path, out: &Path) -> Result<String> {
    let component = componentize(&read(module_path)?)?;
    let why = match check(&component) {
        Ok((kind, _)) => return Err(Error(format!("the contract check accepts this fixture as a {kind}; it must refuse it"))),
        Err(e) => e.0,
    };
    if std::fs::read(out).map(|old| old != component).unwrap_or(true) {
        std::fs::write(out, &component).map_err(|e| Error(format!("writing {}: {e}", out.display())))?;
    }
    Ok(why)
}

/// Componentizes one core module and checks it; writes only when changed.
fn build_one(module_path: &Path, out: &Path) -> Result<(continuum_guest_build::Kind, bool, usize)> {
    let component = componentize(&read(module_path)?)?;
    let (kind, _) = check(&component)?;
    let changed = std::fs::read(out).map(|old| old != component).unwrap_or(true);
    if changed {
        std::fs::write(out, &component).map_err(|e| Error(format!("writing {}: {e}", out.display())))?;
    }
    Ok((kind, changed, component.len()))
}

enum Toolchain {
    /// A rustup toolchain with the wasm target installed.
    Rustup,
    /// Debian's rustc-web, building std from rust-web-src.
    Debian,
}

impl Toolchain {
    fn detect() -> Result<Self> {
        if let Ok(out) = Command::new("rustup").args(["target", "list", "--installed"]).output() {
            if out.status.success() && String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == TARGET) {
                println!("continuum-guest-build: using the rustup toolchain's {TARGET} target");
                return Ok(Toolchain::Rustup);
            }
        }
        let missing = debian_missing();
        if !missing.is_empty() {
            println!("continuum-guest-build: rustup has no {TARGET} target; Debian's Rust lacks: {}", missing.join(", "));
            install_debian_packages()?;
            let still = debian_missing();
            if !still.is_empty() {
                return Err(Error(format!("after installing {DEBIAN_PACKAGES:?}, still missing: {}", still.join(", "))));
            }
        }
        println!("continuum-guest-build: using Debian's rustc ({DEBIAN_RUSTC}) with -Zbuild-std and wasm-ld");
        Ok(Toolchain::Debian)
    }
}

/// What Debian's toolchain lacks for a wasm build, in words.
fn debian_missing() -> Vec<String> {
    let mut missing = Vec::new();
    let targets = Command::new(DEBIAN_RUSTC).args(["--print", "target-list"]).output();
    match targets {
        Ok(out) if out.status.success() => {
            if !String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == TARGET) {
                missing.push(format!("{DEBIAN_RUSTC} does not know the {TARGET} target"));
            }
        }
        _ => missing.push(format!("{DEBIAN_RUSTC} (package rustc-web)")),
    }
    if !Path::new(DEBIAN_STD_SRC).exists() {
        missing.push(format!("the std sources {DEBIAN_STD_SRC} (package rust-web-src)"));
    }
    let wasm_ld = Command::new("wasm-ld").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !matches!(wasm_ld, Ok(s) if s.success()) {
        missing.push("wasm-ld (package lld)".into());
    }
    missing
}

fn install_debian_packages() -> Result<()> {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref().ok() != Some("0") {
        return Err(Error(format!(
            "not running as root, so cannot install them; run `apt-get install -y {}` as root, \
             or `rustup target add {TARGET}`",
            DEBIAN_PACKAGES.join(" ")
        )));
    }
    let install = || {
        println!("continuum-guest-build: running `apt-get install -y {}`", DEBIAN_PACKAGES.join(" "));
        Command::new("apt-get").arg("install").arg("-y").args(DEBIAN_PACKAGES).status()
    };
    match install() {
        Ok(s) if s.success() => return Ok(()),
        _ => println!("continuum-guest-build: apt-get install failed; running `apt-get update` and trying again"),
    }
    let _ = Command::new("apt-get").arg("update").status();
    match install() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(Error(format!("apt-get install -y {} failed ({s})", DEBIAN_PACKAGES.join(" ")))),
        Err(e) => Err(Error(format!("cannot run apt-get: {e}"))),
    }
}

/// Runs cargo in `examples`; returns (crate name with underscores, path of
/// the core module) for every cdylib built.
fn cargo_build(examples: &Path, toolchain: &Toolchain) -> Result<Vec<(String, PathBuf)>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(examples)
        .arg("build")
        .args(["--workspace", "--release", "--target", TARGET, "--message-format=json-render-diagnostics"])
        .arg("--target-dir")
        .arg(examples.join("target"))
        // Settings of the outer build must not leak into the guest build.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match toolchain {
        Toolchain::Rustup => {}
        Toolchain::Debian => {
            cmd.arg("-Zbuild-std=std,panic_abort")
                .env("RUSTC", DEBIAN_RUSTC)
                .env("RUSTC_BOOTSTRAP", "1")
                .env("RUSTFLAGS", "-C linker=wasm-ld");
        }
    }
    println!("continuum-guest-build: building {} ...", examples.display());
    let mut child = cmd.spawn().map_err(|e| Error(format!("cannot run {}: {e}", cargo.to_string_lossy())))?;

    let mut modules = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| Error(format!("reading cargo's output: {e}")))?;
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                println!("{line}");
                continue;
            };
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            let is_cdylib = msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib"));
            if !is_cdylib {
                continue;
            }
            let name = msg["target"]["name"].as_str().unwrap_or_default().replace('-', "_");
            let wasm = msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"));
            if let Some(wasm) = wasm {
                modules.push((name, PathBuf::from(wasm)));
            }
        }
    }
    let status = child.wait().map_err(|e| Error(format!("waiting for cargo: {e}")))?;
    if !status.success() {
        return Err(Error(format!("cargo build of examples-wasm failed ({status}); see the messages above")));
    }
    modules.sort();
    Ok(modules)
}
