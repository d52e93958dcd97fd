"""A session against links and servers that misbehave: a stalled link, a ping flood, huge
and endless events, a server that drops every session at once, junk frames. Each has a
bound the session keeps to (see "What is bounded" in the README); each test is wrapped in
an outer deadline so that a regression fails instead of hanging."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from aiopikvm import (
    ConnectionClosedError,
    PiKVM,
    PiKVMTimeoutError,
    PiKVMWebSocket,
    ReconnectFailedError,
    RetryPolicy,
)
from aiopikvm.emulator import Emulator
from aiopikvm.models import GpioState
from aiopikvm.protocol.frames import encode_event
from aiopikvm.protocol.merge import MAX_STATE_BYTES, _size
from aiopikvm.session.queue import MAX_QUEUE_BYTES
from aiopikvm.session.reader import YIELD_EVERY
from aiopikvm.transport.ws_connect import MAX_FRAME_SIZE

from .captures import ws_messages
from .hostile_ws import OP_PING, OP_TEXT, RawServer, answer_pings, frame, server_url
from .stalling_link import StallingLink, fill_until_stalled

GUARD = 30  # seconds: what a regression waits before it fails instead of hanging


# ----- 4. a stalled link -------------------------------------------------------------------


async def test_a_stalled_link_bounds_pings_input_and_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with asyncio.timeout(GUARD):
        async with (
            Emulator(hid_delay=0) as emu,
            StallingLink(emu.url).running() as link,
            PiKVM(link.url, passwd="admin") as kvm,
        ):
            ws = kvm.ws(binary=False, close_timeout=0.5)  # JSON: fewer frames fill the link
            async with ws:
                await ws.ping()
                link.stall()
                await fill_until_stalled(ws)
                # the ping's own frame cannot leave: the timeout covers writing it too
                with pytest.raises(PiKVMTimeoutError, match=r"no answer to a ping within 0\.5 s"):
                    await ws.ping(timeout=0.5)
                with pytest.raises(PiKVMTimeoutError, match=r"close_timeout.*stalled"):
                    await ws.send_key("ShiftLeft", True)
                assert ws.held_keys == ("ShiftLeft",)  # the press may still get through
                with pytest.raises(PiKVMTimeoutError):
                    await ws.send_key("ShiftLeft", False)
                assert ws.held_keys == ("ShiftLeft",)  # and so may its release: not sure
            assert not ws.is_open and "closed" in repr(ws)
    aborted = [r for r in caplog.records if r.name == "aiopikvm" and "aborted" in r.getMessage()]
    assert len(aborted) == 1


# ----- 5. a ping flood ----------------------------------------------------------------------


async def _flood_pings(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    chunk = frame(OP_PING, b"p" * 125) * 512  # 64 KiB of pings, each one wanting a pong
    for _ in range(512):  # 32 MiB in all, and never a byte read
        writer.write(chunk)
        await writer.drain()
    await asyncio.sleep(GUARD)


async def test_a_ping_flood_that_reads_no_pong_fails_the_connection() -> None:
    async with asyncio.timeout(GUARD), RawServer(_flood_pings).running() as server:
        ws = PiKVMWebSocket(server.url, passwd="x", close_timeout=0.5)
        async with ws:
            with pytest.raises(ConnectionClosedError, match="pings") as caught:
                async for _ in ws.events():
                    pass
    assert caught.value.code == 1006


# ----- 6. the queue and the frame size, in bytes ----------------------------------------------


async def test_unread_events_are_bounded_in_bytes_too() -> None:
    pad = "x" * 300_000
    frames = [encode_event("x_filler", {"n": n, "pad": pad}) for n in range(40)]

    async def handler(connection: ServerConnection) -> None:
        for text in frames:
            await connection.send(text)
        await connection.send(encode_event("x_last", {}))
        await answer_pings(connection)

    async with (
        asyncio.timeout(GUARD),
        serve(handler, "127.0.0.1", 0) as server,
        PiKVMWebSocket(server_url(server), passwd="x") as ws,
    ):
        await ws.ping()  # answered after every frame above was read
        kept = []
        async for event in ws.events():
            kept.append(event)
            if event["event_type"] == "x_last":
                break
    assert ws.dropped_events > 0  # 12 MB of events: far fewer than max_queue=1024 of them
    assert len(kept) + ws.dropped_events == len(frames) + 1  # each one kept or counted
    assert [e["event"]["n"] for e in kept[:-1]] == list(range(ws.dropped_events, len(frames)))
    held = sum(len(encode_event(e["event_type"], e["event"])) for e in kept)
    assert held <= MAX_QUEUE_BYTES


# ----- 7. the merged state, and the reader's share of the loop ---------------------------


def _full(event_type: str) -> dict[str, Any]:
    return next(m for m in ws_messages() if m["event_type"] == event_type)


@pytest.mark.parametrize("subsystem", ["gpio", "info"])
async def test_partial_events_cannot_grow_the_state_without_bound(
    subsystem: str, caplog: pytest.LogCaptureFixture
) -> None:
    pad = "p" * 1000

    def partial(n: int) -> str:
        if subsystem == "gpio":
            channel = {"online": True, "state": False, "busy": False, "pad": pad}
            return encode_event("gpio", {"state": {"outputs": {f"ch{n}": channel}}})
        return encode_event("info", {f"x_field_{n}": pad})  # a new top-level field each

    sent = 3 * MAX_STATE_BYTES // len(pad)

    async def handler(connection: ServerConnection) -> None:
        await connection.send(json.dumps(_full(subsystem)))
        for n in range(sent):
            await connection.send(partial(n))
        await connection.send(encode_event("x_done", {}))
        await answer_pings(connection)

    async with (
        asyncio.timeout(GUARD),
        serve(handler, "127.0.0.1", 0) as server,
        PiKVMWebSocket(server_url(server), passwd="x") as ws,
    ):
        async for event in ws.events():
            if event["event_type"] == "x_done":
                break
        state = ws.state
    model = state.gpio if subsystem == "gpio" else state.info
    assert model is not None
    if isinstance(model, GpioState):
        held = len(model.state.outputs)
    else:
        held = len(model.model_extra or {})
    assert sent // 4 < held < sent  # it took what fits, and refused the rest
    # The bound is in the merge's unit (marshal's size); the JSON is about as big.
    assert _size(model.model_dump(mode="json", exclude_unset=True)) <= MAX_STATE_BYTES
    assert len(model.model_dump_json()) < 1.1 * MAX_STATE_BYTES
    refusals = [r for r in caplog.records if "limit" in r.getMessage() and r.name == "aiopikvm"]
    assert 1 <= len(refusals) <= 5  # logged, not once per refused event


async def test_the_reader_yields_to_the_loop_under_a_flood() -> None:
    count = 20_000
    burst = b"".join(frame(OP_TEXT, encode_event("x", {}).encode()) for _ in range(count))

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(burst)  # all at once: the client reads it in big chunks
        await writer.drain()
        await asyncio.sleep(GUARD)

    async with (
        asyncio.timeout(GUARD),
        RawServer(flood).running() as server,
        PiKVMWebSocket(server.url, passwd="x", max_queue=1, close_timeout=0.2) as ws,
    ):
        # How many frames the reader takes in between two turns of another task.
        steps = []
        last = 0
        while last < count - 1:
            await asyncio.sleep(0)
            steps.append(ws.dropped_events - last)
            last = ws.dropped_events
    assert max(steps) <= 2 * YIELD_EVERY


# ----- 8. a reconnect storm ---------------------------------------------------------------


class Delays:
    """A RetryPolicy's ``sleep``: records the delays asked for, and waits none of them."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0)


