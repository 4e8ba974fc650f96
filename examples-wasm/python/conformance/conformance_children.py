"""The child-workflow cases of ``docs/conformance.md`` in Python, shared by
the ``conformance`` and ``conformance-v2`` guests: each starts children of
the conformance workflow named by the input's ``workflow`` (the language's
own, so every suite can start them), each child running a simple case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Dict

from continuum import ChildError, ChildOptions, Workflow, WorkflowError

Output = Dict[str, Any]


def _workflow(input: Dict[str, Any]) -> str:
    """The child workflow's name, from the input."""
    name = input.get("workflow")
    if not isinstance(name, str):
        raise WorkflowError("invalid_input", "the case needs the parameter `workflow` (a string)")
    return name


def _count(input: Dict[str, Any], name: str) -> int:
    """A parameter of the input, as a non-negative integer."""
    value = input.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WorkflowError("invalid_input", f"the case needs the parameter `{name}` (an unsigned integer)")
    return value


def child(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """One child running ``patch``, under the run id ``run_id``: its output
    and its run id as the handle tells it."""
    run_id = input.get("run_id")
    if not isinstance(run_id, str):
        raise WorkflowError("invalid_input", "the case needs the parameter `run_id` (a string)")
    run = ctx.start_child(_workflow(input), {"case": "patch"}, ChildOptions(run_id=run_id))
    return {"child": run.wait(), "child_run_id": run.run_id()}


def child_join(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """``n`` children started before any is waited on (child ``i`` runs
    ``fan_out`` with ``n = i``), joined in order."""
    workflow = _workflow(input)
    children = [ctx.start_child(workflow, {"case": "fan_out", "n": i}) for i in range(_count(input, "n"))]
    return {"results": ctx.join_children(children)}


def child_race(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """A child sleeping ``child_ms`` (the ``timer`` case) raced against a
    timer of ``timer_ms``; a child still running when the parent ends is
    cancelled (the default parent-close policy)."""
    run = ctx.start_child(_workflow(input), {"case": "timer", "ms": _count(input, "child_ms")})
    deadline = ctx.timer(timedelta(milliseconds=_count(input, "timer_ms")))
    if ctx.select(run, deadline) == 0:
        return {"winner": "child", "child": run.wait()}
    return {"winner": "timer"}


def _error(e: ChildError) -> Output:
    return {"kind": e.kind.value, "code": e.code}


def child_errors(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """A child of a workflow no one deployed, and a child failing (with an
    unknown case): both typed errors caught."""
    try:
        value = ctx.child("no-such-workflow", {})
    except ChildError as e:
        unknown = {**_error(e), "names_it": "no-such-workflow" in e.message}
    else:
        raise WorkflowError("unexpected", f"no-such-workflow returned {value!r}")
    try:
        value = ctx.child(_workflow(input), {"case": "no_such_case"})
    except ChildError as e:
        failed = _error(e)
    else:
        raise WorkflowError("unexpected", f"the unknown case returned {value!r}")
    return {"unknown": unknown, "failed": failed}


def child_cancel(ctx: Workflow, input: Dict[str, Any]) -> Output:
    """A child running ``saga_cancel``, waited on: the harness cancels this
    run, the cancellation reaches the child (the default parent-close
    policy), which compensates; the wait's error fails this run."""
    return {"child": ctx.child(_workflow(input), {"case": "saga_cancel"})}


CHILD_CASES: Dict[str, Callable[[Workflow, Dict[str, Any]], Output]] = {
    "child": child,
    "child_join": child_join,
    "child_race": child_race,
    "child_errors": child_errors,
    "child_cancel": child_cancel,
}
"""The child-workflow cases, by name."""
