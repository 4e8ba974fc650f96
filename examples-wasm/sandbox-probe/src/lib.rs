//! `sandbox-probe`: an activity component that reports what its WASI
//! sandbox lets it do, for the sandbox security tests. Every probe succeeds
//! and returns `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
//!
//! - `read_path {path}`: reads a file (`content` as text);
//! - `write_file {path, content}`: writes a file in the sandbox;
//! - `list_dir {path}`: the entries of a directory (`""`: the sandbox);
//! - `connect {addr}`: opens a TCP connection to `host:port`;
//! - `env_var {name}`: the value of an environment variable (`value`, or
//!   null when it is not visible), and the names of every visible one.

use continuum_sdk::activity::{self, net, sandbox, SandboxError};
use continuum_sdk::prelude::*;
use serde_json::{json, Value};

fn report<T>(result: Result<T, SandboxError>, ok: impl FnOnce(T) -> Value) -> Result<Value, ActivityError> {
    Ok(match result {
        Ok(v) => {
            let mut out = json!({ "ok": true });
            if let (Value::Object(o), Value::Object(extra)) = (&mut out, ok(v)) {
                o.extend(extra);
            }
            out
        }
        Err(e) => json!({ "ok": false, "error": e.to_string(), "code": e.code }),
    })
}

#[derive(Deserialize)]
struct PathInput {
    path: String,
}

fn read_path(input: PathInput) -> Result<Value, ActivityError> {
    report(sandbox::read_file(&input.path), |bytes| json!({ "content": String::from_utf8_lossy(&bytes) }))
}

#[derive(Deserialize)]
struct WriteInput {
    path: String,
    content: String,
}

fn write_file(input: WriteInput) -> Result<Value, ActivityError> {
    report(sandbox::write_file(&input.path, input.content.as_bytes()), |()| json!({}))
}

fn list_dir(input: PathInput) -> Result<Value, ActivityError> {
    report(sandbox::list_dir(&input.path), |names| json!({ "entries": names }))
}

#[derive(Deserialize)]
struct ConnectInput {
    addr: String,
}

fn connect(input: ConnectInput) -> Result<Value, ActivityError> {
    report(net::connect(&input.addr), |_conn| json!({}))
}

#[derive(Deserialize)]
struct EnvInput {
    name: String,
}

fn env_var(input: EnvInput) -> Result<Value, ActivityError> {
    let names: Vec<String> = activity::env_vars().into_iter().map(|(k, _)| k).collect();
    Ok(json!({ "ok": true, "value": activity::env_var(&input.name), "visible": names }))
}

continuum_sdk::activities! {
    "read_path" => read_path,
    "write_file" => write_file,
    "list_dir" => list_dir,
    "connect" => connect,
    "env_var" => env_var,
}
