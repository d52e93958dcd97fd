from __future__ import annotations

from ._base import Resource


class Streamer(Resource):
    """The video streamer: state, snapshots and OCR of the host's screen (``/api/streamer``)."""
