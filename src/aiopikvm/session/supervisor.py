"""Where a session's lifecycle is decided: opening, closing, and reconnecting after a drop,
in one explicit :class:`Phase`."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import websockets

from ..errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    ReconnectFailedError,
)
from ..protocol.frames import KeyInput, MouseButtonInput, encode_event
from .config import SessionConfig
from .link import Link, close_error_of, close_link, open_link, round_trip, write
from .queue import EventQueue
from .reader import start_reader
from .state import HidClock, SessionState

if TYPE_CHECKING:
    from ..models import DeviceState

logger = logging.getLogger("aiopikvm")

RECONNECTED: Final = "reconnected"
"""``event_type`` of the event ``events()`` yields when a ``reconnect`` session is connected
again (kvmd has no event of that name)."""


class Phase(enum.Enum):
    NEW = "new"  # never opened (or its opening failed: it may be opened again)
    OPENING = "opening"
    OPEN = "open"
    RECONNECTING = "reconnecting"  # dropped, with a policy: being opened again
    CLOSING = "closing"  # aclose() runs
    CLOSED = "closed"  # over for good: closed, dropped, or beyond reconnecting


class Supervisor:
    """Opens the session's connections, closes them, and — with a retry policy — opens a new
    one when a connection drops, never retrying an authentication or TLS failure."""

    def __init__(
        self, config: SessionConfig, state: SessionState, queue: EventQueue, clock: HidClock
    ) -> None:
        self.config = config
        self.state = state
        self.queue = queue
        self.clock = clock
        self.phase = Phase.NEW
        self.link: Link | None = None  # the open connection; None unless OPEN
        self.reader: asyncio.Task[None] | None = None  # the newest connection's reader
        self.close_error: ConnectionClosedError | None = None  # why it ended, if not closed
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None  # the reconnect loop
        self._opened = asyncio.Event()  # set while open, and once the session is over
        self._drop: ConnectionClosedError | None = None
        self._reconnected_at: float | None = None  # when the last reconnect succeeded

    @property
    def finished(self) -> bool:
        """Not open, and not going to be (never opened, or over)."""
        return self.phase in (Phase.NEW, Phase.OPENING, Phase.CLOSED)

    def closed(self) -> ConnectionClosedError:
        request = self.config.request
        return self.close_error or ConnectionClosedError(
            f"{request}: the session is not open", request=request
        )

    def not_open(self) -> ConnectionClosedError:
        if self.finished:
            return self.closed()
        request = self.config.request
        return ConnectionClosedError(f"{request}: the session is reconnecting", request=request)

    # ----- opening and closing ------------------------------------------------------------

    async def connect(self) -> None:
        if self.phase is Phase.OPENING:
            raise InvalidInputError("this session is already opening")
        if self.phase in (Phase.CLOSING, Phase.CLOSED):
            raise InvalidInputError(
                "this session is closed, and a session opens only once: make a new one "
                "(kvm.ws() or PiKVMWebSocket(...))"
            )
        if self.phase is not Phase.NEW:
            raise InvalidInputError("this session is already open")
        self.phase = Phase.OPENING
        try:
            link = await open_link(self.config, backlog=False)
        except BaseException:
            self.phase = Phase.NEW
            raise
        self._start(link)
        self.link = link
        self.state.live = link.live
        self.reader = link.reader
        self.phase = Phase.OPEN
        self._opened.set()
        if self.config.policy is not None:
            self._task = asyncio.create_task(self._supervise(), name="aiopikvm-ws-reconnect")

    def _start(self, link: Link) -> None:
        config = self.config
        start_reader(
            link,
            self.state,
            self.queue,
            stream=config.stream,
            request=config.request,
            ended=self._connection_ended,
        )

    async def aclose(self, release: Callable[[], Awaitable[None]]) -> None:
        """Close (see ``PiKVMWebSocket.aclose``); ``release`` lets go of what is held."""
        if self.phase in (Phase.NEW, Phase.OPENING, Phase.CLOSING):
            return
        self.queue.close()  # events() yields nothing after this
        if self.phase is Phase.CLOSED:
            return
        self.phase = Phase.CLOSING
        try:
            if self._task is not None:
                self._task.cancel()
                await asyncio.wait([self._task])
            link = self.link
            if link is not None:
                await self._goodbye(link, release)
                await close_link(self.config, link)
        finally:
            reader = self.reader
            if reader is not None:
                await asyncio.wait([reader], timeout=self.config.close_timeout)
                reader.cancel()
            self.finish()

    async def _goodbye(self, link: Link, release: Callable[[], Awaitable[None]]) -> None:
        """Release what is held, and let the device take it in: within ``close_timeout``."""
        loop = asyncio.get_running_loop()
        timeout = self.config.close_timeout
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                await release()  # closing does not wait for typing to end
                # kvmd drops input it has queued but not yet read when a session closes;
                # a ping round trip shows it has read everything sent before it.
                started = loop.time()
                await round_trip(self.config, link, None)
                late = loop.time() - started
        except (PiKVMError, TimeoutError) as exc:
            logger.debug("releasing before close failed: %s", exc or "close_timeout passed")
            return
        # ... but not that its HID has applied it: give the queue time to drain. Its HID
        # starts on input when kvmd reads it, which can be up to that round trip later than
        # it was sent (the ping waited behind it).
        drain = self.clock.idle_at - time.monotonic()
        if drain > 0:
            drain += late
        if deadline is not None:
            drain = min(drain, deadline - loop.time())
        if drain > 0:
            await asyncio.sleep(drain)

    def finish(self) -> None:
        """Wake everything that waits on the session: it is over."""
        self.phase = Phase.CLOSED
        self._opened.set()
        self.queue.ready.set()
        self.state.notify()
        if self.link is not None:
            self.link.fail_pings(self.closed())

    async def until_open(self) -> Link:
        """The open connection, once there is one; raises when the session is over."""
        while True:
            link = self.link
            if link is not None:
                return link
            if self.finished:
                raise self.closed()
            await self._opened.wait()

    async def wait_for(
        self, predicate: Callable[[DeviceState], bool], *, timeout: float | None
    ) -> DeviceState:
        """The state once ``predicate`` holds for it (see ``PiKVMWebSocket.wait_for``)."""
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while True:
            if self.finished:
                raise self.closed()
            state = self.state.live.device_state()
            if predicate(state):
                return state
            changed = self.state.changed()
            try:
                async with asyncio.timeout_at(deadline):
                    await changed.wait()
            except TimeoutError:
                request = self.config.request
                raise PiKVMTimeoutError(
                    f"{request}: the device state did not match within {timeout} s",
                    request=request,
                ) from None

    # ----- a connection ending ------------------------------------------------------------

    def _connection_ended(self, link: Link, closed: websockets.ConnectionClosed | None) -> None:
        request = self.config.request
        for tally in (link.malformed, link.refused, link.live.invalid):
            tally.summary(request)
        error = close_error_of(self.config, link, closed)
        link.fail_pings(error)
        if link is not self.link:
            return  # a reconnect's attempt: the attempt sees it fail
        self.link = None
        if self.phase is Phase.CLOSING:
            self.finish()
        elif self.config.policy is None:
            self.close_error = error
            logger.warning("%s", error)
            self.finish()
        else:
            self.phase = Phase.RECONNECTING
            self._drop = error
            self._opened.clear()
            self.state.notify()

    # ----- reconnecting -------------------------------------------------------------------

    async def _supervise(self) -> None:
        policy = self.config.policy
        assert policy is not None
        tried = 0  # attempts of the outage so far, when a new connection did not stay up
        while True:
            reader = self.reader
            assert reader is not None
            await asyncio.wait([reader])
            if self.phase is not Phase.RECONNECTING:
                return
            reconnected_at = self._reconnected_at
            up = None if reconnected_at is None else time.monotonic() - reconnected_at
            if up is None or up >= policy.stable_after:
                tried = 0  # it stayed up: this is a new outage
            try:
                tried = await self._reconnect(self._drop or self.closed(), tried, up)
            except ReconnectFailedError as error:
                logger.error("%s", error)
                self.close_error = error
                self.finish()
                return

    def _outage(self, drop: ConnectionClosedError, tried: int, up: float | None) -> None:
        """Refuse to go on when connections keep dropping at once, or log the next try."""
        policy = self.config.policy
        assert policy is not None
        if not tried:
            logger.warning("%s; reconnecting", drop)
            return
        if tried >= policy.attempts:
            raise ReconnectFailedError(
                f"{drop.message}; reconnecting failed after {tried} attempt(s): each new "
                f"connection dropped within stable_after ({policy.stable_after} s)",
                code=drop.code,
                reason=drop.reason,
                attempts=tried,
                last_error=drop,
                request=self.config.request,
            )
        logger.warning(
            "%s, %.2f s after reconnecting (less than stable_after, %s s): attempt %d of "
            "%d after a backoff",
            drop,
            up or 0.0,
            policy.stable_after,
            tried + 1,
            policy.attempts,
        )

    async def _attempt(self) -> Link:
        """One connection, known to work: its events wait until then, so that the marker
        comes before them and a connection that dies at once leaves no trace."""
        config, state = self.config, self.state
        link = await open_link(config, backlog=True)
        self._start(link)
        try:
            # kvmd released everything when the old connection closed; say so explicitly
            # before anything else is typed.
            for key in reversed(list(state.held_keys)):
                await write(config, link, config.encode(KeyInput(key, False)))
                state.held_keys.pop(key, None)
            for button in list(state.held_buttons):
                await write(config, link, config.encode(MouseButtonInput(button, False)))
                state.held_buttons.pop(button, None)
            # kvmd sends its state before it answers: after this, the state is complete.
            await round_trip(config, link, config.open_timeout)
        except BaseException:
            link.abort()
            raise
        return link

    async def _reconnect(self, drop: ConnectionClosedError, tried: int, up: float | None) -> int:
        """Connect again; the attempts of the outage so far (``tried`` and these)."""
        policy = self.config.policy
        assert policy is not None
        self._outage(drop, tried, up)
        started = time.monotonic()
        attempts = tried

        async def attempt() -> Link:
            nonlocal attempts
            attempts += 1
            return await self._attempt()

        released = [*self.state.held_keys, *self.state.held_buttons]
        try:
            link = await policy.retry(attempt, tried=tried)
        except PiKVMError as error:
            raise ReconnectFailedError(
                f"{drop.message}; reconnecting failed after {attempts} attempt(s): {error}",
                code=drop.code,
                reason=drop.reason,
                attempts=attempts,
                last_error=error,
                request=self.config.request,
            ) from None
        downtime = time.monotonic() - started
        marker = {
            "attempts": attempts,
            "downtime": round(downtime, 3),
            "code": drop.code,
            "reason": drop.reason,
            "released": released,
        }
        queue = self.queue
        text = encode_event(RECONNECTED, marker)
        queue.push({"event_type": RECONNECTED, "event": marker}, text, len(text))
        for event, frame, size in link.backlog or ():
            queue.push(event, frame, size)
        link.backlog = None
        self.state.live = link.live
        self.reader = link.reader
        self.link = link
        self.phase = Phase.OPEN
        self._reconnected_at = time.monotonic()
        self.state.clears += 1
        self.clock.idle_at = 0.0  # kvmd threw its queue away with the old connection
        self.reconnects += 1
        self._opened.set()
        self.state.notify()
        logger.warning(
            "%s: reconnected after %d attempt(s), %.1f s without a connection",
            self.config.request,
            attempts,
            downtime,
        )
        return attempts
