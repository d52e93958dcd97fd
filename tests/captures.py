"""The real-device captures, as shipped inside the emulator package (see its README)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

CAPTURES = files("aiopikvm.emulator") / "captures"


def load(name: str) -> Any:
    """A capture file's JSON (``.jsonl``: a list of its lines' objects)."""
    path = CAPTURES / name
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


def result(name: str) -> Any:
    """The ``result`` of a captured ``{"ok": true, "result": ...}`` response."""
    body = load(name)
    assert body["ok"] is True
    return body["result"]


def ws_messages() -> list[dict[str, Any]]:
    """The server messages of the captured ``/api/ws`` session, in arrival order."""
    return [line["msg"] for line in load("ws_events.jsonl")]