def dropping_after(seconds: float) -> Callable[[ServerConnection], Awaitable[None]]:
    """A device that answers pings, and drops each session ``seconds`` after it opened."""

    async def handler(connection: ServerConnection) -> None:
        answering = asyncio.create_task(answer_pings(connection))
        await asyncio.sleep(seconds)
        connection.transport.abort()
        answering.cancel()

    return handler


async def test_connections_that_drop_at_once_keep_the_backoff_and_give_up() -> None:
    delays = Delays()
    policy = RetryPolicy(3, base_delay=0.01, max_delay=0.04, sleep=delays, rng=random.Random(1))
    async with asyncio.timeout(GUARD), serve(dropping_after(0.05), "127.0.0.1", 0) as server:
        ws = PiKVMWebSocket(server_url(server), passwd="x", reconnect=policy)
        async with ws:
            with pytest.raises(ReconnectFailedError) as caught:
                async for _ in ws.events():
                    pass
    assert caught.value.attempts == 3
    assert len(delays.asked) == 2  # a backoff before every attempt but the first
    assert ws.reconnects <= 3
    assert "within" in str(caught.value)


async def test_a_connection_that_stays_up_ends_the_outage() -> None:
    delays = Delays()
    policy = RetryPolicy(2, base_delay=0.01, sleep=delays, stable_after=0.2)
    async with (
        asyncio.timeout(GUARD),
        serve(dropping_after(0.6), "127.0.0.1", 0) as server,
        PiKVMWebSocket(server_url(server), passwd="x", reconnect=policy) as ws,
    ):
        markers = []
        async for event in ws.events():
            if event["event_type"] == "reconnected":
                markers.append(event["event"])
                if len(markers) == 3:
                    break
    assert [m["attempts"] for m in markers] == [1, 1, 1]  # each drop a new outage
    assert delays.asked == []


def test_stable_after_is_checked() -> None:
    with pytest.raises(ValueError, match="stable_after"):
        RetryPolicy(stable_after=-1)


# ----- 9. junk frames, and the close code of a close we started ------------------------------


async def test_junk_frames_are_logged_a_few_times_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    junk = frame(OP_TEXT, b"not json") * 10_000
    done = frame(OP_TEXT, encode_event("x_done", {}).encode())

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(junk + done)
        await writer.drain()
        await asyncio.sleep(GUARD)

    async with (
        asyncio.timeout(GUARD),
        RawServer(script).running() as server,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.2) as ws,
    ):
        async for event in ws.events():
            if event["event_type"] == "x_done":
                break
    ours = [r.getMessage() for r in caplog.records if r.name == "aiopikvm"]
    about_frames = [m for m in ours if "frame" in m]
    assert 1 <= len(about_frames) <= 6
    assert any("10000" in m for m in about_frames), about_frames  # the count, at the end


async def test_a_frame_too_big_reports_the_close_code_this_side_sent() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(OP_TEXT, b"{", length=50_000_000))  # announces 50 MB
        await writer.drain()
        await asyncio.sleep(GUARD)  # and never reads our close, nor closes

    async with (
        asyncio.timeout(GUARD),
        RawServer(script).running() as server,
        PiKVMWebSocket(server.url, passwd="x", close_timeout=0.3) as ws,
    ):
        with pytest.raises(ConnectionClosedError) as caught:
            async for _ in ws.events():
                pass
    assert caught.value.code == 1009
    assert "1009" in str(caught.value) and "this side" in str(caught.value)


def test_the_frame_limit_is_kvmds_biggest_event_many_times_over() -> None:
    biggest = max(len(json.dumps(m)) for m in ws_messages())
    assert biggest * 100 < MAX_FRAME_SIZE <= MAX_STATE_BYTES
