"""ustreamer's MJPEG stream (``multipart/x-mixed-replace``) cut into parts: pure, no I/O.

ustreamer (src/ustreamer/http/server.c) answers ``/stream`` with
``Content-Type: multipart/x-mixed-replace;boundary=boundarydonotcross``, writes
``--boundarydonotcross\\r\\n`` and then, per frame, the part's headers (``Content-Type``,
``Content-Length``, ``X-Timestamp``, with ``extra_headers=1`` the ``X-UStreamer-*``
statistics), a blank line, the JPEG and ``\\r\\n--boundarydonotcross\\r\\n``. With
``advance_headers=1`` a part has no ``Content-Length``: its end is then found by the
delimiter (RFC 2046), which this parser also reads.

Bounded against a hostile peer: a part's header block is at most ``max_header_size``
bytes and its body at most ``max_part_size``; past either, :class:`ProtocolError` before
more is buffered. So is anything that is not the framing above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ..errors import ProtocolError

MAX_HEADER_SIZE: Final = 16 * 1024
"""A part's header block: ustreamer's, statistics included, is about 700 bytes."""

_BOUNDARY: Final = re.compile(r"""boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))""", re.I)
_CRLF: Final = b"\r\n"


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/x-mixed-replace`` Content-Type, or ProtocolError."""
    value = content_type or ""
    if not value.strip().lower().startswith("multipart/x-mixed-replace"):
        raise ProtocolError(
            f"not an MJPEG stream: Content-Type {value[:100] or 'missing'!r}, "
            "not multipart/x-mixed-replace"
        )
    match = _BOUNDARY.search(value)
    if match is None:
        raise ProtocolError(f"the MJPEG stream's Content-Type has no boundary: {value[:100]!r}")
    return (match[1] or match[2]).encode("latin-1")


@dataclass(frozen=True, slots=True)
class Part:
    """One part: its headers (names lower-cased) and its body."""

    headers: Mapping[str, str]
    body: bytes


class MultipartParser:
    """Feed it the body's bytes as they come; it returns the parts completed so far.

    After the closing delimiter (``--boundary--``) :attr:`closed` is true and anything
    more is ignored, as RFC 2046 has it (the epilogue).
    """

    def __init__(
        self,
        boundary: bytes,
        *,
        max_part_size: int,
        max_header_size: int = MAX_HEADER_SIZE,
    ) -> None:
        if not 1 <= len(boundary) <= 70:
            raise ValueError("a multipart boundary is 1 to 70 bytes (RFC 2046)")
        self._first = b"--" + boundary
        self._delimiter = _CRLF + self._first
        self._max_part = max_part_size
        self._max_header = max_header_size
        self._buffer = bytearray()
        self._state = "preamble"
        self._headers: Mapping[str, str] = {}
        self._length: int | None = None
        self._searched = 0  # where the search for a delimiter goes on from
        self.closed = False

    @property
    def buffered(self) -> int:
        """Bytes held for a part not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Part]:
        if self.closed:
            return []
        self._buffer += data
        parts: list[Part] = []
        while self._step(parts):
            pass
        return parts

    def _step(self, parts: list[Part]) -> bool:
        """Advance by one element of the framing; False when more bytes are needed."""
        buffer = self._buffer
        if self._state == "preamble":
            # ustreamer sends no preamble; a CRLF or two before the first boundary is
            # allowed by RFC 2046 and costs nothing to accept.
            while buffer.startswith(_CRLF):
                del buffer[:2]
            if len(buffer) < len(self._first):
                if not self._first.startswith(bytes(buffer)):
                    raise ProtocolError("the MJPEG stream does not start with its boundary")
                return False
            if not buffer.startswith(self._first):
                raise ProtocolError("the MJPEG stream does not start with its boundary")
            del buffer[: len(self._first)]
            self._state = "after_boundary"
            return True
        if self._state == "after_boundary":
            if len(buffer) < 2:
                return False
            mark = bytes(buffer[:2])
            del buffer[:2]
            if mark == b"--":
                self.closed = True
                buffer.clear()
                return False
            if mark != _CRLF:
                raise ProtocolError(f"the MJPEG stream's boundary is followed by {mark!r}")
            self._state = "headers"
            return True
        if self._state == "headers":
            return self._read_headers()
        return self._read_body(parts)

    def _read_headers(self) -> bool:
        buffer = self._buffer
        if buffer.startswith(_CRLF):  # a part with no headers at all
            end, block = 0, b""
        else:
            end = buffer.find(b"\r\n\r\n", 0, self._max_header + 4)
            if end < 0:
                if len(buffer) > self._max_header:
                    raise ProtocolError(
                        f"an MJPEG part's headers are longer than {self._max_header} bytes"
                    )
                return False
            block = bytes(buffer[:end])
            end += 2
        del buffer[: end + 2]
        self._headers = _parse_headers(block)
        self._length = _content_length(self._headers, self._max_part)
        self._searched = 0
        self._state = "body"
        return True

    def _read_body(self, parts: list[Part]) -> bool:
        buffer = self._buffer
        delimiter = self._delimiter
        if self._length is not None:
            end = self._length
            if len(buffer) < end + len(delimiter):
                return False
            if not buffer.startswith(delimiter, end):
                raise ProtocolError(
                    f"an MJPEG part is not followed by its boundary after its "
                    f"Content-Length of {end} bytes"
                )
        else:
            end = buffer.find(delimiter, self._searched)
            if end < 0:
                if len(buffer) > self._max_part + len(delimiter):
                    raise ProtocolError(
                        f"an MJPEG part is larger than {self._max_part} bytes, "
                        "the most this stream accepts (max_frame_size)"
                    )
                self._searched = max(0, len(buffer) - len(delimiter) + 1)
                return False
            if end > self._max_part:
                raise ProtocolError(
                    f"an MJPEG part of {end} bytes is larger than {self._max_part}, "
                    "the most this stream accepts (max_frame_size)"
                )
        parts.append(Part(self._headers, bytes(buffer[:end])))
        del buffer[: end + len(delimiter)]
        self._state = "after_boundary"
        return True


def _parse_headers(block: bytes) -> Mapping[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(_CRLF) if block else ():
        name, colon, value = line.partition(b":")
        if not colon or not name.strip() or name != name.strip():
            raise ProtocolError(f"an MJPEG part has a malformed header line: {line[:80]!r}")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    return MappingProxyType(headers)


def _content_length(headers: Mapping[str, str], limit: int) -> int | None:
    declared = headers.get("content-length")
    if declared is None:
        return None
    if not declared.isascii() or not declared.isdigit():
        raise ProtocolError(f"an MJPEG part's Content-Length is not a number: {declared[:40]!r}")
    length = int(declared) if len(declared) <= 20 else limit + 1  # int() refuses 4300 digits
    if length > limit:
        raise ProtocolError(
            f"an MJPEG part announces {length} bytes, more than {limit}, "
            "the most this stream accepts (max_frame_size)"
        )
    return length
