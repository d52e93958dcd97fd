from __future__ import annotations

from ._base import Resource


class Prometheus(Resource):
    """Metrics in the Prometheus text format (``/api/export/prometheus/metrics``)."""
