from __future__ import annotations

from ._base import Resource


class Gpio(Resource):
    """GPIO channels: inputs to read, outputs to switch and pulse (``/api/gpio``)."""
