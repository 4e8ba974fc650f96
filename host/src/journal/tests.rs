//! One test suite, run against both journals: every `journal_suite!` test
//! runs once on a fresh Postgres database (created and dropped by the test;
//! server from `CONTINUUM_TEST_DATABASE_URL`) and once on a fresh SQLite
//! file, so the two implementations cannot drift apart. The tests drive
//! the journal's clock ([`TestClock`]) instead of sleeping.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;
use sqlx::Connection;

use super::*;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TTL: Duration = Duration::from_secs(30);

fn pg_admin_url() -> String {
    std::env::var("CONTINUUM_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[start..].find('/') {
        Some(i) => &base[..start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// The journal's time, as a test drives it: [`TestClock::advance`] moves
/// it forward at once, where the tests used to sleep.
#[derive(Clone)]
enum TestClock {
    /// Postgres: the test database's `now()` is the server's plus the
    /// offset in `continuum_test_clock.offset` (see [`on_postgres`]).
    Postgres { url: String, offset_ms: Arc<std::sync::atomic::AtomicI64> },
    /// SQLite: the journal's own clock.
    Sqlite(sqlite::Clock),
}

impl TestClock {
    /// Moves the journal's time forward by `d`.
    async fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).expect("a short advance");
        match self {
            TestClock::Postgres { url, offset_ms } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to the test database");
                sqlx::query("UPDATE continuum_test_clock.offset SET ms = ms + $1").bind(ms).execute(&mut conn).await.expect("advance");
                offset_ms.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
            }
            TestClock::Sqlite(clock) => clock.advance_ms(ms),
        }
    }

    /// The journal's now.
    fn now(&self) -> DateTime<Utc> {
        let offset = match self {
            TestClock::Postgres { offset_ms, .. } => offset_ms.load(std::sync::atomic::Ordering::Relaxed),
            TestClock::Sqlite(clock) => return DateTime::from_timestamp_millis(clock.now_ms()).expect("in range"),
        };
        Utc::now() + chrono::Duration::milliseconds(offset)
    }
}

/// Makes the test database's unqualified `now()` read a clock the test
/// moves: a `now()` of its own, found before `pg_catalog`'s.
const PG_TEST_CLOCK: &str = "CREATE SCHEMA continuum_test_clock; \
    CREATE TABLE continuum_test_clock.offset (ms BIGINT NOT NULL); \
    INSERT INTO continuum_test_clock.offset VALUES (0); \
    CREATE FUNCTION continuum_test_clock.now() RETURNS timestamptz LANGUAGE sql STABLE AS \
      $$ SELECT pg_catalog.now() + (SELECT ms FROM continuum_test_clock.offset) * interval '1 millisecond' $$;";

/// Runs `body` against a fresh Postgres database, dropped afterwards.
async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(SharedJournal, TestClock) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin = pg_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("cannot reach Postgres at {admin} (set CONTINUUM_TEST_DATABASE_URL): {e}")
    });
    let name = format!("continuum_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let url = with_database(&admin, &name);
    // Migrated first (the tables go to `public`), then the clock, seen by
    // the connections opened after it.
    let setup = PostgresJournal::connect(&url, 1).await.expect("connect to the test database");
    setup.migrate().await.expect("migrate");
    setup.close().await;
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect to the test database");
    sqlx::raw_sql(PG_TEST_CLOCK).execute(&mut db).await.expect("install the test clock");
    sqlx::raw_sql(&format!("ALTER DATABASE {name} SET search_path = public, continuum_test_clock, pg_catalog"))
        .execute(&mut db)
        .await
        .expect("put the test clock first");
    let journal = Arc::new(PostgresJournal::connect(&url, 5).await.expect("connect to the test database"));
    let clock = TestClock::Postgres { url: url.clone(), offset_ms: Arc::default() };
    let result = tokio::spawn(body(journal.clone(), clock)).await;
    journal.close().await;
    drop(journal);
    drop(db);
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.expect("drop test database");
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `body` against a fresh SQLite file in a directory of its own
/// (created by `connect`), removed afterwards.
async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(SharedJournal, TestClock) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir: PathBuf = std::env::temp_dir().join(format!("continuum-test-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite:{}", dir.join("nested").join("journal.db").display());
    let clock = sqlite::Clock::default();
    let journal = Arc::new(SqliteJournal::connect_with_clock(&url, clock.clone()).await.expect("open the SQLite journal"));
    journal.migrate().await.expect("migrate");
    let result = tokio::spawn(body(journal.clone(), TestClock::Sqlite(clock))).await;
    journal.close().await;
    drop(journal);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

macro_rules! journal_suite {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn postgres() {
                on_postgres($body).await
            }

            #[tokio::test]
            async fn sqlite() {
                on_sqlite($body).await
            }
        }
    };
}

fn key(instance: &str, run_id: &str) -> RunKey {
    RunKey::new(instance, run_id)
}

fn new_run(key: &RunKey) -> NewRun {
    NewRun { key: key.clone(), workflow: "wf".into(), module_hash: "hash".into(), input: json!({"n": 1, "s": "x"}), trace_context: None }
}

/// Creates a run with its lease taken by `owner` for `ttl`.
async fn leased(j: &SharedJournal, key: &RunKey, owner: &str, ttl: Duration) -> Lease {
    j.create_run(&new_run(key), Some((owner, ttl))).await.unwrap().1.expect("a lease")
}

async fn run(j: &SharedJournal, key: &RunKey) -> RunRecord {
    j.get_run(key).await.unwrap().expect("the run exists")
}

fn clock(n: u64) -> EventBody {
    EventBody::ClockRead { value_ms: n }
}

fn epoch_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn ms_from_now(delta: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis() + delta).unwrap()
}

fn task(op: u32, name: &str, queue: Option<&str>, priority: i32) -> NewActivityTask {
    NewActivityTask::new(op, name, json!({"op": op}), ActivityOptions { queue: queue.map(String::from), priority, ..Default::default() })
}

async fn next_wake(wakes: &mut WakeStream) -> Option<Wake> {
    tokio::time::timeout(Duration::from_secs(5), wakes.next()).await.expect("a wake-up within 5 s")
}

journal_suite!(create_get_and_list_runs, |j: SharedJournal, _: TestClock| async move {
    let (a, b) = (key("i1", "run-a"), key("i1", "run-b"));
    let (created, lease) = j.create_run(&new_run(&a), None).await.unwrap();
    assert_eq!(lease, None);
    let (created_b, lease) = j.create_run(&new_run(&b), Some(("node/i1/1", TTL))).await.unwrap();
    let lease = lease.expect("a lease");
    assert_eq!(lease, Lease { owner: "node/i1/1".into(), token: 1 });
    // Creation returns the run as the database stored it.
    assert_eq!(created, run(&j, &a).await);
    assert_eq!(created_b, run(&j, &b).await);

    let ra = run(&j, &a).await;
    assert_eq!((ra.state, ra.lease_token, ra.lease_owner.as_deref()), (RunState::Pending, 0, None));
    assert_eq!(ra.input, json!({"n": 1, "s": "x"}));
    assert_eq!((ra.workflow.as_str(), ra.module_hash.as_str()), ("wf", "hash"));
    assert!(ra.wake_at.is_some_and(|w| w <= Utc::now()));
    let rb = run(&j, &b).await;
    assert_eq!((rb.state, rb.lease_token, rb.lease_owner.as_deref()), (RunState::Running, 1, Some("node/i1/1")));
    assert!(rb.lease_expires_at.is_some_and(|t| t > Utc::now() + chrono::Duration::seconds(20)));

    let listed: Vec<String> = j.list_runs("i1", 10).await.unwrap().into_iter().map(|r| r.key.run_id).collect();
    assert_eq!(listed, ["run-b", "run-a"]);
    assert_eq!(j.list_runs("i1", 1).await.unwrap().len(), 1);
    assert!(j.list_runs("i2", 10).await.unwrap().is_empty());
    assert_eq!(j.get_run(&key("i1", "nope")).await.unwrap(), None);
});

journal_suite!(commits_counts_each_write_transaction_once, |j: SharedJournal, _: TestClock| async move {
    let (a, b) = (key("i1", "run-a"), key("i1", "run-b"));
    let c0 = j.commits();
    j.create_run(&new_run(&a), None).await.unwrap();
    assert_eq!(j.commits(), c0 + 1, "a creation is one commit");
    run(&j, &a).await;
    j.list_runs("i1", 10).await.unwrap();
    assert_eq!(j.commits(), c0 + 1, "reads commit nothing");
    assert!(matches!(j.create_run(&new_run(&a), None).await, Err(JournalError::RunExists(_))));
    // Postgres refuses the insert, so nothing commits; SQLite's batch
    // insert (ON CONFLICT DO NOTHING) commits its write transaction with
    // nothing changed, which counts as a poll that found nothing does.
    let refused = u64::from(j.kind() == "sqlite");
    assert_eq!(j.commits(), c0 + 1 + refused, "a refused creation commits nothing on Postgres, one empty transaction on SQLite");
    let lease = leased(&j, &b, "node/i1/1", TTL).await;
    assert!(j.release_lease(&b, &lease, Duration::ZERO).await.unwrap());
    assert_eq!(j.commits(), c0 + 3 + refused, "a leased creation and a release are a commit each");
});

