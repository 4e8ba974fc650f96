"""``bench-flow`` in Python: the same workflow as the Rust
``examples-wasm/bench-flow``, for the benchmark. Calls the activity
``step_one`` then ``step_two`` with its input and returns
``{"one": ..., "two": ...}``."""

from typing import Any, Dict

import continuum
from continuum import Workflow


def bench_flow(ctx: Workflow, input: Any) -> Dict[str, Any]:
    one = ctx.activity("step_one", input).call()
    two = ctx.activity("step_two", input).call()
    return {"one": one, "two": two}


WitWorld = continuum.workflow(bench_flow)
