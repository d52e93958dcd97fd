from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from .._checks import KVMD_INT_MAX, check_bool, check_choice, check_int, check_names, check_timeout
from ..transport.body import MAX_LOG_SIZE, body_lines
from ..transport.params import Params
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.info import Info

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
        from ..models.info import Info

        check_bool(legacy, "legacy")
        known = sorted(INFO_FIELDS | {"hw"} if legacy else INFO_FIELDS)
        check_names(fields, "fields", "get_info", lambda field: check_choice(field, "field", known))
        params = {"fields": list(fields) or None, "legacy": legacy}
        return parse(Info, await self._http.request("GET", "info", params=params), "info state")

    async def get_log(self, seek: int | None = None) -> str:
        """kvmd's log (its services' journal since boot) as text, one entry a line.

        ``seek`` keeps only the entries of the last ``seek`` seconds (``None`` or ``0``:
        everything since boot); at most :data:`~aiopikvm.transport.body.MAX_LOG_SIZE`
        (64 MiB, else :class:`~aiopikvm.ProtocolError`: use ``seek`` or
        :meth:`stream_log`). Raises
        :class:`~aiopikvm.BadRequestError` (``LogReaderDisabledError``) on a device whose
        log reader is switched off.
        """
        text: str = await self._http.request(
            "GET", "log", params=_log_params(seek), expect="text", max_size=MAX_LOG_SIZE
        )
        return text

    def stream_log(
        self, seek: int | None = None, *, idle_timeout: float | None = None
    ) -> AsyncIterator[str]:
        """kvmd's log line by line (without line ends): first what :meth:`get_log` would
        return, then each new entry as it is written, until you stop iterating or the
        device closes the stream.

        The answer must start within the client's timeout; after that, kvmd sends nothing
        while nothing is logged, so by default the stream waits for the next line as long
        as it takes. ``idle_timeout`` (seconds) raises :class:`~aiopikvm.PiKVMTimeoutError`
        when no line came for that long instead, which also notices a device that went
        away without closing the connection. A line is at most
        :data:`~aiopikvm.transport.body.MAX_LINE_SIZE` (1 MiB). Break out of the loop
        inside ``contextlib.aclosing`` (or cancel the task) to close the connection at
        once::

            async with contextlib.aclosing(kvm.system.stream_log(seek=60)) as lines:
                async for line in lines:
                    ...
        """
        check_timeout(idle_timeout, "idle_timeout", none_ok=True)
        return self._follow_log({**_log_params(seek), "follow": True}, idle_timeout)

    async def _follow_log(self, params: Params, idle: float | None) -> AsyncIterator[str]:
        transport = self._http
        async with (
            transport.stream("GET", "log", params=params, idle_timeout=idle) as response,
            contextlib.aclosing(body_lines(response)) as lines,
        ):
            async for line in lines:
                yield line


def _log_params(seek: int | None) -> Params:
    if seek is not None:
        check_int(seek, "seek", low=0, high=KVMD_INT_MAX)
    return {"seek": seek}
