//! Idempotent starts and signals (issue 14), through the real binary's CLI
//! on Postgres and on SQLite: a start under a run id that exists returns
//! that run when the workflow and input are the same (and says so), is
//! refused naming the difference otherwise, and `--fail-if-exists` refuses
//! it always; a signal sent with an idempotency key reaches the run once
//! however often it is sent, and the same key with another payload is
//! refused. The HTTP API's side is in `http_api`.

use continuum_tests::on_both_stores;
use continuum_tests::*;
use serde_json::{json, Value};

use crate::bad_modules::assert_one_line_refusal;

fn order(id: &str) -> String {
    json!({"order_id": id, "sku": "BOOK-42", "quantity": 2, "amount_cents": 4200, "card": "4242-4242-4242-4242"}).to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

on_both_stores!(async fn a_start_or_signal_sent_twice_happens_once(store: Store) {
    let db = store.create().await;
    let dir = TempDir::new();
    let manifest = write_manifest(&dir.0, "node-a", &[InstanceSpec::examples("default", &db.url)]);
    let _host = Host::start(&manifest, &[]);

    assert_eq!(cli_ok(&manifest, &["start", "order-flow", &order("o-1"), "--run-id", "o-1"]), "o-1");
    // The same start again: the run, said so on stderr; exit 0.
    let out = cli(&manifest, &["start", "order-flow", &order("o-1"), "--run-id", "o-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "o-1");
    assert!(stderr(&out).contains("exists with the same workflow and input"), "{}", stderr(&out));
    // Refused: asked to, another input, another workflow.
    let out = cli(&manifest, &["start", "order-flow", &order("o-1"), "--run-id", "o-1", "--fail-if-exists"]);
    assert_one_line_refusal(&out, "--fail-if-exists", &["run `o-1` already exists in instance `default`"]);
    let out = cli(&manifest, &["start", "order-flow", &order("o-2"), "--run-id", "o-1"]);
    assert_one_line_refusal(&out, "another input", &["run `o-1`", "/order_id", "\"o-1\" there, \"o-2\" here"]);
    let out = cli(&manifest, &["start", "billing-flow", &order("o-1"), "--run-id", "o-1"]);
    assert_one_line_refusal(&out, "another workflow", &["run `o-1`", "workflow `order-flow`, not `billing-flow`"]);
    let out = cli(&manifest, &["start", "order-flow", &order("o-1"), "--fail-if-exists"]);
    assert_eq!(out.status.code(), Some(2), "--fail-if-exists needs --run-id: {}", stderr(&out));
    let mut sql = db.sql().await;
    assert_eq!(sql.int("SELECT count(*) FROM runs", &[]).await, 1, "one run in all");

    // The review, sent three times with one key (a retrying client).
    for _ in 0..3 {
        cli_ok(&manifest, &["signal", "o-1", "fraud_review", "\"approved\"", "--key", "review-1"]);
    }
    let out = cli(&manifest, &["signal", "o-1", "fraud_review", "\"rejected\"", "--key", "review-1"]);
    assert_one_line_refusal(&out, "same key, other payload", &["idempotency key `review-1`", "another payload"]);
    let out = cli(&manifest, &["signal", "o-1", "fraud_review", "\"approved\"", "--key", &"k".repeat(257)]);
    assert_one_line_refusal(&out, "long key", &["signal idempotency key", "at most 256"]);
    let output: Value = serde_json::from_str(&cli_ok(&manifest, &["await", "o-1", "--timeout", "60"])).expect("JSON output");
    assert_eq!(output["status"], "shipped", "{output}");
    assert_eq!(sql.int("SELECT count(*) FROM signals WHERE run_id = 'o-1'", &[]).await, 1, "the signal was stored once");
    let doc = show_json(&manifest, "o-1", None);
    assert_eq!(doc.kinds().iter().filter(|k| **k == "signal_received").count(), 1, "{:?}", doc.kinds());
    // A resend after the run finished is still the duplicate it is.
    let again = cli_ok(&manifest, &["signal", "o-1", "fraud_review", "\"approved\"", "--key", "review-1"]);
    assert!(again.contains("not sent again"), "{again}");
    let out = cli(&manifest, &["signal", "o-1", "fraud_review", "\"approved\"", "--key", "review-2"]);
    assert_eq!(out.status.code(), Some(2), "a new key to a finished run is refused: {}", stderr(&out));
    assert!(stderr(&out).contains("already completed"), "{}", stderr(&out));
});