journal_suite!(query_runs_filters_and_pages, |j: SharedJournal, time: TestClock| async move {
    // Five runs of i1, a moment apart (and two at once: ties are ordered by
    // run id), of two workflows; one run of i2.
    for (id, wf) in [("r1", "wf"), ("r2", "wf2"), ("r3", "wf"), ("r4", "wf2"), ("r5", "wf")] {
        let k = key("i1", id);
        let lease = if id == "r3" { Some(("node/i1/1", TTL)) } else { None };
        j.create_run(&NewRun { workflow: wf.into(), ..new_run(&k) }, lease).await.unwrap();
        if id != "r4" {
            time.advance(Duration::from_millis(5)).await;
        }
    }
    j.create_run(&new_run(&key("i2", "r1")), None).await.unwrap();
    let all: Vec<String> = j.list_runs("i1", 10).await.unwrap().into_iter().map(|r| r.key.run_id).collect();
    assert_eq!(all, ["r5", "r4", "r3", "r2", "r1"]);
    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.key.run_id).collect::<Vec<_>>();
    let q = |limit| RunQuery { limit, ..RunQuery::default() };

    // Pages of two, each after the last run of the page before, cover the
    // listing once, in order.
    let mut paged = Vec::new();
    let mut query = q(2);
    loop {
        let page = j.query_runs("i1", &query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.before = Some((last.created_at, last.key.run_id.clone()));
        let n = page.len();
        paged.extend(ids(page));
        if n < 2 {
            break;
        }
    }
    assert_eq!(paged, all);

    // Filters, alone and together.
    let by_wf = RunQuery { workflow: Some("wf2".into()), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &by_wf).await.unwrap()), ["r4", "r2"]);
    let running = RunQuery { state: Some(RunState::Running), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &running).await.unwrap()), ["r3"]);
    let pending_wf = RunQuery { state: Some(RunState::Pending), workflow: Some("wf".into()), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &pending_wf).await.unwrap()), ["r5", "r1"]);
    let r3 = run(&j, &key("i1", "r3")).await.created_at;
    let since = RunQuery { created_since: Some(r3), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &since).await.unwrap()), ["r5", "r4", "r3"]);
    let until = RunQuery { created_until: Some(r3), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &until).await.unwrap()), ["r2", "r1"]);
    let window = RunQuery { created_since: Some(r3), workflow: Some("wf2".into()), ..q(10) };
    assert_eq!(ids(j.query_runs("i1", &window).await.unwrap()), ["r4"]);
    assert!(j.query_runs("i1", &RunQuery { workflow: Some("nope".into()), ..q(10) }).await.unwrap().is_empty());
    assert_eq!(ids(j.query_runs("i2", &q(10)).await.unwrap()), ["r1"]);
    assert!(j.query_runs("i3", &q(10)).await.unwrap().is_empty());
});

journal_suite!(runs_updated_since_lists_changes_in_order, |j: SharedJournal, time: TestClock| async move {
    let (a, b, c) = (key("i1", "a"), key("i1", "b"), key("i1", "c"));
    j.create_run(&new_run(&key("i2", "a")), None).await.unwrap();
    for k in [&a, &b, &c] {
        j.create_run(&new_run(k), None).await.unwrap();
    }
    let mut mark = epoch_ms(0);
    for k in [&a, &b, &c] {
        mark = mark.max(run(&j, k).await.updated_at + chrono::Duration::milliseconds(1));
    }
    time.advance(Duration::from_millis(50)).await;
    // A signal to b, then a cancel request for a: both change their runs.
    j.send_signal(&b, "go", &json!(1), None).await.unwrap();
    time.advance(Duration::from_millis(5)).await;
    j.request_cancel(&a, CancelKind::Terminate).await.unwrap();
    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.key.run_id).collect::<Vec<_>>();
    assert_eq!(ids(j.runs_updated_since("i1", mark, 10).await.unwrap()), ["b", "a"]);
    assert_eq!(ids(j.runs_updated_since("i1", mark, 1).await.unwrap()), ["b"]);
    let epoch = epoch_ms(0);
    assert_eq!(j.runs_updated_since("i1", epoch, 10).await.unwrap().len(), 3);
    assert_eq!(ids(j.runs_updated_since("i2", epoch, 10).await.unwrap()), ["a"]);
    assert!(j.runs_updated_since("i2", mark, 10).await.unwrap().is_empty());
});

journal_suite!(events_page_reads_a_slice_and_ping_answers, |j: SharedJournal, _: TestClock| async move {
    j.ping().await.unwrap();
    let k = key("i1", "paged");
    let lease = leased(&j, &k, "o1", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease);
    for seq in 1..=5 {
        w.events.push((seq, clock(seq as u64 * 10)));
    }
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    let seqs = |events: Vec<Event>| events.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(j.events_page(&k, 0, 2).await.unwrap()), [1, 2]);
    assert_eq!(seqs(j.events_page(&k, 2, 2).await.unwrap()), [3, 4]);
    assert_eq!(seqs(j.events_page(&k, 4, 10).await.unwrap()), [5]);
    assert!(j.events_page(&k, 5, 10).await.unwrap().is_empty());
    assert_eq!(j.events_page(&k, 1, 1).await.unwrap()[0].body, clock(20));
    assert!(j.events_page(&key("i2", "paged"), 0, 10).await.unwrap().is_empty());
});

journal_suite!(trace_context_round_trips, |j: SharedJournal, _: TestClock| async move {
    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (a, b, c) = (key("i1", "traced"), key("i1", "traced-leased"), key("i1", "untraced"));
    j.create_run(&NewRun { trace_context: Some(TP.into()), ..new_run(&a) }, None).await.unwrap();
    j.create_run(&NewRun { trace_context: Some(TP.into()), ..new_run(&b) }, Some(("node/i1/1", TTL))).await.unwrap();
    j.create_run(&new_run(&c), None).await.unwrap();
    assert_eq!(run(&j, &a).await.trace_context.as_deref(), Some(TP));
    assert_eq!(run(&j, &b).await.trace_context.as_deref(), Some(TP));
    assert_eq!(run(&j, &c).await.trace_context, None);
    // The lease acquisition returns the run as updated, trace context included.
    let (_, acquired) = j.acquire_lease(&a, "node/i1/2", TTL).await.unwrap().expect("free");
    assert_eq!(acquired.trace_context.as_deref(), Some(TP));
    let listed = j.list_runs("i1", 10).await.unwrap();
    assert_eq!(listed.iter().filter(|r| r.trace_context.as_deref() == Some(TP)).count(), 2);
});

journal_suite!(create_run_twice_is_run_exists, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "dup");
    j.create_run(&new_run(&k), None).await.unwrap();
    match j.create_run(&new_run(&k), Some(("o", TTL))).await {
        Err(JournalError::RunExists(got)) => assert_eq!(got, k),
        other => panic!("expected RunExists, got {other:?}"),
    }
});

