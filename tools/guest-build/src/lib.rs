//! Turning core wasm modules into components and checking their worlds.
//!
//! Used by the `continuum-guest-build` binary; the functions are public so
//! tests (here and elsewhere) can check components the same way.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use wit_component::{ComponentEncoder, DecodedWasm, WitPrinter};
use wit_parser::{Resolve, WorldId, WorldItem};

/// The interfaces a workflow component may import (`children`: child
/// workflows, `continuation`: continue-as-new, `attributes`: run
/// attributes, `queries`: answering queries, and `updates`: replying to
/// updates, additions to the
/// contract).
pub const WORKFLOW_IMPORTS: [&str; 7] = [
    "continuum:workflow/host@0.1.0",
    "continuum:workflow/types@0.1.0",
    "continuum:workflow/children@0.1.0",
    "continuum:workflow/attributes@0.1.0",
    "continuum:workflow/continuation@0.1.0",
    "continuum:workflow/queries@0.1.0",
    "continuum:workflow/updates@0.1.0",
];
/// The interfaces an activity component may import besides WASI.
pub const ACTIVITY_IMPORTS: [&str; 2] = ["continuum:workflow/types@0.1.0", "continuum:workflow/activity-context@0.1.0"];
/// Exports a toolchain leaves in its components besides the world's, which
/// the host never calls: componentize-py's `exports` interface (the
/// interpreter's `init`, already run when the component was built).
pub const TOOLCHAIN_EXPORTS: [&str; 1] = ["exports"];
/// The WASI version of the `activity` world (the packages in `sdk/wit/deps/`).
pub const WASI_VERSION: &str = "0.2.12";
/// The WASI packages an activity component may import interfaces of
/// (`wasi:filesystem/types@0.2.12`, ...); a workflow may import none.
pub const ACTIVITY_WASI_PACKAGES: [&str; 6] =
    ["wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:io", "wasi:random", "wasi:sockets"];

/// Whether an activity component may import `name`: the `types` interface,
/// or an interface of one of [`ACTIVITY_WASI_PACKAGES`] at [`WASI_VERSION`].
pub fn activity_may_import(name: &str) -> bool {
    if ACTIVITY_IMPORTS.contains(&name) {
        return true;
    }
    let Some((path, version)) = name.split_once('@') else { return false };
    let Some((package, _interface)) = path.split_once('/') else { return false };
    version == WASI_VERSION && ACTIVITY_WASI_PACKAGES.contains(&package)
}

/// The WASI packages a workflow component may import interfaces of, at any
/// 0.2.x version: the host answers them deterministically (journaled clocks
/// and randomness, output to the run's log, no files, no network). What
/// componentize-py and wasi-libc emit; Rust workflows import none of them.
pub const WORKFLOW_WASI_PACKAGES: [&str; 6] = ACTIVITY_WASI_PACKAGES;

/// Whether a workflow component may import `name`: the host interface and
/// its types, or an interface of one of [`WORKFLOW_WASI_PACKAGES`] at a
/// 0.2.x version.
pub fn workflow_may_import(name: &str) -> bool {
    if WORKFLOW_IMPORTS.contains(&name) {
        return true;
    }
    let Some((path, version)) = name.split_once('@') else { return false };
    let Some((package, _interface)) = path.split_once('/') else { return false };
    let wasi_0_2 = version.strip_prefix("0.2.").is_some_and(|patch| !patch.is_empty() && patch.chars().all(|c| c.is_ascii_digit()));
    wasi_0_2 && WORKFLOW_WASI_PACKAGES.contains(&package)
}

/// An error with a human-readable message.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What a component is, judged by its exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Targets the `workflow` world: exports `run`.
    Workflow,
    /// Targets the `activity` world: exports `activities` and `invoke`.
    Activity,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Workflow => "workflow",
            Kind::Activity => "activity",
        })
    }
}

/// The imports and exports of a decoded component.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Import names (`ns:pkg/iface@ver` for interfaces, plain for functions).
    pub imports: BTreeSet<String>,
    /// Export names.
    pub exports: BTreeSet<String>,
}

