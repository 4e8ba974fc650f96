//! Activity options: retry policy, timeout, queue, priority, idempotency key.

use std::time::Duration;

use crate::bindings::workflow_world::continuum::workflow::types as wit;

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// How a failed activity attempt is retried by the host.
///
/// Build one with [`RetryPolicy::constant`], [`RetryPolicy::exponential`] or
/// [`RetryPolicy::no_retry`], then refine it with the `with_*` methods.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let p = RetryPolicy::exponential(5, Duration::from_millis(200))
///     .with_coefficient(3.0)
///     .with_max_interval(Duration::from_secs(10))
///     .with_jitter(0.2)
///     .with_horizon(Duration::from_secs(60));
/// assert_eq!(p.max_attempts, 5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; 0 means unlimited (bounded
    /// by `horizon` when that is set).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_interval: Duration,
    /// Each further delay is the previous one times this factor (1.0 gives a
    /// constant backoff).
    pub backoff_coefficient: f64,
    /// Upper bound on one delay (`None`: no bound).
    pub max_interval: Option<Duration>,
    /// Random extra delay, as a fraction of the delay (0.0 to 1.0).
    pub jitter: f64,
    /// No retry is scheduled past this long after the first attempt started
    /// (`None`: no horizon).
    pub horizon: Option<Duration>,
    /// Activity error codes that are never retried, even when the activity
    /// called the error retryable (Temporal's non-retryable error types).
    pub non_retryable_codes: Vec<String>,
}

impl RetryPolicy {
    /// The same delay between every attempt.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::constant(3, Duration::from_secs(1));
    /// assert_eq!(p.backoff_coefficient, 1.0);
    /// ```
    pub fn constant(max_attempts: u32, interval: Duration) -> Self {
        RetryPolicy {
            max_attempts,
            initial_interval: interval,
            backoff_coefficient: 1.0,
            max_interval: None,
            jitter: 0.0,
            horizon: None,
            non_retryable_codes: Vec::new(),
        }
    }

    /// Delays that double after each attempt, starting at `base`.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::exponential(3, Duration::from_millis(200));
    /// assert_eq!(p.backoff_coefficient, 2.0);
    /// ```
    pub fn exponential(max_attempts: u32, base: Duration) -> Self {
        RetryPolicy { backoff_coefficient: 2.0, ..RetryPolicy::constant(max_attempts, base) }
    }

    /// A single attempt, never retried.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// assert_eq!(RetryPolicy::no_retry().max_attempts, 1);
    /// ```
    pub fn no_retry() -> Self {
        RetryPolicy::constant(1, Duration::ZERO)
    }

    /// Sets the number of attempts in all (0: unlimited).
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::constant(3, Duration::from_secs(1)).with_max_attempts(0);
    /// ```
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the backoff coefficient (the growth factor between delays).
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::exponential(4, Duration::from_millis(100)).with_coefficient(1.5);
    /// ```
    pub fn with_coefficient(mut self, coefficient: f64) -> Self {
        self.backoff_coefficient = coefficient;
        self
    }

    /// Caps each delay.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::exponential(10, Duration::from_millis(100))
    ///     .with_max_interval(Duration::from_secs(5));
    /// ```
    pub fn with_max_interval(mut self, cap: Duration) -> Self {
        self.max_interval = Some(cap);
        self
    }

    /// Adds random extra delay, as a fraction (0.0 to 1.0) of each delay.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::constant(3, Duration::from_secs(1)).with_jitter(0.1);
    /// ```
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Stops scheduling retries this long after the first attempt started.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::exponential(0, Duration::from_secs(1))
    ///     .with_horizon(Duration::from_secs(3600));
    /// ```
    pub fn with_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = Some(horizon);
        self
    }

    /// Never retries an error whose code is one of `codes`.
    ///
    /// ```
    /// # use continuum_sdk::prelude::*;
    /// let p = RetryPolicy::exponential(5, Duration::from_millis(100))
    ///     .with_non_retryable_codes(["card_declined", "fraud_suspected"]);
    /// assert_eq!(p.non_retryable_codes.len(), 2);
    /// ```
    pub fn with_non_retryable_codes<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.non_retryable_codes = codes.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn to_wit(&self) -> wit::RetryPolicy {
        wit::RetryPolicy {
            max_attempts: self.max_attempts,
            initial_interval_ms: millis(self.initial_interval),
            backoff_coefficient: self.backoff_coefficient,
            max_interval_ms: self.max_interval.map(millis).unwrap_or(0),
            jitter: self.jitter,
            horizon_ms: self.horizon.map(millis).unwrap_or(0),
            non_retryable_codes: self.non_retryable_codes.clone(),
        }
    }
}

