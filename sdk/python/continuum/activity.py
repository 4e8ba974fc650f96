"""Continuum activities in Python.

An activity component is a set of plain functions ``fn(input) -> output``
built with componentize-py against the ``activity`` world of ``sdk/wit``
(``tools/guest-build`` builds every ``examples-wasm/python/<name>-activities``
this way). Each function gets the decoded JSON input of one attempt and
returns a JSON-serializable output, or raises :class:`ActivityError` to fail
the attempt (retryable or not, with a code the workflow can branch on)::

    from continuum import activity
    from continuum.activity import ActivityError

    def charge_card(input):
        if input["card"] == "4000-0000-0000-0002":
            raise ActivityError("card declined", retryable=False, code="card_declined")
        return {"charge_id": "ch_" + input["order_id"]}

    WitWorld = activity.activities({"charge_card": charge_card})

Unlike a workflow, an activity may do real I/O: it runs on sandboxed WASI
as the instance's manifest grants it (``[instances.NAME.sandbox]``): files
under its sandbox directory (:data:`SANDBOX`, the current directory of every
attempt; nothing outside it is reachable), only the environment variables the manifest lists, and no
network unless the manifest lists hosts. Python's ``open``, ``os`` and
``time`` work as usual inside those bounds.

The attempt's context: :func:`info` (who this attempt is), :func:`heartbeat`
(report progress a later attempt can resume from), :func:`last_heartbeat`
and :func:`is_cancelled`.
"""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Type

import wit_world
from componentize_py_types import Err
from wit_world.imports import activity_context

try:
    # The activity world also imports `wasi:filesystem/types`, so
    # componentize-py names the Continuum types module by its package.
    from wit_world.imports import continuum_workflow_types as _wit
except ImportError:  # pragma: no cover - a world without that clash
    from wit_world.imports import types as _wit  # type: ignore[no-redef]

SANDBOX = "/sandbox"
"""Where the instance's sandbox directory is in the guest (its only
preopened directory). Each attempt starts with it as the current directory,
so relative paths name files in the sandbox."""

ActivityFn = Callable[[Any], Any]
"""An activity function: takes the decoded JSON input, returns a
JSON-serializable output or raises :class:`ActivityError`."""


class ActivityError(Exception):
    """The error an activity raises to fail its attempt (the WIT
    ``activity-error``).

    The host retries a retryable error as the call's retry policy says, and
    never retries one that is not. ``code`` reaches the workflow as
    :attr:`continuum.ActivityFailed.code` (like ``card_declined``), and a
    retry policy may list codes that are never retried::

        raise ActivityError("bank unavailable")                        # retried
        raise ActivityError("card declined", retryable=False, code="card_declined")

    Attributes:
        message: a human-readable description.
        retryable: whether the host may retry the call (default ``True``).
        code: a short machine-readable code, or ``None``.
    """

    def __init__(self, message: str, retryable: bool = True, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code

    def __str__(self) -> str:
        code = "" if self.code is None else f"[{self.code}] "
        return f"{code}{self.message} ({'retryable' if self.retryable else 'non-retryable'})"

    def __repr__(self) -> str:
        return f"ActivityError({self.message!r}, retryable={self.retryable}, code={self.code!r})"

    def to_wit(self) -> Any:
        """The WIT record."""
        return _wit.ActivityError(message=self.message, retryable=self.retryable, code=self.code)


@dataclass(frozen=True)
class AttemptInfo:
    """Who the running attempt is."""

    instance: str
    """The instance the activity runs for."""
    run_id: str
    """The run that called it (empty when called outside a run)."""
    activity: str
    """The activity's name."""
    attempt: int
    """The attempt number: 1 for the first attempt of the call."""


def info() -> AttemptInfo:
    """Who this attempt is: instance, run, activity name, attempt number."""
    i = activity_context.info()
    return AttemptInfo(instance=i.instance, run_id=i.run_id, activity=i.activity, attempt=i.attempt)


def heartbeat(details: Any = None) -> bool:
    """Reports progress with ``details`` (JSON-serializable, typically how far
    the work got) that a later attempt can resume from; the host stores the
    latest, at most once per its heartbeat interval. Returns ``True`` when
    the call has been cancelled: the activity should stop."""
    return activity_context.heartbeat(_encode(details))


def last_heartbeat() -> Any:
    """The details of the latest heartbeat recorded for this call (by an
    earlier attempt, possibly on a host that crashed, or by this one),
    decoded; ``None`` when there was none."""
    details = activity_context.last_heartbeat()
    if details is None:
        return None
    return _decode(details)


def is_cancelled() -> bool:
    """Whether the call has been cancelled (its workflow was cancelled, or
    this host lost the task); the host waits a grace period for the activity
    to return before stopping it."""
    return activity_context.is_cancelled()


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _decode(payload: bytes) -> Any:
    if not payload:
        return None
    return json.loads(payload.decode("utf-8"))


def _enter_sandbox() -> None:
    """Makes the sandbox the current directory, when the instance has one."""
    try:
        os.chdir(SANDBOX)
    except OSError:
        pass


def invoke(fns: Mapping[str, ActivityFn], name: str, input: bytes) -> bytes:
    """Runs the activity ``name`` of ``fns`` on the raw input: decodes the
    JSON input, calls the function (in the sandbox directory), encodes its
    output. An
    :class:`ActivityError` it raises fails the attempt as it says; an input
    that is not JSON, an output that cannot be encoded and an unknown name
    fail it for good; any other exception fails it retryably, with code
    ``exception`` and the exception in the message."""
    _enter_sandbox()
    fn = fns.get(name)
    if fn is None:
        raise Err(ActivityError(f"unknown activity `{name}`", retryable=False).to_wit())
    try:
        value = _decode(input)
    except ValueError as e:
        raise Err(ActivityError(f"cannot decode the activity input: {e}", retryable=False).to_wit()) from None
    try:
        output = fn(value)
    except ActivityError as e:
        raise Err(e.to_wit()) from None
    except Exception as e:  # noqa: BLE001 - the attempt must fail, not trap
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        raise Err(ActivityError(detail, retryable=True, code="exception").to_wit()) from None
    try:
        return _encode(output)
    except (TypeError, ValueError) as e:
        raise Err(ActivityError(f"cannot encode the activity output: {e}", retryable=False).to_wit()) from None


def activities(fns: Mapping[str, ActivityFn]) -> Type[wit_world.WitWorld]:
    """Registers the component's activities by name: returns the class to
    export as ``WitWorld`` (componentize-py exports the app module's
    ``WitWorld``)::

        WitWorld = activity.activities({"reserve_stock": reserve_stock, "ship": ship})
    """
    registered: Dict[str, ActivityFn] = dict(fns)
    names: List[str] = list(registered)

    class Exported(wit_world.WitWorld):
        def activities(self) -> List[str]:
            return list(names)

        def invoke(self, name: str, input: bytes) -> bytes:
            return invoke(registered, name, input)

    Exported.__name__ = Exported.__qualname__ = "WitWorld"
    return Exported
