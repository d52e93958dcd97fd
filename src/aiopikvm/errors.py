"""Every error aiopikvm raises. No httpx, websockets or pydantic exception reaches the user.

This module is public (``aiopikvm.errors``) and imports nothing but the standard library, so
``aiopikvm.protocol`` and the emulator can share it without loading the client.

The tree::

    PiKVMError
    ├── InvalidInputError            a bad argument, refused before sending (also ValueError)
    │   └── UntypableTextError       text the target's keyboard layout cannot type
    ├── KeyboardOfflineError         typing found the target's keyboard offline (``.result``)
    ├── PiKVMConnectionError         the device is unreachable, or the link broke
    │   │                            (also ConnectionError)
    │   ├── PiKVMTimeoutError        the device did not answer in time (also TimeoutError)
    │   ├── TLSError                 certificate verification failed, or no TLS there
    │   └── ConnectionClosedError    the WebSocket closed while in use, or the client
    │       │                        was used after aclose()
    │       ├── ReconnectFailedError reconnect=... could not reopen it
    │       └── TypingInterruptedError  typing stopped by it (``.result``)
    ├── WaitTimeoutError             the device answered, but what was awaited did not
    │   │                            come in time (also TimeoutError)
    │   └── ScreenTimeoutError       the screen did not become what was awaited
    │       ├── ImageNotFoundError   the awaited picture never showed (``.best_score``)
    │       └── TextNotFoundError    OCR never read the awaited text
    ├── OcrUnavailableError          no local Tesseract to read text with positions
    ├── ProtocolError                the device answered something that is not kvmd's protocol
    └── APIError                     kvmd answered with an error status
        ├── BadRequestError          400: validation or operation errors (ValidatorError, ...)
        ├── AuthError                401 (no credentials) or 403 (wrong credentials)
        ├── NotFoundError            404
        ├── BusyError                409: the subsystem is busy (AtxIsBusyError, ...)
        ├── UnavailableError         503: e.g. a snapshot while the video streamer is down
        ├── ServerError              other 5xx, e.g. nginx's 502 when kvmd is down
        └── StreamError              an error record inside a streamed 200 answer (NDJSON)

``.request`` on each error names the method and URL that failed (never credentials).
``APIError`` carries ``status_code`` and kvmd's ``error`` (the exception class name on the
device) and ``error_msg`` when the body was kvmd's JSON envelope.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import ScreenDiff, TypingResult

__all__ = [
    "APIError",
    "AuthError",
    "BadRequestError",
    "BusyError",
    "ConnectionClosedError",
    "ImageNotFoundError",
    "InvalidInputError",
    "KeyboardOfflineError",
    "NotFoundError",
    "OcrUnavailableError",
    "PiKVMConnectionError",
    "PiKVMError",
    "PiKVMTimeoutError",
    "ProtocolError",
    "ReconnectFailedError",
    "RequestInfo",
    "ScreenTimeoutError",
    "ServerError",
    "StreamError",
    "TLSError",
    "TextNotFoundError",
    "TypingInterruptedError",
    "UnavailableError",
    "UntypableTextError",
    "WaitTimeoutError",
]


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What was being asked when an error happened: safe to log, holds no credentials."""

    method: str
    url: str

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class PiKVMError(Exception):
    """Base of every aiopikvm error."""

    def __init__(self, message: str, *, request: RequestInfo | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class InvalidInputError(PiKVMError, ValueError):
    """An argument that kvmd would reject or silently ignore; nothing was sent."""


class UntypableTextError(InvalidInputError):
    """Text with characters the target's keyboard layout cannot type; nothing was typed.

    ``characters`` lists each one as ``(position, character)``; ``layout`` names the layout.
    """

    def __init__(self, message: str, *, characters: list[tuple[int, str]], layout: str) -> None:
        super().__init__(message)
        self.characters = characters
        self.layout = layout


class PiKVMConnectionError(PiKVMError, ConnectionError):
    """The device could not be reached, or the connection broke."""


class TLSError(PiKVMConnectionError):
    """The device's TLS certificate could not be verified, or the port does not speak TLS
    (an ``https://`` URL for a plain-HTTP port)."""


class ConnectionClosedError(PiKVMConnectionError):
    """The WebSocket closed while the session was in use; or a :class:`~aiopikvm.PiKVM`
    client was used after :meth:`~aiopikvm.PiKVM.aclose` (the end of its ``async with``),
    which it cannot come back from: make a new one."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reason: str = "",
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.code = code
        self.reason = reason


class ReconnectFailedError(ConnectionClosedError):
    """A session opened with ``reconnect`` lost its connection and could not open a new one.

    ``code`` and ``reason`` are those of the close that started it; ``attempts`` is how many
    connections were tried; ``last_error`` is the last attempt's error — an
    :class:`AuthError` or a :class:`TLSError` ends the attempts at once, since trying again
    cannot fix either.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None,
        reason: str,
        attempts: int,
        last_error: PiKVMError,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, code=code, reason=reason, request=request)
        self.attempts = attempts
        self.last_error = last_error


class TypingInterruptedError(ConnectionClosedError):
    """``type_text`` stopped because the session's connection ended for good (no
    ``reconnect``, or it failed: then the cause is the :class:`ReconnectFailedError`).

    ``result`` says how far it got: the characters sent, and which of them may not have
    reached the target (see :class:`~aiopikvm.TypingResult`).
    """

    def __init__(
        self,
        message: str,
        *,
        result: TypingResult,
        code: int | None = None,
        reason: str = "",
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, code=code, reason=reason, request=request)
        self.result = result


