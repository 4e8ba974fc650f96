"""Errors: what an operation reports (:class:`ActivityFailed`) and what a
workflow fails with (:class:`WorkflowError`).

Mirrors ``continuum_sdk``'s ``ActivityFailed``, ``FailureKind`` and
``WorkflowError`` (``sdk/src/error.rs``): the same kinds, codes and messages.
"""

from __future__ import annotations

from enum import Enum
from typing import Optional


class FailureKind(Enum):
    """Why an operation (activity call, timer, signal receipt) did not produce
    a value."""

    ACTIVITY_FAILED = "activity_failed"
    """The activity ran and reported an error on its last attempt."""
    TIMED_OUT = "activity_timed_out"
    """The activity's attempts ran out of time."""
    CANCELLED = "cancelled"
    """The operation was cancelled."""
    UNKNOWN_ACTIVITY = "unknown_activity"
    """No activity of that name is registered in the instance."""
    BAD_PAYLOAD = "bad_payload"
    """The payload is not the JSON the workflow expected (raised inside the
    guest; the host never reports this kind)."""

    @property
    def code(self) -> str:
        """The machine-readable code a run fails with when this failure is
        not caught: ``activity_failed``, ``activity_timed_out``, ..."""
        return self.value


class ActivityFailed(Exception):
    """A failed operation as the workflow sees it: an activity that failed for
    good, timed out or is unknown, a cancelled operation, or a payload that is
    not valid JSON.

    Catch it to handle the failure; left uncaught, the run fails with a
    :class:`WorkflowError` whose code is ``kind.code``.

    Attributes:
        kind: why the operation failed.
        message: a human-readable description, from the activity or the host.
        attempts: attempts made before giving up (0 when not an activity).
        code: the code the activity gave its error on its last attempt (like
            ``card_declined``); ``None`` when it gave none or the failure is
            the host's (a timeout, a cancellation).
    """

    def __init__(self, kind: FailureKind, message: str, attempts: int = 0, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = attempts
        self.code = code

    @staticmethod
    def bad_payload(message: str) -> "ActivityFailed":
        """A :attr:`FailureKind.BAD_PAYLOAD` failure."""
        return ActivityFailed(FailureKind.BAD_PAYLOAD, message)

    def __str__(self) -> str:
        text = f"{self.kind.code}: "
        if self.code is not None:
            text += f"[{self.code}] "
        text += self.message
        if self.attempts > 0:
            text += f" (after {self.attempts} attempt{'' if self.attempts == 1 else 's'})"
        return text

    def __repr__(self) -> str:
        return f"ActivityFailed({self.kind!r}, {self.message!r}, attempts={self.attempts}, code={self.code!r})"


class WorkflowError(Exception):
    """The error a workflow raises to fail its run with this ``code`` and
    ``message`` (the WIT ``workflow-error``).

    Example::

        raise WorkflowError("payment_declined", "card 4000 was declined")
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @staticmethod
    def from_failure(failure: ActivityFailed) -> "WorkflowError":
        """The error an uncaught :class:`ActivityFailed` fails the run with
        (as ``?`` does in Rust): code ``failure.kind.code``, message
        ``str(failure)``."""
        return WorkflowError(failure.kind.code, str(failure))
