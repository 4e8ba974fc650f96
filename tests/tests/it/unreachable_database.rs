//! An unreachable database is a bad manifest: `continuum serve` refuses to
//! start, at once, with exit code 2 and a message naming the manifest file,
//! the instance and its `database` key. A port nobody listens on fails
//! immediately; a server that accepts and never answers fails after the
//! instance's `connect_timeout_ms`.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use continuum_tests::*;

/// Waits (at most `limit`) for the host to exit; returns its exit code and
/// how long it ran.
fn exit_of(host: &mut Host, limit: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = host.try_wait() {
            return (status.code(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (None, started.elapsed())
}

fn manifest_with(dir: &Path, url: &str, extra: &str) -> std::path::PathBuf {
    let mut spec = InstanceSpec::examples("billing", url);
    spec.workflows.truncate(1);
    spec.activities.clear();
    let path = write_manifest(dir, "node-a", &[spec]);
    if !extra.is_empty() {
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen("[instances.billing.workflows]", &format!("{extra}\n[instances.billing.workflows]"), 1);
        std::fs::write(&path, text).unwrap();
    }
    path
}

fn assert_names_the_key(log: &str, manifest: &Path) {
    assert!(log.contains(&manifest.display().to_string()), "the error does not name the manifest file:\n{log}");
    assert!(log.contains("instance `billing`"), "the error does not name the instance:\n{log}");
    assert!(log.contains("`instances.billing.database`"), "the error does not name the key:\n{log}");
    assert!(log.contains("unreachable"), "{log}");
}

#[test]
fn a_refused_connection_is_refused_at_start_up_naming_file_instance_and_key() {
    let dir = TempDir::new();
    // A port that was free a moment ago: nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let manifest = manifest_with(&dir.0, &format!("postgres://postgres:secret@127.0.0.1:{port}/nothing"), "");
    let mut host = Host::start(&manifest, &[]);
    let (code, took) = exit_of(&mut host, Duration::from_secs(20));
    let log = host.log_text();
    assert_eq!(code, Some(2), "serve should exit 2 on an unreachable database (ran {took:?}):\n{log}");
    assert!(took < Duration::from_secs(4), "a refused connection took {took:?} to be reported:\n{log}");
    assert_names_the_key(&log, &manifest);
    assert!(log.to_lowercase().contains("refused"), "the driver's reason is missing:\n{log}");
    assert!(!log.contains("secret"), "the password reached the log:\n{log}");

    // The CLI's verbs refuse the same way.
    let out = cli(&manifest, &["runs", "--instance", "billing"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_names_the_key(&String::from_utf8_lossy(&out.stderr), &manifest);
}

#[test]
fn a_database_that_never_answers_is_refused_after_the_connect_timeout() {
    let dir = TempDir::new();
    // Accepts connections (the kernel's backlog) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let manifest = manifest_with(&dir.0, &format!("postgres://postgres@127.0.0.1:{port}/nothing"), "connect_timeout_ms = 1500");
    let mut host = Host::start(&manifest, &[]);
    let (code, took) = exit_of(&mut host, Duration::from_secs(30));
    let log = host.log_text();
    assert_eq!(code, Some(2), "serve should exit 2 on a silent database (ran {took:?}):\n{log}");
    assert!(took >= Duration::from_millis(1500), "refused before the timeout ({took:?}):\n{log}");
    assert!(took < Duration::from_secs(10), "the connect timeout of 1.5 s took {took:?}:\n{log}");
    assert_names_the_key(&log, &manifest);
    assert!(log.contains("did not answer within 1.5s"), "{log}");
    drop(silent);
}
