"""Which of kvmd's events mean it threw its HID queue away, and which do not.

kvmd drops the queue whenever a WebSocket session opens or closes (``_on_ws_added`` and
``_on_ws_removed`` in kvmd/apps/kvmd/server.py call ``hid.clear_events()``). A ``clients``
event is not such a loss by itself: the stream controller sends one every time it wakes —
after a session opened or closed, but also after ``streamer/set_params`` and
``streamer/reset`` — and a session's opening sends two (the controller's, and the new
session's own after ``hid_keymaps``). Typing must report characters uncertain for the
losses only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from aiopikvm import PiKVM, PiKVMWebSocket
from aiopikvm.emulator import Emulator
from aiopikvm.protocol.frames import OP_KEY, PONG_FRAME

from .emulator_helpers import captured_result, read_bundle, recv_until, request, ws_connect

TEXT = "the quick brown fox jumps over the lazy dog"


# ----- the emulator sends them as kvmd does -------------------------------------------


async def test_the_stream_controller_announces_the_clients_whenever_it_wakes() -> None:
    async with Emulator() as emu, ws_connect(emu) as ws:
        await read_bundle(ws)
        for path in ("/api/streamer/set_params?quality=50", "/api/streamer/reset"):
            assert (await request(emu, "POST", path)).status_code == 200
            frames = await recv_until(ws, lambda f: '"clients"' in str(f))
            assert json.loads(frames[-1]) == {"event_type": "clients", "event": {"count": 1}}


async def test_streamer_changes_while_typing_lose_nothing() -> None:
    async with Emulator(hid_delay=0.001) as emu, PiKVM(emu.url, passwd="admin") as kvm:

        async def progress(typed: int, total: int) -> None:
            if typed == 10:
                await kvm.streamer.set_params(quality=50)
            elif typed == 20:
                await kvm.streamer.reset()

        result = await kvm.type_text(TEXT, delay=0.002, progress=progress)
        assert emu.target.screen_text == TEXT
    assert result.exact and result.disruptions == 0


# ----- against a scripted kvmd --------------------------------------------------------

Script = dict[int, list[tuple[str, dict[str, Any]]]]
"""After how many key frames the server sends which events."""


@asynccontextmanager
async def scripted_kvmd(count: int, script: Script) -> AsyncIterator[str]:
    """A kvmd that answers pings and takes keys, opening with ``clients`` = ``count`` and
    sending the script's events as the keys come in; it has no HID behind it."""

    async def session(ws: ServerConnection) -> None:
        async def event(event_type: str, event: dict[str, Any]) -> None:
            await ws.send(json.dumps({"event_type": event_type, "event": event}))

        await event("loop", {"version": {"major": 4, "minor": 206}})
        await event("clients", {"count": count})  # the controller's, then the handler's
        await event("hid", captured_result("hid.json"))
        await event("hid_keymaps", captured_result("hid_keymaps.json"))
        await event("clients", {"count": count})
        keys = 0
        async for frame in ws:
            if frame == b"\x00":
                await ws.send(PONG_FRAME)
            elif isinstance(frame, bytes) and frame[:1] == bytes([OP_KEY]):
                keys += 1
                for event_type, body in script.get(keys, ()):
                    await event(event_type, body)

    async with serve(session, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"


def clients(count: int) -> tuple[str, dict[str, Any]]:
    return "clients", {"count": count}


def keymaps() -> tuple[str, dict[str, Any]]:
    return "hid_keymaps", captured_result("hid_keymaps.json")


async def type_on(url: str, text: str = TEXT) -> tuple[int, tuple[int, ...]]:
    async with asyncio.timeout(30), PiKVMWebSocket(url, passwd="admin") as ws:
        result = await ws.type_text(text, delay=0.002)
    assert result.typed == len(text)
    return result.disruptions, result.uncertain


async def test_a_session_opening_is_one_loss_however_far_apart_its_events_come() -> None:
    # kvmd's controller may announce the new count well before the new session's burst.
    script: Script = {10: [clients(2)], 25: [keymaps(), clients(2)]}
    async with scripted_kvmd(1, script) as url:
        disruptions, uncertain = await type_on(url)
    assert disruptions == 1
    assert uncertain and all(i < 20 for i in uncertain)  # none from the burst at 25


async def test_a_session_closing_is_a_loss() -> None:
    async with scripted_kvmd(2, {10: [clients(1)]}) as url:
        disruptions, uncertain = await type_on(url)
    assert disruptions == 1 and uncertain


async def test_a_clients_event_with_the_same_count_is_no_loss_where_every_session_counts() -> None:
    # This session (stream=0) counts itself in: then no session can open or close unseen.
    async with scripted_kvmd(1, {10: [clients(1)], 20: [clients(1), clients(1)]}) as url:
        assert await type_on(url) == (0, ())


async def test_where_only_viewers_count_the_same_count_may_hide_a_session_closing() -> None:
    # kvmd's source counts stream=1 sessions only: this one (stream=0) sees 0, and a
    # stream=0 session closing elsewhere leaves the count as it was.
    async with scripted_kvmd(0, {10: [clients(0)]}) as url:
        disruptions, uncertain = await type_on(url)
    assert disruptions == 1 and uncertain


async def test_a_session_opening_that_the_count_leaves_out_is_still_seen() -> None:
    script: Script = {10: [keymaps(), clients(1)], 25: [clients(1)]}
    async with scripted_kvmd(1, script) as url:
        disruptions, uncertain = await type_on(url)
    # The opening (its burst), and then, the count proven to leave sessions out, the
    # same-count event that may be one of them closing.
    assert disruptions == 2
    assert any(i < 12 for i in uncertain) and any(i >= 20 for i in uncertain)
