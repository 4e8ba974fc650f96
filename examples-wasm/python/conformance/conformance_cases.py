"""The conformance cases of ``docs/conformance.md`` in Python, shared by the
``conformance`` and ``conformance-v2`` guests: :func:`conformance` makes the
workflow, with v1's or v2's drift case (the one change between them).

The workflow's input is ``{"case": NAME, ...parameters}``; an unknown case
fails the run with the code ``unknown_case``.
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from typing import Any, Callable, Dict

from continuum import ActivityFailed, FailureKind, RetryPolicy, Saga, Workflow, WorkflowError, log
from conformance_children import CHILD_CASES

Output = Dict[str, Any]

_NO_SIGNAL = object()


def _param(input: Dict[str, Any], name: str) -> int:
    """A parameter of the input, as a non-negative integer."""
    value = input.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WorkflowError("invalid_input", f"the case needs the parameter `{name}` (an unsigned integer)")
    return value


def activity_retry(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """``conf_flaky`` retried until it succeeds, then ``conf_decline``'s typed
    failure caught."""
    flaky = (
        ctx.activity("conf_flaky", {"fail_times": 2})
        .retry(RetryPolicy.constant(5, timedelta(milliseconds=10)))
        .call()
    )
    try:
        declined = (
            ctx.activity("conf_decline", {})
            .retry(RetryPolicy.constant(3, timedelta(milliseconds=10)))
            .call()
        )
    except ActivityFailed as f:
        failure = {"kind": f.kind.code, "code": f.code, "attempts": f.attempts}
    else:
        raise WorkflowError("unexpected", f"conf_decline returned {json.dumps(declined)}")
    return {"flaky": flaky, "failure": failure}


def unserved(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """``conf_unserved``, which no host serves, under a schedule-to-start
    timeout of ``ms``: its typed failure caught."""
    ms = _param(input, "ms")
    try:
        value = (
            ctx.activity("conf_unserved", {})
            .schedule_to_start_timeout(timedelta(milliseconds=ms))
            .call()
        )
    except ActivityFailed as f:
        return {"failure": {"kind": f.kind.code, "code": f.code, "attempts": f.attempts}}
    raise WorkflowError("unexpected", f"conf_unserved returned {json.dumps(value)}")


def timer(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """A durable sleep, measured with ``now``."""
    ms = _param(input, "ms")
    t0 = ctx.now_ms()
    ctx.sleep(timedelta(milliseconds=ms))
    t1 = ctx.now_ms()
    return {"slept_at_least": t1 - t0 >= ms}


def signal_timeout(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """The signal ``go``, for at most ``timeout_ms``."""
    timeout = timedelta(milliseconds=_param(input, "timeout_ms"))
    payload = ctx.signal_with_timeout("go", timeout, _NO_SIGNAL)
    if payload is _NO_SIGNAL:
        return {"timed_out": True}
    return {"signal": payload}


def signal_race(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """The signal ``race`` against a timer of ``timer_ms``."""
    deadline = ctx.timer(timedelta(milliseconds=_param(input, "timer_ms")))
    signal = ctx.receive_signal("race")
    if ctx.select(deadline, signal) == 0:
        return {"winner": "timer"}
    return {"winner": "signal", "payload": signal.wait()}


def fan_out(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """``n`` calls of ``conf_echo`` started before any is waited on, joined in
    order."""
    calls = [ctx.activity("conf_echo", {"i": i}).start() for i in range(_param(input, "n"))]
    return {"doubles": [call.wait()["double"] for call in calls]}


def saga_cancel(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """Two steps, each with its compensation in a saga, then the signal
    ``go``: a cancellation while waiting runs the compensations, newest
    first."""
    saga = Saga()
    for i in (1, 2):
        ctx.activity("conf_echo", {"i": i}).call()
        saga.add(ctx.activity("conf_echo", {"i": 100 + i}))
    try:
        ctx.signal("go")
    except ActivityFailed as failed:
        if failed.kind == FailureKind.CANCELLED:
            raise saga.fail(failed)
        raise
    return {"saga": "completed"}


def continue_case(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """``continue``: a chain of ``n`` runs; each calls ``conf_echo`` with its
    position ``i`` (0 in the first), then continues as new with ``i + 1``;
    the last returns the count and its echo."""
    n = _param(input, "n")
    i = input.get("i", 0)
    echo = ctx.activity("conf_echo", {"i": i}).start().wait()
    if i + 1 < n:
        return ctx.continue_as_new({"case": "continue", "n": n, "i": i + 1})
    return {"continued": n, "double": echo["double"]}


def query(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """Answers ``state`` (``{"step": "waiting"}`` until the signal ``go``,
    then ``{"step": "done"}``) and ``echo`` (its arguments); waits for ``go``."""
    step = {"step": "waiting"}
    ctx.on_query("state", lambda _args: dict(step))
    ctx.on_query("echo", lambda args: args)
    ctx.signal("go")
    step["step"] = "done"
    return {"step": "done"}


def patch(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """The patch marker ``conformance-patch``."""
    return {"patched": ctx.patched("conformance-patch")}


def clock_random(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """The host's clock and randomness and Python's own (``time.time()``,
    ``random.getrandbits``), logged, then a durable sleep."""
    sleep_ms = _param(input, "sleep_ms")
    values = {
        "now": ctx.now_ms(),
        "random": str(ctx.random()),
        "uuid": ctx.uuid(),
        "native_now_ms": round(time.time() * 1000),
        "native_random": random.getrandbits(32),
    }
    log.info("conformance values " + json.dumps(values, separators=(",", ":")))
    ctx.sleep(timedelta(milliseconds=sleep_ms))
    return values


def conformance(drift_v2: bool) -> Callable[[Workflow, Any], Output]:
    """The conformance workflow; ``drift_v2`` picks the drift case's version
    (v1 waits for the signal ``go``, v2 calls ``conf_echo`` there instead)."""

    def drift(ctx: Workflow, input: Dict[str, Any]) -> Output:
        if drift_v2:
            ctx.activity("conf_echo", {"i": 0}).call()
            return {"drift": "v2"}
        ctx.signal("go")
        return {"drift": "v1"}

    cases: Dict[str, Callable[[Workflow, Dict[str, Any]], Output]] = {
        "activity_retry": activity_retry,
        "timer": timer,
        "unserved": unserved,
        "signal_timeout": signal_timeout,
        "signal_race": signal_race,
        "fan_out": fan_out,
        "patch": patch,
        "query": query,
        "continue": continue_case,
        "clock_random": clock_random,
        "drift": drift,
        "saga_cancel": saga_cancel,
        **CHILD_CASES,
    }

    def run(ctx: Workflow, input: Any) -> Output:
        case = input.get("case") if isinstance(input, dict) else None
        fn = cases.get(case) if isinstance(case, str) else None
        if fn is None:
            raise WorkflowError("unknown_case", f"no conformance case `{case}`")
        return fn(ctx, input)

    return run
