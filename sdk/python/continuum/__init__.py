"""Continuum workflows in Python.

A workflow is a function ``fn(ctx, input) -> output`` built into a
WebAssembly component with componentize-py against the ``workflow`` world of
``sdk/wit``. Everything it does that is not pure goes through ``ctx`` (a
:class:`Workflow`) or Python's clock and randomness, which the host journals,
so after a crash the host replays the journal and the function takes the same
path again::

    import continuum
    from continuum import Workflow, RetryPolicy
    from datetime import timedelta

    def greet(ctx: Workflow, name: str) -> str:
        ctx.sleep(timedelta(seconds=1))
        return ctx.activity("greet", name).retry(RetryPolicy.exponential(3, 0.2)).call()

    WitWorld = continuum.workflow(greet)

Build it (``tools/guest-build`` does this for ``examples-wasm/python/*``)::

    componentize-py -d sdk/wit -w workflow componentize -p sdk/python -p . app -o app.wasm

A workflow starts other workflows of its instance as its children with
:meth:`Workflow.start_child` (:mod:`continuum.child`): a :class:`ChildRun`
is waited on, raced with :meth:`Workflow.select` and joined with
:meth:`Workflow.join_children` like any operation; a child that did not
complete raises a typed :class:`ChildError`.

Activities are written with :mod:`continuum.activity` and built against the
``activity`` world (``-w activity``); in such a component only that module
is available (the workflow API needs the ``host`` interface).
"""

import importlib.util as _util

# The package serves both worlds: a workflow component (which imports the
# `host` interface) gets the workflow API below; an activity component
# (the `activity` world, without `host`) imports `continuum.activity` only.
_IN_WORKFLOW = _util.find_spec("wit_world.imports.host") is not None

if _IN_WORKFLOW:
    from . import log
    from .child import ChildError, ChildErrorKind, ChildOptions, ChildRun, ParentClose
    from .errors import ActivityFailed, FailureKind, WorkflowError
    from .retry import ActivityOptions, Duration, RetryPolicy
    from .runtime import workflow
    from .saga import Saga
    from .workflow import ActivityCall, Operation, Update, Workflow, to_json

    __all__ = [
        "ActivityCall",
        "ActivityFailed",
        "ActivityOptions",
        "ChildError",
        "ChildErrorKind",
        "ChildOptions",
        "ChildRun",
        "Duration",
        "FailureKind",
        "Operation",
        "ParentClose",
        "RetryPolicy",
        "Saga",
        "Update",
        "Workflow",
        "WorkflowError",
        "log",
        "to_json",
        "workflow",
    ]
else:
    __all__ = []
