"""The audit log: one JSON line per tool call — when, which tool, on which device, its
arguments (what is typed is never written, only its length), and how it ended."""

from __future__ import annotations

import datetime
import json
import sys
import threading
from typing import IO, Any, Final

SECRET_ARGUMENTS: Final = {"type_text": frozenset({"text"})}
"""Arguments written as their length only: typed text is often a password."""
MAX_VALUE: Final = 200
"""Characters of one argument's value written at most."""


def redacted(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` fit for the log: secrets as their length, long values cut."""
    secret = SECRET_ARGUMENTS.get(tool, frozenset())
    shown: dict[str, Any] = {}
    for name, value in arguments.items():
        if name in secret and isinstance(value, str):
            shown[name] = {"redacted": True, "chars": len(value)}
        elif isinstance(value, str) and len(value) > MAX_VALUE:
            shown[name] = value[:MAX_VALUE] + "..."
        else:
            shown[name] = value
    return shown


class Audit:
    """Writes the lines to a file opened for appending (or a stream such as stderr)."""

    def __init__(self, stream: IO[str] | None = None, *, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._owned = path is not None
        if path is not None:
            self._stream: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            self._stream = stream if stream is not None else sys.stderr

    def write(
        self,
        tool: str,
        device: str | None,
        arguments: dict[str, Any],
        outcome: str,
        *,
        seconds: float,
        detail: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "tool": tool,
            "device": device,
            "arguments": redacted(tool, arguments),
            "outcome": outcome,
            "seconds": round(seconds, 3),
        }
        if detail is not None:
            entry["detail"] = detail[:500]
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()