class KeyboardOfflineError(PiKVMError):
    """``type_text`` did not start, or stopped midway, because kvmd reports the target's
    keyboard offline: the host is off or asleep, or its USB cable is unplugged. kvmd takes
    input all the same and drops what the host does not take.

    ``result`` says how far typing got (nothing sent, when it did not start; see
    :class:`~aiopikvm.TypingResult`).
    """

    def __init__(
        self, message: str, *, result: TypingResult, request: RequestInfo | None = None
    ) -> None:
        super().__init__(message, request=request)
        self.result = result


class PiKVMTimeoutError(PiKVMConnectionError, TimeoutError):
    """The device did not answer in time: a kind of connection failure (as in httpx), so
    ``except PiKVMConnectionError`` catches an unreachable and a silent device alike."""


class WaitTimeoutError(PiKVMError, TimeoutError):
    """The device answered, but what was awaited did not happen in time: not a connection
    failure, so retrying the request would not help."""


class ScreenTimeoutError(WaitTimeoutError):
    """The screen did not show what was awaited in time. ``last_snapshot`` is the last
    JPEG read (None if the video never came up); :meth:`save_snapshot` writes it out.
    ``diff`` (a :class:`ScreenDiff`, or None) is the measured difference that decided: for
    ``wait_for_screen_change`` the largest seen from the baseline, for
    ``wait_for_screen_stable`` the last that broke the stillness."""

    def __init__(
        self,
        message: str,
        *,
        last_snapshot: bytes | None = None,
        diff: ScreenDiff | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.last_snapshot = last_snapshot
        self.diff = diff

    def save_snapshot(self, path: str | os.PathLike[str]) -> bool:
        """Write the last snapshot to ``path``; False if there is none."""
        if self.last_snapshot is None:
            return False
        with open(path, "wb") as file:
            file.write(self.last_snapshot)
        return True


class TextNotFoundError(ScreenTimeoutError):
    """OCR never read the awaited text in time; ``last_text`` is what it read last."""

    def __init__(
        self,
        message: str,
        *,
        last_text: str,
        last_snapshot: bytes | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, last_snapshot=last_snapshot, request=request)
        self.last_text = last_text


class ImageNotFoundError(ScreenTimeoutError):
    """No snapshot showed the template well enough in time. ``best_score`` is the highest
    score any snapshot reached (None if none was read; the template may not have fitted),
    ``best_box`` where, ``threshold`` the score it needed."""

    def __init__(
        self,
        message: str,
        *,
        best_score: float | None,
        best_box: tuple[int, int, int, int] | None,
        threshold: float,
        last_snapshot: bytes | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, last_snapshot=last_snapshot, request=request)
        self.best_score = best_score
        self.best_box = best_box
        self.threshold = threshold


class OcrUnavailableError(PiKVMError):
    """Text with positions is read here, by the ``tesseract`` program, which is not
    installed or not on PATH (Debian: ``apt install tesseract-ocr``)."""


class ProtocolError(PiKVMError):
    """The device sent something that is not kvmd's protocol (bad JSON, a missing envelope)."""


class APIError(PiKVMError):
    """kvmd answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error: str | None = None,
        error_msg: str | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.error = error
        self.error_msg = error_msg


class BadRequestError(APIError):
    """400: kvmd's validators or the subsystem refused the parameters."""


class AuthError(APIError):
    """401 (no credentials were sent) or 403 (they were wrong)."""


class NotFoundError(APIError):
    """404: no such endpoint on this device (older kvmd, or a disabled feature)."""


class BusyError(APIError):
    """409: the subsystem is busy with a previous operation."""


class UnavailableError(APIError):
    """503: the service behind the endpoint is not running right now."""


class ServerError(APIError):
    """Another 5xx: kvmd failed, or it is down behind nginx (502)."""


class StreamError(APIError):
    """kvmd reported a failure in the middle of a streamed answer (an ``ok: false`` NDJSON
    record, as ``msd/write_remote`` sends when a download breaks): the HTTP status had
    already been 200, which ``status_code`` keeps; ``error`` and ``error_msg`` are kvmd's."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: BusyError,
    503: UnavailableError,
}


def api_error_for(
    status_code: int,
    *,
    error: str | None,
    error_msg: str | None,
    request: RequestInfo | None,
    detail: str | None = None,
    hint: str | None = None,
) -> APIError:
    """The APIError subclass for an HTTP status, with a message naming what failed and,
    with ``hint``, what to do about it."""
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else APIError
    what = f"{error}: {error_msg}" if error else (detail or "no details")
    where = f" ({request})" if request else ""
    advice = f"; {hint}" if hint else ""
    return cls(
        f"HTTP {status_code}{where}: {what}{advice}",
        status_code=status_code,
        error=error,
        error_msg=error_msg,
        request=request,
    )


def with_hint(error: APIError, hint: str) -> APIError:
    """A copy of ``error`` whose message ends with ``hint`` (what the caller can do)."""
    return type(error)(
        f"{error.message}; {hint}",
        status_code=error.status_code,
        error=error.error,
        error_msg=error.error_msg,
        request=error.request,
    )
