//! Who calls: the bearer token of a request, resolved against the
//! manifest's tokens. An instance's token reaches that instance only; the
//! admin token reaches every instance. With no token configured, every
//! caller may do everything (the server then listens on loopback only).

use std::collections::BTreeMap;

use axum::http::{header, HeaderMap, StatusCode};
use continuum_host::HttpConfig;

use crate::errors::ApiError;

/// The configured tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    admin: Option<String>,
    /// Instance → token.
    instances: BTreeMap<String, String>,
}

/// A caller, once its token is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token is configured: anyone may do anything.
    Open,
    /// The admin token.
    Admin,
    /// The token of this instance.
    Instance(String),
}

impl Caller {
    /// Whether the caller may use `instance`.
    pub fn may_use(&self, instance: &str) -> bool {
        match self {
            Caller::Open | Caller::Admin => true,
            Caller::Instance(own) => own == instance,
        }
    }

    /// [`Caller::may_use`], as a 403 `forbidden` when not.
    pub fn check(&self, instance: &str) -> Result<(), ApiError> {
        if self.may_use(instance) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this token does not give access to instance `{}`", clip(instance)),
            ))
        }
    }
}

impl Tokens {
    /// The tokens of an `[http]` table.
    pub fn new(config: &HttpConfig) -> Self {
        Self { admin: config.admin_token.clone(), instances: config.tokens.clone() }
    }

    /// Whether calls need a token.
    pub fn required(&self) -> bool {
        self.admin.is_some() || !self.instances.is_empty()
    }

    /// The caller a request's `Authorization: Bearer ...` header names:
    /// 401 `unauthorized` when a token is needed and missing or unknown.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if !self.required() {
            return Ok(Caller::Open);
        }
        let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why.to_string());
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized("a bearer token is required (Authorization: Bearer <token>)"));
        };
        let given = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <token>`"))?;
        // Every token is compared, in time independent of where they differ.
        let mut found = None;
        if self.admin.as_deref().is_some_and(|t| same(t, given)) {
            found = Some(Caller::Admin);
        }
        for (instance, token) in &self.instances {
            if same(token, given) {
                found = Some(Caller::Instance(instance.clone()));
            }
        }
        found.ok_or_else(|| unauthorized("unknown token"))
    }
}

/// Equality of two tokens in time that depends on their lengths only.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A user-given name, clipped for a message.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(MAX).collect::<String>())
    }
}
