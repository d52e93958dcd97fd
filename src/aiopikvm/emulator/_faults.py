"""Fault injection: what flaky networks, rebooting devices and a struggling kvmd do to clients.

``emu.faults`` holds the rules; they act on the emulator's real request path and sessions:

- :meth:`Faults.fail` answers matching requests with an error status instead of handling
  them (503 in kvmd's envelope, 409 busy, nginx's 502 page, a crash's bare 500, ...);
- :meth:`Faults.respond` answers them with a canned response, e.g. a recorded one;
- :meth:`Faults.delay` holds matching requests before they are handled;
- :meth:`Faults.drop_ws` ends WebSocket sessions after a number of frames, either as a dead
  link does (the TCP connection is aborted: no close frame, the client sees code 1006) or
  cleanly with a close frame, as kvmd does when it shuts down; :meth:`Faults.drop_ws_now`
  ends the open ones at once;
- :meth:`Faults.send_malformed` sends frames that are not kvmd's protocol;
- :meth:`Faults.lag_ws` makes every frame to a client arrive late, as on a slow link.

A dropped session is closed on the emulator's side exactly like any other, so, as on kvmd,
the HID throws away the input it had queued and not yet applied and releases every key.
The latest :data:`REQUEST_LOG_SIZE` HTTP requests and WebSocket handshakes that reached the
server are in :attr:`Faults.requests` (method, path and query; never headers): a bounded
log, so an emulator left running does not grow without end. Where a rule draws a random
number, it comes from :meth:`Faults.seed`'s generator, so a test can replay a run.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from ._fault_rules import MALFORMED_FRAMES, Counting, HttpFault, SeenRequest, Tripwire, WsDrop
from ._server import API_PREFIX

if TYPE_CHECKING:
    from ._ws import WsSession

logger = logging.getLogger("aiopikvm.emulator.faults")

REQUEST_LOG_SIZE: Final = 1000
"""How many of the latest requests :attr:`Faults.requests` keeps."""


class Faults:
    """The fault-injection controls of one emulator (``emu.faults``)."""

    def __init__(
        self, sessions: Callable[[], Sequence[WsSession]], *, seed: int | None = None
    ) -> None:
        self._sessions = sessions
        self._rng = random.Random(seed)
        self._http: list[HttpFault] = []
        self._ws_drops: list[WsDrop] = []
        self._held: set[asyncio.Future[None]] = set()
        self._requests: deque[SeenRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._ws_lag = 0.0

    @property
    def requests(self) -> list[SeenRequest]:
        """The latest :data:`REQUEST_LOG_SIZE` requests that reached the server, oldest
        first (a copy; forgotten by :meth:`clear`)."""
        return list(self._requests)

    def seed(self, seed: int | None) -> None:
        """Restart the generator random choices come from (``after=(low, high)``)."""
        self._rng.seed(seed)

    def clear(self) -> None:
        """Remove every rule (the lag too) and forget the requests seen."""
        self._http.clear()
        self._ws_drops.clear()
        self._requests.clear()
        self.lag_ws(0.0)

    def count(self, path: str = "*", method: str | None = None) -> int:
        """How many of the :attr:`requests` logged match ``path`` (relative to ``/api``) and
        ``method``."""
        pattern = path.lstrip("/")
        return sum(
            1
            for seen in self._requests
            if (method is None or seen.method == method.upper())
            and fnmatch.fnmatchcase(_api_path(seen.path), pattern)
        )

    # ----- HTTP -----------------------------------------------------------------------

    def fail(
        self,
        path: str = "*",
        status: int = 503,
        *,
        method: str | None = None,
        times: int | None = 1,
        error: str | None = None,
        error_msg: str | None = None,
    ) -> HttpFault:
        """Answer the next ``times`` matching requests (``None``: all, until removed) with
        ``status`` instead of handling them. The body is what a device sends for it: 503,
        409, 401 and 403 in kvmd's envelope (``error``/``error_msg`` override the class name
        and message), 500 as a crash (the handler raises; the answer is aiohttp's plain
        text), 502 and 504 as nginx's HTML page. The WebSocket handshake is ``path="ws"``."""
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an error status (400..599), got {status!r}")
        rule = HttpFault(path, method, times, status=status, error=error, error_msg=error_msg)
        self._http.append(rule)
        return rule

    def respond(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str | None = "application/json; charset=utf-8",
        method: str | None = None,
        times: int | None = 1,
    ) -> HttpFault:
        """Answer the next ``times`` matching requests (``None``: all, until removed) with
        ``body`` as it is, instead of handling them: a device's recorded answer, one from
        a newer kvmd, or a broken one. ``str`` bodies go out as UTF-8."""
        if not 200 <= status <= 599:
            raise ValueError(f"status must be 200..599, got {status!r}")
        if not isinstance(body, bytes | str):
            raise TypeError(f"body must be bytes or str, got {type(body).__name__}")
        content = body.encode("utf-8") if isinstance(body, str) else body
        rule = HttpFault(
            path, method, times, status=status, body=content, content_type=content_type
        )
        self._http.append(rule)
        return rule

    def delay(
        self, path: str, seconds: float, *, method: str | None = None, times: int | None = None
    ) -> HttpFault:
        """Hold matching requests ``seconds`` before handling them (or failing them)."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        rule = HttpFault(path, method, times, delay=seconds)
        self._http.append(rule)
        return rule

    def remove(self, rule: HttpFault | WsDrop) -> None:
        if isinstance(rule, HttpFault):
            self._http.remove(rule)
        else:
            self._ws_drops.remove(rule)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self._requests.append(SeenRequest(request.method, request.path, request.query_string))
        path = _api_path(request.path)
        failure: HttpFault | None = None
        for rule in list(self._http):
            if rule.status is None:
                if rule._take(request.method, path):
                    await self._hold(rule.delay)
            elif failure is None and rule._take(request.method, path):
                failure = rule
        if failure is not None:
            logger.info("Fault: %s %s -> %d", request.method, request.path, failure.status)
            return failure.response(request.method, path)
        return await handler(request)

    async def _hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _resolve, future)
        self._held.add(future)
        try:
            await future
        finally:
            timer.cancel()
            self._held.discard(future)

    def release_held(self) -> None:
        """Let every delayed request go on now (so that stopping need not wait for them)."""
        for future in self._held:
            _resolve(future)

    # ----- WebSocket ------------------------------------------------------------------

    def drop_ws(
        self,
        after: int | tuple[int, int] = 0,
        *,
        counting: Counting = "received",
        clean: bool = False,
        times: int | None = 1,
    ) -> WsDrop:
        """End ``times`` sessions (``None``: every one, until removed) after ``after`` more
        frames: ``received`` from the client (the frame is handled, then the link dies) or
        ``sent`` to it. Sessions open now are taken first, oldest first, counting from
        now; then new ones, counting from their handshake. ``clean=False`` aborts the
        connection like a dead link; ``clean=True`` sends a close frame first."""
        rule = WsDrop(after, counting, clean, times)
        self._ws_drops.append(rule)
        for session in self._sessions():
            if session.tripwire is None and not self._arm(session, rule):
                break
        return rule

    async def drop_ws_now(self, *, clean: bool = False) -> int:
        """End every open session at once; how many there were."""
        sessions = list(self._sessions())
        for session in sessions:
            await session.drop(clean=clean)
        return len(sessions)

    def send_malformed(self, *kinds: str) -> int:
        """Send the named :data:`MALFORMED_FRAMES` (all of them if none is named) to every
        open session; how many sessions got them."""
        unknown = [kind for kind in kinds if kind not in MALFORMED_FRAMES]
        if unknown:
            raise ValueError(f"unknown malformed frames {unknown}; known: {list(MALFORMED_FRAMES)}")
        return self.send_frames(*(MALFORMED_FRAMES[kind] for kind in kinds or MALFORMED_FRAMES))

    def send_frames(self, *frames: str | bytes) -> int:
        """Send these frames as they are (text or binary) to every open session, after what
        it was sent before; how many sessions got them."""
        sessions = list(self._sessions())
        for session in sessions:
            for frame in frames:
                session.send(frame)
        return len(sessions)

    def lag_ws(self, seconds: float) -> None:
        """Send every WebSocket frame to the clients ``seconds`` late, in order (0: at
        once): a slow or distant link, or a kvmd busy elsewhere. A pong then comes that
        late too, while the target has long applied the input before its ping. For the
        sessions open now and those that open later."""
        if not 0 <= seconds < math.inf:
            raise ValueError(f"seconds must be a number from 0, got {seconds!r}")
        self._ws_lag = seconds
        for session in self._sessions():
            session.lag = seconds

    def ws_opened(self, session: WsSession) -> None:
        """Called by the hub for a new session, before it sends anything."""
        session.lag = self._ws_lag
        for rule in self._ws_drops:
            if self._arm(session, rule):
                return

    def _arm(self, session: WsSession, rule: WsDrop) -> bool:
        if rule.remaining == 0:
            return False
        if rule.remaining is not None:
            rule.remaining -= 1
        rule.hits += 1
        frames = self._rng.randint(*rule.after)
        counter = session.received if rule.counting == "received" else session.sent
        session.tripwire = Tripwire(rule.counting, counter + frames, rule.clean)
        if frames == 0:
            session.trip_soon()
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _api_path(path: str) -> str:
    prefix = API_PREFIX + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
