"""``notes-activities``: a Python activity component that keeps notes as
files in its instance's sandbox directory, through the sandboxed WASI that
activities get (``[instances.NAME.sandbox]`` in the manifest). Tested by
``tests/tests/it/python_activities.rs``.

- ``save_note {"name", "text"}``: writes ``notes/<name>.txt`` in the sandbox;
  returns ``{"name", "bytes", "attempt"}``. An empty text fails for good
  with code ``empty_note``; a name that is not a plain file name, with code
  ``bad_name``.
- ``list_notes {}``: ``{"notes": [names]}``, sorted.
- ``read_file {"path"}``: reads a file by its path (relative to the sandbox,
  the current directory); returns ``{"path", "text"}``. A path the sandbox
  refuses or that does not exist fails for good with the error's name as
  its code (``enoent``, ``eperm``, ...).
"""

from __future__ import annotations

import errno
import os
from typing import Any, Dict

from continuum import activity
from continuum.activity import ActivityError

NOTES = "notes"


def _name(input: Dict[str, Any]) -> str:
    name = input.get("name")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ActivityError(f"`{name}` is not a plain note name", retryable=False, code="bad_name")
    return name


def _os_error(e: OSError, what: str) -> ActivityError:
    """An OS error as a non-retryable failure coded with its errno name."""
    code = errno.errorcode.get(e.errno or 0, "oserror").lower()
    return ActivityError(f"{what}: {e.strerror or e}", retryable=False, code=code)


def save_note(input: Dict[str, Any]) -> Dict[str, Any]:
    name = _name(input)
    text = input.get("text")
    if not isinstance(text, str) or not text:
        raise ActivityError("a note needs some text", retryable=False, code="empty_note")
    data = text.encode("utf-8")
    try:
        os.makedirs(NOTES, exist_ok=True)
        with open(os.path.join(NOTES, f"{name}.txt"), "wb") as f:
            f.write(data)
    except OSError as e:
        raise _os_error(e, f"saving note {name}") from None
    return {"name": name, "bytes": len(data), "attempt": activity.info().attempt}


def list_notes(input: Any) -> Dict[str, Any]:
    try:
        files = os.listdir(NOTES)
    except FileNotFoundError:
        files = []
    return {"notes": sorted(f[: -len(".txt")] for f in files if f.endswith(".txt"))}


def read_file(input: Dict[str, Any]) -> Dict[str, Any]:
    path = input.get("path")
    if not isinstance(path, str):
        raise ActivityError("`path` must be a string", retryable=False, code="bad_input")
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
    except OSError as e:
        raise _os_error(e, f"reading {path}") from None
    return {"path": path, "text": text}


WitWorld = activity.activities({"save_note": save_note, "list_notes": list_notes, "read_file": read_file})
