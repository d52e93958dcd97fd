from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import httpx

from .._checks import KVMD_INT_MAX, check_bool, check_choice, check_int, check_names
from ..models import Info
from ..models._base import parse
from ..transport.http import Params, reading_body
from ._base import Resource

INFO_FIELDS: Final = frozenset(
    {"system", "auth", "meta", "extras", "health", "uptime", "node", "fan"}
)
"""The parts of ``/api/info`` kvmd knows; ``hw`` exists only in the ``legacy=1`` shape."""


class System(Resource):
    """Device information and kvmd's own log (``/api/info``, ``/api/log``)."""

    async def get_info(self, *fields: str, legacy: bool = False) -> Info:
        """The device's information; ``fields`` limits it to some of ``system``, ``auth``,
        ``meta``, ``extras``, ``health``, ``uptime``, ``node``, ``fan``.

        The default is kvmd's newer shape (``legacy=False``): ``health`` at the top and
        ``platform`` under ``system``. ``legacy=True`` asks for kvmd's historical default,
        which folds both into an ``hw`` field (also a valid field name then) and leaves
        ``health`` out unless asked for. An unknown field raises :class:`InvalidInputError`.
        """
        check_bool(legacy, "legacy")
        known = sorted(INFO_FIELDS | {"hw"} if legacy else INFO_FIELDS)
        check_names(fields, "fields", "get_info", lambda field: check_choice(field, "field", known))
        params = {"fields": list(fields) or None, "legacy": legacy}
        return parse(Info, await self._kvm.request("GET", "info", params=params), "info state")

    async def get_log(self, seek: int | None = None) -> str:
        """kvmd's log (its services' journal since boot) as text, one entry a line.

        ``seek`` keeps only the entries of the last ``seek`` seconds (``None`` or ``0``:
        everything since boot). Raises
        :class:`~aiopikvm.BadRequestError` (``LogReaderDisabledError``) on a device whose
        log reader is switched off.
        """
        text: str = await self._kvm.request("GET", "log", params=_log_params(seek), expect="text")
        return text

    def stream_log(self, seek: int | None = None) -> AsyncIterator[str]:
        """kvmd's log line by line (without line ends): first what :meth:`get_log` would
        return, then each new entry as it is written, until you stop iterating or the
        device closes the stream.

        The connection waits for new lines with no read timeout (the connect timeout still
        applies). Break out of the loop inside ``contextlib.aclosing`` (or cancel the task)
        to close the connection at once::

            async with contextlib.aclosing(kvm.system.stream_log(seek=60)) as lines:
                async for line in lines:
                    ...
        """
        return self._follow_log({**_log_params(seek), "follow": True})

    async def _follow_log(self, params: Params) -> AsyncIterator[str]:
        timeout = httpx.Timeout(self._kvm._transport.timeout, read=None)
        async with self._kvm.stream("GET", "log", params=params, timeout=timeout) as response:
            with reading_body(response):
                async for line in response.aiter_lines():
                    yield line


def _log_params(seek: int | None) -> Params:
    if seek is not None:
        check_int(seek, "seek", low=0, high=KVMD_INT_MAX)
    return {"seek": seek}
