"""Sagas: after each step that changed the world, register the activity call
that undoes it; on a failure or a cancellation, run the compensations newest
first (or all at once), each a durable activity call with its own retry
policy::

    saga = Saga()
    reservation = ctx.activity("reserve_stock", order).call()
    saga.add(ctx.activity("release_stock", reservation))
    try:
        review = ctx.signal("fraud_review")
    except ActivityFailed as failed:   # cancelled while waiting, say
        raise saga.fail(failed)

A cancellation reaches the workflow as an :class:`ActivityFailed` of kind
``FailureKind.CANCELLED`` from the wait it is in; the compensations started
after it run normally, within the manifest's ``run_supervisor.cancel_cleanup_ms``.
"""

from typing import List, Optional

from . import log
from .errors import ActivityFailed
from .workflow import ActivityCall


class Saga:
    """The compensations registered so far, run newest first by
    :meth:`compensate` (all at once with ``parallel=True``)."""

    def __init__(self, parallel: bool = False) -> None:
        self._steps: List[ActivityCall] = []
        self._parallel = parallel

    def add(self, compensation: ActivityCall) -> None:
        """Registers the activity call that undoes the step just done."""
        self._steps.append(compensation)

    def __len__(self) -> int:
        return len(self._steps)

    def compensate(self) -> None:
        """Runs every registered compensation, newest first (each waited for
        before the next), or all started at once when parallel. Every one
        runs even when an earlier one fails; the first failure is raised."""
        steps, self._steps = list(reversed(self._steps)), []
        first: Optional[ActivityFailed] = None
        if self._parallel:
            outcomes = [s.start() for s in steps]
            calls = [o.wait for o in outcomes]
        else:
            calls = [s.call for s in steps]
        for call in calls:
            try:
                call()
            except ActivityFailed as e:
                log.warn(f"compensation failed: {e}")
                first = first or e
        if first is not None:
            raise first

    def fail(self, error: Exception) -> Exception:
        """Compensates, then returns ``error`` for the workflow to raise (a
        failing compensation is logged): ``raise saga.fail(e)``."""
        try:
            self.compensate()
        except ActivityFailed:
            pass
        return error
