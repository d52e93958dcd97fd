from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import Resource

if TYPE_CHECKING:
    from ..models.prometheus import MetricSample


class Prometheus(Resource):
    """kvmd's metrics in the Prometheus text format (``/api/export/prometheus/metrics``):
    the ATX, GPIO channels (except those named ``__...``), health and fan, all gauges.
    kvmd caches the answer for 5 seconds, so a change can take that long to show."""

    async def get_metrics(self) -> str:
        """The exposition as kvmd sends it, e.g. to hand to another scraper."""
        text: str = await self._http.request("GET", "export/prometheus/metrics", expect="text")
        return text

    async def get_samples(self) -> list[MetricSample]:
        """The exposition parsed: one :class:`~aiopikvm.models.MetricSample` per line."""
        from ..models.prometheus import parse_metrics

        return parse_metrics(await self.get_metrics())
