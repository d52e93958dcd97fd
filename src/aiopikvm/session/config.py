"""A session's settings, checked once: the one construction path of ``PiKVMWebSocket``,
whether made standalone or by ``kvm.ws()`` (which passes its client's credentials and TLS)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urlunsplit

from .._checks import MAX_QUEUE, check_bool, check_int, check_timeout, invalid
from .._version import __version__
from ..errors import RequestInfo
from ..protocol.frames import Input, PingInput, encode_binary, encode_json
from ..transport.auth import Credentials
from ..transport.device_url import split_device_url
from ..transport.retry import RetryPolicy
from ..transport.tls import VerifySSL, make_ssl_context

DEFAULT_MAX_QUEUE: Final = 1024
USER_AGENT: Final = f"aiopikvm/{__version__}"
_SCHEMES: Final = ("http", "https", "ws", "wss")


def _ws_url(parts: SplitResult, stream: bool) -> str:
    """``https://host[/prefix]`` -> ``wss://host[/prefix]/api/ws?stream=0|1``."""
    scheme = "wss" if _is_secure(parts) else "ws"
    path = parts.path.rstrip("/") + "/api/ws"
    return urlunsplit((scheme, parts.netloc, path, f"stream={int(stream)}", ""))


def _is_secure(parts: SplitResult) -> bool:
    return parts.scheme in ("https", "wss")  # urlsplit gives the scheme in lower case


def _check_stream(stream: object) -> bool:
    if isinstance(stream, bool) or (isinstance(stream, int) and stream in (0, 1)):
        return bool(stream)
    raise invalid("stream", "a bool or 0/1", stream)


def _reconnect_policy(reconnect: object) -> RetryPolicy | None:
    if isinstance(reconnect, RetryPolicy):
        return reconnect
    if reconnect is True:
        return RetryPolicy.for_reconnects()
    if reconnect is False:
        return None
    raise invalid("reconnect", "a bool or a RetryPolicy", reconnect)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a session was made with, validated: nothing here changes once it exists."""

    url: str  # the ws:// or wss:// URL of /api/ws, with ?stream=
    stream: bool
    binary: bool
    open_timeout: float | None
    close_timeout: float | None
    max_queue: int
    policy: RetryPolicy | None  # None: no reconnecting
    credentials: Credentials  # its repr shows the user only
    ssl: ssl.SSLContext | None  # None for a ws:// URL
    request: RequestInfo  # what errors name
    ping: str | bytes  # the ping frame, binary or JSON as the input

    @classmethod
    def build(
        cls,
        url: str,
        credentials: Credentials,
        verify_ssl: VerifySSL,
        *,
        stream: bool | int,
        open_timeout: float | None,
        close_timeout: float | None,
        binary: bool,
        max_queue: int,
        reconnect: bool | RetryPolicy,
    ) -> SessionConfig:
        """The one way a session is made: the URL parsed once, and TLS decided from it."""
        check_int(max_queue, "max_queue", low=1, high=MAX_QUEUE)
        check_timeout(open_timeout, "open_timeout", none_ok=True)
        check_timeout(close_timeout, "close_timeout", none_ok=True)
        check_bool(binary, "binary")
        parts = split_device_url(url, _SCHEMES)
        full = _ws_url(parts, _check_stream(stream))
        return cls(
            url=full,
            stream=bool(stream),
            binary=binary,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_queue=max_queue,
            policy=_reconnect_policy(reconnect),
            credentials=credentials,
            ssl=make_ssl_context(verify_ssl) if _is_secure(parts) else None,
            request=RequestInfo("GET", full),
            ping=encode_binary(PingInput()) if binary else encode_json(PingInput()),
        )

    def encode(self, message: Input) -> str | bytes:
        """``message`` as a frame: binary (kvmd's own), or JSON with ``binary=False``."""
        return encode_binary(message) if self.binary else encode_json(message)
