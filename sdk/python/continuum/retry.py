"""Activity options: retry policy, timeouts, queue, priority, idempotency key.

Mirrors ``continuum_sdk``'s ``RetryPolicy`` and ``ActivityOptions``
(``sdk/src/retry.rs``). Durations are :class:`datetime.timedelta` or a number
of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Iterable, List, Optional, Union

from wit_world.imports import types as wit

Duration = Union[timedelta, float, int]
"""A duration: a :class:`datetime.timedelta`, or a number of seconds."""


def millis(duration: Duration) -> int:
    """A duration in whole milliseconds (never negative)."""
    if isinstance(duration, timedelta):
        ms = duration // timedelta(milliseconds=1)
    else:
        ms = int(duration * 1000)
    return max(0, min(ms, 2**64 - 1))


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed activity attempt is retried by the host.

    Build one with :meth:`constant`, :meth:`exponential` or :meth:`no_retry`,
    then refine it with the ``with_*`` methods::

        RetryPolicy.exponential(5, timedelta(milliseconds=200)).with_max_interval(timedelta(seconds=10))
    """

    max_attempts: int
    """Attempts in all, the first one included; 0 means unlimited (bounded by
    ``horizon`` when set)."""
    initial_interval: Duration
    """Delay before the first retry."""
    backoff_coefficient: float = 1.0
    """Each further delay is the previous one times this factor."""
    max_interval: Optional[Duration] = None
    """Upper bound on one delay (``None``: no bound)."""
    jitter: float = 0.0
    """Random extra delay, as a fraction of the delay (0.0 to 1.0)."""
    horizon: Optional[Duration] = None
    """No retry is scheduled past this long after the first attempt started."""
    non_retryable_codes: List[str] = field(default_factory=list)
    """Activity error codes that are never retried."""

    @staticmethod
    def constant(max_attempts: int, interval: Duration) -> "RetryPolicy":
        """The same delay between every attempt."""
        return RetryPolicy(max_attempts, interval)

    @staticmethod
    def exponential(max_attempts: int, base: Duration) -> "RetryPolicy":
        """Delays that double after each attempt, starting at ``base``."""
        return RetryPolicy(max_attempts, base, backoff_coefficient=2.0)

    @staticmethod
    def no_retry() -> "RetryPolicy":
        """A single attempt, never retried."""
        return RetryPolicy(1, 0)

    def with_max_attempts(self, max_attempts: int) -> "RetryPolicy":
        """Sets the number of attempts in all (0: unlimited)."""
        return replace(self, max_attempts=max_attempts)

    def with_coefficient(self, coefficient: float) -> "RetryPolicy":
        """Sets the growth factor between delays."""
        return replace(self, backoff_coefficient=coefficient)

    def with_max_interval(self, cap: Duration) -> "RetryPolicy":
        """Caps each delay."""
        return replace(self, max_interval=cap)

    def with_jitter(self, jitter: float) -> "RetryPolicy":
        """Adds random extra delay, as a fraction (0.0 to 1.0) of each delay."""
        return replace(self, jitter=jitter)

    def with_horizon(self, horizon: Duration) -> "RetryPolicy":
        """Stops scheduling retries this long after the first attempt started."""
        return replace(self, horizon=horizon)

    def with_non_retryable_codes(self, codes: Iterable[str]) -> "RetryPolicy":
        """Never retries an error whose code is one of ``codes``."""
        return replace(self, non_retryable_codes=list(codes))

    def to_wit(self) -> wit.RetryPolicy:
        """The WIT record."""
        return wit.RetryPolicy(
            max_attempts=self.max_attempts,
            initial_interval_ms=millis(self.initial_interval),
            backoff_coefficient=float(self.backoff_coefficient),
            max_interval_ms=0 if self.max_interval is None else millis(self.max_interval),
            jitter=float(self.jitter),
            horizon_ms=0 if self.horizon is None else millis(self.horizon),
            non_retryable_codes=list(self.non_retryable_codes),
        )


@dataclass(frozen=True)
class ActivityOptions:
    """Options for one activity call; a field left at its default uses the
    host's default. Usually set through :class:`~continuum.ActivityCall`'s
    methods instead."""

    retry: Optional[RetryPolicy] = None
    """The retry policy (``None``: the host's default policy)."""
    attempt_timeout: Optional[Duration] = None
    """Timeout of each attempt (``None``: the host's default)."""
    heartbeat_timeout: Optional[Duration] = None
    """An attempt that sends no heartbeat for this long fails as timed out."""
    queue: Optional[str] = None
    """The task queue (``None``: ``default``)."""
    priority: int = 0
    """Higher runs first among ready tasks of the same queue."""
    idempotency_key: Optional[str] = None
    """A completed result with the same key in the same instance is reused."""
    schedule_to_start_timeout: Optional[Duration] = None
    """The call fails when none of its attempts has started this long after
    it was scheduled: ``unknown-activity`` when no host of the instance
    serves the activity on its queue, else timed out (``None``: it waits
    for a worker however long it takes)."""

    def to_wit(self) -> wit.ActivityOptions:
        """The WIT record."""
        return wit.ActivityOptions(
            retry=None if self.retry is None else self.retry.to_wit(),
            attempt_timeout_ms=None if self.attempt_timeout is None else millis(self.attempt_timeout),
            heartbeat_timeout_ms=None if self.heartbeat_timeout is None else millis(self.heartbeat_timeout),
            queue=self.queue,
            priority=self.priority,
            idempotency_key=self.idempotency_key,
        )

    def ext_to_wit(self) -> Optional[wit.ActivityOptionsExt]:
        """The further options ``call-activity-ext`` takes, when any is set."""
        if self.schedule_to_start_timeout is None:
            return None
        return wit.ActivityOptionsExt(schedule_to_start_timeout_ms=millis(self.schedule_to_start_timeout))
