//! `continuum serve`: a host for the manifest's instances (and its HTTP
//! API when the manifest has `[http]`) until SIGINT or SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use continuum_host::{Continuum, Manifest, Mode};

use crate::exit::{CliError, EXIT_OK};

/// How long requests in flight may take to end when a host stops.
const HTTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves `instances` of the manifest (all when empty) until interrupted.
pub async fn serve(
    mut manifest: Manifest,
    manifest_path: &Path,
    instances: Vec<String>,
    http_listen: Option<std::net::SocketAddr>,
    no_http: bool,
) -> Result<u8, CliError> {
    override_http(&mut manifest, http_listen, no_http)?;
    manifest.validate_files()?;
    let continuum = Arc::new(Continuum::from_manifest(&manifest, Mode::Serve, &instances).await?);
    // Bound before anything runs: a taken port stops the host at once.
    let server = match &manifest.http {
        Some(cfg) => Some((continuum_http::Server::bind(continuum.clone(), cfg, manifest.data_dir.join("uploads")).await?, cfg.requires_tokens())),
        None => None,
    };
    continuum.start_all();
    errln!("continuum: serving {} (manifest {})", continuum.instance_names().join(", "), manifest_path.display());
    let http = server.map(|(server, tokens)| {
        if tokens {
            errln!("continuum: HTTP API on http://{} (bearer tokens required)", server.local_addr);
        } else {
            errln!("continuum: HTTP API on http://{} (no tokens configured: loopback only, no authentication)", server.local_addr);
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        (stop, task)
    });
    shutdown_signal().await;
    if let Some((stop, mut task)) = http {
        let _ = stop.send(());
        // Long polls and streams end with the process, not before.
        if tokio::time::timeout(HTTP_SHUTDOWN_GRACE, &mut task).await.is_err() {
            task.abort();
        }
    }
    continuum.stop_all().await;
    Ok(EXIT_OK)
}

/// Applies `serve`'s `--http-listen` and `--no-http` to the manifest's
/// `[http]`; an address given without an `[http]` table is served with its
/// defaults. Without tokens the address must be loopback, as in the
/// manifest.
fn override_http(manifest: &mut Manifest, listen: Option<std::net::SocketAddr>, off: bool) -> Result<(), CliError> {
    if off {
        manifest.http = None;
        return Ok(());
    }
    let Some(listen) = listen else { return Ok(()) };
    let mut http = manifest.http.clone().unwrap_or_else(|| continuum_host::HttpConfig::loopback(listen));
    if !http.requires_tokens() && !listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--http-listen {listen}: not a loopback address, and the manifest configures no HTTP tokens (loopback only without them)"
        )));
    }
    http.listen = listen;
    manifest.http = Some(http);
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
