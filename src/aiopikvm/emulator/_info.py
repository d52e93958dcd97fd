"""``GET /api/info``: the device's system information, as the recordings show it.

kvmd builds the answer from sub-managers (``system, auth, meta, extras, health, uptime,
fan, node``). ``legacy=1`` (the default) offers an extra ``hw`` field that folds
``health`` and ``system.platform`` together, and leaves ``health`` out of the default
set; ``legacy=0`` returns the sub-managers as they are. Only the uptime moves.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from aiohttp import web

from . import _captures
from ._server import Route, json_response
from ._validators import valid_bool, valid_info_fields


class Info:
    def __init__(self) -> None:
        recorded = _captures.result("info_legacy0.json")
        self._subs: dict[str, Any] = {
            field: value for field, value in recorded.items() if field != "uptime"
        }
        self._uptime_base: int = recorded["uptime"]["total"]
        self._started = time.monotonic()

    def fields(self) -> list[str]:
        """The sub-manager names, in the order kvmd sends them as WebSocket events."""
        return [*self._subs, "uptime"]

    def get_field(self, field: str) -> Any:
        if field == "uptime":
            return self._uptime()
        return copy.deepcopy(self._subs[field])

    def get_state(self, fields: list[str]) -> dict[str, Any]:
        return {field: self.get_field(field) for field in fields}

    def get_state_legacy(self, fields: list[str]) -> dict[str, Any]:
        wanted = set(fields)
        if "hw" not in wanted:
            return self.get_state(sorted(wanted))
        wanted.discard("hw")
        with_system = "system" in wanted
        state = self.get_state(sorted(wanted | {"health", "system"}))
        state["hw"] = {"health": state.pop("health"), "platform": state["system"].pop("platform")}
        if not with_system:
            del state["system"]
        return state

    def _uptime(self) -> dict[str, Any]:
        total = self._uptime_base + int(time.monotonic() - self._started)
        minutes, seconds = divmod(total, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        return {
            "total": total,
            "parts": {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds},
        }

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("GET", "/info", self._h_info)]

    async def _h_info(self, request: web.Request) -> web.StreamResponse:
        legacy = valid_bool(request.query.get("legacy", True))
        available = set(self.fields())
        if legacy:
            available.add("hw")
        default = available - {"health"} if legacy else set(available)
        raw = request.query.get("fields", ",".join(sorted(default)))
        requested = valid_info_fields(raw, available)
        # An empty list means everything, "health" and "hw" alike.
        fields = sorted(requested or available)
        if legacy:
            return json_response(self.get_state_legacy(fields))
        return json_response(self.get_state(fields))
