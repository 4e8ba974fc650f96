//! The shipped `instances.toml` (the embedded SQLite default): `continuum
//! demo` on it runs the tour's three orders with no database server. The
//! root manifest is copied into a temporary directory with only its
//! component paths made absolute, so its data directory (and the SQLite
//! file) land in that directory instead of the repository.

use continuum_tests::*;

#[test]
fn the_demo_runs_on_the_shipped_manifest_with_sqlite() {
    let root = repo_root();
    let shipped = std::fs::read_to_string(root.join("instances.toml")).expect("the root instances.toml");
    assert!(shipped.contains("database = \"sqlite:"), "the shipped default instance is not on SQLite:\n{shipped}");
    let components = components();
    let relocated = shipped.replace("\"examples-wasm/components/", &format!("\"{}/", components.display()));
    assert_ne!(relocated, shipped, "the shipped manifest names no example component");
    let dir = TempDir::new();
    let manifest = dir.0.join("instances.toml");
    std::fs::write(&manifest, &relocated).unwrap();

    let out = cli(&manifest, &["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the demo failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let outcomes: Vec<&str> = stdout.lines().filter(|l| l.trim_start().starts_with("-> ")).collect();
    assert_eq!(outcomes.len(), 3, "{stdout}");
    assert!(outcomes[0].contains("completed") && outcomes[0].contains("shipped"), "{stdout}");
    assert!(outcomes[1].contains("completed") && outcomes[1].contains("refunded"), "{stdout}");
    assert!(outcomes[2].contains("failed") && outcomes[2].contains("payment_declined"), "{stdout}");
    assert!(stdout.contains("run_completed") || stdout.contains("completed"), "the journal was not printed:\n{stdout}");

    // The SQLite journal lives under the manifest's data directory, and the
    // CLI reads the runs back from it without a host.
    let db = dir.0.join(".continuum/default.db");
    assert!(db.is_file(), "no SQLite database at {}", db.display());
    let runs = cli_ok(&manifest, &["runs"]);
    assert_eq!(runs.lines().count(), 3, "{runs}");
    assert_eq!(runs.lines().filter(|l| l.contains("completed")).count(), 2, "{runs}");
}
