//! The optional top-level `[telemetry]` table:
//!
//! ```toml
//! [telemetry]
//! otlp_endpoint = "http://127.0.0.1:4318"   # OTLP/HTTP base URL; ${VAR} is substituted
//! service_name = "continuum"                 # optional
//! ```

use toml::Table;

use crate::telemetry::TelemetryConfig;

use super::error::ManifestError;
use super::reader::{substitute_env, Ctx, SubstError, TableReader};

/// Parses `[telemetry]` (absent: export only as the environment says).
pub(super) fn parse_telemetry(
    ctx: Ctx<'_>,
    table: Option<Table>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TelemetryConfig, ManifestError> {
    let Some(table) = table else { return Ok(TelemetryConfig::default()) };
    let mut r = TableReader::new(ctx.clone(), "telemetry".to_owned(), table);
    let endpoint_key = r.key("otlp_endpoint");
    let otlp_endpoint = match r.string("otlp_endpoint")? {
        None => None,
        Some(raw) => {
            let url = substitute_env(&raw, env).map_err(|e| match e {
                SubstError::Unset(var) => ctx.invalid(
                    endpoint_key.clone(),
                    format!("environment variable `{var}` is not set"),
                ),
                SubstError::Malformed(reason) => ctx.invalid(endpoint_key.clone(), reason),
            })?;
            let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.starts_with('/') => {}
                _ => {
                    return Err(ctx.invalid(
                        endpoint_key,
                        format!("`{url}` is not an OTLP/HTTP URL (expected http://host:port or https://...)"),
                    ))
                }
            }
            if url.trim_end_matches('/').ends_with("/v1/traces") {
                return Err(ctx.invalid(
                    endpoint_key,
                    "give the base URL (http://host:4318): /v1/traces and /v1/metrics are appended",
                ));
            }
            Some(url)
        }
    };
    let service_name = match r.string("service_name")? {
        Some(name) if name.trim().is_empty() => {
            return Err(ctx.invalid(r.key("service_name"), "must not be empty"))
        }
        other => other,
    };
    r.finish()?;
    Ok(TelemetryConfig { otlp_endpoint, service_name })
}
