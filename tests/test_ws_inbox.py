"""The session's fast path for events: whole frames straight from websockets' protocol to
the reader (the inbox), JSON parsed by msgspec (or json's scanner called directly), and the
merged state held as marshal bytes until it is read. Each must be what the slow path was: the
same messages in the same order, the same values and errors, a state that nothing merged
later changes, and the socket left unread while the reader is behind."""

from __future__ import annotations

import asyncio
import copy
import json
import struct
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiopikvm import ConnectionClosedError, PiKVMWebSocket, ProtocolError
from aiopikvm.protocol import json_loads
from aiopikvm.protocol.frames import encode_event, parse_event
from aiopikvm.protocol.held import bound
from aiopikvm.protocol.merge import MERGE_DEPTH, MergedState, _size, merge_event
from aiopikvm.transport.ws_connection import (
    INBOX_BYTES,
    INBOX_FLOOR,
    LOOP_BYTES,
    MESSAGE_COST,
)

from .emulator_helpers import eventually
from .hostile_ws import OP_BINARY, OP_PING, OP_TEXT, RawServer, frame

GUARD = 30  # seconds: what a regression waits before it fails instead of hanging
OP_CONT = 0x0


def fragments(opcode: int, payload: bytes, parts: int) -> list[bytes]:
    """``payload`` as a message of ``parts`` frames: ``opcode``, continuations, the last final."""
    step = -(-len(payload) // parts)
    chunks = [payload[i : i + step] for i in range(0, len(payload), step)]
    return [
        struct.pack(
            ">BB", (0x80 if n == len(chunks) - 1 else 0) | (OP_CONT if n else opcode), len(chunk)
        )
        + chunk
        for n, chunk in enumerate(chunks)
    ]


def text(n: int) -> bytes:
    return encode_event("x_n", {"n": n}).encode()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that sends nothing: the test hands the client its frames itself."""
    await asyncio.sleep(GUARD)


async def events_of(wire: bytes, count: int) -> tuple[list[Any], BaseException | None]:
    """The first ``count`` events a session yields from a server that writes ``wire``, and
    how ``events()`` ended if it ended first."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(wire)
        await writer.drain()
        await asyncio.sleep(GUARD)

    seen: list[Any] = []
    async with (
        asyncio.timeout(GUARD),
        RawServer(script).running() as server,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.2) as ws,
    ):
        try:
            async for event in ws.events():
                seen.append(event["event"].get("n"))
                if len(seen) == count:
                    break
        except ConnectionClosedError as exc:
            return seen, exc
    return seen, None


async def test_fragmented_and_whole_frames_keep_their_order() -> None:
    wire = (
        frame(OP_TEXT, text(0))
        + b"".join(fragments(OP_TEXT, text(1), 3))  # websockets assembles it; its place is kept
        + frame(OP_BINARY, b"\x01")  # binary, not an event
        + frame(OP_TEXT, text(2))
        + frame(OP_PING, b"p").join(fragments(OP_TEXT, text(3), 2))  # a ping in between
        + frame(OP_TEXT, text(4))
    )
    seen, ended = await events_of(wire, 5)
    assert ended is None
    assert seen == [0, 1, 2, 3, 4]


async def test_a_text_frame_that_is_not_utf8_ends_the_session_after_the_events_before() -> None:
    wire = frame(OP_TEXT, text(0)) + frame(OP_TEXT, text(1)) + frame(OP_TEXT, b'"\xff\xfe"')
    seen, ended = await events_of(wire + frame(OP_TEXT, text(2)), 3)
    assert seen == [0, 1]  # websockets reports the bad frame as it always did
    assert isinstance(ended, ConnectionClosedError)


async def test_the_socket_is_not_read_while_the_inbox_is_full() -> None:
    count = 2 * INBOX_BYTES // len(text(0))  # twice the bound in bytes alone
    burst = b"".join(frame(OP_TEXT, text(n)) for n in range(count))
    async with (
        asyncio.timeout(GUARD),
        RawServer(silent).running() as server,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.2) as ws,
    ):
        assert ws._run.link is not None
        conn = ws._run.link.conn
        assert conn.transport.is_reading()
        # What one read of the socket brings, handed over before the reader runs again.
        conn.data_received(burst)
        assert len(conn.inbox) == count  # all kept, as websockets' queue does
        assert not conn.transport.is_reading()  # and no more read until the reader catches up
        seen = []
        async for event in ws.events():
            seen.append(event["event"]["n"])
            if len(seen) == count:
                break
        assert seen == list(range(count))
        assert conn.transport.is_reading()


