"""The glue between a workflow function and the component's ``run`` export.

componentize-py exports the class named ``WitWorld`` of the app module, so a
workflow module ends with::

    WitWorld = continuum.workflow(order_flow)
"""

from __future__ import annotations

import os
import random
import sys
import traceback
from typing import Any, Type

import wit_world
from componentize_py_types import Err
from wit_world.imports import types as wit

from . import log
from .errors import ActivityFailed, WorkflowError
from .workflow import Workflow, WorkflowFn, answer_pending_query, decode_json, encode_json


def _prepare_run() -> None:
    """What every run does first.

    ``random``'s generator was seeded when the component was built (its
    state is part of the snapshot componentize-py takes), so every run would
    draw the same numbers: it is reseeded from ``os.urandom``, which the host
    serves from the run's journaled seed (different per run, repeated on
    replay). Output is line-buffered so that each ``print`` reaches the host
    at once: a run that suspends loses what a buffer still holds.
    """
    random.seed(os.urandom(32))
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def _fail(code: str, message: str) -> Err:
    return Err(wit.WorkflowError(code=code, message=message))


def run_workflow(fn: WorkflowFn, input: bytes) -> bytes:
    """Runs ``fn`` on the raw ``run`` input: decodes the JSON input, calls the
    function with a fresh :class:`Workflow`, encodes its output. A
    :class:`WorkflowError` it raises fails the run with its code and
    message; an uncaught :class:`ActivityFailed` fails it as
    :meth:`WorkflowError.from_failure` says; any other exception is logged
    with its traceback and fails the run with code ``exception``."""
    _prepare_run()
    try:
        value = decode_json(input)
    except ValueError as e:
        raise _fail("invalid_input", f"cannot decode the workflow input: {e}") from None
    try:
        try:
            output = fn(Workflow(), value)
        finally:
            # A query execution past the workflow's end is answered here.
            answer_pending_query([])
    except WorkflowError as e:
        raise _fail(e.code, e.message) from None
    except ActivityFailed as failure:
        e = WorkflowError.from_failure(failure)
        raise _fail(e.code, e.message) from None
    except Exception as e:  # noqa: BLE001 - the run must fail, not trap
        log.error("exception: " + "".join(traceback.format_exception(e)).rstrip())
        raise _fail("exception", f"{type(e).__name__}: {e}") from None
    try:
        return encode_json(output)
    except (TypeError, ValueError) as e:
        raise _fail("bad_output", f"cannot encode the workflow output: {e}") from None


def workflow(fn: WorkflowFn) -> Type[wit_world.WitWorld]:
    """Makes ``fn`` the component's workflow: returns the class to export as
    ``WitWorld``.

    ``fn(ctx, input)`` gets the :class:`Workflow` context and the decoded
    JSON input, and returns a JSON-serializable output (or raises
    :class:`WorkflowError`)::

        def greet(ctx: Workflow, name: str) -> str:
            ctx.sleep(1)
            return ctx.activity("greet", name).call()

        WitWorld = continuum.workflow(greet)
    """

    class Exported(wit_world.WitWorld):
        def run(self, input: bytes) -> bytes:
            return run_workflow(fn, input)

    Exported.__name__ = Exported.__qualname__ = "WitWorld"
    Exported.__doc__ = fn.__doc__
    return Exported
