//! The search phase: `continuum runs` filtered by state, workflow and an
//! attribute, among many finished runs. Inserts `n` finished runs into the
//! instance's Postgres database directly (one `INSERT ... SELECT` over
//! `generate_series`, then their attributes the same way), with a
//! realistic spread (independent of each other, by hashes of the run's
//! number): 10 workflows (the first few the busiest), 90 % completed, 8 %
//! failed, 2 % cancelled, created over the last 30 days,
//! each with a `customer` (one of 10,000: about `n / 10,000` runs each)
//! and a `region` (one of 5: a fifth of the runs each). Then `ANALYZE`,
//! and times the host's query as `continuum runs --state completed
//! --workflow W --attr KEY=VALUE` makes it ([`Continuum::runs_page`], a
//! page of 20), for a selective attribute (a customer) and an unselective
//! one (a region), several times each, and prints p50 and max; and the
//! plan Postgres picks for the statement (it must read the attribute
//! index, not the whole table).

use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_host::{CallOptions, Continuum, RunQuery, RunState};
use sqlx::{Connection, Row};

use crate::percentile;

/// The workflows the runs are of, the busiest first.
const WORKFLOWS: [&str; 10] = [
    "order-flow", "order-flow", "order-flow", "billing-flow", "billing-flow", "refund-flow", "ship-flow", "invoice-flow",
    "signup-flow", "report-flow",
];

/// How many times each query is timed.
const SAMPLES: usize = 30;

