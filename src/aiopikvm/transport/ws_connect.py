"""Opening ``/api/ws`` with websockets' documented ``connect``, minus the ways it could leak
credentials or memory. It works alike on every websockets from 13.0 on.

- A pinned certificate (:class:`~aiopikvm.transport.pinning.PinnedSSLContext`) is checked
  before ``connect`` is called, so before the handshake carries the credentials.
- Redirects are not followed. websockets (13.1 and later) follows them, to other hosts
  too, and strips at most ``Authorization`` and ``Cookie`` on the way: kvmd's
  ``X-KVMD-Passwd`` would travel along. websockets makes each TCP connection through the
  documented ``create_connection`` factory; ours makes the first one only, and a second —
  the redirect's — is aborted before a byte is written on it. The first connection's
  handshake response (its documented ``response``) is then raised as a refusal: kvmd
  redirects no correct API call.
- The frames a session accepts are at most :data:`MAX_FRAME_SIZE`; the bytes waiting to
  be sent, at most :data:`WRITE_BUFFER_LIMIT` (see :class:`_Connection`).
- websockets' debug log of the handshake shows credential headers as ``***``.
- No secret sits in the traceback of a failed connect: the failure is raised as our
  error outside the ``except`` block that caught websockets' (see :func:`open_session`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any, Final

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from ..errors import (
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    RequestInfo,
    api_error_for,
)
from .auth import Credentials
from .http_errors import error_from_response, transport_error
from .pinning import PinnedSSLContext
from .redaction import SECRET_HEADERS, HandshakeLogger, redact_userinfo

_LOGGER: Final = HandshakeLogger(logging.getLogger("websockets.client"))

MAX_FRAME_SIZE: Final = 2**20
"""The biggest frame a session accepts (1 MiB, websockets' default, kept on purpose).
kvmd's events are small: the biggest of a real 4.206's session is the switch's full state,
1.7 KB; what grows with the device is the MSD image list (about 100 B per image) and the
GPIO channels. A bigger frame closes the session with code 1009 (message too big)."""

FRAMES_QUEUED: Final = 16
"""Frames websockets holds for the session's reader before it stops reading the socket
(its ``max_queue``): the reader takes them at once, so this only bounds a burst that
arrives while the event loop is busy elsewhere — at most this many :data:`MAX_FRAME_SIZE`."""

WRITE_LIMIT: Final = 2**15
"""websockets' ``write_limit`` (32 KiB, its default): a send returns once the bytes waiting
to be sent are below it, so a send on a stalled link waits, for at most the session's
``close_timeout``."""

WRITE_BUFFER_LIMIT: Final = 2**20
"""The bytes that may wait to be sent (1 MiB). Sends wait below :data:`WRITE_LIMIT`, one at
a time; what else grows the buffer are the answers websockets writes itself, a pong for
each ping, as it reads. A device that keeps sending pings and reads none of the answers
would grow it without end: past this limit, the connection is failed."""


class _Connection(ClientConnection):
    """websockets' connection, failed when the bytes it has to send pile up, and aborted
    when a closing handshake the device does not finish outlasts ``close_timeout``."""

    overflowed = False  # failed by the limit: the session says so

    def __init__(self, protocol: Any, **options: Any) -> None:
        super().__init__(protocol, **options)
        self._close_timeout: float | None = options.get("close_timeout")
        self._closing_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # answers the pings among the frames, unthrottled
        transport = self.transport
        if not self.overflowed and transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            self.overflowed = True
            transport.abort()
        elif (
            self.state is State.CLOSING
            and self._closing_timer is None
            and self._close_timeout is not None
        ):
            # A close frame went out (a frame too big: 1009) or came in; the device is to
            # close the TCP connection now. websockets holds it to close_timeout only while
            # one of its calls waits on the close, and a reader alone would wait for ever.
            loop = asyncio.get_running_loop()
            self._closing_timer = loop.call_later(self._close_timeout, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing_timer is not None:
            self._closing_timer.cancel()
        super().connection_lost(exc)


class _Refused(_Connection):
    """The connection websockets opens to follow a redirect: aborted as it opens, before
    anything (the handshake, the credentials) is written on it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport.abort()


class _OneConnection:
    """websockets' ``create_connection`` for one connect: the first TCP connection gets a
    :class:`_Connection`; a second one would follow a redirect, and is refused."""

    def __init__(self) -> None:
        self.first: _Connection | None = None

    def __call__(self, protocol: Any, **options: Any) -> _Connection:
        if self.first is None:
            self.first = _Connection(protocol, **options)
            return self.first
        return _Refused(protocol, **options)

    def redirect(self) -> tuple[int, str] | None:
        """The status and the target of the redirect the device answered, if it did."""
        response = self.first.response if self.first is not None else None
        if response is None or not 300 <= response.status_code < 400:
            return None
        return response.status_code, response.headers.get("Location", "")


async def open_session(
    url: str,
    credentials: Credentials,
    *,
    ssl_context: ssl.SSLContext | None,
    open_timeout: float | None,
    close_timeout: float | None,
    user_agent: str,
    request: RequestInfo,
    max_size: int = MAX_FRAME_SIZE,
) -> ClientConnection:
    """A connection to ``url``, or the failure as one of our errors.

    The credentials' headers are made inside websockets' call and appear in no local of
    ours; the error is raised after the ``except`` block, so that it carries no
    ``__context__`` — websockets' exception, whose frames hold those headers.
    """
    if isinstance(ssl_context, PinnedSSLContext):
        await ssl_context.verify_peer(url, timeout=open_timeout, request=request)
    factory = _OneConnection()
    error: PiKVMError
    try:
        connection = await connect(
            url,
            additional_headers=credentials.headers(),  # a fresh TOTP code each time
            ssl=ssl_context,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            user_agent_header=user_agent,
            compression=None,  # frames are tiny; deflate would only cost CPU on the device
            max_size=max_size,
            max_queue=FRAMES_QUEUED,
            write_limit=WRITE_LIMIT,
            logger=_LOGGER,
            create_connection=factory,  # type: ignore[arg-type]  # documented: "a wrapper"
        )
    except Exception as exc:  # every failure becomes one of ours, raised below
        error = _open_error(exc, factory.redirect(), request, open_timeout)
    else:
        _forget_credentials(connection)
        return connection
    finally:
        factory.first = None  # its handshake request holds the credentials
    raise error


def _forget_credentials(connection: ClientConnection) -> None:
    """Mask the secret headers of the handshake request websockets keeps (its documented
    ``request``): every traceback with the connection in a frame's locals would show it."""
    request = connection.request
    if request is None:
        return
    headers = request.headers
    for name in {name for name in headers if name.lower() in SECRET_HEADERS}:
        del headers[name]
        headers[name] = "***"


def _open_error(
    exc: Exception,
    redirect: tuple[int, str] | None,
    request: RequestInfo,
    open_timeout: float | None,
) -> PiKVMError:
    if redirect is not None:
        status, location = redirect
        return api_error_for(
            status,
            error=None,
            error_msg=None,
            request=request,
            detail=(
                f"a redirect to {redact_userinfo(location)!r}, not followed "
                "(the credentials would go along)"
            ),
        )
    if isinstance(exc, websockets.InvalidStatus):
        response = exc.response
        return error_from_response(response.status_code, bytes(response.body or b""), request)
    if isinstance(exc, TimeoutError):
        return PiKVMTimeoutError(
            f"{request}: no WebSocket handshake within {open_timeout} s", request=request
        )
    if isinstance(exc, websockets.InvalidURI):
        return InvalidInputError(f"bad WebSocket URL: {exc}")
    invalid_proxy = getattr(websockets, "InvalidProxy", None)  # websockets 15 and later
    if invalid_proxy is not None and isinstance(exc, invalid_proxy):
        # Not str(exc): it shows the proxy URL, credentials included.
        return InvalidInputError(
            f"{request}: the proxy configured in the environment is not usable: {exc.msg}"
        )
    if isinstance(exc, websockets.InvalidHandshake | websockets.ConnectionClosed | OSError):
        return transport_error(exc, request)
    if isinstance(exc, PiKVMError):
        return exc
    raise exc
