//! Runs the built example components (examples-wasm/components) against an
//! in-memory fake host: activities run in the real activity components,
//! timers and signals follow a virtual clock. This checks the SDK's guest
//! side end to end (typed calls, select, signal timeouts, panic hook).
//!
//! Run `cargo run -p continuum-guest-build --release` first (scripts/test.sh
//! does); a missing component fails the test with a message saying so.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

mod wf {
    wasmtime::component::bindgen!({ path: "../../sdk/wit", world: "workflow" });
}
mod act {
    wasmtime::component::bindgen!({
        path: "../../sdk/wit",
        world: "activity",
        with: { "wasi": wasmtime_wasi::p2::bindings::sync },
    });
}

/// Store data of the activity components: WASI with a scratch sandbox
/// directory (order-activities writes receipts there).
struct ActivityWasi {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for ActivityWasi {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

fn activity_wasi(component: &str) -> ActivityWasi {
    let dir = std::env::temp_dir().join(format!("continuum-guest-build-{}-{component}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = wasmtime_wasi::WasiCtxBuilder::new();
    b.preopened_dir(&dir, "/sandbox", wasmtime_wasi::FsPerms::ReadWrite).unwrap();
    ActivityWasi { ctx: b.build(), table: wasmtime::component::ResourceTable::new() }
}

use wf::continuum::workflow::types::{ActivityOptions, Completion, Failure, FailureKind, LogLevel};

const START_MS: u64 = 1_700_000_000_000;

/// A built component; a missing one fails the test (scripts/test.sh builds
/// the guests before the tests).
fn component_path(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples-wasm/components/{name}.wasm"));
    assert!(
        p.exists(),
        "component {} is missing: build the guests first (`cargo run --release -p continuum-guest-build`)",
        p.display()
    );
    p
}

enum Op {
    Activity { name: String, input: Vec<u8> },
    Timer { at: u64 },
    Signal { name: String },
}

struct Activities {
    store: Store<ActivityWasi>,
    instance: act::Activity,
}

struct FakeHost {
    now: u64,
    rand: u64,
    ops: BTreeMap<u32, Op>,
    next: u32,
    /// Signals by name: (deliver at ms, payload), in order.
    signals: BTreeMap<String, VecDeque<(u64, Vec<u8>)>>,
    activities: Option<Activities>,
    /// Activity names in call order, with their options.
    calls: Vec<(String, ActivityOptions)>,
    logs: Vec<(LogLevel, String)>,
}

impl FakeHost {
    fn new(engine: &Engine, activities: Option<&str>) -> Self {
        let activities = activities.map(|name| {
            let comp = Component::from_file(engine, component_path(name)).unwrap();
            let mut linker = Linker::<ActivityWasi>::new(engine);
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
            let mut store = Store::new(engine, activity_wasi(name));
            let instance = act::Activity::instantiate(&mut store, &comp, &linker).unwrap();
            Activities { store, instance }
        });
        FakeHost {
            now: START_MS,
            rand: 0,
            ops: BTreeMap::new(),
            next: 0,
            signals: BTreeMap::new(),
            activities,
            calls: Vec::new(),
            logs: Vec::new(),
        }
    }

    fn signal(&mut self, name: &str, after_ms: u64, payload: Value) {
        let at = START_MS + after_ms;
        self.signals.entry(name.into()).or_default().push_back((at, serde_json::to_vec(&payload).unwrap()));
    }

    fn add(&mut self, op: Op) -> u32 {
        self.next += 1;
        self.ops.insert(self.next, op);
        self.next
    }

    /// When the operation can complete (`now` for activities and due
    /// signals), or None if never.
    fn ready_at(&self, h: u32) -> Option<u64> {
        match &self.ops[&h] {
            Op::Activity { .. } => Some(self.now),
            Op::Timer { at } => Some(*at.max(&self.now)),
            Op::Signal { name } => self.signals.get(name).and_then(|q| q.front()).map(|(at, _)| *at.max(&self.now)),
        }
    }

    fn complete(&mut self, h: u32) -> Completion {
        let at = self.ready_at(h).expect("complete a ready op");
        self.now = self.now.max(at);
        match self.ops.remove(&h).unwrap() {
            Op::Timer { .. } => Completion::Ok(Vec::new()),
            Op::Signal { name } => Completion::Ok(self.signals.get_mut(&name).unwrap().pop_front().unwrap().1),
            Op::Activity { name, input } => {
                let a = self.activities.as_mut().expect("no activity component loaded");
                match a.instance.call_invoke(&mut a.store, &name, &input).unwrap() {
                    Ok(out) => Completion::Ok(out),
                    Err(e) => Completion::Err(Failure { kind: FailureKind::ActivityFailed, message: e.message, attempts: 1, code: e.code }),
                }
            }
        }
    }
}

impl wf::continuum::workflow::types::Host for FakeHost {}

/// The example components these tests run start no child workflows.
impl wf::continuum::workflow::children::Host for FakeHost {
    fn start_child(&mut self, workflow: String, _input: Vec<u8>, _options: wf::continuum::workflow::children::ChildOptions) -> u32 {
        panic!("the fake host starts no child workflows (asked for `{workflow}`)")
    }

    fn child_failure_of(&mut self, _op: u32) -> Option<wf::continuum::workflow::children::ChildFailure> {
        None
    }

    fn child_run_id(&mut self, _op: u32) -> Option<String> {
        None
    }
}

/// The example components these tests run set no attributes.
impl wf::continuum::workflow::attributes::Host for FakeHost {
    fn set_attribute(&mut self, key: String, _value: String) -> Result<(), String> {
        panic!("the fake host sets no attributes (asked for `{key}`)")
    }
}

/// The example components these tests run do not continue as new.
impl wf::continuum::workflow::continuation::Host for FakeHost {
    fn continue_as_new(&mut self, _input: Vec<u8>, _version: Option<String>) {
        panic!("the fake host does not continue runs as new")
    }
}

/// The fake host runs workflows live: it never asks them a query.
impl wf::continuum::workflow::queries::Host for FakeHost {
    fn pending_query(&mut self, _waiting_on: Vec<u32>) -> Option<wf::continuum::workflow::queries::QueryCall> {
        None
    }

    fn answer_query(&mut self, _answer: wf::continuum::workflow::queries::QueryAnswer) {
        panic!("the fake host asked no query")
    }
}

/// The example components these tests run get no updates.
impl wf::continuum::workflow::updates::Host for FakeHost {
    fn update_id_of(&mut self, _op: u32) -> Option<String> {
        None
    }

    fn reply_update(&mut self, update_id: String, _reply: Result<Vec<u8>, String>) -> Result<(), String> {
        panic!("the fake host sent no update (a reply to `{update_id}`)")
    }
}

impl wf::continuum::workflow::host::Host for FakeHost {
    fn call_activity(&mut self, name: String, input: Vec<u8>, options: ActivityOptions) -> u32 {
        self.calls.push((name.clone(), options));
        self.add(Op::Activity { name, input })
    }
    fn call_activity_ext(
        &mut self,
        name: String,
        input: Vec<u8>,
        options: ActivityOptions,
        _ext: wf::continuum::workflow::types::ActivityOptionsExt,
    ) -> u32 {
        self.call_activity(name, input, options)
    }
    fn start_timer(&mut self, duration_ms: u64) -> u32 {
        let at = self.now + duration_ms;
        self.add(Op::Timer { at })
    }
    fn receive_signal(&mut self, name: String) -> u32 {
        self.add(Op::Signal { name })
    }
    fn wait(&mut self, op: u32) -> Completion {
        assert!(self.ready_at(op).is_some(), "deadlock: waiting on an operation that never completes");
        self.complete(op)
    }
    fn wait_any(&mut self, ops: Vec<u32>) -> (u32, Completion) {
        let (pos, _) = ops
            .iter()
            .enumerate()
            .filter_map(|(i, h)| self.ready_at(*h).map(|t| (i, t)))
            .min_by_key(|(i, t)| (*t, *i))
            .expect("deadlock: no operation of wait-any ever completes");
        (pos as u32, self.complete(ops[pos]))
    }
    fn now(&mut self) -> u64 {
        self.now
    }
    fn patched(&mut self, _name: String) -> bool {
        // A fresh run with no history always takes the new path.
        true
    }
    fn random(&mut self) -> u64 {
        self.rand += 1;
        0x9e37_79b9_7f4a_7c15u64.wrapping_mul(self.rand)
    }
    fn uuid(&mut self) -> String {
        format!("00000000-0000-4000-8000-{:012}", self.rand)
    }
    fn log(&mut self, level: LogLevel, message: String) {
        self.logs.push((level, message));
    }
}

type RunResult = wasmtime::Result<Result<Vec<u8>, wf::continuum::workflow::types::WorkflowError>>;

/// Runs workflow component `name` with `input`; `setup` scripts the host.
fn run(name: &str, activities: Option<&str>, input: Value, setup: impl FnOnce(&mut FakeHost)) -> (RunResult, FakeHost) {
    let path = component_path(name);
    if let Some(a) = activities {
        component_path(a);
    }
    let engine = Engine::default();
    let comp = Component::from_file(&engine, path).unwrap();
    let mut linker = Linker::<FakeHost>::new(&engine);
    wf::Workflow::add_to_linker::<FakeHost, HasSelf<FakeHost>>(&mut linker, |h| h).unwrap();
    let mut host = FakeHost::new(&engine, activities);
    setup(&mut host);
    let mut store = Store::new(&engine, host);
    let instance = wf::Workflow::instantiate(&mut store, &comp, &linker).unwrap();
    let result = instance.call_run(&mut store, &serde_json::to_vec(&input).unwrap());
    (result, store.into_data())
}

fn ok_json(r: RunResult) -> Value {
    match r.expect("no trap") {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Err(e) => panic!("workflow error {}: {}", e.code, e.message),
    }
}

fn names(h: &FakeHost) -> Vec<&str> {
    h.calls.iter().map(|(n, _)| n.as_str()).collect()
}

fn order() -> Value {
    json!({"order_id": "o-1", "sku": "sku-9", "quantity": 2, "amount_cents": 1999, "card": "4242-4242-4242-4242"})
}

#[test]
fn order_flow_approved_ships() {
    let (r, h) = run("order_flow", Some("order_activities"), order(), |h| h.signal("fraud_review", 5, json!("approved")));
    let out = ok_json(r);
    assert_eq!(out["status"], "shipped", "{out}");
    assert!(out["tracking"].as_str().unwrap().starts_with("TRK"));
    assert!(out["charge_id"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(names(&h), ["reserve_stock", "charge_card", "ship_order"]);
    let (_, charge_opts) = &h.calls[1];
    assert_eq!(charge_opts.idempotency_key.as_deref(), Some("charge-o-1"));
    assert_eq!(charge_opts.retry.as_ref().unwrap().max_attempts, 3);
    assert_eq!(h.calls[0].1.attempt_timeout_ms, Some(10_000));
}

#[test]
fn order_flow_rejected_refunds() {
    let (r, h) = run("order_flow", Some("order_activities"), order(), |h| h.signal("fraud_review", 5, json!({"decision": "rejected"})));
    let out = ok_json(r);
    assert_eq!(out, json!({"order_id": "o-1", "status": "refunded", "reason": "fraud_review_rejected"}));
    assert_eq!(names(&h), ["reserve_stock", "charge_card", "refund_payment", "release_stock"]);
}

#[test]
fn order_flow_review_timeout_refunds() {
    let mut input = order();
    input["review_timeout_ms"] = json!(1000);
    // The signal comes too late.
    let (r, h) = run("order_flow", Some("order_activities"), input, |h| h.signal("fraud_review", 5000, json!("approved")));
    assert_eq!(ok_json(r)["reason"], "fraud_review_timeout");
    assert_eq!(h.now, START_MS + 1000);
    assert_eq!(names(&h), ["reserve_stock", "charge_card", "refund_payment", "release_stock"]);
}

#[test]
fn order_flow_declined_card_fails_with_payment_declined() {
    let mut input = order();
    input["card"] = json!("4000-0000-0000-0002");
    input["spin"] = json!(1000);
    let (r, h) = run("order_flow", Some("order_activities"), input, |_| {});
    let err = r.expect("no trap").expect_err("a workflow error");
    assert_eq!(err.code, "payment_declined");
    assert!(err.message.contains("declined"), "{}", err.message);
    assert_eq!(names(&h), ["reserve_stock", "charge_card", "release_stock"]);
}

#[test]
fn billing_flow_reminds_late_payers() {
    let input = json!({"customer": "acme", "amount_cents": 500, "cycles": 2, "interval_ms": 1000});
    let (r, h) = run("billing_flow", Some("billing_activities"), input, |h| {
        h.signal("invoice_paid", 1500, json!({"ok": true})); // cycle 1: on time (due by 2000)
        h.signal("invoice_paid", 5000, json!({"ok": true})); // cycle 2: late (due by 4000)
    });
    let out = ok_json(r);
    assert_eq!(out["total_cents"], 1000);
    let cycles = out["cycles"].as_array().unwrap();
    assert_eq!(cycles[0]["reminded"], false);
    assert_eq!(cycles[0]["paid_at_ms"], START_MS + 1500);
    assert_eq!(cycles[1]["reminded"], true);
    assert_eq!(cycles[1]["paid_at_ms"], START_MS + 5000);
    assert_eq!(cycles[1]["invoice_id"], "inv-acme-0002");
    assert_eq!(names(&h), ["issue_invoice", "issue_invoice", "send_reminder"]);
}

#[test]
fn panicky_logs_the_panic_before_trapping() {
    let (r, h) = run("panicky", None, json!({"panic": true}), |_| {});
    assert!(r.is_err(), "a panic must trap");
    let (level, line) = h.logs.last().expect("a log line");
    assert!(matches!(level, LogLevel::Error));
    assert!(line.starts_with("panic: boom: the guest panicked on purpose at "), "{line}");
    assert!(line.contains("panicky/src/lib.rs"), "{line}");
}

#[test]
fn panicky_fail_and_echo() {
    let (r, _) = run("panicky", None, json!({"fail": true}), |_| {});
    assert_eq!(r.unwrap().unwrap_err().code, "bad_input");
    let (r, _) = run("panicky", None, json!({"x": 1}), |_| {});
    assert_eq!(ok_json(r), json!({"x": 1}));
    let (r, _) = run("panicky", None, json!("not an object"), |_| {});
    assert_eq!(ok_json(r), json!("not an object"));
}

#[test]
fn invalid_input_is_a_workflow_error() {
    let (r, _) = run("billing_flow", Some("billing_activities"), json!({"customer": 3}), |_| {});
    assert_eq!(r.unwrap().unwrap_err().code, "invalid_input");
}

#[test]
fn clock_flow_uses_the_journaled_clock() {
    let (r, _) = run("clock_flow", None, json!(null), |_| {});
    let out = ok_json(r);
    assert_eq!(out["now_ms"], START_MS);
    assert_eq!(out["after_sleep_ms"], START_MS + 1000);
    assert_eq!(out["uuid"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(out["random_str"], 0x9e37_79b9_7f4a_7c15u64.to_string());
}

#[test]
fn bench_and_drift_flows() {
    let (r, h) = run("bench_flow", Some("bench_activities"), json!({"n": 1}), |_| {});
    assert_eq!(ok_json(r), json!({"one": {"step": "one", "input": {"n": 1}}, "two": {"step": "two", "input": {"n": 1}}}));
    assert_eq!(names(&h), ["step_one", "step_two"]);
    let (r, h) = run("drift_v1", Some("bench_activities"), json!(1), |h| h.signal("go", 10, json!("now")));
    assert_eq!(ok_json(r)["go"], "now");
    assert_eq!(names(&h), ["step_one", "step_two"]);
    let (r, h) = run("drift_v2", Some("bench_activities"), json!(1), |_| {});
    assert_eq!(ok_json(r)["version"], 2);
    assert_eq!(names(&h), ["step_one", "step_three"]);
}
