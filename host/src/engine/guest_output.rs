//! A workflow guest's stdout and stderr (`wasi:cli/stdout`, `stderr`):
//! the run's log, line by line, like the `log` host import (target
//! `continuum::guest`, with the run's instance, id and workflow), and muted
//! like `log` for what an earlier attempt of the run already executed.
//!
//! Whether output is muted is decided when the guest writes it: the
//! replay cursor's caught-up flag only changes inside host calls, and a
//! write is a host call of its own, so the bytes an attempt writes while
//! re-executing what an earlier attempt did are the bytes that attempt
//! wrote (and logged) then. A line the guest leaves unfinished is logged
//! when the guest's store is dropped.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line kept before it is logged unfinished.
const MAX_LINE: usize = 16 << 10;

/// Which of the guest's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// `wasi:cli/stdout`: logged at info level.
    Stdout,
    /// `wasi:cli/stderr`: logged at warn level.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Who is writing: the run's fields on every line.
#[derive(Debug, Clone)]
pub(crate) struct RunLabels {
    /// The instance.
    pub instance: Arc<str>,
    /// The run id.
    pub run_id: String,
    /// The workflow.
    pub workflow: String,
}

/// One of a run's output streams, as handed to wasmtime-wasi's context.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    inner: Arc<Inner>,
}

struct Inner {
    stream: Stream,
    labels: RunLabels,
    /// The replay cursor's caught-up flag: false while the guest
    /// re-executes what an earlier attempt did.
    live: Arc<AtomicBool>,
    /// The unfinished line.
    line: Mutex<Vec<u8>>,
}

impl GuestOutput {
    /// The `stream` of a run, muted until `live` is set.
    pub(crate) fn new(stream: Stream, labels: RunLabels, live: Arc<AtomicBool>) -> Self {
        GuestOutput { inner: Arc::new(Inner { stream, labels, live, line: Mutex::new(Vec::new()) }) }
    }
}

impl Inner {
    fn write(&self, bytes: &[u8]) {
        if !self.live.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut line) = self.line.lock() else { return };
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            match chunk.strip_suffix(b"\n") {
                Some(end) => {
                    line.extend_from_slice(end);
                    self.emit(&line);
                    line.clear();
                }
                None => {
                    line.extend_from_slice(chunk);
                    if line.len() >= MAX_LINE {
                        self.emit(&line);
                        line.clear();
                    }
                }
            }
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let RunLabels { instance, run_id, workflow } = &self.labels;
        let (instance, stream) = (&**instance, self.stream.name());
        match self.stream {
            Stream::Stdout => tracing::info!(target: "continuum::guest", instance, run_id, workflow, stream, "{text}"),
            Stream::Stderr => tracing::warn!(target: "continuum::guest", instance, run_id, workflow, stream, "{text}"),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(line) = self.line.get_mut() {
            if !line.is_empty() {
                let line = std::mem::take(line);
                self.emit(&line);
            }
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.inner.write(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.inner.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