journal_suite!(instances_sharing_a_run_id_are_isolated, |j: SharedJournal, _: TestClock| async move {
    let (k1, k2) = (key("i1", "same"), key("i2", "same"));
    let l1 = leased(&j, &k1, "o1", TTL).await;
    let l2 = leased(&j, &k2, "o2", TTL).await;
    let mut w = RunWrite::new(k1.clone(), l1);
    w.events.push((1, clock(7)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    // i2's run has its own journal: seq 1 is free there.
    let mut w = RunWrite::new(k2.clone(), l2);
    w.events.push((1, clock(8)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    j.send_signal(&k2, "go", &json!(1), None).await.unwrap();

    assert_eq!(j.load_events(&k1).await.unwrap().iter().map(|e| e.body.clone()).collect::<Vec<_>>(), [clock(7)]);
    assert_eq!(j.load_events(&k2).await.unwrap().iter().map(|e| e.body.clone()).collect::<Vec<_>>(), [clock(8)]);
    assert!(j.inbox(&k1).await.unwrap().is_empty());
    assert_eq!(j.inbox(&k2).await.unwrap().len(), 1);
    assert_eq!((run(&j, &k1).await.wake_gen, run(&j, &k2).await.wake_gen), (0, 1));
    assert_eq!(j.list_runs("i1", 10).await.unwrap().len(), 1);
});

journal_suite!(acquire_lease_is_compare_and_set, |j: SharedJournal, time: TestClock| async move {
    let k = key("i1", "r");
    j.create_run(&new_run(&k), None).await.unwrap();
    let (la, ra) = j.acquire_lease(&k, "a", Duration::from_millis(300)).await.unwrap().expect("free run");
    assert_eq!((la.owner.as_str(), la.token), ("a", 1));
    assert_eq!((ra.state, ra.lease_owner.as_deref()), (RunState::Running, Some("a")));
    assert!(j.acquire_lease(&k, "b", TTL).await.unwrap().is_none(), "lease still held");
    time.advance(Duration::from_millis(450)).await;
    let (lb, rb) = j.acquire_lease(&k, "b", TTL).await.unwrap().expect("expired lease");
    assert_eq!((lb.owner.as_str(), lb.token), ("b", 2));
    assert_eq!(rb.lease_token, 2);

    let mut w = RunWrite::new(k.clone(), lb);
    w.transition = Some(Transition::Complete { output: json!("done") });
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    assert!(j.acquire_lease(&k, "c", TTL).await.unwrap().is_none(), "final runs are not leased");
});

journal_suite!(commit_is_fenced_per_write, |j: SharedJournal, time: TestClock| async move {
    let (x, y) = (key("i1", "x"), key("i1", "y"));
    let stale = leased(&j, &x, "a", Duration::from_millis(100)).await;
    time.advance(Duration::from_millis(200)).await;
    let (fresh, _) = j.acquire_lease(&x, "b", TTL).await.unwrap().expect("expired");
    let ly = leased(&j, &y, "a", TTL).await;

    let mut wx = RunWrite::new(x.clone(), stale.clone());
    wx.events.push((1, clock(1)));
    wx.transition = Some(Transition::Suspend { wake_at: Some(ms_from_now(1000)), seen_wake_gen: 0 });
    let mut wy = RunWrite::new(y.clone(), ly);
    wy.events.push((1, clock(2)));
    assert_eq!(j.commit(&[wx, wy]).await.unwrap(), [false, true]);
    assert!(j.load_events(&x).await.unwrap().is_empty());
    assert_eq!(j.load_events(&y).await.unwrap().len(), 1);
    assert_eq!(run(&j, &x).await.state, RunState::Running);
    assert_eq!(j.next_wake_at("i1", Utc::now()).await.unwrap(), None, "the refused write set no timer");

    // Same owner, older token: still refused.
    let wrong = Lease { owner: "b".into(), token: fresh.token - 1 };
    let mut w = RunWrite::new(x.clone(), wrong);
    w.events.push((1, clock(3)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [false]);
    let mut w = RunWrite::new(x.clone(), fresh);
    w.events.push((1, clock(4)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
});

journal_suite!(commit_appends_events_and_completes, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((1, EventBody::RunStarted { module_hash: "hash".into() }));
    w.events.push((2, EventBody::UuidDrawn { value: "u-1".into() }));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    assert_eq!(run(&j, &k).await.state, RunState::Running, "no transition keeps it running");

    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((3, EventBody::RunCompleted { output: json!({"ok": true}) }));
    w.transition = Some(Transition::Complete { output: json!({"ok": true}) });
    // A later write of the same run in the same batch no longer holds the lease.
    let mut late = RunWrite::new(k.clone(), lease.clone());
    late.events.push((4, clock(1)));
    assert_eq!(j.commit(&[w, late]).await.unwrap(), [true, false]);

    let r = run(&j, &k).await;
    assert_eq!(r.state, RunState::Completed);
    assert_eq!(r.output, Some(json!({"ok": true})));
    assert_eq!((r.lease_owner, r.lease_expires_at, r.wake_at), (None, None, None));
    let events = j.load_events(&k).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(events[1].body, EventBody::UuidDrawn { value: "u-1".into() });
    assert!(events[2].recorded_at <= Utc::now());
    let mut again = RunWrite::new(k.clone(), lease);
    again.events.push((4, clock(1)));
    assert_eq!(j.commit(&[again]).await.unwrap(), [false]);
});

journal_suite!(floats_in_outputs_and_events_read_back_bit_for_bit, |j: SharedJournal, _: TestClock| async move {
    // A JavaScript guest's Math.random() drew this value; a best-effort
    // float parser reads its text back one ulp off, and a replayed run then
    // compares unequal with what it printed. Both stores keep every bit.
    let drawn: Vec<f64> = ["0.24166114255785942", "0.1", "2.2250738585072014e-308", "1.7976931348623157e308", "0.30000000000000004", "-5e-324"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let output = json!({ "random": drawn });
    let k = key("i1", "floats");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.events.push((1, EventBody::RunStarted { module_hash: "hash".into() }));
    w.events.push((2, EventBody::RunCompleted { output: output.clone() }));
    w.transition = Some(Transition::Complete { output: output.clone() });
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    let bits = |v: &serde_json::Value| -> Vec<u64> { v["random"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap().to_bits()).collect() };
    let want: Vec<u64> = drawn.iter().map(|x| x.to_bits()).collect();
    assert_eq!(bits(&run(&j, &k).await.output.unwrap()), want, "the run's output");
    match &j.load_events(&k).await.unwrap()[1].body {
        EventBody::RunCompleted { output } => assert_eq!(bits(output), want, "the journaled event"),
        other => panic!("not the completion: {other:?}"),
    }
});

journal_suite!(commit_fail_and_drift_store_the_error, |j: SharedJournal, _: TestClock| async move {
    let (f, d) = (key("i1", "f"), key("i1", "d"));
    let lf = leased(&j, &f, "a", TTL).await;
    let ld = leased(&j, &d, "a", TTL).await;
    let mut wf = RunWrite::new(f.clone(), lf);
    wf.transition = Some(Transition::Fail { error: crate::RunError::new("boom", "m").into_value() });
    let mut wd = RunWrite::new(d.clone(), ld);
    wd.transition = Some(Transition::Drift { error: crate::RunError::new("replay_drift", "m").into_value() });
    assert_eq!(j.commit(&[wf, wd]).await.unwrap(), [true, true]);
    let (rf, rd) = (run(&j, &f).await, run(&j, &d).await);
    assert_eq!((rf.state, rf.error), (RunState::Failed, Some(json!({"code": "boom", "message": "m"}))));
    assert_eq!(rd.state, RunState::Drifted);
    assert_eq!(rd.error.unwrap()["code"], "replay_drift");
});

journal_suite!(suspend_sets_wake_at_unless_wake_gen_moved, |j: SharedJournal, _: TestClock| async move {
    let (quiet, signalled) = (key("i1", "quiet"), key("i1", "signalled"));
    let lq = leased(&j, &quiet, "a", TTL).await;
    let ls = leased(&j, &signalled, "a", TTL).await;
    j.send_signal(&signalled, "s", &json!(null), None).await.unwrap();
    let later = ms_from_now(3_600_000);
    let mut wq = RunWrite::new(quiet.clone(), lq);
    wq.transition = Some(Transition::Suspend { wake_at: Some(later), seen_wake_gen: 0 });
    let mut ws = RunWrite::new(signalled.clone(), ls);
    ws.transition = Some(Transition::Suspend { wake_at: Some(later), seen_wake_gen: 0 });
    assert_eq!(j.commit(&[wq, ws]).await.unwrap(), [true, true]);

    let rq = run(&j, &quiet).await;
    assert_eq!((rq.state, rq.wake_at, rq.lease_owner), (RunState::Suspended, Some(later), None));
    let rs = run(&j, &signalled).await;
    assert_eq!(rs.state, RunState::Suspended);
    assert!(rs.wake_at.is_some_and(|w| w <= Utc::now()), "wake_gen moved: due at once, got {:?}", rs.wake_at);
    let ready = j.find_ready_runs("i1", Utc::now(), 10).await.unwrap();
    assert_eq!(ready, [signalled]);
});

journal_suite!(cancel_drops_pending_timers_and_tasks, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((1, clock(1)));
    w.tasks.push(task(2, "act", None, 0));
    w.transition = Some(Transition::Suspend { wake_at: Some(ms_from_now(3_600_000)), seen_wake_gen: 0 });
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    assert!(j.next_wake_at("i1", Utc::now()).await.unwrap().is_some());
    let (lease, _) = j.acquire_lease(&k, "b", TTL).await.unwrap().expect("the waiting run can be leased");

    let mut w = RunWrite::new(k.clone(), lease);
    w.events.push((2, EventBody::RunCancelled { reason: "asked".into() }));
    w.transition = Some(Transition::Cancel { error: crate::RunError::new("cancelled", "asked").into_value() });
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    let r = run(&j, &k).await;
    assert_eq!((r.state, r.error.unwrap()["code"].clone()), (RunState::Cancelled, json!("cancelled")));
    assert_eq!(j.next_wake_at("i1", Utc::now()).await.unwrap(), None, "its timer is dropped");
    let claimed = j.claim_tasks("i1", &["default".into()], &["act".into()], "w", TTL, 10).await.unwrap();
    assert!(claimed.is_empty());
});

journal_suite!(duplicate_seq_fails_the_whole_batch, |j: SharedJournal, _: TestClock| async move {
    let (a, b) = (key("i1", "a"), key("i1", "b"));
    let la = leased(&j, &a, "o", TTL).await;
    let lb = leased(&j, &b, "o", TTL).await;
    let mut w = RunWrite::new(a.clone(), la.clone());
    w.events.push((1, clock(1)));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);

    let mut wb = RunWrite::new(b.clone(), lb);
    wb.events.push((1, clock(2)));
    wb.transition = Some(Transition::Suspend { wake_at: Some(ms_from_now(1000)), seen_wake_gen: 0 });
    let mut wa = RunWrite::new(a.clone(), la);
    wa.events.push((1, clock(3)));
    assert!(j.commit(&[wb, wa]).await.is_err(), "seq 1 of run a exists");
    assert!(j.load_events(&b).await.unwrap().is_empty());
    assert_eq!(run(&j, &b).await.state, RunState::Running);
    assert_eq!(j.next_wake_at("i1", Utc::now()).await.unwrap(), None);
    assert_eq!(j.load_events(&a).await.unwrap()[0].body, clock(1));
});

journal_suite!(signals_are_kept_in_order_and_consumed, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    match j.send_signal(&k, "s", &json!(1), None).await {
        Err(JournalError::UnknownRun(got)) => assert_eq!(got, k),
        other => panic!("expected UnknownRun, got {other:?}"),
    }
    let lease = leased(&j, &k, "a", TTL).await;
    let mut ids = Vec::new();
    for (name, n) in [("b", 1), ("a", 2), ("b", 3)] {
        let sent = j.send_signal(&k, name, &json!({"n": n}), None).await.unwrap();
        assert_eq!(sent.workflow, "wf", "the run's workflow, for the event");
        ids.push(sent.id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    let inbox = j.inbox(&k).await.unwrap();
    assert_eq!(inbox.iter().map(|s| (s.id, s.name.as_str())).collect::<Vec<_>>(), [(ids[0], "b"), (ids[1], "a"), (ids[2], "b")]);
    assert_eq!(inbox[2].payload, json!({"n": 3}));
    let r = run(&j, &k).await;
    assert_eq!(r.wake_gen, 3);

    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((1, EventBody::SignalReceived { op: 1, name: "a".into(), payload: json!({"n": 2}), signal_id: ids[1], update_id: None }));
    w.consumed_signals.push(ids[1]);
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    assert_eq!(j.inbox(&k).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [ids[0], ids[2]]);

    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Complete { output: json!(null) });
    j.commit(&[w]).await.unwrap();
    match j.send_signal(&k, "s", &json!(1), None).await {
        Err(JournalError::RunFinished { key, state }) => assert_eq!((key, state), (k, RunState::Completed)),
        other => panic!("expected RunFinished, got {other:?}"),
    }
});

journal_suite!(a_keyed_signal_is_delivered_once, |j: SharedJournal, _: TestClock| async move {
    let (k, other) = (key("i1", "r"), key("i1", "other"));
    let lease = leased(&j, &k, "a", TTL).await;
    leased(&j, &other, "a", TTL).await;
    let first = j.send_signal(&k, "pay", &json!({"amount": 5, "to": "x"}), Some("req-1")).await.unwrap();
    assert!(!first.duplicate);
    // Resent (keys in another order): the first one, nothing added.
    let again = j.send_signal(&k, "pay", &json!({"to": "x", "amount": 5}), Some("req-1")).await.unwrap();
    assert_eq!((again.id, again.duplicate, again.workflow.as_str()), (first.id, true, "wf"));
    assert_eq!(j.inbox(&k).await.unwrap().len(), 1);
    assert_eq!(run(&j, &k).await.wake_gen, 1, "a duplicate wakes nobody");
    // The same key with another name or payload is refused.
    for (name, payload, needle) in [("refund", json!({"amount": 5, "to": "x"}), "named `pay`"), ("pay", json!({"amount": 6, "to": "x"}), "another payload")] {
        match j.send_signal(&k, name, &payload, Some("req-1")).await {
            Err(e @ JournalError::SignalKeyConflict { .. }) => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("expected SignalKeyConflict, got {other:?}"),
        }
    }
    // Keys are per run; another key or none sends again.
    assert!(!j.send_signal(&other, "pay", &json!(1), Some("req-1")).await.unwrap().duplicate);
    assert!(!j.send_signal(&k, "pay", &json!({"amount": 5, "to": "x"}), Some("req-2")).await.unwrap().duplicate);
    assert!(!j.send_signal(&k, "pay", &json!({"amount": 5, "to": "x"}), None).await.unwrap().duplicate);
    assert!(!j.send_signal(&k, "pay", &json!({"amount": 5, "to": "x"}), None).await.unwrap().duplicate);
    assert_eq!(j.inbox(&k).await.unwrap().len(), 4);
    // Once the run finished, a resend is still the duplicate it is; a new
    // key is refused as before.
    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Complete { output: json!(null) });
    j.commit(&[w]).await.unwrap();
    assert!(j.send_signal(&k, "pay", &json!({"amount": 5, "to": "x"}), Some("req-1")).await.unwrap().duplicate);
    assert!(matches!(j.send_signal(&k, "pay", &json!(1), Some("req-3")).await, Err(JournalError::RunFinished { .. })));
});

journal_suite!(signal_makes_a_suspended_run_due, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Suspend { wake_at: None, seen_wake_gen: 0 });
    j.commit(&[w]).await.unwrap();
    assert_eq!(run(&j, &k).await.wake_at, None);
    assert!(j.find_ready_runs("i1", Utc::now(), 10).await.unwrap().is_empty());
    j.send_signal(&k, "go", &json!(true), None).await.unwrap();
    let r = run(&j, &k).await;
    assert!(r.wake_at.is_some_and(|w| w <= Utc::now()));
    assert_eq!(j.find_ready_runs("i1", Utc::now(), 10).await.unwrap(), [k]);
});

journal_suite!(request_cancel_records_the_request, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    assert!(matches!(j.request_cancel(&k, CancelKind::Terminate).await, Err(JournalError::UnknownRun(_))));
    let lease = leased(&j, &k, "a", TTL).await;
    assert_eq!(j.request_cancel(&k, CancelKind::Terminate).await.unwrap(), CancelRequest::Requested);
    let r = run(&j, &k).await;
    let first = r.cancel_requested_at.expect("recorded");
    assert_eq!(r.wake_gen, 1);
    assert_eq!(j.request_cancel(&k, CancelKind::Terminate).await.unwrap(), CancelRequest::Requested);
    let r = run(&j, &k).await;
    assert_eq!((r.cancel_requested_at, r.wake_gen), (Some(first), 2), "the first request time is kept");

    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Cancel { error: crate::RunError::new("cancelled", "m").into_value() });
    j.commit(&[w]).await.unwrap();
    assert_eq!(j.request_cancel(&k, CancelKind::Terminate).await.unwrap(), CancelRequest::AlreadyFinal(RunState::Cancelled));
});