async def test_a_session_queues_less_while_the_loop_s_sessions_hold_much() -> None:
    def burst(size: int) -> bytes:  # frames that cost the inbox about size bytes
        count = size // (len(text(0)) + MESSAGE_COST)
        return b"".join(frame(OP_TEXT, text(n)) for n in range(count))

    async def drained(ws: PiKVMWebSocket) -> None:
        link = ws._run.link
        assert link is not None
        await eventually(lambda: not link.conn.inbox)

    async with (
        asyncio.timeout(GUARD),
        RawServer(silent).running() as server,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.2) as big,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.2) as small,
    ):
        assert big._run.link is not None and small._run.link is not None
        big_conn, small_conn = big._run.link.conn, small._run.link.conn
        between = burst((INBOX_FLOOR + INBOX_BYTES) // 2)  # over the floor, under the bound
        small_conn.data_received(between)
        assert small_conn.transport.is_reading()  # the loop holds little: up to the bound
        await drained(small)
        big_conn.data_received(burst(LOOP_BYTES))  # now it holds much
        small_conn.data_received(between)
        assert not small_conn.transport.is_reading()  # so the floor stops this one
        await drained(big)
        await drained(small)
        assert big_conn.transport.is_reading() and small_conn.transport.is_reading()
        small_conn.data_received(between)
        assert small_conn.transport.is_reading()  # the loop's backlog is gone with it


# ----- the JSON parse ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)
# What orjson refuses and json.loads takes: NaN and the infinities, integers past 64 bits,
# lone surrogates, floats past the double's range.
odd_values = st.recursive(
    st.floats()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from(["\ud800", "a\udfff"])
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)
around = st.sampled_from(["", " ", "\n", "\ufeff", "x", "]", "{", '"', "0", "1e", "\\"])


@settings(max_examples=300, deadline=None)
@given(json_values | odd_values, around, around, st.booleans())
def test_frames_parse_as_json_loads_parses_them(
    value: Any, before: str, after: str, ascii_only: bool
) -> None:
    texts = [json.dumps(value, ensure_ascii=ascii_only), before + json.dumps(value) + after]
    texts.append("[" * 1100 + "]" * 1100)  # past orjson's nesting, within json's
    texts.append('{"n": 1e400, "m": -1e999}')
    for raw in texts:
        for parse in (json_loads.loads, json_loads._scanned):
            try:
                expected: Any = json.loads(raw)
            except ValueError as exc:
                with pytest.raises(type(exc)):
                    parse(raw)
            else:
                assert _same(parse(raw), expected), (parse, raw)


def test_frames_are_parsed_by_msgspec_when_it_is_there() -> None:
    msgspec = pytest.importorskip("msgspec")  # the fast extra, in dev
    assert json_loads.parser() == f"msgspec {msgspec.__version__}"
    assert parse_event('{"event_type": "x", "event": {"n": 1}}') == ("x", {"n": 1})
    assert json_loads.loads is not json_loads._first  # chosen once, by the first frame


def _same(a: Any, b: Any) -> bool:
    """Equal, and NaN where NaN is (NaN != NaN), -0.0 where -0.0 is."""
    return json.dumps(a) == json.dumps(b) and repr(a) == repr(b)


# ----- the merged state ---------------------------------------------------------------------

events = st.tuples(
    st.sampled_from(sorted(MERGE_DEPTH)),
    st.dictionaries(st.sampled_from(["a", "b", "state", "model", "x"]), json_values, max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(events, st.booleans()), max_size=12))
def test_a_state_read_is_the_merge_of_every_event_and_nothing_changes_it_later(
    stream: list[tuple[tuple[str, dict[str, Any]], bool]],
) -> None:
    merged, unbounded = MergedState(), {}
    read: list[tuple[Any, Any]] = []  # each value read, and a copy of it as it was
    for (event_type, event), read_now in stream:
        merged.merge(event_type, event)
        merge_event(unbounded, event_type, event)
        if read_now:
            value = merged.value(event_type)
            assert value == unbounded[event_type]
            assert merged._sizes[event_type] == _size(value)
            read.append((value, copy.deepcopy(value)))
    assert merged.raw == unbounded
    for value, as_read in read:
        assert value == as_read  # later merges went into the state, not into what was read
        _scramble(value)
    assert merged.raw == unbounded  # and what was read is the reader's own


def _scramble(value: Any) -> None:
    """Empty every dict and list in ``value``, inside out."""
    if isinstance(value, dict):
        for item in value.values():
            _scramble(item)
        value.clear()
    elif isinstance(value, list):
        for item in value:
            _scramble(item)
        value.clear()


def _outcome(
    merged: MergedState, event_type: str, event: dict[str, Any], frame: str | None
) -> bool:
    try:
        merged.merge(event_type, event, frame)
    except ProtocolError:
        return False
    return True


# Fewer subsystems and fields than `events`: a field held as its frame is often replaced,
# merged into, read and pushed past the limit by the events after it.
framed_events = st.tuples(
    st.sampled_from(["atx", "gpio", "info", "msd", "streamer"]),
    st.dictionaries(st.sampled_from(["a", "state", "model"]), json_values, max_size=2),
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(framed_events, st.booleans(), st.booleans()), max_size=24),
    st.integers(40, 400),
)
@example(  # a field held as its frame, then merged into
    [
        (("msd", {"a": True}), True, False),
        (("msd", {"a": {"x": 1, "y": 2}}), True, False),
        (("msd", {"a": {"x": 3}}), True, True),
    ],
    400,
)
@example(  # a field held as its frame, counted past the limit that its size is not
    [
        (("info", {"a": 1}), True, False),
        (("info", {"state": {"x": 1}}), True, False),
        (("info", {"a": 2, "model": 3}), True, True),
    ],
    185,
)
def test_values_held_as_their_frames_merge_and_are_refused_as_sized_values(
    stream: list[tuple[tuple[str, dict[str, Any]], bool, bool]], limit: int
) -> None:
    # Sized is the reference (test_merge_bounds); held as frames, the counts are bounds.
    sized, framed = MergedState(limit), MergedState(limit)
    for (event_type, event), ascii_only, read_now in stream:
        frame = json.dumps({"event_type": event_type, "event": event}, ensure_ascii=ascii_only)
        mine = parse_event(frame)[1]  # the reader's event, which events() hands out
        took = _outcome(sized, event_type, event, None)
        assert _outcome(framed, event_type, mine, frame) == took
        _scramble(mine)  # what the receiver of the event does to it is its own business
        if read_now and event_type in sized.raw:
            assert framed.value(event_type) == sized.value(event_type)
        assert framed.raw == sized.raw
    for name in sized.raw:
        assert framed._sizes[name] >= sized._sizes[name]


