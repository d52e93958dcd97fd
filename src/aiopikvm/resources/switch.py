from __future__ import annotations

from ._base import Resource


class Switch(Resource):
    """The multi-port PiKVM Switch accessory (``/api/switch``)."""