journal_suite!(a_graceful_cancel_is_its_own_request_and_drops_pending_tasks, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "g");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.tasks.push(task(0, "slow", None, 0));
    w.tasks.push(task(1, "other", None, 0));
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    // Op 1's task is claimed (running on a worker): it goes on.
    let claimed = j.claim_tasks("i1", &["default".to_string()], &["other".to_string()], "w/i1/1", TTL, 5).await.unwrap();
    assert_eq!(claimed.len(), 1);

    assert_eq!(j.request_cancel(&k, CancelKind::Graceful).await.unwrap(), CancelRequest::Requested);
    let r = run(&j, &k).await;
    assert!(r.graceful_cancel_at.is_some() && r.cancel_requested_at.is_none(), "{r:?}");
    let renewed = j.renew_leases(&[(k.clone(), lease.clone())], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: false, graceful_cancel: true, paused: false }]);

    // Delivered: both operations complete as cancelled; the pending task
    // is dropped, the claimed one kept.
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.events.push((1, EventBody::CancelDelivered { reason: "r".into(), deadline_ms: 1 }));
    w.events.push((2, EventBody::OperationCancelled { op: 0 }));
    w.events.push((3, EventBody::OperationCancelled { op: 1 }));
    w.dropped_tasks = vec![0, 1];
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    let kinds: Vec<&str> = j.load_events(&k).await.unwrap().iter().map(|e| e.body.kind()).collect::<Vec<_>>().into_iter().collect();
    assert_eq!(kinds, ["cancel_delivered", "operation_cancelled", "operation_cancelled"]);
    assert!(j.claim_tasks("i1", &["default".to_string()], &["slow".to_string()], "w/i1/2", TTL, 5).await.unwrap().is_empty(), "the pending task was dropped");
    assert!(j.renew_task_claim(&k, 1, claimed[0].claim_token, TTL).await.unwrap(), "the claimed task goes on");

    // A termination besides: both requests stand, told apart.
    assert_eq!(j.request_cancel(&k, CancelKind::Terminate).await.unwrap(), CancelRequest::Requested);
    let renewed = j.renew_leases(&[(k.clone(), lease)], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: true, graceful_cancel: true, paused: false }]);
});

