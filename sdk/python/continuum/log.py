"""Logging from a workflow through the host's ``log`` import: lines go to the
host's log with the run's fields, are not journaled, and are muted while the
run replays (so each line appears once). ``print()`` goes to the same log
(stdout at info level, stderr at warn level), muted the same way.

Example::

    from continuum import log
    log.info(f"order {order_id} received")
"""

from __future__ import annotations

from enum import Enum

from wit_world.imports import host
from wit_world.imports import types as wit


class Level(Enum):
    """Severity of a log line."""

    TRACE = wit.LogLevel.TRACE
    DEBUG = wit.LogLevel.DEBUG
    INFO = wit.LogLevel.INFO
    WARN = wit.LogLevel.WARN
    ERROR = wit.LogLevel.ERROR


def log(level: Level, message: str) -> None:
    """Writes ``message`` to the host's log at ``level``."""
    host.log(level.value, message)


def trace(message: str) -> None:
    """Logs at trace level."""
    log(Level.TRACE, message)


def debug(message: str) -> None:
    """Logs at debug level."""
    log(Level.DEBUG, message)


def info(message: str) -> None:
    """Logs at info level."""
    log(Level.INFO, message)


def warn(message: str) -> None:
    """Logs at warn level."""
    log(Level.WARN, message)


def error(message: str) -> None:
    """Logs at error level."""
    log(Level.ERROR, message)
