"""``wasi-probe``: Python's own clock, randomness, output, environment,
files, sockets and exit inside a workflow, for the deterministic-WASI tests
(tests/tests/it/python_workflows.rs).

Input: ``{"tag": "t1", "sleep_ms": 1000, "exit": null}``. Reads
``time.time()`` and the journaled ``now``, draws ``random.random()``,
``uuid.uuid4()`` and ``os.urandom``, prints them (``probe <tag> before
...``), calls the ``reserve_stock`` activity, tries the environment, a file
and the network, sleeps durably ``sleep_ms``, reads the clocks again, prints
``probe <tag> after``, and returns everything. With ``"exit": N`` it calls
``os._exit(N)`` at the end instead of returning.
"""

from __future__ import annotations

# Imported here, when componentize-py snapshots the interpreter: a module
# first imported while a run executes is not found (the standard library is
# not reachable then). `socket` encodes host names with this codec.
import encodings.idna  # noqa: F401
import os
import random
import socket
import sys
import time
import uuid
from datetime import timedelta
from typing import Any, Dict

import continuum
from continuum import Workflow


def _error_of(action: Any) -> str:
    """What ``action()`` raised, as text (``"none"`` when it did not)."""
    try:
        action()
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    return "none"


def wasi_probe(ctx: Workflow, input: Dict[str, Any]) -> Dict[str, Any]:
    tag = input.get("tag", "probe")
    time_before = time.time()
    now_before = ctx.now_ms()
    monotonic_before = time.monotonic_ns()
    rand = random.random()
    uid = str(uuid.uuid4())
    urandom = os.urandom(8).hex()
    print(f"probe {tag} before time={time_before!r} random={rand!r} uuid={uid} urandom={urandom}")
    print(f"probe {tag} to stderr", file=sys.stderr)

    reservation = ctx.activity("reserve_stock", {"order_id": tag, "sku": "S", "quantity": 1}).call()

    def connect() -> None:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()

    def lookup() -> None:
        socket.getaddrinfo("localhost", 80)

    def read_file() -> None:
        with open("/etc/passwd") as f:
            f.read()

    ctx.sleep(timedelta(milliseconds=input.get("sleep_ms", 1000)))
    time_after = time.time()
    monotonic_after = time.monotonic_ns()
    print(f"probe {tag} after time={time_after!r}")
    out = {
        "tag": tag,
        "time_before": time_before,
        "now_before": now_before,
        "monotonic_before": monotonic_before,
        "random": rand,
        "uuid": uid,
        "urandom": urandom,
        "reservation_id": reservation["reservation_id"],
        "environ": dict(os.environ),
        "argv": list(sys.argv),
        "connect_error": _error_of(connect),
        "lookup_error": _error_of(lookup),
        "file_error": _error_of(read_file),
        "time_after": time_after,
        "monotonic_after": monotonic_after,
    }
    if input.get("exit") is not None:
        sys.stdout.flush()
        os._exit(int(input["exit"]))
    return out


WitWorld = continuum.workflow(wasi_probe)
