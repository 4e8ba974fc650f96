//! The CPU time one activation of a workflow spends executing: the time
//! its guest's future spends being polled (the guest's code and the host
//! imports' synchronous work), measured on the thread that polls it. What
//! the guest waits for (the journal, an activity) is not counted: a future
//! that waits returns, and is not being polled meanwhile.
//!
//! The time is the polling thread's CPU time where the platform has it
//! (Linux), so a host starved by other processes does not charge its
//! guests for the time it was not running; elsewhere it is wall time.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// No poll is in progress (see [`CpuMeter::poll_started`]).
const IDLE: u64 = u64::MAX;

/// CPU time spent so far by the futures metered with it.
#[derive(Debug)]
pub(crate) struct CpuMeter {
    /// Nanoseconds spent in finished polls.
    used: AtomicU64,
    /// The clock (nanoseconds) when the poll in progress started, or
    /// [`IDLE`].
    poll_started: AtomicU64,
}

impl CpuMeter {
    /// A meter at zero.
    pub(crate) fn new() -> Arc<CpuMeter> {
        Arc::new(CpuMeter { used: AtomicU64::new(0), poll_started: AtomicU64::new(IDLE) })
    }

    /// The time spent so far, the poll in progress included (read from
    /// inside it: the epoch callback runs on the polling thread).
    pub(crate) fn used(&self) -> Duration {
        let mut nanos = self.used.load(Ordering::Relaxed);
        let started = self.poll_started.load(Ordering::Relaxed);
        if started != IDLE {
            nanos = nanos.saturating_add(clock::now().saturating_sub(started));
        }
        Duration::from_nanos(nanos)
    }

    /// `future`, measured by this meter while it is polled.
    pub(crate) fn meter<F: Future>(self: &Arc<Self>, future: F) -> Metered<F> {
        Metered { inner: Box::pin(future), meter: self.clone() }
    }
}

/// A future whose polls are measured by a [`CpuMeter`].
pub(crate) struct Metered<F> {
    inner: Pin<Box<F>>,
    meter: Arc<CpuMeter>,
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let started = clock::now();
        self.meter.poll_started.store(started, Ordering::Relaxed);
        let result = self.inner.as_mut().poll(cx);
        let spent = clock::now().saturating_sub(started);
        self.meter.poll_started.store(IDLE, Ordering::Relaxed);
        self.meter.used.fetch_add(spent, Ordering::Relaxed);
        result
    }
}

#[cfg(target_os = "linux")]
mod clock {
    /// The calling thread's CPU time, in nanoseconds.
    pub(super) fn now() -> u64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        (t.tv_sec.max(0) as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec.max(0) as u64)
    }
}

#[cfg(not(target_os = "linux"))]
mod clock {
    use std::sync::OnceLock;
    use std::time::Instant;

    /// Wall time since the first call, in nanoseconds.
    pub(super) fn now() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos().min(u64::MAX as u128 - 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_the_time_spent_polling_not_the_time_spent_waiting() {
        let meter = CpuMeter::new();
        let inner = meter.clone();
        meter
            .meter(async move {
                // Busy for 60 ms of the meter's clock...
                let t0 = clock::now();
                while clock::now().saturating_sub(t0) < 60_000_000 {
                    std::hint::black_box(t0);
                }
                // ... seen from inside the poll ...
                assert!(inner.used() >= Duration::from_millis(60), "{:?}", inner.used());
                // ... then waiting for 300 ms, not counted.
                tokio::time::sleep(Duration::from_millis(300)).await;
            })
            .await;
        let used = meter.used();
        assert!(used >= Duration::from_millis(60), "{used:?}");
        assert!(used < Duration::from_millis(250), "the wait was counted: {used:?}");
    }
}