/// Encodes a core module (with its `component-type` custom sections, as
/// wit-bindgen emits them) into a validated component.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>> {
    ComponentEncoder::default()
        .module(module)
        .map_err(|e| Error(format!("reading the core module: {e:#}")))?
        .validate(true)
        .encode()
        .map_err(|e| Error(format!("encoding the component: {e:#}")))
}

fn decode_component(component: &[u8]) -> Result<(Resolve, WorldId)> {
    match wit_component::decode(component).map_err(|e| Error(format!("decoding the component: {e:#}")))? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => Err(Error("this is a WIT package, not a component".into())),
    }
}

/// The imports and exports of a component.
pub fn shape(component: &[u8]) -> Result<Shape> {
    let (resolve, world) = decode_component(component)?;
    let w = &resolve.worlds[world];
    Ok(Shape {
        // World-level `use` of types shows up as type items; they are not
        // imports of an instance or function, so they are left out.
        imports: w
            .imports
            .iter()
            .filter(|(_, item)| !matches!(item, WorldItem::Type(_)))
            .map(|(k, _)| resolve.name_world_key(k))
            .collect(),
        exports: w.exports.keys().map(|k| resolve.name_world_key(k)).collect(),
    })
}

/// The WIT of a component's world, as text.
pub fn print_wit(component: &[u8]) -> Result<String> {
    let (resolve, world) = decode_component(component)?;
    let pkg = resolve.worlds[world]
        .package
        .ok_or_else(|| Error("the decoded world has no package".into()))?;
    let nested: Vec<_> = resolve.packages.iter().map(|(id, _)| id).filter(|id| *id != pkg).collect();
    let mut printer = WitPrinter::default();
    printer.print(&resolve, pkg, &nested).map_err(|e| Error(format!("printing WIT: {e:#}")))?;
    Ok(printer.output.to_string())
}

/// Classifies a component and checks it against the Continuum contract:
/// a workflow exports exactly `run` and imports only `host`, `types` and
/// WASI 0.2 interfaces the host answers deterministically; an activity component exports exactly `activities` and `invoke`
/// and imports only `types` and WASI 0.2 interfaces (never the host).
pub fn check(component: &[u8]) -> Result<(Kind, Shape)> {
    let shape = shape(component)?;
    let exports: Vec<&str> =
        shape.exports.iter().map(String::as_str).filter(|e| !TOOLCHAIN_EXPORTS.contains(e)).collect();
    let (kind, allowed, may_import): (Kind, String, fn(&str) -> bool) = match exports.as_slice() {
        ["run"] => (Kind::Workflow, format!("{WORKFLOW_IMPORTS:?} and WASI {WORKFLOW_WASI_PACKAGES:?} @0.2.x"), workflow_may_import),
        ["activities", "invoke"] => (
            Kind::Activity,
            format!("{ACTIVITY_IMPORTS:?} and WASI {ACTIVITY_WASI_PACKAGES:?} @{WASI_VERSION}"),
            activity_may_import,
        ),
        other => {
            return Err(Error(format!(
                "exports {other:?}: expected [\"run\"] (workflow) or [\"activities\", \"invoke\"] (activity)"
            )))
        }
    };
    let extra: Vec<&String> = shape.imports.iter().filter(|i| !may_import(i)).collect();
    if !extra.is_empty() {
        return Err(Error(format!("a {kind} component may import only {allowed}, but it also imports {extra:?}")));
    }
    Ok((kind, shape))
}

