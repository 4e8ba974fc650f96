"""Child workflows: a workflow starts another workflow of its instance and
waits on it like on any operation (raced with :meth:`Workflow.select`,
joined with :meth:`Workflow.join_children`).

Mirrors ``continuum_sdk``'s ``start_child``, ``ChildRun``, ``ChildOptions``,
``ParentClose`` and ``ChildError`` (``sdk/rust/src/child.rs``): the same
options, error kinds, codes and messages::

    child = ctx.start_child("ship-flow", {"order_id": "o-1"},
                            ChildOptions(parent_close=ParentClose.ABANDON))
    late = ctx.timer(timedelta(hours=1))
    if ctx.select(child, late) == 0:
        try:
            tracking = child.wait()
        except ChildError as e:
            if e.kind is ChildErrorKind.FAILED and e.code == "no_carrier":
                ...
            raise            # fails the run with the child's code
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, List, Optional, Sequence, TypeVar, Union

from wit_world.imports import children as wit

from .errors import ActivityFailed, FailureKind, WorkflowError
from .workflow import Operation, encode_json

T = TypeVar("T")


class ParentClose(Enum):
    """What becomes of a child that has not ended when its parent ends
    (completes, fails, is cancelled or terminated)."""

    CANCEL = "cancel"
    """The child's cancellation is requested: delivered to the child
    workflow, which may clean up (the default)."""
    TERMINATE = "terminate"
    """The child is terminated at once."""
    ABANDON = "abandon"
    """The child runs on, on its own."""

    def to_wit(self) -> Any:
        """The WIT ``parent-close-policy``."""
        return {
            ParentClose.CANCEL: wit.ParentClosePolicy.CANCEL,
            ParentClose.TERMINATE: wit.ParentClosePolicy.TERMINATE,
            ParentClose.ABANDON: wit.ParentClosePolicy.ABANDON,
        }[self]


@dataclass(frozen=True)
class ChildOptions:
    """Options of a child workflow, for :meth:`Workflow.start_child`."""

    run_id: Optional[str] = None
    """The child's run id; ``None``: derived from the parent's run id and the
    operation (``<parent>-child-<n>``, the same on every replay)."""
    parent_close: ParentClose = ParentClose.CANCEL
    """What becomes of the child when the parent ends first."""
    instance: Optional[str] = None
    """The instance to run the child in; ``None``: the parent's. A child runs
    in its parent's instance, another one is refused
    (:attr:`ChildErrorKind.REFUSED`)."""

    def to_wit(self) -> Any:
        """The WIT ``child-options``."""
        return wit.ChildOptions(run_id=self.run_id, parent_close=self.parent_close.to_wit(), instance=self.instance)


class ChildErrorKind(Enum):
    """Why a child workflow did not produce an output."""

    FAILED = "failed"
    """The child workflow failed (its error code is :attr:`ChildError.code`)."""
    CANCELLED = "cancelled"
    """The child was cancelled (or this run's own cancellation completed the
    wait on it)."""
    TERMINATED = "terminated"
    """The child was terminated."""
    UNKNOWN_WORKFLOW = "unknown_workflow"
    """No workflow of that name is deployed in the instance; no child was
    started."""
    REFUSED = "refused"
    """The start was refused (another instance, a run id that is not valid or
    is another run's); no child was started."""
    BAD_PAYLOAD = "bad_payload"
    """The input could not be serialized or the output did not decode."""


_WIT_KINDS = {
    wit.ChildFailureKind.FAILED: ChildErrorKind.FAILED,
    wit.ChildFailureKind.CANCELLED: ChildErrorKind.CANCELLED,
    wit.ChildFailureKind.TERMINATED: ChildErrorKind.TERMINATED,
    wit.ChildFailureKind.UNKNOWN_WORKFLOW: ChildErrorKind.UNKNOWN_WORKFLOW,
    wit.ChildFailureKind.REFUSED: ChildErrorKind.REFUSED,
}

_KIND_CODES = {
    ChildErrorKind.CANCELLED: "cancelled",
    ChildErrorKind.TERMINATED: "terminated",
    ChildErrorKind.UNKNOWN_WORKFLOW: "unknown_workflow",
    ChildErrorKind.REFUSED: "child_refused",
    ChildErrorKind.BAD_PAYLOAD: "bad_payload",
}


class ChildError(WorkflowError):
    """Why a child workflow did not produce an output, typed.

    A :class:`WorkflowError`: left uncaught (or re-raised), it fails the
    parent with :attr:`code` and :attr:`message`, as ``?`` does in Rust.

    Attributes:
        kind: why the child did not complete.
        code: the child's own error code for :attr:`ChildErrorKind.FAILED`,
            else ``cancelled``, ``terminated``, ``unknown_workflow``,
            ``child_refused`` or ``bad_payload``.
        message: a human-readable description.
    """

    def __init__(self, kind: ChildErrorKind, message: str, code: Optional[str] = None) -> None:
        if code is None:
            code = _KIND_CODES.get(kind, "child_failed")
        super().__init__(code, message)
        self.kind = kind

    def is_cancelled(self) -> bool:
        """True for a cancelled or terminated child."""
        return self.kind in (ChildErrorKind.CANCELLED, ChildErrorKind.TERMINATED)

    def __str__(self) -> str:
        return f"child workflow: {self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"ChildError({self.kind!r}, {self.message!r}, code={self.code!r})"

    @staticmethod
    def from_wit(failure: Any) -> "ChildError":
        """The error a WIT ``child-failure`` describes."""
        kind = _WIT_KINDS.get(failure.kind, ChildErrorKind.REFUSED)
        code = (failure.code or "child_failed") if kind is ChildErrorKind.FAILED else None
        return ChildError(kind, failure.message, code)

    @staticmethod
    def from_failure(failure: ActivityFailed) -> "ChildError":
        """The error from a completion's failure alone (a host that did not
        say more)."""
        if failure.kind is FailureKind.CANCELLED:
            kind = ChildErrorKind.TERMINATED if failure.code == "terminated" else ChildErrorKind.CANCELLED
            return ChildError(kind, failure.message)
        if failure.kind is FailureKind.BAD_PAYLOAD:
            return ChildError(ChildErrorKind.BAD_PAYLOAD, failure.message)
        return ChildError(ChildErrorKind.FAILED, failure.message, failure.code or "child_failed")


class ChildRun(Operation[T], Generic[T]):
    """A child workflow this run started: :meth:`wait` on it, or race it with
    :meth:`Workflow.select` (it is an :class:`Operation`). Its failure is a
    :class:`ChildError`."""

    def run_id(self) -> Optional[str]:
        """The child's run id (``None`` when its input could not be
        serialized and nothing was started)."""
        if self._handle is None:
            return None
        return wit.child_run_id(self._handle)

    def wait(self) -> T:
        """Blocks until the child ends; returns its decoded output, or raises
        the :class:`ChildError` telling why it did not complete."""
        try:
            return super().wait()
        except ActivityFailed as failure:
            typed = wit.child_failure_of(self._handle) if self._handle is not None else None
            if typed is not None:
                raise ChildError.from_wit(typed) from None
            raise ChildError.from_failure(failure) from None


def start_child(workflow: str, input: Any, options: Optional[ChildOptions] = None) -> ChildRun[Any]:
    """Starts the child; see :meth:`Workflow.start_child`."""
    options = options or ChildOptions()
    try:
        payload = encode_json(input)
    except (TypeError, ValueError) as e:
        return ChildRun(None, ActivityFailed.bad_payload(f"input of child workflow {workflow}: {e}"))
    return ChildRun(wit.start_child(workflow, payload, options.to_wit()))


ChildOutcome = Union[Any, ChildError]
"""What :meth:`Workflow.join_children` gives for one child with
``return_errors=True``: its output, or its :class:`ChildError`."""


def join_children(children: Sequence[ChildRun[Any]], return_errors: bool = False) -> List[ChildOutcome]:
    """Waits for every child; see :meth:`Workflow.join_children`."""
    outcomes: List[ChildOutcome] = []
    first: Optional[ChildError] = None
    for child in children:
        try:
            outcomes.append(child.wait())
        except ChildError as e:
            outcomes.append(e)
            first = first or e
    if first is not None and not return_errors:
        raise first
    return outcomes
