"""``counter-flow`` in Python: the same workflow as the Rust
``examples-wasm/counter-flow``. Adds up the numbers sent as ``add`` (a
signal or an update, replied to with the new total) until ``"stop"``;
``"reject"`` is rejected. Queries: ``count``, ``status``, ``echo``, and
``fail`` (always fails)."""

from datetime import timedelta
from typing import Any, Dict

import continuum

from continuum import Workflow


def counter_flow(ctx: Workflow, _input: Any) -> Dict[str, Any]:
    state = {"count": 0, "adds": 0, "stopped": False}
    ctx.on_query("count", lambda _args: state["count"])
    ctx.on_query("status", lambda _args: dict(state))
    ctx.on_query("echo", lambda args: args)

    def fail(_args: Any) -> Any:
        raise ValueError("the fail query always fails")

    ctx.on_query("fail", fail)
    while True:
        update = ctx.update("add")
        value = update.value
        if value == "stop":
            update.reply(state["count"])
            break
        if value == "reject":
            update.reject('the counter rejects "reject"')
            continue
        if isinstance(value, dict):
            delay = int(value.get("delay_ms", 0))
            if delay > 0:
                ctx.sleep(timedelta(milliseconds=delay))
            value = value.get("add", 0)
        state["count"] += int(value) if isinstance(value, int) else 0
        state["adds"] += 1
        update.reply(state["count"])
    state["stopped"] = True
    return {"count": state["count"], "adds": state["adds"]}


WitWorld = continuum.workflow(counter_flow)
