"""One connection of a session: opening it, writing frames within ``close_timeout``, pings
matched to their answers, and how it ended. The frames it reads are the reader's
(:mod:`.reader`)."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import TYPE_CHECKING, Any, Final

import websockets

from ..errors import ConnectionClosedError, PiKVMTimeoutError
from ..transport.ws_connect import WRITE_BUFFER_LIMIT, WRITE_LIMIT, open_session
from .config import USER_AGENT, SessionConfig
from .state import LiveState, Tally

if TYPE_CHECKING:
    from ..transport.ws_connection import Connection

logger = logging.getLogger("aiopikvm")

Frame = str | bytes

ROOM: Final = WRITE_LIMIT // 4 - 64
"""Bytes waiting to be sent below which a frame goes out without a deadline: under the
transport's low-water mark (a quarter of the high one, asyncio's default) writing is never
paused, so websockets' send returns without waiting (64: a frame's header, and then some)."""


class Link:
    """One connection of a session, and what belongs to it alone."""

    __slots__ = ("backlog", "conn", "live", "malformed", "pings", "reader", "refused", "sending")

    def __init__(self, conn: Connection, *, backlog: bool) -> None:
        self.conn = conn
        self.live = LiveState()  # the state its events are merged into
        # Events held back until a reconnect knows the connection works; None: pushed.
        self.backlog: list[tuple[dict[str, Any], str, int]] | None = [] if backlog else None
        # One future per ping written, in order: each answer resolves the oldest.
        self.pings: collections.deque[asyncio.Future[int]] = collections.deque()
        self.reader: asyncio.Task[None] | None = None
        # One send at a time: a send waiting inside websockets has already added its frame
        # to the bytes waiting to be sent; sends waiting here, on a stalled link, add none.
        self.sending = asyncio.Lock()
        self.malformed = Tally("malformed frames")
        self.refused = Tally("state events past the size limit")

    def abort(self) -> None:
        """Cut the connection at once: its reader then ends."""
        self.conn.transport.abort()

    async def ended(self) -> None:
        """Return once the reader has seen the connection end."""
        if self.reader is not None:
            await asyncio.wait([self.reader])

    def resolve_ping(self, clears: int) -> None:
        if self.pings:
            future = self.pings.popleft()
            if not future.done():  # cancelled: nobody waits for this answer any more
                future.set_result(clears)

    def fail_pings(self, error: ConnectionClosedError) -> None:
        while self.pings:
            future = self.pings.popleft()
            if not future.done():
                future.set_exception(error)


async def open_link(config: SessionConfig, *, backlog: bool) -> Link:
    conn = await open_session(
        config.url,
        config.credentials,  # headers made inside, with a fresh TOTP code each time
        ssl_context=config.ssl,
        open_timeout=config.open_timeout,
        close_timeout=config.close_timeout,
        user_agent=USER_AGENT,
        request=config.request,
    )
    return Link(conn, backlog=backlog)


async def write(config: SessionConfig, link: Link, frame: Frame, *, bounded: bool = True) -> None:
    """Send ``frame``, waiting at most ``close_timeout`` for the link to take it (not
    ``bounded``: the caller's own deadline covers the write)."""
    try:
        async with asyncio.timeout(config.close_timeout if bounded else None), link.sending:
            await link.conn.send(frame)
    except TimeoutError:
        # websockets has handed the frame over whole before it waits for room: it may
        # still arrive, if the link recovers.
        raise PiKVMTimeoutError(
            f"{config.request}: the link took no frame within close_timeout "
            f"({config.close_timeout} s): it is stalled; what was sent may still arrive",
            request=config.request,
        ) from None
    except websockets.ConnectionClosed as exc:
        raise closed_while_sending(config, exc) from None


def closed_while_sending(
    config: SessionConfig, exc: websockets.ConnectionClosed
) -> ConnectionClosedError:
    return ConnectionClosedError(
        f"{config.request}: the WebSocket closed while sending",
        code=exc.rcvd.code if exc.rcvd else None,
        request=config.request,
    )


async def send_ping(
    config: SessionConfig, link: Link, *, bounded: bool = True
) -> asyncio.Future[int]:
    """Write a ping (see :func:`write`); the future gets the session's count of queue
    losses as it was when the answer came."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    # Queued before the write: its answer may come before the write returns. Never taken
    # out but by an answer or the end of the connection, so answers stay matched.
    link.pings.append(future)
    try:
        await write(config, link, config.ping, bounded=bounded)
    except BaseException:
        future.cancel()
        raise
    return future


async def round_trip(config: SessionConfig, link: Link, timeout: float | None) -> int:
    """A ping written and answered, both within ``timeout``."""
    future: asyncio.Future[int] | None = None
    try:
        async with asyncio.timeout(timeout):
            future = await send_ping(config, link, bounded=False)
            return await future
    except TimeoutError:
        raise PiKVMTimeoutError(
            f"{config.request}: no answer to a ping within {timeout} s", request=config.request
        ) from None
    finally:
        if future is not None:
            future.cancel()  # its answer, if it comes, is still matched to it


async def close_link(config: SessionConfig, link: Link) -> None:
    """The closing handshake, within ``close_timeout``; past it, the connection is
    aborted (websockets' own ``close_timeout`` does not cover a stalled send)."""
    try:
        async with asyncio.timeout(config.close_timeout):
            await link.conn.close()
    except TimeoutError:
        logger.warning(
            "%s: the closing handshake did not finish within close_timeout (%s s); "
            "the connection was aborted",
            config.request,
            config.close_timeout,
        )
        link.abort()


def close_error_of(
    config: SessionConfig, link: Link, closed: websockets.ConnectionClosed | None
) -> ConnectionClosedError:
    """How the connection ended: the close frame received, or else the one this side
    sent (a frame too big: 1009), or else none (1006, the link died)."""
    sent_by_us = False
    code: int | None
    if closed is not None and closed.rcvd is not None:
        code, reason = closed.rcvd.code, closed.rcvd.reason
    elif closed is not None and closed.sent is not None:
        code, reason, sent_by_us = closed.sent.code, closed.sent.reason, True
    else:  # no close frame either way: the link died (or the reader was stopped)
        code, reason = (1006 if closed is not None else None), ""
    why = f"code {code}, {reason}" if reason else f"code {code}"
    if sent_by_us:
        why += "; sent by this side"
    if getattr(link.conn, "overflowed", False):
        why += (
            "; the device kept sending pings and read none of the answers (more than "
            f"{WRITE_BUFFER_LIMIT} bytes waited to be sent)"
        )
    return ConnectionClosedError(
        f"{config.request}: the WebSocket closed ({why})",
        code=code,
        reason=reason,
        request=config.request,
    )
