"""The workflow context: activities, timers, signals, racing, the journaled
clock and randomness, patch markers.

Mirrors ``continuum_sdk::Workflow`` (``sdk/src/workflow.rs``). Every
non-pure thing a workflow does goes through the :class:`Workflow` it is
given, so the host can journal it and replay it exactly.

Python's own clock and randomness are journaled too (the host's WASI):
``time.time()`` reads the same journaled clock as :meth:`Workflow.now_ms`,
and ``random``/``os.urandom``/``uuid.uuid4()`` draw from a journaled per-run
seed. ``time.sleep`` does not wait: use :meth:`Workflow.sleep`, a durable
timer.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Generic, List, Optional, Sequence, TypeVar

from componentize_py_types import Err, Ok
from wit_world.imports import attributes as wit_attributes
from wit_world.imports import continuation as wit_continuation
from wit_world.imports import host
from wit_world.imports import queries as wit_queries
from wit_world.imports import updates as wit_updates
from wit_world.imports import types as wit

from .errors import ActivityFailed, FailureKind, WorkflowError
from .retry import ActivityOptions, Duration, RetryPolicy, millis

if TYPE_CHECKING:
    from .child import ChildOptions, ChildOutcome, ChildRun

T = TypeVar("T")

_KINDS = {
    wit.FailureKind.ACTIVITY_FAILED: FailureKind.ACTIVITY_FAILED,
    wit.FailureKind.TIMED_OUT: FailureKind.TIMED_OUT,
    wit.FailureKind.CANCELLED: FailureKind.CANCELLED,
    wit.FailureKind.UNKNOWN_ACTIVITY: FailureKind.UNKNOWN_ACTIVITY,
}


def encode_json(value: Any) -> bytes:
    """A value as a JSON payload (compact, UTF-8, like serde_json)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def to_json(value: Any) -> str:
    """A value as compact JSON text, as serde_json prints it (for messages
    that must match the Rust SDK's)."""
    return encode_json(value).decode("utf-8")


def decode_json(payload: bytes) -> Any:
    """A JSON payload as a value; an empty payload (a fired timer) is ``None``."""
    if not payload:
        return None
    return json.loads(payload.decode("utf-8"))


def _outcome(completion: wit.Completion) -> Any:
    """The decoded value of a completion, or its failure raised."""
    if isinstance(completion, wit.Completion_Ok):
        try:
            return decode_json(completion.value)
        except ValueError as e:
            raise ActivityFailed.bad_payload(str(e)) from None
    failure = completion.value
    raise ActivityFailed(_KINDS[failure.kind], failure.message, failure.attempts, failure.code)


# The query handlers registered so far, by name (`Workflow.on_query`).
_QUERY_HANDLERS: "dict[str, Callable[[Any], Any]]" = {}


def answer_pending_query(waiting_on: List[int]) -> None:
    """Answers the pending query, if the host has one now: called just
    before a wait on ``waiting_on`` may block, and after the workflow
    function returned (with no handles). A workflow with no handler does
    not ask. When it answers, the host stops the guest."""
    if not _QUERY_HANDLERS:
        return
    call = wit_queries.pending_query(list(waiting_on))
    if call is None:
        return
    handler = _QUERY_HANDLERS.get(call.name)
    answer: wit_queries.QueryAnswer
    if handler is None:
        answer = wit_queries.QueryAnswer_UnknownQuery(list(_QUERY_HANDLERS))
    else:
        try:
            answer = wit_queries.QueryAnswer_Ok(encode_json(handler(decode_json(call.args))))
        except Exception as e:  # noqa: BLE001 - the handler's failure is the query's
            answer = wit_queries.QueryAnswer_Err(str(e) or type(e).__name__)
    wit_queries.answer_query(answer)


