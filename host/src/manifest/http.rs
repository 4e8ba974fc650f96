//! The optional top-level `[http]` table: the HTTP API `continuum serve`
//! offers, and who may use it.
//!
//! ```toml
//! [http]
//! listen = "127.0.0.1:7070"                   # required: IP:port (port 0: any free port)
//! admin_token = "${CONTINUUM_ADMIN_TOKEN}"    # optional: may do everything
//! max_body_bytes = 4259840                    # optional: request bodies larger are refused (413)
//! max_payload_bytes = 4194304                 # optional: inputs and signal payloads larger are refused (413)
//!
//! [http.tokens]                               # optional: instance -> its bearer token
//! default = "${CONTINUUM_DEFAULT_TOKEN}"
//! ```
//!
//! Rules: tokens (`${VAR}` substituted) must be non-empty and distinct;
//! `[http.tokens]` names only instances of the manifest. Once any token is
//! given, every call but `/healthz`, `/readyz` and `/openapi.json` needs
//! one. With none, `listen` must be a loopback address.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use toml::{Table, Value};

use super::error::ManifestError;
use super::reader::{join_key, substitute_env, Ctx, SubstError, TableReader};

/// Default `max_body_bytes`: the largest payload the runtime takes
/// ([`crate::MAX_PAYLOAD_BYTES`]) and room for the request around it.
pub const DEFAULT_MAX_BODY_BYTES: usize = crate::input_limits::MAX_PAYLOAD_BYTES + (64 << 10);

/// The HTTP API's settings (`[http]`). Its `Debug` shows no token.
#[derive(Clone, PartialEq)]
pub struct HttpConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The token that may do everything, if any.
    pub admin_token: Option<String>,
    /// Instance name → the bearer token that may use that instance (and
    /// only it).
    pub tokens: BTreeMap<String, String>,
    /// Request bodies larger than this are refused.
    pub max_body_bytes: usize,
    /// A run's input or a signal's payload (as JSON) larger than this is
    /// refused; at most [`crate::MAX_PAYLOAD_BYTES`], the runtime's own
    /// limit.
    pub max_payload_bytes: usize,
}

impl HttpConfig {
    /// An API on `listen` without tokens (so for a loopback address) and
    /// with the default limits: what `[http] listen = ...` alone gives.
    pub fn loopback(listen: SocketAddr) -> Self {
        HttpConfig {
            listen,
            admin_token: None,
            tokens: BTreeMap::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_payload_bytes: crate::MAX_PAYLOAD_BYTES,
        }
    }

    /// True when calls must carry a token (any token is configured).
    pub fn requires_tokens(&self) -> bool {
        self.admin_token.is_some() || !self.tokens.is_empty()
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("listen", &self.listen)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .finish()
    }
}

/// Parses `[http]` (absent: no HTTP API). `instances` are the manifest's
/// instance names, which `[http.tokens]` may name.
pub(super) fn parse_http(
    ctx: Ctx<'_>,
    table: Option<Table>,
    instances: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<HttpConfig>, ManifestError> {
    let Some(table) = table else { return Ok(None) };
    let mut r = TableReader::new(ctx.clone(), "http".to_owned(), table);
    let listen_key = r.key("listen");
    let raw = r.string("listen")?.ok_or_else(|| ManifestError::MissingKey {
        file: ctx.file(),
        instance: None,
        key: listen_key.clone(),
    })?;
    let listen: SocketAddr = raw.trim().parse().map_err(|_| {
        ctx.invalid(listen_key.clone(), format!("`{raw}` is not an address (expected IP:port, such as 127.0.0.1:7070)"))
    })?;
    let token = |key: String, raw: String| -> Result<String, ManifestError> {
        let value = substitute_env(&raw, env).map_err(|e| match e {
            SubstError::Unset(var) => ctx.invalid(key.clone(), format!("environment variable `{var}` is not set")),
            SubstError::Malformed(reason) => ctx.invalid(key.clone(), reason),
        })?;
        if value.trim().is_empty() {
            return Err(ctx.invalid(key, "a token must not be empty"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ctx.invalid(key, "a token must not contain whitespace or control characters"));
        }
        Ok(value)
    };
    let admin_token = match r.string("admin_token")? {
        Some(raw) => Some(token(r.key("admin_token"), raw)?),
        None => None,
    };
    let max_body_bytes = r.positive_usize("max_body_bytes", DEFAULT_MAX_BODY_BYTES)?;
    let max_payload_bytes = r.positive_usize("max_payload_bytes", crate::MAX_PAYLOAD_BYTES)?;
    if max_payload_bytes > crate::MAX_PAYLOAD_BYTES {
        return Err(ctx.invalid(
            r.key("max_payload_bytes"),
            format!("{max_payload_bytes} is above the runtime's limit of {} bytes", crate::MAX_PAYLOAD_BYTES),
        ));
    }
    let tokens_key = r.key("tokens");
    let mut tokens = BTreeMap::new();
    for (name, value) in r.table("tokens")?.unwrap_or_default() {
        let key = join_key(&tokens_key, &name);
        if !instances.contains(&name.as_str()) {
            return Err(ctx.invalid(key, format!("no instance `{name}` in this manifest")));
        }
        let raw = match value {
            Value::String(s) => s,
            other => return Err(ctx.wrong_type(key, "a token (string)", &other)),
        };
        let value = token(key.clone(), raw)?;
        let taken = admin_token.as_ref() == Some(&value) || tokens.values().any(|t| *t == value);
        if taken {
            return Err(ctx.invalid(key, "every token must be distinct (this one is given twice)"));
        }
        tokens.insert(name, value);
    }
    r.finish()?;
    let config = HttpConfig { listen, admin_token, tokens, max_body_bytes, max_payload_bytes };
    if !config.requires_tokens() && !listen.ip().is_loopback() {
        return Err(ctx.invalid(
            listen_key,
            format!("`{listen}` is not a loopback address: without tokens (`admin_token`, `[http.tokens]`) the API listens on loopback only"),
        ));
    }
    Ok(Some(config))
}
