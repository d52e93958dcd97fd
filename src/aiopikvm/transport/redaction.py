"""Keeping credentials out of the logs of the libraries underneath, and out of tracebacks.

At DEBUG, httpcore logs every response's headers, kvmd's ``Set-Cookie: auth_token=...``
included, and websockets logs every handshake header, ``X-KVMD-Passwd`` included. Both
are replaced with ``***`` before a record reaches any handler; nothing else is changed.
At INFO, httpx logs every request's URL, the download URL given to ``msd/write_remote``
with its ``user:password@`` included: that part is replaced too. And a URL's
``user:password@`` (which kvmd quotes back in its errors) is kept out of our own error
messages.

Tracebacks with locals (Sentry, ``pytest -l``, rich) show the ``repr`` of every local
variable: a password, a TOTP secret or a URL with credentials is held in a :class:`Secret`
(a ``str`` whose repr hides it) wherever it sits in a frame of ours.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import MutableMapping
from typing import Any, Final, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_HEADERS: Final = frozenset({"x-kvmd-passwd", "authorization", "cookie", "set-cookie"})

HTTPCORE_LOGGERS: Final = ("httpcore.http11", "httpcore.http2", "httpcore.proxy")
HTTPX_LOGGERS: Final = ("httpx",)

V = TypeVar("V")


# The patterns are compiled on first use: the case-insensitive ones take ~0.3 ms each,
# which every client import paid before anything needed redacting.
@functools.cache
def _auth_token() -> re.Pattern[str]:
    return re.compile(r"(auth_token=)[^;,'\"\s)]+")


@functools.cache
def _userinfo() -> re.Pattern[str]:
    return re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s'\"]+@")


@functools.cache
def _url() -> re.Pattern[str]:
    return re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")


class Secret(str):
    """A ``str`` whose repr is ``'***'``: the value is sent as it is, but a traceback's
    locals, a ``%r`` or a debugger's variable view never show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


class SecretURL(Secret):
    """A URL that may hold credentials: its repr shows it with them replaced by ``***``."""

    __slots__ = ()

    def __repr__(self) -> str:
        text = str.__str__(self)
        if not text.isprintable():  # urlsplit would drop control characters from the repr
            return repr(redact_userinfo(text))
        return repr(redact_url(text))


def hidden(value: V) -> V:
    """``value`` as a :class:`Secret` if it is a ``str`` (anything else is left for the
    checks that follow to refuse)."""
    if isinstance(value, str) and not isinstance(value, Secret):
        return cast(V, Secret(value))
    return value


class HandshakeLogger(logging.LoggerAdapter[logging.Logger]):
    """For websockets' ``logger=``: it logs each header as ``("> %s: %s", name, value)``."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if len(args) == 2 and isinstance(args[0], str) and args[0].lower() in SECRET_HEADERS:
            args = (args[0], "***")
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return msg, kwargs


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging system's to report
            return True
        redacted = _url().sub(lambda url: redact_url(url[0]), _auth_token().sub(r"\1***", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER: Final = _RedactingFilter()


def redact_httpcore_logs() -> None:
    """Filter httpcore's and httpx's loggers: cookies, and credentials in URLs (a filter on
    a logger applies to its own records only)."""
    for name in (*HTTPCORE_LOGGERS, *HTTPX_LOGGERS):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def redact_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``."""
    return _userinfo().sub(r"\1***@", text)


def redact_url(url: str) -> str:
    """A URL fit for an error message: no userinfo in it, nor in a URL passed as a query
    value (``msd/write_remote?url=https://user:token@host/...``), which is percent-encoded
    there and so out of reach of :func:`redact_userinfo` on the whole string."""
    parts = urlsplit(redact_userinfo(url))
    if not parts.query:
        return urlunsplit(parts)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    redacted = [(key, redact_userinfo(value)) for key, value in pairs]
    query = urlencode(redacted, safe=":/@*") if redacted != pairs else parts.query
    return urlunsplit(parts._replace(query=query))