journal_suite!(timers_fall_due_at_their_runs_wake_at, |j: SharedJournal, _: TestClock| async move {
    // A run suspended on timers waits until its earliest one: the
    // dispatcher sleeps until the instance's next wake-up and claims it.
    let (k, due) = (key("i1", "r"), key("i1", "due"));
    let (soon, later) = (ms_from_now(-1000), ms_from_now(3_600_000));
    for (run_key, at) in [(&k, later), (&due, soon)] {
        let lease = leased(&j, run_key, "a", TTL).await;
        let mut w = RunWrite::new(run_key.clone(), lease);
        w.transition = Some(Transition::Suspend { wake_at: Some(at), seen_wake_gen: 0 });
        j.commit(&[w]).await.unwrap();
    }
    assert_eq!(j.next_wake_at("i1", Utc::now()).await.unwrap(), Some(later), "the next one still to come");
    assert_eq!(j.next_wake_at("i1", soon - chrono::Duration::seconds(1)).await.unwrap(), Some(soon));
    assert_eq!(j.next_wake_at("i2", Utc::now()).await.unwrap(), None);
    assert_eq!(j.find_ready_runs("i1", Utc::now(), 10).await.unwrap(), [due.clone()]);

    assert!(j.claim_runs("i2", &["o/i2/1".to_string()], &[], TTL).await.unwrap().is_empty());
    let claimed = j.claim_runs("i1", &["o/i1/1".to_string(), "o/i1/2".to_string()], &[], TTL).await.unwrap();
    assert_eq!(claimed.iter().map(|(_, r)| r.key.clone()).collect::<Vec<_>>(), [due.clone()], "fired once, when due");
    assert!(j.claim_runs("i1", &["o/i1/3".to_string()], &[], TTL).await.unwrap().is_empty());
    assert_eq!(j.next_wake_at("i1", Utc::now()).await.unwrap(), Some(later));
    // At its time the timer is due (and the lease of the run claimed above is over).
    assert_eq!(j.find_ready_runs("i1", later, 10).await.unwrap(), [due, k]);
});

journal_suite!(claim_runs_takes_due_runs_in_batches, |j: SharedJournal, _: TestClock| async move {
    let ids = ["a", "b", "c", "d"];
    for id in ids {
        j.create_run(&new_run(&key("i1", id)), None).await.unwrap();
    }
    leased(&j, &key("i1", "live"), "alive", TTL).await;
    j.create_run(&new_run(&key("i2", "other")), None).await.unwrap();
    let owners = |from: u32, n: u32| (from..from + n).map(|i| format!("node/i1/{i}")).collect::<Vec<_>>();

    // Two at most, not the one executing here already.
    let first = j.claim_runs("i1", &owners(1, 2), &["a".to_string()], TTL).await.unwrap();
    assert_eq!(first.len(), 2);
    for (i, (lease, run)) in first.iter().enumerate() {
        assert_eq!(lease.owner, format!("node/i1/{}", i + 1), "each run has an owner of its own");
        assert_eq!((lease.token, run.lease_token), (1, 1));
        assert_eq!((run.state, run.lease_owner.as_deref()), (RunState::Running, Some(lease.owner.as_str())));
        assert!(run.lease_expires_at.is_some_and(|t| t > Utc::now() + chrono::Duration::seconds(20)));
        assert_eq!(run.key.instance, "i1");
        assert_ne!(run.key.run_id, "a");
        assert_eq!(*run, self::run(&j, &run.key).await, "the run as updated");
    }
    let rest = j.claim_runs("i1", &owners(3, 5), &[], TTL).await.unwrap();
    let mut claimed: Vec<String> = first.iter().chain(&rest).map(|(_, r)| r.key.run_id.clone()).collect();
    claimed.sort();
    assert_eq!(claimed, ids, "every due run once; the live lease is not taken");
    assert!(j.claim_runs("i1", &owners(8, 5), &[], TTL).await.unwrap().is_empty());
    assert!(j.claim_runs("i1", &[], &[], TTL).await.unwrap().is_empty());
});

journal_suite!(claim_runs_takes_every_kind_of_due_run_oldest_first, |j: SharedJournal, _: TestClock| async move {
    // Pending runs, oldest first, more of them than one claim takes.
    let pending: Vec<RunKey> = (0..6).map(|i| key("i1", &format!("p{i}"))).collect();
    for k in &pending {
        j.create_run(&new_run(k), None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // A run whose lease expired, and one suspended that is due now.
    leased(&j, &key("i1", "expired"), "gone", Duration::from_millis(1)).await;
    let lease = leased(&j, &key("i1", "woken"), "here", TTL).await;
    assert!(j.release_lease(&key("i1", "woken"), &lease, Duration::ZERO).await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let owners = |from: u32, n: u32| (from..from + n).map(|i| format!("node/i1/{i}")).collect::<Vec<_>>();

    let first = j.claim_runs("i1", &owners(1, 2), &[], TTL).await.unwrap();
    let ids = |c: &[(Lease, RunRecord)]| c.iter().map(|(_, r)| r.key.run_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["p0", "p1"], "the oldest due runs first");
    let mut rest = ids(&j.claim_runs("i1", &owners(3, 20), &["p5".to_string()], TTL).await.unwrap());
    rest.sort();
    assert_eq!(rest, ["expired", "p2", "p3", "p4", "woken"], "every kind, not the excluded one");
    assert_eq!(ids(&j.claim_runs("i1", &owners(30, 20), &[], TTL).await.unwrap()), ["p5"]);
});

journal_suite!(expired_runs_are_the_running_runs_whose_lease_expired, |j: SharedJournal, _: TestClock| async move {
    let (dead, live, pending) = (key("i1", "dead"), key("i1", "live"), key("i1", "pending"));
    leased(&j, &dead, "gone", Duration::from_millis(1)).await;
    leased(&j, &live, "alive", TTL).await;
    j.create_run(&new_run(&pending), None).await.unwrap();
    let later = Utc::now() + chrono::Duration::seconds(1);
    let expired = j.expired_runs("i1", later, 10).await.unwrap();
    assert_eq!(expired.iter().map(|r| (r.key.clone(), r.lease_owner.as_deref())).collect::<Vec<_>>(), [(dead.clone(), Some("gone"))]);
    assert!(j.expired_runs("i2", later, 10).await.unwrap().is_empty());
    assert_eq!(j.expired_runs("i1", later + chrono::Duration::hours(1), 10).await.unwrap().len(), 2);
    assert_eq!(j.expired_runs("i1", later + chrono::Duration::hours(1), 1).await.unwrap().len(), 1);
});

journal_suite!(activity_tasks_claim_complete_and_journal, |j: SharedJournal, time: TestClock| async move {
    let k = key("i1", "r");
    let lease = leased(&j, &k, "a", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.tasks = vec![task(1, "act", None, 0), task(2, "act", Some("default"), 5), task(3, "act", Some("other"), 9), task(4, "other-act", None, 9)];
    j.commit(&[w]).await.unwrap();
    let (queues, names) = (vec!["default".to_string()], vec!["act".to_string()]);
    let short = Duration::from_millis(300);

    let claimed = j.claim_tasks("i1", &queues, &names, "w1", short, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|t| (t.op, t.claim_token)).collect::<Vec<_>>(), [(2, 1), (1, 1)], "priority first");
    assert_eq!((claimed[1].key.clone(), claimed[1].name.as_str(), claimed[1].input.clone()), (k.clone(), "act", json!({"op": 1})));
    assert_eq!(claimed[0].options.priority, 5);
    assert!(j.claim_tasks("i1", &queues, &names, "w2", TTL, 10).await.unwrap().is_empty(), "claimed");
    assert!(j.claim_tasks("i2", &queues, &names, "w2", TTL, 10).await.unwrap().is_empty());

    let done = TaskOutcome::Completed { output: json!({"v": 1}), attempts: 2 };
    assert!(!j.complete_task(&k, 1, 0, &done).await.unwrap(), "stale claim token");
    assert!(j.task_outcomes(&k).await.unwrap().is_empty());
    assert!(j.complete_task(&k, 1, 1, &done).await.unwrap());
    assert!(!j.complete_task(&k, 1, 1, &done).await.unwrap(), "completed once");
    assert_eq!(run(&j, &k).await.wake_gen, 1);

    time.advance(Duration::from_millis(450)).await;
    let reclaimed = j.claim_tasks("i1", &queues, &names, "w2", TTL, 10).await.unwrap();
    assert_eq!(reclaimed.iter().map(|t| (t.op, t.claim_token)).collect::<Vec<_>>(), [(2, 2)], "expired claim");
    let failed = TaskOutcome::Failed(Failure::new(FailureKind::TimedOut, "slow", 3));
    assert!(!j.complete_task(&k, 2, 1, &failed).await.unwrap(), "the first claim moved");
    assert!(j.complete_task(&k, 2, 2, &failed).await.unwrap());
    assert_eq!(j.task_outcomes(&k).await.unwrap(), [(1, done), (2, failed.clone())]);

    let mut w = RunWrite::new(k.clone(), lease);
    w.events.push((1, EventBody::ActivityCompleted { op: 1, output: json!({"v": 1}), attempts: 2 }));
    j.commit(&[w]).await.unwrap();
    assert_eq!(j.task_outcomes(&k).await.unwrap(), [(2, failed)], "op 1 is journaled");
    let other = j.claim_tasks("i1", &["other".into(), "default".into()], &["act".into(), "other-act".into()], "w3", TTL, 1).await.unwrap();
    assert_eq!(other.len(), 1, "limit");
    assert!([3, 4].contains(&other[0].op));
});

journal_suite!(renew_and_release_leases, |j: SharedJournal, time: TestClock| async move {
    let (a, b) = (key("i1", "a"), key("i1", "b"));
    let la = leased(&j, &a, "o", Duration::from_millis(300)).await;
    let lb = leased(&j, &b, "o", TTL).await;
    let wrong = Lease { owner: "o".into(), token: lb.token + 1 };
    let renewed = j.renew_leases(&[(a.clone(), la.clone()), (b.clone(), wrong.clone())], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: false, graceful_cancel: false, paused: false }, Renewal::Lost]);
    j.request_cancel(&b, CancelKind::Terminate).await.unwrap();
    let renewed = j.renew_leases(&[(a.clone(), la.clone()), (b.clone(), lb.clone())], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: false, graceful_cancel: false, paused: false }, Renewal::Renewed { cancel_requested: true, graceful_cancel: false, paused: false }], "a cancellation request is reported to the lease holder");
    time.advance(Duration::from_millis(450)).await;
    assert!(j.acquire_lease(&a, "thief", TTL).await.unwrap().is_none(), "renewed past the first ttl");

    assert!(!j.release_lease(&b, &wrong, Duration::ZERO).await.unwrap());
    assert!(j.release_lease(&a, &la, Duration::ZERO).await.unwrap());
    let r = run(&j, &a).await;
    assert_eq!((r.state, r.lease_owner, r.lease_expires_at), (RunState::Suspended, None, None));
    assert!(r.wake_at.is_some_and(|w| w <= time.now()));
    assert_eq!(j.find_ready_runs("i1", time.now(), 10).await.unwrap(), std::slice::from_ref(&a));
    assert_eq!(j.renew_leases(&[(a.clone(), la.clone())], TTL).await.unwrap(), [Renewal::Lost]);
    assert!(!j.release_lease(&a, &la, Duration::ZERO).await.unwrap(), "released once");
    assert!(j.renew_leases(&[], TTL).await.unwrap().is_empty());

    // A release with a delay (a deferred activation): due only after it.
    // (b is still held under `lb`: the release with a wrong token failed.)
    assert!(j.release_lease(&b, &lb, Duration::from_secs(60)).await.unwrap());
    let r = run(&j, &b).await;
    assert_eq!((r.state, r.lease_owner), (RunState::Suspended, None));
    assert!(r.wake_at.is_some_and(|w| w > time.now() + chrono::Duration::seconds(50)), "{:?}", r.wake_at);
    assert_eq!(j.find_ready_runs("i1", time.now(), 10).await.unwrap(), std::slice::from_ref(&a), "b is not due yet");
});

