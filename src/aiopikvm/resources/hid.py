from __future__ import annotations

from ..models import HidState
from ..models._base import parse
from ._base import Resource


class Hid(Resource):
    """The keyboard and mouse the device emulates (``/api/hid``). For input, prefer a
    WebSocket session (:meth:`PiKVM.ws`): one frame per event instead of one request."""

    async def get_state(self) -> HidState:
        return parse(HidState, await self._kvm.request("GET", "hid"), "hid state")
