"""Subsystems the emulator does not drive yet: their recorded state, for the WS burst.

GPIO, MSD, OCR, the streamer and the switch have no endpoints here; a client still gets
their full state on connect, exactly as the device reported it. Each can later move to a
module of its own that serves endpoints and changes state.
"""

from __future__ import annotations

import copy
from typing import Any

from . import _captures


class PassiveState:
    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {
            "gpio": _captures.result("gpio.json"),
            "msd": _captures.result("msd.json"),
            "ocr": _captures.result("streamer_ocr.json")["ocr"],
            "streamer": _captures.result("streamer.json"),
            "switch": _captures.result("switch.json"),
        }

    def get(self, event_type: str, *, streaming: bool = False) -> dict[str, Any]:
        state = copy.deepcopy(self._states[event_type])
        if event_type == "streamer" and not streaming:
            # kvmd runs the video streamer only while a stream=1 session is open.
            state["streamer"] = None
        return state