journal_suite!(find_ready_runs_picks_due_and_abandoned_runs, |j: SharedJournal, time: TestClock| async move {
    let pending = key("i1", "pending");
    let abandoned = key("i1", "abandoned");
    let live = key("i1", "live");
    let waiting = key("i1", "waiting");
    j.create_run(&new_run(&pending), None).await.unwrap();
    leased(&j, &abandoned, "dead", Duration::from_millis(1)).await;
    leased(&j, &live, "alive", TTL).await;
    let lw = leased(&j, &waiting, "alive", TTL).await;
    let mut w = RunWrite::new(waiting.clone(), lw);
    w.transition = Some(Transition::Suspend { wake_at: Some(ms_from_now(3_600_000)), seen_wake_gen: 0 });
    j.commit(&[w]).await.unwrap();
    j.create_run(&new_run(&key("i2", "pending")), None).await.unwrap();
    time.advance(Duration::from_millis(50)).await;

    let mut ready = j.find_ready_runs("i1", time.now(), 10).await.unwrap();
    ready.sort();
    assert_eq!(ready, [abandoned, pending]);
    assert_eq!(j.find_ready_runs("i1", time.now(), 1).await.unwrap().len(), 1);
    assert!(j.find_ready_runs("i1", time.now() - chrono::Duration::hours(1), 10).await.unwrap().is_empty());
    assert_eq!(j.find_ready_runs("i1", time.now() + chrono::Duration::hours(2), 10).await.unwrap().len(), 4, "in two hours every lease and wait is over");
});

journal_suite!(listen_receives_wake_ups_of_its_instance, |j: SharedJournal, _: TestClock| async move {
    let (k1, k2) = (key("i1", "r"), key("i2", "r"));
    let lease = leased(&j, &k1, "a", TTL).await;
    leased(&j, &k2, "a", TTL).await;
    let mut wakes = j.listen("i1").await.unwrap();
    j.send_signal(&k2, "s", &json!(1), None).await.unwrap();
    j.send_signal(&k1, "s", &json!(1), None).await.unwrap();
    assert_eq!(next_wake(&mut wakes).await, Some(Wake { instance: "i1".into(), run_id: "r".into(), kind: WakeKind::Run }));
    j.request_cancel(&k1, CancelKind::Terminate).await.unwrap();
    assert_eq!(next_wake(&mut wakes).await.map(|w| w.kind), Some(WakeKind::Cancel));
    let mut w = RunWrite::new(k1.clone(), lease);
    w.tasks.push(task(1, "act", None, 0));
    j.commit(&[w]).await.unwrap();
    assert_eq!(next_wake(&mut wakes).await, Some(Wake { instance: "i1".into(), run_id: String::new(), kind: WakeKind::Task }));
});

journal_suite!(module_versions_heads_and_migration, |j: SharedJournal, _: TestClock| async move {
    j.put_module("a", "wf", "h1", b"one", Publish::MakeCurrent).await.unwrap();
    j.put_module("a", "wf", "h2", b"two", Publish::Store).await.unwrap();
    j.put_module("b", "wf", "h9", b"nine", Publish::MakeCurrent).await.unwrap();
    assert_eq!(j.current_modules("a").await.unwrap(), vec![("wf".to_string(), "h1".to_string())]);
    assert_eq!(j.get_module("a", "h2").await.unwrap().map(|m| m.bytes), Some(b"two".to_vec()));
    assert!(j.get_module("b", "h1").await.unwrap().is_none(), "versions are per instance");
    // Storing a known hash again is a no-op that may change the head.
    j.put_module("a", "wf", "h2", b"two", Publish::MakeCurrent).await.unwrap();
    assert_eq!(j.current_modules("a").await.unwrap()[0].1, "h2");
    // Every version is listed, by workflow, oldest first; per instance.
    j.put_module("a", "aa", "h5", b"five", Publish::Store).await.unwrap();
    let versions: Vec<(String, String)> = j.module_versions("a").await.unwrap().into_iter().map(|(w, h, _)| (w, h)).collect();
    assert_eq!(versions, [("aa".into(), "h5".into()), ("wf".into(), "h1".into()), ("wf".into(), "h2".into())]);
    assert!(j.module_versions("a").await.unwrap().iter().all(|(_, _, at)| *at <= Utc::now() + chrono::Duration::seconds(5)));
    assert_eq!(j.module_versions("b").await.unwrap().len(), 1);
    assert!(j.module_versions("c").await.unwrap().is_empty());

    // Migration moves unfinished runs of the workflow, all or the listed ones.
    let (r1, r2) = (key("a", "r1"), key("a", "r2"));
    j.create_run(&new_run(&r1), None).await.unwrap();
    j.create_run(&new_run(&r2), None).await.unwrap();
    assert_eq!(j.migrate_runs("a", "wf", &["r2".to_string()], "h2").await.unwrap(), 1);
    assert_eq!(run(&j, &r1).await.module_hash, "hash");
    assert_eq!(run(&j, &r2).await.module_hash, "h2");
    assert_eq!(j.migrate_runs("a", "wf", &[], "h1").await.unwrap(), 2);
    assert_eq!(j.migrate_runs("a", "other", &[], "h1").await.unwrap(), 0);
});