@settings(max_examples=300, deadline=None)
@given(events, st.booleans())
def test_a_frame_bounds_the_size_of_each_value_in_it(
    typed: tuple[str, dict[str, Any]], ascii_only: bool
) -> None:
    event_type, event = typed
    frame = json.dumps({"event_type": event_type, "event": event}, ensure_ascii=ascii_only)
    assert _size(event) <= bound(frame)
    assert all(_size(value) + _size(key) <= bound(frame) for key, value in event.items())


@pytest.mark.parametrize(
    "event",
    [
        {"x": [0] * 1000},  # marshal's biggest per character: 5 bytes for "0,"
        {"x": [1e5] * 1000},
        {"x": [[]] * 1000},
        {"x": "\U0001f600" * 1000},  # 4 bytes a character
        {"x": "\ud800" * 1000},  # a lone surrogate, escaped in the frame
        {str(n): None for n in range(1000)},
    ],
)
def test_a_frame_bounds_the_size_of_its_worst_values(event: dict[str, Any]) -> None:
    for ascii_only in (True, False):
        frame = json.dumps({"event_type": "x", "event": event}, ensure_ascii=ascii_only)
        assert _size(event) <= bound(frame)


def test_a_frame_nested_deep_is_read_from_deep_in_the_stack() -> None:
    levels = sys.getrecursionlimit() // 2
    frame = '{"event_type":"atx","event":{"x":' + "[" * levels + "]" * levels + "}}"
    merged = MergedState()
    merged.merge("atx", parse_event(frame)[1], frame)

    def deep(n: int) -> Any:
        return deep(n - 1) if n else merged.value("atx")

    value = deep(sys.getrecursionlimit() - 100)  # too little stack left to parse it here
    nesting = 0
    item = value["x"]
    while item:
        item = item[0]
        nesting += 1
    assert nesting == levels - 1


def test_a_dict_merged_into_and_then_replaced_gives_back_its_size() -> None:
    # Found by test_merge_bounds' hypothesis run: the dict held what it merged as bytes,
    # and marshal sized those bytes, not what they stand for.
    merged = MergedState(20)
    for event in ({"a": {}}, {"a": {"": []}}, {"a": None}):
        merged.merge("gpio", event)
        assert merged._sizes["gpio"] == _size(merged.value("gpio"))


def test_a_value_read_is_the_readers_own() -> None:
    merged = MergedState()
    merged.merge("streamer", {"params": {"quality": 80}, "streamer": {"fps": 25}})
    merged.merge("streamer", {"streamer": {"fps": 30}})  # merged into: a dict of its own
    mine = merged.value("streamer")
    mine["params"]["quality"] = 1
    mine["extra"] = True
    assert merged.value("streamer") == {"params": {"quality": 80}, "streamer": {"fps": 30}}


def test_the_event_merged_is_the_callers_own() -> None:
    merged = MergedState()
    event: dict[str, Any] = {"state": {"outputs": {"ch": {"state": True}}}}
    merged.merge("gpio", event)
    event["state"]["outputs"]["ch"]["state"] = False
    assert merged.value("gpio") == {"state": {"outputs": {"ch": {"state": True}}}}


# ----- the import ---------------------------------------------------------------------------


def test_websockets_client_is_imported_by_the_first_connect_not_by_the_import() -> None:
    script = (
        "import sys\nfrom aiopikvm import PiKVM, PiKVMWebSocket\n"
        "print('websockets.asyncio.client' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False"]
