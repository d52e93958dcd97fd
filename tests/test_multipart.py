"""The MJPEG stream's framing, cut by the pure parser: ustreamer's stream as recorded
(``media_stream.json``), fed whole and in every chunking, and the ways a hostile peer
could try to make it buffer without end."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiopikvm.errors import ProtocolError
from aiopikvm.protocol.multipart import MultipartParser, Part, boundary_of

from .captures import load

STEPS = {step["name"]: step for step in load("media_stream.json")["steps"]}
LIMIT = 1024 * 1024


def step(name: str) -> dict[str, Any]:
    return STEPS[name]


def boundary(name: str = "stream_plain") -> bytes:
    return boundary_of(step(name)["content_type"])


def recorded_stream(name: str) -> tuple[bytes, list[dict[str, Any]]]:
    """A recorded stream's bytes in ustreamer's framing (server.c): its part headers as
    recorded, each body its recorded length, starting with the recorded first bytes."""
    mark = b"--" + boundary(name)
    raw = bytearray(mark + b"\r\n")
    parts = step(name)["parts"]
    for part in parts:
        for key, value in part["headers"].items():
            raw += f"{key}: {value}\r\n".encode()
        body = bytes.fromhex(part["data_head"]).ljust(part["data_len"], b"\0")
        raw += b"\r\n" + body + b"\r\n" + mark + b"\r\n"
    return bytes(raw), parts


def parse(raw: bytes, chunks: list[int] | None = None, **limits: int) -> list[Part]:
    parser = MultipartParser(boundary(), max_part_size=limits.pop("max_part_size", LIMIT), **limits)
    if chunks is None:
        return parser.feed(raw)
    found: list[Part] = []
    start = 0
    for size in chunks:
        found += parser.feed(raw[start : start + size])
        start += size
    return found + parser.feed(raw[start:])


def test_the_recorded_content_type_gives_ustreamers_boundary() -> None:
    assert boundary() == b"boundarydonotcross"
    assert boundary_of('multipart/x-mixed-replace; boundary="a b"') == b"a b"


@pytest.mark.parametrize(
    "content_type", [None, "image/jpeg", "text/html; charset=utf-8", "multipart/x-mixed-replace"]
)
def test_anything_but_a_multipart_stream_is_refused(content_type: str | None) -> None:
    with pytest.raises(ProtocolError, match="MJPEG stream"):
        boundary_of(content_type)


@pytest.mark.parametrize("name", ["stream_plain", "stream_extra_headers", "stream_zero_data"])
def test_recorded_streams_give_their_parts(name: str) -> None:
    raw, recorded = recorded_stream(name)
    parts = parse(raw)
    assert [dict(part.headers) for part in parts] == [
        {key.lower(): value for key, value in part["headers"].items()} for part in recorded
    ]
    assert [len(part.body) for part in parts] == [part["data_len"] for part in recorded]
    heads = [bytes.fromhex(part["data_head"]) for part in recorded]
    assert all(part.body.startswith(head) for part, head in zip(parts, heads, strict=True))


def test_the_advance_headers_stream_parses_by_its_delimiter() -> None:
    # No Content-Length: each part ends where the next boundary starts.
    raw = step("stream_advance_headers")["raw"].encode("latin-1")
    parts = parse(raw)
    assert [part.headers["x-timestamp"] for part in parts] == ["1787389619.075000"] * 2
    assert [part.body for part in parts] == [b"", b""]


def test_the_dual_final_frames_stream_parses() -> None:
    raw = step("stream_dual_final_frames")["raw"].encode("latin-1")
    (part,) = parse(raw)
    assert part.headers["content-length"] == "0" and part.body == b""


@given(st.lists(st.integers(min_value=1, max_value=70_000), max_size=12))
def test_any_chunking_gives_the_same_parts(chunks: list[int]) -> None:
    raw, _ = recorded_stream("stream_extra_headers")
    assert parse(raw, chunks) == parse(raw)


@given(st.lists(st.integers(min_value=1, max_value=50), max_size=40))
def test_any_chunking_of_a_stream_without_lengths(chunks: list[int]) -> None:
    raw = step("stream_advance_headers")["raw"].encode("latin-1")
    body = b"\xff\xd8 \r\n-- not the boundary \r\n--boundarydonotcros"
    raw = raw.replace(b"\r\n\r\n\r\n", b"\r\n\r\n" + body + b"\r\n", 1)
    assert [part.body for part in parse(raw, chunks)] == [body, b""]


def test_the_closing_delimiter_ends_the_stream() -> None:
    parser = MultipartParser(b"b", max_part_size=10)
    parts = parser.feed(b"--b\r\nContent-Length: 1\r\n\r\nx\r\n--b--\r\nepilogue")
    assert [part.body for part in parts] == [b"x"] and parser.closed
    assert parser.feed(b"--b\r\n") == []


def test_an_endless_header_is_refused_at_its_bound() -> None:
    parser = MultipartParser(b"b", max_part_size=10, max_header_size=100)
    parser.feed(b"--b\r\nX-Junk: " + b"a" * 90)
    with pytest.raises(ProtocolError, match="headers are longer than 100 bytes"):
        parser.feed(b"a" * 20)


def test_an_oversized_content_length_is_refused_before_its_body() -> None:
    parser = MultipartParser(b"b", max_part_size=1000)
    with pytest.raises(ProtocolError, match="announces 1001 bytes"):
        parser.feed(b"--b\r\nContent-Length: 1001\r\n\r\n")
    with pytest.raises(ProtocolError, match="announces"):
        MultipartParser(b"b", max_part_size=1000).feed(
            b"--b\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"
        )


def test_an_oversized_part_without_length_is_refused_at_its_bound() -> None:
    parser = MultipartParser(b"b", max_part_size=1000)
    parser.feed(b"--b\r\n\r\n" + b"x" * 1000)
    with pytest.raises(ProtocolError, match="larger than 1000 bytes"):
        parser.feed(b"x" * 10)
    assert parser.buffered <= 1010


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"HTTP/1.1 200 OK\r\n", "does not start with its boundary"),
        (b"--other\r\n", "does not start with its boundary"),
        (b"--bXY", "boundary is followed by"),
        (b"--b\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"--b\r\nContent-Length: -1\r\n\r\n", "not a number"),
        (b"--b\r\nContent-Length: 1\r\n\r\nxy\r\n--b\r\n", "not followed by its boundary"),
    ],
)
def test_a_broken_stream_is_a_protocol_error(raw: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        MultipartParser(b"b", max_part_size=10).feed(raw)
