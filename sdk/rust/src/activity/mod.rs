//! What an activity component may use besides its input: WASI, as the
//! instance's manifest grants it (`[instances.NAME.sandbox]`).
//!
//! Activity components are built for `wasm32-unknown-unknown`, where `std`
//! has no files, environment or sockets; these helpers call the WASI 0.2
//! imports of the `activity` world directly (wit-bindgen bindings of
//! `wasi:filesystem`, `wasi:cli/environment` and `wasi:sockets`):
//!
//! - [`sandbox`]: files in the instance's sandbox directory (paths are
//!   relative to it; nothing outside it is reachable);
//! - [`env_var`]: the environment variables the manifest lists (only those);
//! - [`net`]: TCP connections to the `host:port` pairs the manifest allows.
//!
//! and the attempt's own context: [`heartbeat`] with details a later
//! attempt resumes from ([`last_heartbeat`]), [`is_cancelled`], [`info`],
//! and [`sleep`].
//!
//! ```no_run
//! use continuum_sdk::prelude::*;
//! use continuum_sdk::activity::{env_var, sandbox};
//!
//! #[derive(Deserialize)]
//! struct Charge { order_id: String, amount_cents: u64 }
//!
//! fn charge_card(input: Charge) -> Result<String, ActivityError> {
//!     let merchant = env_var("MERCHANT_ID").unwrap_or_else(|| "test".into());
//!     let receipt = format!(r#"{{"order_id":"{}","amount_cents":{},"merchant":"{merchant}"}}"#,
//!                           input.order_id, input.amount_cents);
//!     // `?` turns a SandboxError into a retryable ActivityError.
//!     sandbox::write_file(&format!("receipts/{}.json", input.order_id), receipt.as_bytes())?;
//!     Ok(format!("ch_{}", input.order_id))
//! }
//!
//! continuum_sdk::activities! { "charge_card" => charge_card }
//! ```
//!
//! These functions only make sense inside an activity component; a
//! workflow component that called them would import WASI, which the host
//! refuses (workflows must stay deterministic).

mod context;
mod env;
mod error;
pub mod net;
pub mod sandbox;

pub use context::{heartbeat, info, is_cancelled, last_heartbeat, sleep, AttemptInfo};
pub use env::{env_var, env_vars};
pub use error::SandboxError;