mod checked_migration;
mod child_runs;
mod run_attributes;
mod continued_runs;
mod instance_fence;
mod activity_workers;
mod schedules;
mod run_control;
mod updates;

journal_suite!(a_parked_run_wakes_when_its_version_is_deployed, |j: SharedJournal, _: TestClock| async move {
    let k = key("a", "parked");
    let lease = leased(&j, &k, "n/a/1", Duration::from_secs(30)).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Park { error: crate::RunError::new("module_version_unknown", "gone").into_value(), seen_wake_gen: 0 });
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let r = run(&j, &k).await;
    assert_eq!((r.state, r.wake_at, r.lease_owner), (RunState::Suspended, None, None));
    assert_eq!(r.error.unwrap()["code"], "module_version_unknown");
    assert!(j.find_ready_runs("a", Utc::now(), 10).await.unwrap().is_empty(), "parked runs are not due");
    j.put_module("a", "wf", "hash", b"bytes", Publish::Store).await.unwrap();
    assert_eq!(j.find_ready_runs("a", Utc::now() + chrono::Duration::seconds(1), 10).await.unwrap(), vec![k]);
});

journal_suite!(snapshots_replace_only_forward_and_load_with_the_tail, |j: SharedJournal, _: TestClock| async move {
    let k = key("a", "long");
    let lease = leased(&j, &k, "n/a/1", Duration::from_secs(30)).await;
    let mut w = RunWrite::new(k.clone(), lease);
    for seq in 1..=5 {
        w.events.push((seq, EventBody::RandomDrawn { value: seq as u64 }));
    }
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let all = j.load_events(&k).await.unwrap();
    let snap = crate::journal::make_snapshot(&all[..3]).unwrap();
    j.put_snapshot(&k, &snap).await.unwrap();
    // An older snapshot never replaces a newer one.
    j.put_snapshot(&k, &crate::journal::make_snapshot(&all[..2]).unwrap()).await.unwrap();
    assert_eq!(j.get_snapshot(&k).await.unwrap().map(|s| s.upto_seq), Some(3));
    assert_eq!(j.load_events_after(&k, 3).await.unwrap().len(), 2);
    let h = crate::journal::load_history(&j, &k).await.unwrap();
    assert_eq!((h.snapshot_upto, h.events.len()), (3, 5));
    assert_eq!(h.events, all, "snapshot + tail is the journal");
});

journal_suite!(idempotent_results_first_one_wins, |j: SharedJournal, _: TestClock| async move {
    assert_eq!(j.idempotent_result("a", "k").await.unwrap(), None);
    j.put_idempotent_result("a", "k", "charge", &json!({"id": 1})).await.unwrap();
    j.put_idempotent_result("a", "k", "charge", &json!({"id": 2})).await.unwrap();
    assert_eq!(j.idempotent_result("a", "k").await.unwrap(), Some(("charge".to_string(), json!({"id": 1}))));
    assert_eq!(j.idempotent_result("b", "k").await.unwrap(), None, "keys are per instance");
});

journal_suite!(task_claims_renew_only_while_held, |j: SharedJournal, time: TestClock| async move {
    let k = key("a", "tasked");
    let lease = leased(&j, &k, "n/a/1", Duration::from_secs(30)).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.tasks.push(NewActivityTask::new(0, "act", json!(1), Default::default()));
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let claimed = j.claim_tasks("a", &["default".to_string()], &["act".to_string()], "w/a/1", Duration::from_millis(200), 5).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let token = claimed[0].claim_token;
    assert!(j.renew_task_claim(&k, 0, token, Duration::from_secs(30)).await.unwrap());
    assert!(!j.renew_task_claim(&k, 0, token + 1, Duration::from_secs(30)).await.unwrap(), "a stale claim token");
    time.advance(Duration::from_millis(300)).await;
    // Renewed: not reclaimable although the first ttl passed.
    assert!(j.claim_tasks("a", &["default".to_string()], &["act".to_string()], "w/a/2", Duration::from_secs(1), 5).await.unwrap().is_empty());
});

journal_suite!(activity_heartbeats_keep_the_latest_details_per_call, |j: SharedJournal, _: TestClock| async move {
    let (a, b) = (key("i1", "a"), key("i1", "b"));
    assert!(j.heartbeats(&a).await.unwrap().is_empty());
    j.record_heartbeat(&a, 2, 1, &json!({"done": 1})).await.unwrap();
    j.record_heartbeat(&a, 2, 1, &json!({"done": 2})).await.unwrap();
    j.record_heartbeat(&a, 0, 3, &json!("x")).await.unwrap();
    j.record_heartbeat(&b, 2, 1, &json!(null)).await.unwrap();
    let beats = j.heartbeats(&a).await.unwrap();
    assert_eq!(
        beats.iter().map(|h| (h.op, h.attempt, h.details.clone())).collect::<Vec<_>>(),
        [(0, 3, json!("x")), (2, 1, json!({"done": 2}))],
        "the latest details of each call, by op"
    );
    assert!(beats.iter().all(|h| (Utc::now() - h.recorded_at).num_seconds().abs() < 60));
    j.record_heartbeat(&a, 2, 2, &json!({"done": 5})).await.unwrap();
    j.clear_heartbeat(&a, 0).await.unwrap();
    j.clear_heartbeat(&a, 9).await.unwrap();
    let beats = j.heartbeats(&a).await.unwrap();
    assert_eq!(beats.iter().map(|h| (h.op, h.attempt, h.details.clone())).collect::<Vec<_>>(), [(2, 2, json!({"done": 5}))]);
    assert_eq!(j.heartbeats(&b).await.unwrap().len(), 1, "other runs untouched");
});

journal_suite!(create_runs_inserts_a_batch_once_per_key, |j: SharedJournal, _: TestClock| async move {
    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (old, a, b) = (key("i1", "old"), key("i1", "a"), key("i1", "b"));
    j.create_run(&new_run(&old), None).await.unwrap();
    let mut wakes = j.listen("i1").await.unwrap();
    let batch = vec![
        (new_run(&a), None),
        (NewRun { trace_context: Some(TP.into()), ..new_run(&b) }, Some(("node/i1/7".to_string(), TTL))),
        (new_run(&old), None),
        (new_run(&a), Some(("node/i1/8".to_string(), TTL))),
    ];
    let created = j.create_runs(&batch).await.unwrap();
    assert_eq!(created.iter().map(Option::is_some).collect::<Vec<_>>(), [true, true, false, false], "a taken key, and a key given twice");
    let ra = run(&j, &a).await;
    assert_eq!(created[0], Some((ra.clone(), None)), "the run as stored");
    assert_eq!(created[1].as_ref().and_then(|(_, l)| l.clone()), Some(Lease { owner: "node/i1/7".into(), token: 1 }));
    assert_eq!((ra.state, ra.lease_token, ra.lease_owner), (RunState::Pending, 0, None));
    assert!(ra.wake_at.is_some_and(|w| w <= Utc::now()));
    let rb = run(&j, &b).await;
    assert_eq!((rb.state, rb.lease_token, rb.lease_owner.as_deref()), (RunState::Running, 1, Some("node/i1/7")));
    assert!(rb.lease_expires_at.is_some_and(|t| t > Utc::now() + chrono::Duration::seconds(20)));
    assert_eq!(rb.trace_context.as_deref(), Some(TP));
    assert_eq!(rb.input, json!({"n": 1, "s": "x"}));
    // The pending one is announced to the dispatchers.
    let wake = tokio::time::timeout(Duration::from_secs(5), wakes.next()).await.expect("a wake-up").expect("stream open");
    assert_eq!((wake.kind, wake.run_id.as_str()), (WakeKind::Run, "a"));
    assert!(j.create_runs(&[]).await.unwrap().is_empty());
});

journal_suite!(a_manifest_file_published_again_leaves_a_later_deploy_current, |j: SharedJournal, _: TestClock| async move {
    let heads = |j: SharedJournal| async move { j.current_modules("a").await.unwrap() };
    j.put_module("a", "wf", "v1", b"one", Publish::FromManifest).await.unwrap();
    assert_eq!(heads(j.clone()).await, [("wf".to_string(), "v1".to_string())], "the first publication is current");
    j.put_module("a", "wf", "v2", b"two", Publish::MakeCurrent).await.unwrap();
    j.put_module("a", "wf", "v1", b"one", Publish::FromManifest).await.unwrap();
    assert_eq!(heads(j.clone()).await, [("wf".to_string(), "v2".to_string())], "a restart with the same file keeps the deploy");
    j.put_module("a", "wf", "v3", b"three", Publish::FromManifest).await.unwrap();
    assert_eq!(heads(j.clone()).await, [("wf".to_string(), "v3".to_string())], "a changed manifest file is made current");
    assert!(j.get_module("a", "v2").await.unwrap().is_some());
});

