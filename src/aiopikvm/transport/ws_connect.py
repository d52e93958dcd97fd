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
  be sent, at most :data:`WRITE_BUFFER_LIMIT` (see :class:`~.ws_connection.Connection`).
- websockets' debug log of the handshake shows credential headers as ``***``.
- No secret sits in the traceback of a failed connect: the failure is raised as our
  error outside the ``except`` block that caught websockets' (see :func:`open_session`).
"""

from __future__ import annotations

import logging
import ssl
from typing import TYPE_CHECKING, Final

import websockets

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

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from .ws_connection import Connection

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
) -> Connection:
    """A connection to ``url``, or the failure as one of our errors; its messages are
    read from its ``inbox`` (see :class:`~.ws_connection.Inbox`).

    The credentials' headers are made inside websockets' call and appear in no local of
    ours; the error is raised after the ``except`` block, so that it carries no
    ``__context__`` — websockets' exception, whose frames hold those headers.
    """
    # websockets' client, imported by the first session (see ws_connection).
    from websockets.asyncio.client import connect

    from .ws_connection import OneConnection

    if isinstance(ssl_context, PinnedSSLContext):
        await ssl_context.verify_peer(url, timeout=open_timeout, request=request)
    factory = OneConnection()
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
            ping_interval=None,  # the connection's own keepalive (ws_connection)
            logger=_LOGGER,
            create_connection=factory,  # type: ignore[arg-type]  # documented: "a wrapper"
        )
    except Exception as exc:  # every failure becomes one of ours, raised below
        error = _open_error(exc, factory.redirect(), request, open_timeout)
    else:
        _forget_credentials(connection)
        connection.start_keepalive()
        return connection  # type: ignore[return-value]  # made by factory: a Connection
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