/// Runs the phase with `n` finished runs in the instance `default` of the
/// Postgres database at `url`.
pub async fn run(c: &Arc<Continuum>, url: &str, n: usize) {
    if url.starts_with("sqlite:") {
        println!("search: skipped (the search phase inserts its runs with Postgres SQL; give a Postgres --database)");
        return;
    }
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| panic!("Postgres unreachable at {url}: {e}"));
    let t = Instant::now();
    insert(&mut conn, n).await;
    let inserted = t.elapsed();
    sqlx::query("ANALYZE runs").execute(&mut conn).await.expect("analyze runs");
    sqlx::query("ANALYZE run_attributes").execute(&mut conn).await.expect("analyze run_attributes");
    println!("search: {n} finished runs with 2 attributes each inserted in {:.1} s (and analyzed)", inserted.as_secs_f64());

    for (label, key, values) in [
        ("a customer (about 1 in 10,000)", "customer", (0..SAMPLES).map(|i| format!("c-{}", i * 331 % 10_000)).collect::<Vec<_>>()),
        ("a region (1 in 5)", "region", (0..SAMPLES).map(|i| ["eu", "us", "apac", "latam", "africa"][i % 5].to_string()).collect()),
    ] {
        let mut times = Vec::with_capacity(SAMPLES);
        let mut found = 0;
        for (i, value) in values.iter().enumerate() {
            let query = RunQuery {
                state: Some(RunState::Completed),
                workflow: Some(WORKFLOWS[i % 3 * 3].to_string()),
                attributes: vec![(key.to_string(), value.clone())],
                limit: 20,
                ..RunQuery::default()
            };
            let t = Instant::now();
            let page = c.runs_page(&query, CallOptions::default()).await.expect("runs page");
            times.push(t.elapsed());
            found += page.runs.len();
        }
        times.sort();
        println!(
            "search: runs --state completed --workflow W --attr {key}=V, by {label}, among {n}: p50 {:.2} ms, max {:.2} ms \
             ({SAMPLES} queries, {:.1} runs a page)",
            ms(percentile(&times, 0.5)),
            ms(times.last().copied().unwrap_or_default()),
            found as f64 / SAMPLES as f64
        );
    }
    println!("search: the plan of the listing by state + workflow + customer:");
    for line in explain(&mut conn).await {
        println!("search:   {line}");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// An SQL expression spreading run `g` over `0..n`, evenly and
/// independently for each `salt` (a hash: the same on every run).
fn spread(salt: &str, n: u32) -> String {
    format!("(abs(hashtext(g::text || '{salt}')::bigint) % {n})")
}

/// Inserts `n` finished runs of instance `default` and their attributes.
async fn insert(conn: &mut sqlx::PgConnection, n: usize) {
    let workflows = WORKFLOWS.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(", ");
    let runs = format!(
        "INSERT INTO runs (instance, run_id, workflow, module_hash, input, state, output, error, created_at, updated_at) \
         SELECT 'default', 'search-' || lpad(g::text, 8, '0'), \
                (ARRAY[{workflows}])[1 + {w}], 'bench', '{{}}', \
                CASE WHEN {s} < 2 THEN 'cancelled' WHEN {s} < 10 THEN 'failed' ELSE 'completed' END, \
                CASE WHEN {s} >= 10 THEN '{{}}' END, \
                CASE WHEN {s} < 10 THEN '{{\"code\":\"x\",\"message\":\"x\"}}' END, \
                now() - interval '30 days' + g * (interval '30 days' / $2::float8), \
                now() - interval '30 days' + g * (interval '30 days' / $2::float8) \
         FROM generate_series(1, $1::bigint) AS g",
        w = spread("w", 10),
        s = spread("s", 100),
    );
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query(&runs).bind(n).bind(n as f64).execute(&mut *conn).await.expect("insert the runs");
    let attributes = format!(
        "INSERT INTO run_attributes (instance, run_id, key, value, created_at) \
         SELECT r.instance, r.run_id, a.key, \
                CASE a.key WHEN 'customer' THEN 'c-' || {c} \
                           ELSE (ARRAY['eu', 'us', 'apac', 'latam', 'africa'])[1 + {r}] END, \
                r.created_at \
         FROM generate_series(1, $1::bigint) AS g \
         JOIN runs r ON r.instance = 'default' AND r.run_id = 'search-' || lpad(g::text, 8, '0') \
         CROSS JOIN (VALUES ('customer'), ('region')) AS a(key)",
        c = spread("c", 10_000),
        r = spread("r", 5),
    );
    sqlx::query(&attributes).bind(n).execute(&mut *conn).await.expect("insert the attributes");
}

/// The plan of the listing's statement for a customer (as the host's
/// `query_runs` writes it), a line each.
async fn explain(conn: &mut sqlx::PgConnection) -> Vec<String> {
    let sql = "EXPLAIN (ANALYZE, COSTS OFF) \
        SELECT r.run_id FROM run_attributes a JOIN runs r ON r.instance = a.instance AND r.run_id = a.run_id \
        WHERE a.instance = 'default' AND a.key = 'customer' AND a.value = 'c-42' \
          AND r.state = 'completed' AND r.workflow = 'order-flow' \
        ORDER BY a.created_at DESC, a.run_id DESC LIMIT 21";
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await.expect("explain");
    rows.iter().map(|row| row.try_get::<String, _>(0).unwrap_or_default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuum_host::Instance;

    /// The phase runs with 10,000 runs on a database of its own, the
    /// listing finds what the inserted spread holds, and the plan reads
    /// the attribute index in the listing's order (no sort of the table).
    #[tokio::test]
    async fn the_search_phase_runs_and_its_listing_reads_the_attribute_index() {
        let server = std::env::var("CONTINUUM_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut admin = sqlx::PgConnection::connect(&server).await.expect("Postgres for the test");
        let name = format!("continuum_bench_search_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
        let url = format!("{}/{name}", server.rsplit_once('/').map(|(b, _)| b).unwrap_or_default());
        let module = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-wasm/components/bench_flow.wasm");
        let instance = Instance::builder("default").database(url.clone()).workflow("bench-flow", &module).build().await.expect("instance");
        let mut c = Continuum::new();
        c.register(instance).expect("register");
        let c = Arc::new(c);
        run(&c, &url, 10_000).await;

        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM run_attributes").fetch_one(&mut conn).await.expect("count");
        assert_eq!(counted, 20_000);
        // The listing finds what the tables hold, newest first.
        let sql = "SELECT r.run_id FROM run_attributes a JOIN runs r ON r.instance = a.instance AND r.run_id = a.run_id \
                   WHERE a.key = 'region' AND a.value = 'eu' AND r.state = 'completed' AND r.workflow = 'order-flow' \
                   ORDER BY r.created_at DESC, r.run_id DESC LIMIT 20";
        let expected: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.expect("select");
        assert_eq!(expected.len(), 20, "the spread leaves a page of eu order-flow runs");
        let query = RunQuery {
            state: Some(RunState::Completed),
            workflow: Some("order-flow".into()),
            attributes: vec![("region".into(), "eu".into())],
            limit: 20,
            ..RunQuery::default()
        };
        let page = c.runs_page(&query, CallOptions::default()).await.expect("page");
        let ids: Vec<String> = page.runs.iter().map(|r| r.key.run_id.clone()).collect();
        assert_eq!(ids, expected);
        assert!(page.next_cursor.is_some());
        assert_eq!(page.runs[0].attributes.get("region").map(String::as_str), Some("eu"));
        let plan = explain(&mut conn).await.join("\n");
        assert!(plan.contains("run_attributes_filter"), "the listing reads the attribute index:\n{plan}");
        assert!(!plan.contains("Sort"), "the index gives the order:\n{plan}");
        drop(conn);
        drop(c);
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
    }
}
