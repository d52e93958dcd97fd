"""The real-device recordings in ``captures/``, read once and handed out as fresh copies.

The emulator's initial state comes from these files rather than from hand-written
payloads, so that it answers with the shapes a real kvmd 4.206 produced.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def _text(name: str) -> str:
    return resources.files(__package__).joinpath("captures", name).read_text("utf-8")


@functools.cache
def _parsed(name: str) -> Any:
    return json.loads(_text(name))


def load(name: str) -> Any:
    """A capture file's whole JSON document (a private copy: callers may mutate it)."""
    return copy.deepcopy(_parsed(name))


def result(name: str) -> dict[str, Any]:
    """The ``result`` of a recorded ``{"ok": true, "result": ...}`` answer."""
    document = load(name)
    assert document["ok"] is True, name
    value: dict[str, Any] = document["result"]
    return value


def ws_events() -> list[dict[str, Any]]:
    """The recorded ``/api/ws`` session: ``{"event_type", "event"}`` messages in order."""
    return [json.loads(line)["msg"] for line in _text("ws_events.jsonl").splitlines() if line]
