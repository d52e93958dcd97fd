"""MSD's HTTP endpoints, as kvmd's kvmd/apps/kvmd/api/msd.py answers them: each request is
validated, then handed to :class:`~._msd.Msd`; the transfers are in :mod:`._msd_transfer`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import _msd_transfer as transfer
from ._msd import Msd
from ._server import Handler, Route, json_response
from ._validators import valid_bool, valid_msd_image_name


class MsdApi:
    def __init__(self, msd: Msd) -> None:
        self._msd = msd

    def routes(self) -> list[Route]:
        msd = self._msd
        return [
            Route("GET", "/msd", self._h_state),
            Route("POST", "/msd/set_params", self._h_set_params),
            Route("POST", "/msd/set_connected", self._h_set_connected),
            Route("GET", "/msd/read", self._abortable(functools.partial(transfer.read, msd))),
            Route("POST", "/msd/write", self._abortable(functools.partial(transfer.write, msd))),
            Route(
                "POST",
                "/msd/write_remote",
                self._abortable(functools.partial(transfer.write_remote, msd)),
            ),
            Route("POST", "/msd/remove", self._h_remove),
            Route("POST", "/msd/reset", self._h_reset),
        ]

    def _abortable(self, handler: Handler) -> Handler:
        async def transfer(request: web.Request) -> web.StreamResponse:
            with self._msd.transfer():
                return await handler(request)

        return transfer

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self._msd.get_state())

    async def _h_set_params(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, Any] = {}
        validators: tuple[tuple[str, str, Callable[[object], Any]], ...] = (
            ("image", "name", lambda arg: valid_msd_image_name(arg, allow_eject=True)),
            ("cdrom", "cdrom", valid_bool),
            ("rw", "rw", valid_bool),
        )
        for param, key, validator in validators:
            value = request.query.get(param)
            if value is not None:
                params[key] = validator(value)
        self._msd.set_params(**params)
        return json_response()

    async def _h_set_connected(self, request: web.Request) -> web.StreamResponse:
        self._msd.set_connected(valid_bool(request.query.get("connected")))
        return json_response()

    async def _h_remove(self, request: web.Request) -> web.StreamResponse:
        await self._msd.remove(valid_msd_image_name(request.query.get("image")))
        return json_response()

    async def _h_reset(self, _: web.Request) -> web.StreamResponse:
        self._msd.reset()
        return json_response()