/// Reads a file with the path in the error message.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error(format!("reading {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn components_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-wasm/components")
    }

    /// A built component; a missing one fails the test (scripts/test.sh
    /// builds the guests before the tests).
    fn component(name: &str) -> Vec<u8> {
        let path = components_dir().join(format!("{name}.wasm"));
        assert!(
            path.exists(),
            "component {} is missing: build the guests first (`cargo run --release -p continuum-guest-build`)",
            path.display()
        );
        read(&path).expect("readable component")
    }

    /// Every workflow crate in examples-wasm/ (see `every_example_is_listed`).
    const WORKFLOWS: [&str; 18] = [
        "order_flow",
        "billing_flow",
        "bench_flow",
        "drift_v1",
        "drift_v2",
        "drift_v3",
        "long_flow",
        "panicky",
        "clock_flow",
        "probe_flow",
        "hostile_flow",
        "rust_conformance",
        "rust_conformance_v2",
        "child_flow",
        "parent_flow",
        "tagged_flow",
        "loop_flow",
        "counter_flow",
    ];
    /// Every activity crate in examples-wasm/.
    const ACTIVITIES: [&str; 6] = [
        "order_activities",
        "billing_activities",
        "bench_activities",
        "sandbox_probe",
        "worker_probe",
        "conformance_activities",
    ];

    /// Every fixture crate (`refused-*`) in examples-wasm/: components
    /// the contract must refuse.
    const FIXTURES: [&str; 1] = ["refused_foreign_import"];

    #[test]
    fn every_fixture_is_refused_by_the_contract() {
        for name in FIXTURES {
            let refused = check(&component(name));
            let why = refused.err().unwrap_or_else(|| panic!("{name}: the contract accepts it")).0;
            assert!(why.contains("acme:fixture/lookup"), "{name}: the refusal does not name the import: {why}");
        }
    }

    #[test]
    fn every_example_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-wasm");
        let mut crates: Vec<String> = std::fs::read_dir(&root)
            .expect("examples-wasm/")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().replace('-', "_"))
            .collect();
        crates.sort();
        let mut listed: Vec<String> =
            WORKFLOWS.iter().chain(ACTIVITIES.iter()).chain(FIXTURES.iter()).map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(listed, crates, "WORKFLOWS, ACTIVITIES and FIXTURES must name every crate in examples-wasm/");
    }

    #[test]
    fn workflow_components_export_run_and_import_only_the_host() {
        for name in WORKFLOWS {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Workflow, "{name}");
            assert!(shape.exports.contains("run"), "{name}: {shape:?}");
            assert!(shape.imports.contains("continuum:workflow/host@0.1.0"), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(WORKFLOW_IMPORTS.contains(&import.as_str()), "{name} imports {import}");
                assert!(!import.starts_with("wasi:"), "workflow {name} imports WASI: {import}");
            }
        }
    }

    /// Every Python workflow in examples-wasm/python/, as its component.
    const PYTHON_WORKFLOWS: [&str; 6] = [
        "python_order_flow",
        "python_wasi_probe",
        "python_bench_flow",
        "python_conformance",
        "python_conformance_v2",
        "python_counter_flow",
    ];
    /// Every Python activity component (`examples-wasm/python/*-activities`).
    const PYTHON_ACTIVITIES: [&str; 1] = ["python_notes_activities"];

    #[test]
    fn every_python_example_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-wasm/python");
        let mut guests: Vec<String> = std::fs::read_dir(&root)
            .expect("examples-wasm/python/")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("app.py").is_file())
            .map(|e| format!("python_{}", e.file_name().to_string_lossy().replace('-', "_")))
            .collect();
        guests.sort();
        let mut listed: Vec<String> = PYTHON_WORKFLOWS.iter().chain(PYTHON_ACTIVITIES.iter()).map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(listed, guests, "PYTHON_WORKFLOWS and PYTHON_ACTIVITIES must name every guest in examples-wasm/python/");
    }

    #[test]
    fn python_workflows_export_run_and_import_the_host_and_wasi_only() {
        for name in PYTHON_WORKFLOWS {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Workflow, "{name}");
            assert!(shape.imports.contains("continuum:workflow/host@0.1.0"), "{name}: {shape:?}");
            assert!(shape.imports.iter().any(|i| i.starts_with("wasi:clocks/wall-clock@0.2.")), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(workflow_may_import(import), "{name} imports {import}");
            }
        }
    }

    /// Every C workflow in examples-wasm/c/, as its component.
    const C_WORKFLOWS: [&str; 5] = ["c_conformance", "c_conformance_v2", "c_counter_flow", "c_order_flow", "c_wasi_probe"];
    /// Every C activity component (a `*-activities` directory).
    const C_ACTIVITIES: [&str; 1] = ["c_conformance_activities"];

    #[test]
    fn every_c_example_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-wasm/c");
        let mut guests: Vec<String> = std::fs::read_dir(&root)
            .expect("examples-wasm/c/")
            .filter_map(|e| e.ok())
            .filter(|e| {
                std::fs::read_dir(e.path())
                    .map(|files| files.flatten().any(|f| f.path().extension().is_some_and(|x| x == "c")))
                    .unwrap_or(false)
            })
            .map(|e| format!("c_{}", e.file_name().to_string_lossy().replace('-', "_")))
            .collect();
        guests.sort();
        let mut listed: Vec<String> = C_WORKFLOWS.iter().chain(C_ACTIVITIES.iter()).map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(listed, guests, "C_WORKFLOWS and C_ACTIVITIES must name every guest in examples-wasm/c/");
    }

    #[test]
    fn c_activity_components_export_activities_and_invoke() {
        for name in C_ACTIVITIES {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Activity, "{name}");
            assert!(shape.imports.contains("continuum:workflow/activity-context@0.1.0"), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(activity_may_import(import), "{name} imports {import}");
            }
        }
    }

    /// Every JavaScript workflow in examples-wasm/js/, as its component.
    const JS_WORKFLOWS: [&str; 7] = [
        "js_bench_flow",
        "js_counter_flow",
        "js_conformance",
        "js_conformance_v2",
        "js_greeter_flow",
        "js_order_flow",
        "js_wasi_probe",
    ];
    /// Every JavaScript activity component in examples-wasm/js/ (a
    /// directory named `*-activities`).
    const JS_ACTIVITIES: [&str; 1] = ["js_greeter_activities"];

    #[test]
    fn every_js_example_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-wasm/js");
        let mut guests: Vec<String> = std::fs::read_dir(&root)
            .expect("examples-wasm/js/")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("app.js").is_file())
            .map(|e| format!("js_{}", e.file_name().to_string_lossy().replace('-', "_")))
            .collect();
        guests.sort();
        let mut listed: Vec<String> = JS_WORKFLOWS.iter().chain(JS_ACTIVITIES.iter()).map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(listed, guests, "JS_WORKFLOWS and JS_ACTIVITIES must name every guest in examples-wasm/js/");
    }

    #[test]
    fn js_workflows_export_run_and_import_the_host_and_wasi_only() {
        for name in JS_WORKFLOWS {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Workflow, "{name}");
            assert!(shape.imports.contains("continuum:workflow/host@0.1.0"), "{name}: {shape:?}");
            assert!(shape.imports.iter().any(|i| i.starts_with("wasi:clocks/wall-clock@0.2.")), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(workflow_may_import(import), "{name} imports {import}");
                // Built without StarlingMonkey's http feature: no wasi:http.
                assert!(!import.starts_with("wasi:http/"), "{name} imports {import}");
            }
        }
    }

    #[test]
    fn js_activity_components_export_activities_and_invoke_and_use_the_sandbox() {
        for name in JS_ACTIVITIES {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Activity, "{name}");
            assert!(shape.imports.contains("continuum:workflow/activity-context@0.1.0"), "{name}: {shape:?}");
            assert!(shape.imports.contains("wasi:filesystem/preopens@0.2.12"), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(activity_may_import(import), "{name} imports {import}");
            }
        }
    }

    #[test]
    fn c_workflows_export_run_and_import_the_host_and_wasi_0_2_only() {
        for name in C_WORKFLOWS {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Workflow, "{name}");
            assert!(shape.imports.contains("continuum:workflow/host@0.1.0"), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(workflow_may_import(import), "{name} imports {import}");
            }
            // Small: clang -Oz, stripped, the preview-1 adapter included.
            assert!(bytes.len() < 200_000, "{name} is {} bytes", bytes.len());
        }
        // The probe's exit(3) goes through WASI's exit-with-code; its
        // clock_gettime and getentropy through the journaled clocks and seed.
        let (_, probe) = check(&component("c_wasi_probe")).expect("c_wasi_probe");
        for import in ["wasi:cli/exit@0.2.12", "wasi:clocks/wall-clock@0.2.12", "wasi:random/random@0.2.12"] {
            assert!(probe.imports.contains(import), "c_wasi_probe lacks {import}: {probe:?}");
        }
    }

    #[test]
    fn python_activities_export_activities_and_invoke_and_import_wasi_not_the_host() {
        for name in PYTHON_ACTIVITIES {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Activity, "{name}");
            assert!(shape.imports.contains("continuum:workflow/activity-context@0.1.0"), "{name}: {shape:?}");
            assert!(shape.imports.iter().any(|i| i.starts_with("wasi:filesystem/preopens@")), "{name}: {shape:?}");
            assert!(!shape.imports.iter().any(|i| i.contains("/host")), "{name}: {shape:?}");
        }
    }

    #[test]
    fn activity_components_export_activities_and_invoke_and_import_nothing_else() {
        for name in ACTIVITIES {
            let bytes = component(name);
            let (kind, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind, Kind::Activity, "{name}");
            assert!(!shape.imports.iter().any(|i| i.contains("/host")), "{name}: {shape:?}");
            for import in &shape.imports {
                assert!(activity_may_import(import), "{name} imports {import}");
            }
        }
    }

    #[test]
    fn activities_that_use_the_sandbox_import_wasi_filesystem() {
        for name in ["order_activities", "sandbox_probe"] {
            let bytes = component(name);
            let (_, shape) = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(shape.imports.contains("wasi:filesystem/preopens@0.2.12"), "{name}: {shape:?}");
        }
    }

    #[test]
    fn the_import_rules_allow_wasi_only_to_activities() {
        assert!(activity_may_import("wasi:filesystem/types@0.2.12"));
        assert!(activity_may_import("wasi:sockets/tcp@0.2.12"));
        assert!(activity_may_import("continuum:workflow/types@0.1.0"));
        assert!(!activity_may_import("continuum:workflow/host@0.1.0"));
        assert!(!activity_may_import("wasi:filesystem/types@0.2.0"));
        assert!(!activity_may_import("wasi:http/outgoing-handler@0.2.12"));
        assert!(workflow_may_import("continuum:workflow/host@0.1.0"));
        assert!(workflow_may_import("continuum:workflow/children@0.1.0"));
        assert!(!activity_may_import("continuum:workflow/children@0.1.0"));
        assert!(workflow_may_import("continuum:workflow/attributes@0.1.0"));
        assert!(!activity_may_import("continuum:workflow/attributes@0.1.0"));
        assert!(workflow_may_import("continuum:workflow/continuation@0.1.0"));
        assert!(!activity_may_import("continuum:workflow/continuation@0.1.0"));
    }

    #[test]
    fn workflows_may_import_the_deterministic_wasi_at_any_0_2_version() {
        // What componentize-py 0.25 emits, and the vendored WIT's version.
        assert!(workflow_may_import("wasi:cli/environment@0.2.9"));
        assert!(workflow_may_import("wasi:clocks/wall-clock@0.2.12"));
        assert!(workflow_may_import("wasi:sockets/tcp@0.2.0"));
        assert!(!workflow_may_import("wasi:http/outgoing-handler@0.2.9"));
        assert!(!workflow_may_import("wasi:cli/environment@0.3.0"));
        assert!(!workflow_may_import("wasi:cli/environment@0.2."));
        assert!(!workflow_may_import("wasi:cli/environment"));
        assert!(!workflow_may_import("continuum:workflow/activity-context@0.1.0"));
    }

    #[test]
    fn a_plain_module_without_metadata_is_not_a_valid_component_of_ours() {
        // The smallest core module: it componentizes to an empty world,
        // which `check` must reject.
        let module = b"\0asm\x01\0\0\0";
        let component = componentize(module).expect("an empty module componentizes");
        assert!(check(&component).is_err());
    }
}
