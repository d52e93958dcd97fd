"""Fault injection's rules, and what a faulted request is answered: kvmd's error envelope,
nginx's page for a gateway error, or a crash through the server's last-resort handler.
:class:`~._faults.Faults` makes these and applies them to the request path and sessions."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final, Literal

from aiohttp import web

from ._server import InjectedCrash, json_response

Counting = Literal["received", "sent"]

MALFORMED_FRAMES: Final[dict[str, str | bytes]] = {
    "invalid_json": '{"event_type": "hid", "event": {"online": tr',
    "not_an_object": '[{"event_type": "hid", "event": {}}]',
    "no_event_type": '{"event": {"online": true}}',
    "event_not_an_object": '{"event_type": "atx", "event": [true, false]}',
    "unknown_event": '{"event_type": "x_no_such_event", "event": {"x": 1}}',
    "unknown_binary": b"\x42\x00\x01\x02",
    "empty_binary": b"",
}
"""Frames a client must survive, by name: not JSON, not kvmd's shape, or not known."""

_NGINX_PAGE: Final = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_KVMD_ERRORS: Final[dict[int, tuple[str, str]]] = {
    401: ("UnauthorizedError", "Unauthorized"),
    403: ("ForbiddenError", "Forbidden"),
    409: ("IsBusyError", "Performing another operation, please try again later"),
    503: ("UnavailableError", "Service Unavailable"),
}
"""Errors kvmd answers in its envelope: (class name, message) for the status."""


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """One request that reached the emulator: ``path`` is the full one (``/api/hid``)."""

    method: str
    path: str
    query: str


class HttpFault:
    """A rule on requests whose path (relative to ``/api``, e.g. ``"atx/*"``) and method
    match. ``remaining`` is how many more requests it acts on (``None``: until removed);
    ``hits`` how many it has acted on. A rule with no ``status`` only delays."""

    def __init__(
        self,
        path: str,
        method: str | None,
        times: int | None,
        *,
        status: int | None = None,
        error: str | None = None,
        error_msg: str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, got {times!r}")
        self.path = path.lstrip("/")
        self.method = method.upper() if method else None
        self.remaining = times
        self.status = status
        self.error = error
        self.error_msg = error_msg
        self.body = body
        self.content_type = content_type
        self.delay = delay
        self.hits = 0

    def __repr__(self) -> str:
        what = f"status={self.status}" if self.status else f"delay={self.delay}"
        method = self.method or "*"
        return f"<HttpFault {method} {self.path!r} {what} remaining={self.remaining}>"

    def _take(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True

    def response(self, method: str, path: str) -> web.Response:
        status = self.status or 503
        if self.body is not None:
            headers = {"Content-Type": self.content_type} if self.content_type else None
            return web.Response(status=status, body=self.body, headers=headers)
        if self.error is None and status == 500:
            # A real crash, through the server's last-resort handler, as kvmd's would be.
            raise InjectedCrash(f"{method} /{path} -> 500 (a crash)")
        if self.error is None and status in (502, 504):
            page = _NGINX_PAGE.format(status=status, reason=_reason(status))
            return web.Response(status=status, text=page, content_type="text/html")
        default_error, default_msg = _KVMD_ERRORS.get(status, ("HttpError", _reason(status)))
        if status == 409 and self.error is None and path.startswith("atx/"):
            default_error = "AtxIsBusyError"
            default_msg = "Performing another ATX operation, please try again later"
        body = {"error": self.error or default_error, "error_msg": self.error_msg or default_msg}
        return json_response(body, status=status)


class WsDrop:
    """A rule ending WebSocket sessions after ``after`` frames (a ``(low, high)`` pair draws
    a number per session from the seeded generator), counting frames ``received`` from the
    client or ``sent`` to it. ``remaining`` sessions are still to be dropped."""

    def __init__(
        self,
        after: int | tuple[int, int],
        counting: Counting,
        clean: bool,
        times: int | None,
    ) -> None:
        low, high = after if isinstance(after, tuple) else (after, after)
        if not 0 <= low <= high:
            raise ValueError(f"after must be >= 0, or a (low, high) range, got {after!r}")
        if counting not in ("received", "sent"):
            raise ValueError(f"counting must be 'received' or 'sent', got {counting!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, got {times!r}")
        self.after = (low, high)
        self.counting = counting
        self.clean = clean
        self.remaining = times
        self.hits = 0

    def __repr__(self) -> str:
        return (
            f"<WsDrop after={self.after} counting={self.counting} clean={self.clean}"
            f" remaining={self.remaining}>"
        )


@dataclass(slots=True)
class Tripwire:
    """Where one session is to be dropped: when its ``counting`` counter reaches ``at``."""

    counting: Counting
    at: int
    clean: bool


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
