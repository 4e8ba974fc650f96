//! An uploaded component (a deploy's new version, a replay's candidate),
//! written to a file of its own under the upload directory for the host to
//! read, and removed once the request is done with it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

use crate::errors::ApiError;

/// An uploaded component on disk, removed when dropped.
pub(crate) struct Upload(PathBuf);

impl Upload {
    /// Writes `bytes` to a new file under `dir` (created if missing).
    pub(crate) async fn write(dir: &Path, bytes: &[u8]) -> Result<Upload, ApiError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let fail = |e: std::io::Error| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("cannot store the upload in {}: {e}", dir.display()))
        };
        tokio::fs::create_dir_all(dir).await.map_err(fail)?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("upload-{}-{n}.wasm", std::process::id()));
        tokio::fs::write(&path, bytes).await.map_err(fail)?;
        Ok(Upload(path))
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