/// Options for one activity call; every field left at its default uses the
/// host's default. Usually set through the [`ActivityCall`](crate::ActivityCall)
/// builder methods instead.
///
/// ```
/// use continuum_sdk::prelude::*;
/// let opts = ActivityOptions {
///     retry: Some(RetryPolicy::constant(3, Duration::from_secs(1))),
///     attempt_timeout: Some(Duration::from_secs(10)),
///     heartbeat_timeout: Some(Duration::from_secs(2)),
///     queue: Some("payments".into()),
///     priority: 5,
///     idempotency_key: Some("charge-order-42".into()),
///     schedule_to_start_timeout: Some(Duration::from_secs(60)),
/// };
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityOptions {
    /// The retry policy; `None` means the host's default policy.
    pub retry: Option<RetryPolicy>,
    /// Timeout of each attempt; `None` means the host's default.
    pub attempt_timeout: Option<Duration>,
    /// An attempt that sends no heartbeat for this long fails as timed
    /// out (and is retried as its policy says); `None`: no such limit.
    pub heartbeat_timeout: Option<Duration>,
    /// The task queue; `None` means `default`.
    pub queue: Option<String>,
    /// Higher runs first among ready tasks of the same queue.
    pub priority: i32,
    /// A completed result with the same key in the same instance is reused
    /// instead of running the activity again.
    pub idempotency_key: Option<String>,
    /// The call fails when none of its attempts has started this long
    /// after it was scheduled: with [`FailureKind::UnknownActivity`](crate::FailureKind::UnknownActivity)
    /// when no host of the instance serves the activity on its queue, else
    /// as timed out. `None`: it waits for a worker however long it takes.
    pub schedule_to_start_timeout: Option<Duration>,
}

impl ActivityOptions {
    pub(crate) fn to_wit(&self) -> wit::ActivityOptions {
        wit::ActivityOptions {
            retry: self.retry.as_ref().map(RetryPolicy::to_wit),
            attempt_timeout_ms: self.attempt_timeout.map(millis),
            heartbeat_timeout_ms: self.heartbeat_timeout.map(millis),
            queue: self.queue.clone(),
            priority: self.priority,
            idempotency_key: self.idempotency_key.clone(),
        }
    }

    /// The further options `call-activity-ext` takes, when any is set.
    pub(crate) fn ext_to_wit(&self) -> Option<wit::ActivityOptionsExt> {
        let timeout = self.schedule_to_start_timeout?;
        Some(wit::ActivityOptionsExt { schedule_to_start_timeout_ms: Some(millis(timeout)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_to_wit() {
        let p = RetryPolicy::exponential(3, Duration::from_millis(200))
            .with_max_interval(Duration::from_secs(2))
            .with_jitter(0.5);
        let w = p.to_wit();
        assert_eq!(w.max_attempts, 3);
        assert_eq!(w.initial_interval_ms, 200);
        assert_eq!(w.backoff_coefficient, 2.0);
        assert_eq!(w.max_interval_ms, 2000);
        assert_eq!(w.horizon_ms, 0);
        assert_eq!(w.jitter, 0.5);
    }

    #[test]
    fn options_to_wit() {
        let o = ActivityOptions { attempt_timeout: Some(Duration::from_secs(10)), priority: -1, ..Default::default() };
        let w = o.to_wit();
        assert!(w.retry.is_none());
        assert_eq!(w.attempt_timeout_ms, Some(10_000));
        assert_eq!(w.heartbeat_timeout_ms, None);
        let o = ActivityOptions { heartbeat_timeout: Some(Duration::from_millis(1500)), ..Default::default() };
        assert_eq!(o.to_wit().heartbeat_timeout_ms, Some(1_500));
        assert_eq!(w.priority, -1);
    }
}