class Update(Generic[T]):
    """A signal received by :meth:`Workflow.update`: its payload
    (``value``), and its update id (``id``, ``None`` for a plain signal)
    when its sender waits for a reply."""

    def __init__(self, value: T, update_id: Optional[str]) -> None:
        self.value = value
        self.id = update_id

    def reply(self, reply: Any) -> None:
        """Replies ``reply`` (a JSON value) to the sender; nothing for a
        plain signal. Raises :class:`WorkflowError` (``update_refused``)
        when the update was replied to already."""
        if self.id is None:
            return
        try:
            wit_updates.reply_update(self.id, Ok(encode_json(reply)))
        except Err as e:
            raise WorkflowError("update_refused", str(e.value)) from None

    def reject(self, message: str) -> None:
        """Rejects the update: its sender gets the error ``message``."""
        if self.id is None:
            return
        try:
            wit_updates.reply_update(self.id, Err(str(message)))
        except Err as e:
            raise WorkflowError("update_refused", str(e.value)) from None


class Operation(Generic[T]):
    """An operation started by the workflow that completes later: an activity
    call, a timer, a signal receipt or a child workflow (:class:`ChildRun`). :meth:`wait` for it, or race several
    with :meth:`Workflow.select`."""

    def __init__(self, handle: Optional[int], failure: Optional[ActivityFailed] = None) -> None:
        self._handle = handle
        self._done = failure is not None
        self._value: Any = None
        self._failure = failure

    def is_done(self) -> bool:
        """Whether the outcome is already known (it won a select); ``wait``
        then returns without blocking."""
        return self._done

    def _settle(self, completion: wit.Completion) -> None:
        try:
            self._value = _outcome(completion)
        except ActivityFailed as failure:
            self._failure = failure
        self._done = True

    def wait(self) -> T:
        """Blocks until the operation completes; returns its decoded JSON
        value, or raises its :class:`ActivityFailed`."""
        if not self._done:
            assert self._handle is not None
            answer_pending_query([self._handle])
            self._settle(host.wait(self._handle))
        if self._failure is not None:
            raise self._failure
        return self._value


class ActivityCall:
    """A prepared activity call, made by :meth:`Workflow.activity`. Set
    options (each method returns the call), then :meth:`call` it (wait for
    the result) or :meth:`start` it (get a pending :class:`Operation`)::

        receipt = (ctx.activity("charge_card", {"amount_cents": 1200})
                   .retry(RetryPolicy.constant(5, timedelta(seconds=2)))
                   .timeout(timedelta(seconds=30))
                   .idempotency_key("charge-order-42")
                   .call())
    """

    def __init__(self, name: str, input: Any) -> None:
        self._name = name
        self._input = input
        self._options = ActivityOptions()

    def _with(self, **changes: Any) -> "ActivityCall":
        from dataclasses import replace

        self._options = replace(self._options, **changes)
        return self

    def retry(self, policy: RetryPolicy) -> "ActivityCall":
        """Sets the retry policy (default: the host's policy)."""
        return self._with(retry=policy)

    def timeout(self, per_attempt: Duration) -> "ActivityCall":
        """Sets the timeout of each attempt (default: the host's)."""
        return self._with(attempt_timeout=per_attempt)

    def heartbeat_timeout(self, every: Duration) -> "ActivityCall":
        """Fails an attempt that sends no heartbeat for ``every`` (as timed
        out, retried as the policy says)."""
        return self._with(heartbeat_timeout=every)

    def schedule_to_start_timeout(self, timeout: Duration) -> "ActivityCall":
        """Fails the call when none of its attempts has started ``timeout``
        after it was scheduled: with ``unknown-activity`` when no host of the
        instance serves the activity on its queue (else timed out)."""
        return self._with(schedule_to_start_timeout=timeout)

    def queue(self, queue: str) -> "ActivityCall":
        """Sends the task to this queue (default: ``default``)."""
        return self._with(queue=queue)

    def priority(self, priority: int) -> "ActivityCall":
        """Higher runs first among ready tasks of the same queue (default 0)."""
        return self._with(priority=priority)

    def idempotency_key(self, key: str) -> "ActivityCall":
        """Reuses a completed result with the same key in the same instance
        instead of running the activity again."""
        return self._with(idempotency_key=key)

    def options(self, options: ActivityOptions) -> "ActivityCall":
        """Replaces all options at once."""
        self._options = options
        return self

    def start(self) -> Operation[Any]:
        """Schedules the activity; returns its pending operation. An input
        that is not JSON-serializable schedules nothing: the operation fails
        with :attr:`FailureKind.BAD_PAYLOAD`."""
        try:
            payload = encode_json(self._input)
        except (TypeError, ValueError) as e:
            return Operation(None, ActivityFailed.bad_payload(f"input of activity {self._name}: {e}"))
        ext = self._options.ext_to_wit()
        if ext is None:
            return Operation(host.call_activity(self._name, payload, self._options.to_wit()))
        return Operation(host.call_activity_ext(self._name, payload, self._options.to_wit(), ext))

    def call(self) -> Any:
        """Schedules the activity and waits for its result (its decoded JSON
        output); raises :class:`ActivityFailed` when it failed for good."""
        return self.start().wait()


