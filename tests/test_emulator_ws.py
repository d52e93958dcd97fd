"""The emulator's ``/api/ws`` against the recorded kvmd session, handshake and frames."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from aiopikvm.emulator import Emulator

from .emulator_helpers import (
    ADMIN,
    binary_roundtrip,
    capture,
    captured_ws_messages,
    eventually,
    inactivity,
    read_bundle,
    recv,
    recv_event,
    recv_until,
    request,
    shape,
    ws_connect,
)

RECORDED_INACTIVITY = capture("hid_inactivity.json")["result"]["inactivity"]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


def bundle_key(message: dict[str, Any]) -> tuple[str, str | None]:
    """Event type, and for ``info`` the one field the event carries."""
    event_type: str = message["event_type"]
    if event_type == "info":
        (field,) = message["event"]
        return event_type, field
    return event_type, None


# ----- handshake ----------------------------------------------------------------------


HANDSHAKE_HEADERS = {
    "bad_stream_value": ADMIN,
    "wrong_passwd": {"X-KVMD-User": "admin", "X-KVMD-Passwd": "wrong"},
    "unknown_user": {"X-KVMD-User": "nobody", "X-KVMD-Passwd": "admin"},
    "no_credentials": {"X-KVMD-User": ""},
}


@pytest.mark.parametrize(
    "step", capture("ws_handshake.json")["steps"], ids=lambda step: step["name"]
)
async def test_handshake_refusals_match_capture(emu: Emulator, step: dict[str, Any]) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with ws_connect(emu, step["query"], HANDSHAKE_HEADERS[step["name"]]):
            pass
    response = caught.value.response
    assert response.status_code == step["status"]
    assert response.reason_phrase == step["reason_phrase"]
    assert response.headers["Content-Type"] == step["content_type"]
    assert json.loads(response.body) == step["body"]


async def test_handshake_without_upgrade_is_refused(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/ws?stream=0")
    assert response.status_code == 400


# ----- the full-state bundle ----------------------------------------------------------


async def test_bundle_matches_capture(emu: Emulator) -> None:
    recorded = captured_ws_messages()
    async with ws_connect(emu) as ws:
        bundle = await read_bundle(ws)
    loop = {"event_type": "loop", "event": {"version": {"major": 4, "minor": 206}}}
    assert bundle[0] == recorded[0] == loop
    assert [bundle_key(m) for m in bundle] == [bundle_key(m) for m in recorded[: len(bundle)]]
    for ours, theirs in zip(bundle, recorded, strict=False):
        if bundle_key(ours) != ("msd", None):  # the recorded MSD was offline; ours is online
            assert shape(ours) == shape(theirs), bundle_key(ours)
    # What the emulator does not simulate is served exactly as recorded (health comes from
    # the HTTP recording, sampled at another moment).
    live = {("clients", None), ("atx", None), ("hid", None), ("info", "uptime"), ("info", "health")}
    live.add(("msd", None))  # tests/test_msd.py checks it against msd_online.json
    for ours, theirs in zip(bundle, recorded, strict=False):
        if bundle_key(ours) not in live:
            assert ours == theirs, bundle_key(ours)


async def test_bundle_carries_live_state(emu: Emulator) -> None:
    async with ws_connect(emu, "stream=1") as ws:
        events = {bundle_key(m): m["event"] for m in await read_bundle(ws)}
    assert events[("clients", None)] == {"count": 1}
    assert events[("atx", None)]["enabled"] is True
    assert events[("atx", None)]["leds"]["power"] is True
    hid = await request(emu, "GET", "/api/hid")
    assert events[("hid", None)] == hid.json()["result"]


async def test_burst_is_resent_to_existing_sessions(emu: Emulator) -> None:
    async with ws_connect(emu, "stream=1") as first:
        bundle = await read_bundle(first)
        async with ws_connect(emu, "stream=1") as second:
            await read_bundle(second)
            again: list[dict[str, Any]] = []
            while len(again) < len(bundle) - 1:
                message = await recv_event(first)
                # stream=1 starts the streamer, whose partial events interleave
                if message["event_type"] != "streamer" or "features" in message["event"]:
                    again.append(message)
            assert [bundle_key(m) for m in again] == [bundle_key(m) for m in bundle[1:]]
            assert again[0]["event"] == {"count": 2}
        # Closing a session tells the others how many viewers are left.
        frames = await recv_until(first, lambda f: '"clients"' in str(f))
        assert json.loads(frames[-1]) == {"event_type": "clients", "event": {"count": 1}}


# ----- pings --------------------------------------------------------------------------


async def test_json_ping_and_binary_ping(emu: Emulator) -> None:
    async with ws_connect(emu) as ws:
        await read_bundle(ws)
        await ws.send(json.dumps({"event_type": "ping", "event": {}}))
        assert await recv_event(ws) == {"event_type": "pong", "event": {}}
        await ws.send(bytes.fromhex(capture("ws_binary.json")["steps"][2]["sent"]))
        assert await recv(ws) == b"\xff"


# ----- binary input as recorded -------------------------------------------------------

EXPECTED_ON_TARGET: dict[str, list[tuple[Any, ...]]] = {
    "key_press": [("key", "ControlLeft", True)],
    "key_release": [],  # releasing a key that is not down sends the host nothing
    "key_press_finish": [("key", "ControlLeft", True)],  # a modifier: no automatic release
    "key_press_finish_ordinary": [("key", "KeyA", True), ("key", "KeyA", False)],
    "mouse_move": [("mouse_move", 0, 0)],
    "mouse_wheel": [],  # kvmd writes a report with a zero wheel: nothing turns on the host
    "mouse_relative": [],  # accepted, then dropped: the mouse is in its absolute mode
    "mouse_relative_batch": [],
    "mouse_wheel_batch_squashed": [("mouse_wheel", 0, -2)],
    "mouse_button": [],  # releasing a button that is not down sends the host nothing
}
FRAME_STEPS = [step for step in capture("ws_binary.json")["steps"] if "frame" in step]
MARKER = bytes.fromhex("0304d2fb2e")  # move to (1234, -1234)


@pytest.mark.parametrize("step", FRAME_STEPS, ids=lambda step: step["name"])
async def test_binary_frames_match_capture(emu: Emulator, step: dict[str, Any]) -> None:
    async with ws_connect(emu) as ws:
        await read_bundle(ws)
        assert await inactivity(emu) >= RECORDED_INACTIVITY

        await ws.send(bytes.fromhex(step["frame"]))
        await binary_roundtrip(ws)
        # kvmd counts whole seconds: a reset counter reads 0, or 1 across a second boundary.
        accepted = await inactivity(emu) < RECORDED_INACTIVITY
        assert accepted is step["accepted"]

        # A marker behind the frame: once it has arrived, so has anything the frame sent.
        await ws.send(MARKER)
        await eventually(lambda: emu.target.events[-1:] == [("mouse_move", 1234, -1234)])
        delivered = emu.target.events[:-1]
    assert delivered == EXPECTED_ON_TARGET.get(step["name"], [])
    if not step["accepted"]:
        assert delivered == []


async def test_bad_input_is_ignored_silently(emu: Emulator) -> None:
    async with ws_connect(emu) as ws:
        await read_bundle(ws)
        bad: list[str | bytes] = [
            "not json",
            "[]",
            '{"event_type": "key"}',
            '{"event_type": "key", "event": []}',
            '{"event_type": 1, "event": {}}',
            '{"event_type": "nope", "event": {}}',
            '{"event_type": "key", "event": {"key": "NoSuchKey", "state": true}}',
            '{"event_type": "key", "event": {"key": "KeyA", "state": "maybe"}}',
            '{"event_type": "mouse_move", "event": {"to": {"x": "left"}}}',
            b"\xc8",
            b"\x03\x00\x00",
            b"\x04\x00\x01",
            b"\x01\x81\x00",  # code mode with a short code: it does not parse, so it is dropped
        ]
        for frame in bad:
            await ws.send(frame)
        await ws.send(json.dumps({"event_type": "ping", "event": {}}))
        # Nothing answers the bad frames: the pong is the very next message.
        assert await recv_event(ws) == {"event_type": "pong", "event": {}}
        await ws.send(MARKER)
        await eventually(lambda: emu.target.events == [("mouse_move", 1234, -1234)])
    assert await inactivity(emu) < RECORDED_INACTIVITY


async def test_json_input_reaches_target(emu: Emulator) -> None:
    async with ws_connect(emu) as ws:
        await read_bundle(ws)
        for event_type, event in [
            ("key", {"key": "ShiftLeft", "state": True}),
            ("key", {"key": "KeyH", "state": True, "finish": True}),
            ("key", {"key": "ShiftLeft", "state": False}),
            ("key", {"key": "KeyI", "state": "1", "finish": "yes"}),
            ("mouse_move", {"to": {"x": 40000, "y": "-100"}}),
            ("mouse_button", {"button": "left", "state": True}),
            ("mouse_wheel", {"delta": {"x": 0, "y": -1}}),
        ]:
            await ws.send(json.dumps({"event_type": event_type, "event": event}))
        await eventually(lambda: ("mouse_wheel", 0, -1) in emu.target.events)
    assert emu.target.screen_text == "Hi"
    assert emu.target.mouse_position == (32767, -100)
    # Closing the session released the button.
    await eventually(lambda: emu.target.mouse_buttons == frozenset())


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x01\x81\x00\x1e", b"\x02\x80\x01\x10"],
    ids=["empty", "key-code", "button-code"],
)
async def test_frames_that_end_the_session(emu: Emulator, frame: bytes) -> None:
    async with ws_connect(emu) as ws:
        await read_bundle(ws)
        await ws.send(frame)
        with pytest.raises(ConnectionClosed):
            await recv_until(ws, lambda _: False)


# ----- the HID queue and sessions -----------------------------------------------------


async def send_marker(emu: Emulator) -> None:
    """Input behind everything queued so far: once it arrives, the queue has drained."""
    response = await request(emu, "POST", "/api/hid/events/send_mouse_move?to_x=1234&to_y=-1234")
    assert response.status_code == 200
    await eventually(lambda: ("mouse_move", 1234, -1234) in emu.target.events)


async def test_closing_a_session_drops_queued_input() -> None:
    async with Emulator(hid_delay=0.5) as emu, ws_connect(emu) as observer:
        await read_bundle(observer)
        async with ws_connect(emu) as ws:
            await read_bundle(ws)
            for key in "ABCDE":
                await ws.send(b"\x01\x03" + f"Key{key}".encode())  # press with finish
            await binary_roundtrip(ws)
        # The observer hears of the close only after the emulator has cleared the queue.
        one_left = {"event_type": "clients", "event": {"count": 1}}
        await recv_until(observer, lambda frame: json.loads(frame) == one_left)
        await send_marker(emu)
        typed = emu.target.screen_text
        assert len(typed) < 5
        assert "abcde".startswith(typed)
        assert emu.target.held_keys == frozenset()


async def test_opening_a_session_drops_queued_input() -> None:
    async with Emulator(hid_delay=0.5) as emu:
        for key in ("KeyA", "KeyB", "KeyC", "KeyD"):
            response = await request(emu, "POST", f"/api/hid/events/send_key?key={key}")
            assert response.status_code == 200
        async with ws_connect(emu) as ws:
            await read_bundle(ws)
            await send_marker(emu)
            assert len(emu.target.screen_text) < 4


async def test_input_while_host_is_off_reaches_nothing() -> None:
    async with Emulator(host_powered=False) as emu, ws_connect(emu) as ws:
        events = {bundle_key(m): m["event"] for m in await read_bundle(ws)}
        assert events[("hid", None)]["keyboard"]["online"] is False
        assert events[("hid", None)]["mouse"]["online"] is False
        await ws.send(b"\x01\x03KeyA")
        await binary_roundtrip(ws)
        assert await inactivity(emu) < RECORDED_INACTIVITY  # accepted by kvmd all the same
        assert emu.target.events == []
        assert emu.target.screen_text == ""
