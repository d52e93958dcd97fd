"""``GET /api/log``: the emulator's journal of its own activity, in kvmd's format.

On a device, kvmd reads its services' systemd journal and sends one line per entry::

    [2026-08-22 07:04:05 kvmd.service] --- kvmd.apps.kvmd.auth               INFO --- Authorized ...

(date and time, the unit, then the logger line kvmd wrote: the logger name padded, the
level, the message), each line ending in CRLF. The emulator keeps such a journal of what
it does: every request it served (as aiohttp's access log on the device), logins and
logouts, WebSocket sessions opened and closed, ATX clicks, text typed. Each module that
writes to it is handed the emulator's :class:`Journal` and calls :meth:`Journal.write`.

``seek`` keeps the entries of the last ``seek`` seconds (``0``, the default: all of
them); ``follow=1`` keeps the response open and sends each new entry as it is written,
until the client goes away or the emulator stops. With the log reader disabled
(``kvmd.logreader`` off) every read is refused with ``LogReaderDisabledError``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ._errors import LogReaderDisabledError
from ._server import API_PREFIX, Route
from ._validators import valid_bool, valid_int

UNIT: Final = "kvmd.service"
_SIZE: Final = 10_000
"""Entries kept; older ones are forgotten, as a journal rotates."""
_FOLLOW_POLL: Final = 1.0
"""How often a follower checks, between entries, whether its client is still there."""


def _request_key() -> Any:
    # aiohttp >= 3.13 has typed request keys and warns about plain strings; older ones
    # only have strings.
    key_type = getattr(web, "RequestKey", None)
    return key_type("kvmd_auth_info", str) if key_type is not None else "kvmd_auth_info"


AUTH_INFO: Final = _request_key()
"""Request key for who the request authenticated as, shown by the access log the way kvmd
shows it: ``"admin (xhdr)"``, ``"admin (token)"``, ``"admin (basic)"``, ``"- (token)"``."""


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    at: float  # wall-clock time, as journald stamps entries
    line: str


class Journal:
    def __init__(self, *, size: int = _SIZE, readable: bool = True) -> None:
        self.readable = readable
        self._entries: deque[_Entry] = deque(maxlen=size)
        self._seq = 0
        self._waiters: set[asyncio.Future[None]] = set()
        self._generation = 0  # bumped by close(): the followers of before end

    def write(self, source: str, message: str, *, level: str = "INFO") -> None:
        """Add an entry: ``source`` is the kvmd logger it would come from
        (``"kvmd.apps.kvmd.auth"``). A message of several lines makes one entry each."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        for text in message.splitlines() or [""]:
            self._seq += 1
            line = f"[{stamp} {UNIT}] --- {source:<33} {level} --- {text.rstrip()}"
            self._entries.append(_Entry(self._seq, now, line))
        self._wake()

    def lines(self, seek: int = 0) -> list[str]:
        """The journal's lines, oldest first; with ``seek``, those of the last seconds."""
        return [entry.line for entry in self._since(seek, 0)]

    def close(self) -> None:
        """End every ``follow`` response (the emulator is stopping)."""
        self._generation += 1
        self._wake()

    def _since(self, seek: int, after: int) -> Iterator[_Entry]:
        since = time.time() - seek if seek > 0 else None
        for entry in list(self._entries):
            if entry.seq > after and (since is None or entry.at >= since):
                yield entry

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, _FOLLOW_POLL)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    # ----- the access log -------------------------------------------------------------

    def access_log_class(self) -> type[AbstractAccessLogger]:
        """An aiohttp access logger writing kvmd's access lines into this journal."""
        journal = self

        class AccessLog(AbstractAccessLogger):
            def log(
                self, request: web.BaseRequest, response: web.StreamResponse, time: float
            ) -> None:
                journal.write("aiohttp.access", _access_line(request, response))

        return AccessLog

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("GET", "/log", self._h_log)]

    async def _h_log(self, request: web.Request) -> web.StreamResponse:
        if not self.readable:  # before the parameters, as kvmd checks
            raise LogReaderDisabledError()
        seek = valid_int(request.query.get("seek", 0), "log seek", low=0)
        follow = valid_bool(request.query.get("follow", False))
        response = web.StreamResponse()
        response.content_type = "text/plain"
        response.charset = "utf-8"
        await response.prepare(request)
        generation = self._generation
        sent = 0
        try:
            while True:
                for entry in self._since(seek, sent):
                    await response.write(entry.line.encode("utf-8") + b"\r\n")
                    sent = entry.seq
                if not follow or generation != self._generation or _gone(request):
                    break
                await self._wait()
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away while a line was on its way
        return response


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _access_line(request: web.BaseRequest, response: web.StreamResponse) -> str:
    # The device's nginx strips /api before kvmd sees the path.
    path = request.raw_path
    if path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    version = request.version
    who = request.get(AUTH_INFO, "-")
    referer = request.headers.get("Referer", "-")
    agent = request.headers.get("User-Agent", "-")
    return (
        f"[{who} / {request.remote}] '{request.method} {path} HTTP/{version.major}.{version.minor}'"
        f" => {response.status}; size={response.body_length} --- referer='{referer}';"
        f" user_agent='{agent}'"
    )