class Workflow:
    """The handle a workflow function receives; there is one per run."""

    def activity(self, name: str, input: Any = None) -> ActivityCall:
        """Prepares a call of the activity ``name`` with ``input`` (sent as
        JSON). Set options on the returned :class:`ActivityCall`, then
        ``call()`` or ``start()`` it."""
        return ActivityCall(name, input)

    def timer(self, duration: Duration) -> Operation[None]:
        """Starts a durable timer; the operation completes (with ``None``)
        when it fires. Race it against other operations with :meth:`select`."""
        return Operation(host.start_timer(millis(duration)))

    def sleep(self, duration: Duration) -> None:
        """Sleeps durably for ``duration`` (a timer the workflow waits on; it
        survives a crash of the host)."""
        try:
            self.timer(duration).wait()
        except ActivityFailed:
            # A timer only fails when cancelled, and then the host stops the run.
            pass

    def receive_signal(self, name: str) -> Operation[Any]:
        """Starts waiting for the next signal called ``name``; its JSON payload
        is the operation's value. Signals sent before the workflow asks are
        kept and delivered in order."""
        return Operation(host.receive_signal(name))

    def on_query(self, name: str, handler: Callable[[Any], Any]) -> None:
        """Registers the handler of the query ``name``: it takes the query's
        arguments (decoded JSON) and returns the answer (a JSON value); an
        exception it raises fails the query with its message. Handlers must
        only read the workflow's state (nothing they do is recorded).
        Registering a name again replaces its handler.

        ``ctx.on_query("count", lambda _args: state["count"])``"""
        _QUERY_HANDLERS[name] = handler

    def update(self, name: str) -> "Update[Any]":
        """Waits for the next signal ``name``, sent as an update or as a
        plain signal; reply with :meth:`Update.reply` or
        :meth:`Update.reject` (an update's sender waits for that)."""
        op = self.receive_signal(name)
        value = op.wait()
        assert op._handle is not None
        return Update(value, wit_updates.update_id_of(op._handle))

    def signal(self, name: str) -> Any:
        """Waits for the next signal called ``name``; returns its payload."""
        return self.receive_signal(name).wait()

    def signal_with_timeout(self, name: str, timeout: Duration, default: Any = None) -> Any:
        """Waits for the next signal called ``name`` for at most ``timeout``;
        returns its payload, or ``default`` when the timeout fires first (the
        abandoned receipt takes no signal)."""
        signal = self.receive_signal(name)
        timer = self.timer(timeout)
        if self.select(signal, timer) == 0:
            return signal.wait()
        return default

    def select(self, *ops: Operation[Any]) -> int:
        """Blocks until one of ``ops`` completes; returns its position. The
        winner keeps its outcome (its ``wait`` returns at once); the others
        stay pending and may be waited on or raced again later. An operation
        already done wins at once (the first one in order)."""
        if not ops:
            raise ValueError("Workflow.select needs at least one operation")
        for i, op in enumerate(ops):
            if op.is_done():
                return i
        positions: List[int] = []
        handles: List[int] = []
        for i, op in enumerate(ops):
            if op._handle is not None:
                positions.append(i)
                handles.append(op._handle)
        answer_pending_query(handles)
        pos, completion = host.wait_any(handles)
        i = positions[pos]
        ops[i]._settle(completion)
        return i

    def wait_any(self, ops: Sequence[Operation[Any]]) -> int:
        """:meth:`select` over a sequence, under the name of the host call."""
        return self.select(*ops)

    def start_child(self, workflow: str, input: Any = None, options: "Optional[ChildOptions]" = None) -> "ChildRun[Any]":
        """Starts the workflow ``workflow`` of this run's instance with
        ``input`` (sent as JSON) as a child of this run; the child runs on
        any host of the instance. :meth:`ChildRun.wait` for its output (a
        failure raises :class:`ChildError`), or race it with
        :meth:`select`. Journaled: a replay starts no second child. An input
        that is not JSON-serializable starts nothing: the child fails with
        :attr:`ChildErrorKind.BAD_PAYLOAD`::

            child = ctx.start_child("ship-flow", {"order_id": "o-1"},
                                    ChildOptions(run_id="ship-o-1", parent_close=ParentClose.ABANDON))
            tracking = child.wait()
        """
        from .child import start_child

        return start_child(workflow, input, options)

    def child(self, workflow: str, input: Any = None, options: "Optional[ChildOptions]" = None) -> Any:
        """Starts a child workflow and waits for its output; raises
        :class:`ChildError` when it did not complete."""
        return self.start_child(workflow, input, options).wait()

    def join_children(self, children: "Sequence[ChildRun[Any]]", return_errors: bool = False) -> "List[ChildOutcome]":
        """Waits for every child of ``children`` (all of them: one failing
        does not stop the wait on the others) and returns their outputs in
        the same order. With ``return_errors`` a child that did not complete
        gives its :class:`ChildError` in its place; without it, the first
        such error is raised once all have ended::

            parts = [ctx.start_child("part-flow", i) for i in range(3)]
            outputs = ctx.join_children(parts)
        """
        from .child import join_children

        return join_children(children, return_errors)

    def now(self) -> datetime:
        """The current time, UTC (journaled: the same value on every replay)."""
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=timezone.utc)

    def now_ms(self) -> int:
        """The current time in milliseconds since the Unix epoch (journaled)."""
        return host.now()

    def random(self) -> int:
        """A random 64-bit number (journaled)."""
        return host.random()

    def uuid(self) -> str:
        """A random UUID v4 in its hyphenated form (journaled)."""
        return host.uuid()

    def patched(self, name: str) -> bool:
        """A patch marker: true for a run that executes this call for the first
        time (the marker is journaled) or whose history recorded it; false
        for a history recorded by code without the patch (keep the old
        path)."""
        return host.patched(name)

    def set_attribute(self, key: str, value: str) -> None:
        """Sets attribute ``key`` of this run to ``value`` (a key set again
        gets the new value), for listing runs by it (``continuum runs --attr
        key=value``). Journaled: a replay sets nothing again. A key is 1 to
        64 characters, each an ASCII letter, digit, ``_``, ``-``, ``.`` or
        ``:``; a value at most 256 characters without control characters.
        Outside those limits nothing is recorded and :class:`WorkflowError`
        (code ``invalid_attribute``, the message names the key) is raised:
        uncaught, it fails the run.

        Example::

            ctx.set_attribute("customer", order["customer"])
        """
        try:
            wit_attributes.set_attribute(key, value)
        except Err as e:
            raise WorkflowError("invalid_attribute", str(e.value)) from None

    def continue_as_new(self, input: Any = None, version: Optional[str] = None) -> None:
        """Continues as new: this run ends (``continued``) when the workflow
        returns, whatever it returns, and the next run of its chain starts
        with ``input`` and an empty history, on the workflow's current
        version or on ``version`` (a content hash). Return right after it
        (``return ctx.continue_as_new(n)``): a further call that starts
        something (activity, timer, signal, child) fails the run. ``await`` on the chain's first run id returns the chain's
        final result; cancel, terminate and signals sent to an earlier run
        id reach the chain's latest run. Input that is not JSON or an
        unknown version fails the run (``invalid_continuation``)."""
        wit_continuation.continue_as_new(encode_json(input), version)


WorkflowFn = Callable[[Workflow, Any], Any]
"""A workflow function: takes the context and the decoded JSON input,
returns a JSON-serializable output or raises :class:`WorkflowError`."""
