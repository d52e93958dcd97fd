from __future__ import annotations

from ..models import Info
from ..models._base import parse
from ._base import Resource


class System(Resource):
    """Device information (``/api/info``)."""

    async def get_info(self, *fields: str, legacy: bool | None = None) -> Info:
        """``fields`` limits the answer (``"system"``, ``"hw"``, ...; kvmd reads them as one
        comma-joined value). ``legacy=False`` asks for the newer shape (``health`` at the
        top, ``platform`` under ``system``) that kvmd's default still hides under ``hw``."""
        params = {"fields": list(fields) or None, "legacy": legacy}
        return parse(Info, await self._kvm.request("GET", "info", params=params), "info state")