journal_suite!(an_expired_task_claim_can_neither_complete_nor_renew, |j: SharedJournal, time: TestClock| async move {
    let k = key("a", "expired");
    let lease = leased(&j, &k, "n/a/1", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease);
    w.tasks = vec![task(0, "act", None, 0), task(1, "act", None, 0)];
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let (queues, names) = (vec!["default".to_string()], vec!["act".to_string()]);
    let claimed = j.claim_tasks("a", &queues, &names, "w/a/1", Duration::from_millis(150), 5).await.unwrap();
    assert_eq!(claimed.len(), 2);
    time.advance(Duration::from_millis(300)).await;
    // Nobody has reclaimed them, yet the claims are expired: the worker
    // that held them can no longer record an outcome or revive the claim.
    let done = TaskOutcome::Completed { output: json!(1), attempts: 1 };
    assert!(!j.complete_task(&k, 0, claimed[0].claim_token, &done).await.unwrap(), "complete after expiry");
    assert!(!j.renew_task_claim(&k, 1, claimed[1].claim_token, TTL).await.unwrap(), "renew after expiry");
    assert!(j.task_outcomes(&k).await.unwrap().is_empty());
    let reclaimed = j.claim_tasks("a", &queues, &names, "w/a/2", TTL, 5).await.unwrap();
    assert_eq!(reclaimed.len(), 2, "both are claimable again");
    assert!(j.complete_task(&k, 0, reclaimed.iter().find(|t| t.op == 0).unwrap().claim_token, &done).await.unwrap());
});

journal_suite!(a_retried_task_keeps_its_attempt_count_across_claims, |j: SharedJournal, time: TestClock| async move {
    let k = key("a", "retried");
    let lease = leased(&j, &k, "n/a/1", TTL).await;
    let mut w = RunWrite::new(k.clone(), lease.clone());
    w.tasks = vec![task(0, "act", None, 0)];
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let (queues, names) = (vec!["default".to_string()], vec!["act".to_string()]);
    let claim = |owner: &'static str, ttl: Duration| {
        let (j, queues, names) = (j.clone(), queues.clone(), names.clone());
        async move { j.claim_tasks("a", &queues, &names, owner, ttl, 5).await.unwrap() }
    };
    let first = claim("w/a/1", TTL).await;
    assert_eq!(first.iter().map(|t| (t.attempt, t.previous_lost)).collect::<Vec<_>>(), [(1, false)]);
    let first_at = first[0].first_attempt_at;
    assert!((Utc::now() - first_at).num_seconds().abs() < 60);
    // A claim that expires before its attempt starts counts for nothing:
    // the next claim runs the same attempt, and nothing was lost.
    time.advance(TTL + Duration::from_millis(100)).await;
    assert!(!j.start_task(&k, 0, first[0].claim_token).await.unwrap(), "an expired claim cannot start its attempt");
    let first = claim("w/a/1", TTL).await;
    assert_eq!(first.iter().map(|t| (t.attempt, t.previous_lost)).collect::<Vec<_>>(), [(1, false)]);
    assert!(j.start_task(&k, 0, first[0].claim_token).await.unwrap());

    // Attempt 1 failed: the task goes back, claimable 300 ms from now.
    assert!(j.retry_task(&k, 0, first[0].claim_token, Duration::from_millis(300)).await.unwrap());
    assert!(!j.retry_task(&k, 0, first[0].claim_token, Duration::ZERO).await.unwrap(), "no longer claimed");
    assert!(!j.complete_task(&k, 0, first[0].claim_token, &TaskOutcome::Completed { output: json!(1), attempts: 1 }).await.unwrap());
    assert!(claim("w/b/1", TTL).await.is_empty(), "not before its backoff");
    time.advance(Duration::from_millis(400)).await;

    // Another worker continues the count; this attempt's worker dies
    // (short claim), and the next claim sees attempt 2 as lost.
    let second = claim("w/b/1", Duration::from_millis(150)).await;
    assert_eq!(second.iter().map(|t| (t.attempt, t.previous_lost)).collect::<Vec<_>>(), [(2, false)]);
    assert!(j.start_task(&k, 0, second[0].claim_token).await.unwrap());
    assert_eq!(second[0].first_attempt_at, first_at, "the first attempt's time is kept");
    time.advance(Duration::from_millis(300)).await;
    let third = claim("w/c/1", TTL).await;
    assert_eq!(third.iter().map(|t| (t.attempt, t.previous_lost)).collect::<Vec<_>>(), [(3, true)]);
    assert_eq!(third[0].first_attempt_at, first_at);
    let failed = TaskOutcome::Failed(Failure::new(FailureKind::ActivityFailed, "no", 3));
    assert!(j.complete_task(&k, 0, third[0].claim_token, &failed).await.unwrap());
    assert_eq!(j.task_outcomes(&k).await.unwrap(), [(0, failed)]);

    // A call whose attempts began in the workflow's host continues there:
    // its task carries the count (and an existing task is kept).
    let started_at = ms_from_now(-5_000);
    let mut t = task(1, "act", None, 0);
    t.attempts = TaskAttempts { started: 2, ended: 1, first_at: Some(started_at), ready_at: None };
    let mut again = task(0, "act", None, 0);
    again.attempts.started = 7;
    let mut w = RunWrite::new(k.clone(), lease);
    w.tasks = vec![t, again];
    assert_eq!(j.commit(&[w]).await.unwrap(), vec![true]);
    let fourth = claim("w/d/1", TTL).await;
    assert_eq!(fourth.iter().map(|t| (t.op, t.attempt, t.previous_lost)).collect::<Vec<_>>(), [(1, 3, true)], "op 0 is finished, not replaced");
    assert_eq!(fourth[0].first_attempt_at.timestamp_millis(), started_at.timestamp_millis());
});

// Withdrawing an unconfirmed cancellation request.

journal_suite!(withdraw_cancel_is_compare_and_set, |j: SharedJournal, _: TestClock| async move {
    let k = key("i1", "r");
    assert!(matches!(j.withdraw_cancel(&k, Utc::now()).await, Err(JournalError::UnknownRun(_))));
    let lease = leased(&j, &k, "a", TTL).await;
    // No request: nothing to withdraw.
    assert_eq!(j.withdraw_cancel(&k, Utc::now()).await.unwrap(), CancelWithdrawal::NotOurs);
    j.request_cancel(&k, CancelKind::Terminate).await.unwrap();
    let at = run(&j, &k).await.cancel_requested_at.expect("recorded");
    // Another request time is not ours: the request stays.
    let other = at - chrono::Duration::milliseconds(5);
    assert_eq!(j.withdraw_cancel(&k, other).await.unwrap(), CancelWithdrawal::NotOurs);
    assert_eq!(run(&j, &k).await.cancel_requested_at, Some(at));
    // Ours is withdrawn once; the lease and the state are untouched, and a
    // lease renewal no longer reports a request.
    assert_eq!(j.withdraw_cancel(&k, at).await.unwrap(), CancelWithdrawal::Withdrawn);
    let r = run(&j, &k).await;
    assert_eq!((r.cancel_requested_at, r.state, r.lease_token), (None, RunState::Running, lease.token));
    assert_eq!(j.withdraw_cancel(&k, at).await.unwrap(), CancelWithdrawal::NotOurs);
    let renewed = j.renew_leases(&[(k.clone(), lease.clone())], TTL).await.unwrap();
    assert_eq!(renewed, [Renewal::Renewed { cancel_requested: false, graceful_cancel: false, paused: false }]);
    // A new request can be made after a withdrawal.
    assert_eq!(j.request_cancel(&k, CancelKind::Terminate).await.unwrap(), CancelRequest::Requested);
    let again = run(&j, &k).await.cancel_requested_at.expect("recorded again");

    // A run that finished meanwhile reports its state and keeps its record.
    let mut w = RunWrite::new(k.clone(), lease);
    w.transition = Some(Transition::Cancel { error: crate::RunError::new("cancelled", "m").into_value() });
    assert_eq!(j.commit(&[w]).await.unwrap(), [true]);
    assert_eq!(j.withdraw_cancel(&k, again).await.unwrap(), CancelWithdrawal::AlreadyFinal(RunState::Cancelled));
    assert_eq!(run(&j, &k).await.cancel_requested_at, Some(again));
});
