//! The integration tests, one module per scenario, linked into one test
//! binary (the harness and shared helpers are the `continuum-tests` library).

mod activity_dispatch;
mod activity_policies;
mod activity_retries;
mod activity_sandbox;
mod activity_worker;
mod attempt_faults;
mod bad_input;
mod bad_modules;
mod billing_flow;
mod c_workflows;
mod cancel;
mod compile_cache;
mod conformance;
mod crash_recovery;
mod demo;
mod foreign_imports;
mod guest_limits;
mod hot_deploy;
mod hot_deploy_hosts;
mod http_api;
mod instances;
mod lease_clock;
mod many_hosts;
mod order_flow_cli;
mod js_workflows;
mod python_activities;
mod python_workflows;
mod replay_drift;
mod snapshots;
mod split_hosts;
mod telemetry_instance;
mod telemetry_otel;
mod telemetry_otlp;
mod unreachable_database;
mod unserved_activities;
