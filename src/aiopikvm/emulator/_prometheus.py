"""``GET /api/export/prometheus/metrics``: kvmd's metrics in the Prometheus text format.

Built the way kvmd builds them, from the live state: the ATX (enabled, power LED), the
GPIO channels whose names do not start with ``__`` (kvmd hides those; the recorded
device's only channel is one), then the ``health`` and ``fan`` info, every number as one
gauge, names joined with ``_`` in key order (``parsed_flags`` adds no name of its own).
Every metric is a ``# TYPE`` line, the sample, and an empty line.

Two quirks of kvmd's are kept: the answer is cached for ``cache_ttl`` seconds (5 in kvmd),
so a change shows up to that late; and a GPIO channel's ``online`` metric carries its
``state``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._server import Route

StateSource = Callable[[], dict[str, Any]]


def _rows(rows: list[str], value: Any, path: str) -> None:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        rows.extend([f"# TYPE {path} gauge", f"{path} {value}", ""])
    elif isinstance(value, dict):
        for key, item in sorted(value.items()):
            _rows(rows, item, path if key == "parsed_flags" else f"{path}_{key}")


class Prometheus:
    def __init__(
        self,
        *,
        atx: StateSource,
        gpio: StateSource,
        info: Callable[[str], Any],
        cache_ttl: float,
    ) -> None:
        self._atx = atx
        self._gpio = gpio
        self._info = info
        self._cache_ttl = cache_ttl
        self._cached: tuple[float, str] | None = None

    def metrics(self) -> str:
        now = time.monotonic()
        if self._cached is not None and now < self._cached[0]:
            return self._cached[1]
        text = self._build()
        self._cached = (now + self._cache_ttl, text)
        return text

    def _build(self) -> str:
        atx = self._atx()
        gpio = self._gpio()
        rows: list[str] = []
        _rows(rows, atx["enabled"], "pikvm_atx_enabled")
        _rows(rows, atx["leds"]["power"], "pikvm_atx_power")
        for mode in ("input", "output"):
            for channel, state in gpio[f"{mode}s"].items():
                if channel.startswith("__"):
                    continue
                name = re.sub(r"[^\w]", "_", channel)
                for key in ("online", "state"):
                    _rows(rows, state["state"], f"pikvm_gpio_{mode}_{key}_{name}")
        _rows(rows, self._info("health"), "pikvm_hw")
        _rows(rows, self._info("fan"), "pikvm_fan")
        return "\n".join(rows)

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("GET", "/export/prometheus/metrics", self._h_metrics)]

    async def _h_metrics(self, _: web.Request) -> web.StreamResponse:
        return web.Response(text=self.metrics())
