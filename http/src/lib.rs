//! The HTTP API of `continuum serve`: JSON over HTTP, one path per
//! instance (`/v1/instances/{instance}/...`), on the facade
//! [`continuum_host::Continuum`]. Errors are JSON with a stable code
//! ([`errors`]); callers are known by bearer token ([`auth`]): an
//! instance's token reaches that instance only, the admin token all of
//! them, and with no token configured the server listens on loopback only
//! (the manifest refuses anything else). The web UI (`ui.rs`, at `/`) is a
//! client of this API, served by the same router.

#![deny(missing_docs)]

pub mod auth;
pub mod body;
pub mod cursor;
pub mod errors;
pub mod openapi;
mod panics;
mod routes;
mod trace;
mod ui;
mod upload;
pub mod scope;
pub mod sse;
pub mod wait;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use continuum_host::{Continuum, HttpConfig};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The instances served.
    pub continuum: Arc<Continuum>,
    /// Who may call.
    pub tokens: Arc<auth::Tokens>,
    /// Where uploaded components wait for their deploy.
    pub upload_dir: PathBuf,
    /// The largest input or signal payload taken, in bytes of JSON.
    pub max_payload_bytes: usize,
}

/// The API's router over `continuum`, with the limits and tokens of
/// `config`; uploaded components are written to `upload_dir`.
pub fn router(continuum: Arc<Continuum>, config: &HttpConfig, upload_dir: PathBuf) -> Router {
    let state = AppState {
        continuum,
        tokens: Arc::new(auth::Tokens::new(config)),
        upload_dir,
        max_payload_bytes: config.max_payload_bytes,
    };
    routes::routes()
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(panics::catch_panic))
        .layer(axum::middleware::from_fn(trace::trace_request))
        .with_state(state)
}

/// Errors of starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address cannot be listened on.
    #[error("cannot listen on {addr} for the HTTP API: {source} (another host on this machine? give it `serve --http-listen ADDR` or `--no-http`)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A bound HTTP API, ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    /// The address bound (the port chosen when the manifest said 0).
    pub local_addr: SocketAddr,
}

impl Server {
    /// Binds the manifest's `listen` address; uploads go to `upload_dir`
    /// (a directory under the manifest's `data_dir`).
    pub async fn bind(continuum: Arc<Continuum>, config: &HttpConfig, upload_dir: PathBuf) -> Result<Server, ServeError> {
        let bind_err = |source| ServeError::Bind { addr: config.listen, source };
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        Ok(Server { listener, router: router(continuum, config, upload_dir), local_addr })
    }

    /// Serves until `shutdown` resolves (then stops accepting and lets
    /// requests in flight end).
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await
    }
}
