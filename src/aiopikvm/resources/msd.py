from __future__ import annotations

from ._base import Resource


class Msd(Resource):
    """Virtual media (``/api/msd``): images in storage, shown to the host as a drive."""
