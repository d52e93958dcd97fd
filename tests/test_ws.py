"""The WebSocket API against the emulator over loopback: every method, and how each fails."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import serve

from aiopikvm import (
    AuthError,
    ConnectionClosedError,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    PiKVMWebSocket,
)
from aiopikvm.emulator import Emulator
from aiopikvm.models import AtxState, HidKeymaps, HidState
from aiopikvm.models._base import parse

from .captures import result, ws_messages
from .conftest import eventually
from .stalling_link import StallingLink, fill_until_stalled

HELLO = ["KeyH", "KeyE", "KeyL", "KeyL", "KeyO"]


async def test_the_promised_example_types_hello(emu: Emulator) -> None:
    # nested exactly as the README's example
    async with PiKVM(emu.url, user="admin", passwd="admin") as kvm:  # noqa: SIM117
        async with kvm.ws(stream=0, open_timeout=10.0, close_timeout=10.0) as ws:
            async for event in ws.events():
                if event["event_type"] == "hid":
                    break
            for key in HELLO:
                await ws.send_key(key, state=True)
                await ws.send_key(key, state=False)
            await ws.send_mouse_move(500, 300)
            await ws.send_mouse_button("left", True)
            await ws.send_mouse_wheel(0, 5)
            rtt = await ws.ping()
            assert rtt > 0
    assert emu.target.screen_text == "hello"
    assert emu.target.mouse_position == (500, 300)
    assert emu.target.held_keys == frozenset()
    assert emu.target.mouse_buttons == frozenset()


async def test_standalone_session_with_every_promised_parameter(emu: Emulator) -> None:
    ws = PiKVMWebSocket(
        url=emu.url,
        user="admin",
        passwd="admin",
        verify_ssl=False,
        stream=0,
        open_timeout=10.0,
        close_timeout=10.0,
    )
    async with ws:
        for key in HELLO:
            await ws.send_key(key)  # a tap: press with finish, kvmd releases it
    assert emu.target.screen_text == "hello"
    assert not ws.is_open


@pytest.mark.parametrize("binary", [True, False])
async def test_typing_with_binary_and_json_frames(emu: Emulator, binary: bool) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(binary=binary) as ws:
        await ws.send_key("ShiftLeft", True)
        await ws.send_key("KeyH")
        await ws.send_key("ShiftLeft", False)
        await ws.send_key("KeyI", True, finish=True)
        await ws.send_key("Digit1")
        assert ws.held_keys == ()
        await ws.ping()
        await eventually(lambda: emu.target.screen_text == "Hi1")


async def test_events_start_with_loop_then_the_device_bundle(emu: Emulator) -> None:
    captured_types = {m["event_type"] for m in ws_messages()} - {"pong"}
    seen: list[str] = []
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        async for event in ws.events():
            seen.append(event["event_type"])
            if captured_types <= set(seen):
                break
        assert seen[0] == "loop"
        state = ws.state
    # the emulator's bundle and the typed models agree with the real device
    assert state.hid is not None and state.hid.keyboard.online
    assert state.hid_keymaps == parse(HidKeymaps, result("hid_keymaps.json"), "keymaps")
    assert state.atx is not None and state.atx.enabled
    assert state.info.system is not None and state.info.system.kvmd.version == "4.206"
    assert state.gpio is not None and "__v3_usb_breaker__" in state.gpio.state.outputs
    assert state.switch is not None and state.ocr is not None and state.streamer is not None
    assert state.clients is not None and state.clients.count == 1
    hid = parse(HidState, result("hid.json"), "hid")
    assert state.hid.mouse.outputs == hid.mouse.outputs


async def test_state_follows_updates(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await eventually(lambda: ws.state.atx is not None)
        assert ws.state.atx is not None and ws.state.atx.leds.power is True
        await kvm.atx.power_off_hard(wait=True)
        await eventually(lambda: ws.state.atx is not None and not ws.state.atx.leds.power)
        assert ws.state.atx == await kvm.atx.get_state()
        assert isinstance(ws.state.atx, AtxState)


async def test_a_second_client_makes_the_device_resend_its_bundle(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as first:
        await eventually(lambda: first.state.hid is not None)
        async with kvm.ws():
            await eventually(
                lambda: first.state.clients is not None and first.state.clients.count == 2
            )


async def test_press_and_release_reach_the_target(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.send_key("ControlLeft", True)
        await ws.send_key("AltLeft", True)
        assert ws.held_keys == ("ControlLeft", "AltLeft")
        await eventually(lambda: emu.target.held_keys == {"ControlLeft", "AltLeft"})
        await ws.send_key("AltLeft", False)
        await eventually(lambda: emu.target.held_keys == {"ControlLeft"})
        await ws.send_mouse_button("right", True)
        assert ws.held_buttons == ("right",)
        await eventually(lambda: emu.target.mouse_buttons == {"right"})
        await ws.send_mouse_button("right")  # a click: press and release
        await eventually(lambda: emu.target.mouse_buttons == frozenset())
        assert ws.held_buttons == ()


async def test_mouse_moves_wheel_and_relative(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.send_mouse_move(-32768, 32767)
        await eventually(lambda: emu.target.mouse_position == (-32768, 32767))
        await ws.send_mouse_wheel(0, -3)
        await eventually(lambda: ("mouse_wheel", 0, -3) in emu.target.events)
        # like kvmd, an absolute mouse accepts a relative move and reports nothing
        await ws.send_mouse_relative(10, -10)
        await ws.ping()
        await kvm.request("POST", "hid/set_params", params={"mouse_output": "usb_rel"})
        await ws.send_mouse_relative(-7, 7)
        await eventually(lambda: ("mouse_relative", -7, 7) in emu.target.events)
        assert ("mouse_relative", 10, -10) not in emu.target.events


@pytest.mark.parametrize("binary", [True, False])
async def test_ping_round_trip_on_both_channels(emu: Emulator, binary: bool) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(binary=binary) as ws:
        times = [await ws.ping(timeout=5) for _ in range(3)]
        assert all(0 < t < 5 for t in times)


BAD_INPUT: list[tuple[str, tuple[Any, ...], str]] = [
    ("send_key", ("keya",), "'keya'"),
    ("send_key", ("a",), "'KeyA'"),
    ("send_key", ("KeyA", "yes"), "state"),
    ("send_mouse_button", ("back", True), "'back'"),
    ("send_mouse_move", (40000, 0), "40000"),
    ("send_mouse_move", (0, -32769), "-32769"),
    ("send_mouse_move", (0.5, 0), "0.5"),
    ("send_mouse_wheel", (0, 200), "200"),
    ("send_mouse_relative", (-128, 0), "-128"),
]


@pytest.mark.parametrize(("method", "args", "named"), BAD_INPUT)
@pytest.mark.parametrize("binary", [True, False])
async def test_bad_input_raises_and_sends_nothing(
    emu: Emulator, method: str, args: tuple[Any, ...], named: str, binary: bool
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(binary=binary) as ws:
        with pytest.raises(InvalidInputError, match=named.replace(".", r"\.")):
            await getattr(ws, method)(*args)
        await ws.ping()
        assert ws.held_keys == () and ws.held_buttons == ()
    assert [e for e in emu.target.events if e[0] != "clear"] == []


async def test_invalid_session_options_raise_before_connecting() -> None:
    with pytest.raises(InvalidInputError, match="stream"):
        PiKVMWebSocket("http://127.0.0.1:1", stream=2)
    with pytest.raises(InvalidInputError, match="URL"):
        PiKVMWebSocket("ftp://pikvm")
    with pytest.raises(InvalidInputError, match="max_queue"):
        PiKVMWebSocket("http://127.0.0.1:1", max_queue=0)


@pytest.mark.parametrize("make", [PiKVMWebSocket, PiKVM])
def test_credentials_in_the_url_are_refused_and_never_shown(make: type) -> None:
    with pytest.raises(InvalidInputError, match="user= and passwd=") as caught:
        make("http://admin:hunter2@pikvm.local")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://pikvm:abc",
        "http://pikvm:99999",
        "http://pikvm:0",
        "http://[::1",
        "http://pikvm/?a=1",
    ],
)
@pytest.mark.parametrize("make", [PiKVMWebSocket, PiKVM])
def test_a_url_that_cannot_be_a_device_is_refused_at_once(make: type, url: str) -> None:
    with pytest.raises(InvalidInputError, match="URL"):
        make(url)


@pytest.mark.skipif(
    int(websockets.__version__.split(".")[0]) < 15,
    reason="websockets reads a proxy from the environment since 15.0",
)
async def test_a_bad_proxy_setting_is_our_error_without_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ws_proxy", "gopher://someone:s3cret@proxy.example")
    with pytest.raises(InvalidInputError, match="proxy") as caught:
        async with PiKVMWebSocket("http://pikvm.example", passwd="x"):
            pass
    assert "s3cret" not in str(caught.value)


# ----- keys are released however the session ends ---------------------------------------


@pytest.mark.parametrize("kind", ["tap", "click"])
async def test_a_tap_cut_between_its_two_frames_is_still_released(kind: str) -> None:
    # A modifier tap (kvmd does not release it by itself) and a click are two frames each;
    # on a congested link the task can be cancelled after the first went out.
    async with (
        Emulator(hid_delay=0) as emu,  # instant: the flood below is ~5*10^4 events, ~50 s at 1 ms
        StallingLink(emu.url).running() as link,
        PiKVM(link.url, passwd="admin") as kvm,
        # The client takes each flooded event for 25 ms of HID time: closing would wait
        # all of close_timeout for a queue the instant HID has long emptied.
        kvm.ws(binary=False, close_timeout=1) as ws,
    ):
        await ws.ping()
        link.stall()
        await fill_until_stalled(ws)
        tap = ws.send_key("ShiftLeft") if kind == "tap" else ws.send_mouse_button("left")
        task = asyncio.create_task(tap)
        for _ in range(10):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (ws.held_keys, ws.held_buttons) == (
            (("ShiftLeft",), ()) if kind == "tap" else ((), ("left",))
        )
        link.resume()
        await ws.ping(timeout=30)  # the flood read, so closing's own ping needs no more than 1 s
    assert explicit_releases(emu)[-1] == (
        ("key", "ShiftLeft", False) if kind == "tap" else ("mouse_button", "left", False)
    )


def explicit_releases(emu: Emulator) -> list[tuple[Any, ...]]:
    """Releases the target got as input, before the device's own release-all on close."""
    events = emu.target.events
    end = events.index(("clear",)) if ("clear",) in events else len(events)
    return [e for e in events[:end] if e[0] in ("key", "mouse_button") and e[2] is False]


async def test_held_keys_are_released_on_a_normal_exit(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.send_key("ShiftLeft", True)
        await ws.send_key("KeyA", True)
        await ws.send_mouse_button("left", True)
    # The keyboard and the mouse are kvmd processes and USB endpoints of their own: the
    # order holds on each, not between them.
    releases = explicit_releases(emu)
    assert [e for e in releases if e[0] == "key"] == [
        ("key", "KeyA", False),
        ("key", "ShiftLeft", False),
    ]
    assert [e for e in releases if e[0] == "mouse_button"] == [("mouse_button", "left", False)]
    assert emu.target.held_keys == frozenset()
    assert emu.target.screen_text == "A"


async def test_held_keys_are_released_when_the_block_raises(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(RuntimeError, match="boom"):  # noqa: PT012 - the block is the subject
            async with kvm.ws() as ws:
                await ws.send_key("ControlLeft", True)
                raise RuntimeError("boom")
    assert explicit_releases(emu) == [("key", "ControlLeft", False)]


async def test_held_keys_are_released_when_the_task_is_cancelled(emu: Emulator) -> None:
    pressed = asyncio.Event()

    async def hold_forever() -> None:
        async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
            await ws.send_key("MetaLeft", True)
            await ws.send_mouse_button("middle", True)
            pressed.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(hold_forever())
    await pressed.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert explicit_releases(emu) == [("key", "MetaLeft", False), ("mouse_button", "middle", False)]


# ----- connection failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "passwd", "status"), [("admin", "wrong", 403), ("nobody", "x", 403)]
)
async def test_handshake_refusal_raises_auth_error(
    emu: Emulator, user: str, passwd: str, status: int
) -> None:
    async with PiKVM(emu.url, user=user, passwd=passwd) as kvm:
        with pytest.raises(AuthError) as caught:
            async with kvm.ws():
                pass
    assert caught.value.status_code == status
    assert caught.value.error == "ForbiddenError"
    assert passwd not in str(caught.value)


async def test_handshake_without_credentials_is_401(emu: Emulator) -> None:
    # our client always sends credentials; a bare websockets client shows what kvmd says
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with connect(emu.url.replace("http", "ws") + "/api/ws"):
            pass
    assert caught.value.response.status_code == 401


async def test_refused_connection_raises_connection_error() -> None:
    async with Emulator() as emulator:
        url = emulator.url
    with pytest.raises(PiKVMConnectionError, match="cannot reach"):
        async with PiKVMWebSocket(url, passwd="admin"):
            pass


async def test_device_closing_the_session_ends_events_with_an_error() -> None:
    async with Emulator() as emulator, PiKVM(emulator.url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            await emulator.stop()
            with pytest.raises(ConnectionClosedError):
                async for _ in ws.events():
                    pass
            with pytest.raises(ConnectionClosedError):
                await ws.send_key("KeyA")
            with pytest.raises(ConnectionClosedError):
                await ws.ping()


async def test_closing_our_side_ends_events_cleanly(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            pass
        async for _ in ws.events():
            pass  # the iteration simply ends (see test_ws_session for what it yields)


async def test_an_unanswered_ping_times_out() -> None:
    async def silent(connection: Any) -> None:
        async for _ in connection:
            pass  # reads, never answers a kvmd ping

    async with serve(silent, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with PiKVMWebSocket(f"http://127.0.0.1:{port}", passwd="x", close_timeout=0.2) as ws:
            with pytest.raises(PiKVMTimeoutError, match="ping"):
                await ws.ping(timeout=0.2)


async def test_bad_stream_value_is_refused_by_the_device_like_kvmd(emu: Emulator) -> None:
    # the client validates stream itself; the device's own answer is a 400, not a 401
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with connect(
            emu.url.replace("http", "ws") + "/api/ws?stream=abc",
            additional_headers={"X-KVMD-User": "admin", "X-KVMD-Passwd": "admin"},
        ):
            pass
    assert caught.value.response.status_code == 400


async def test_a_malformed_state_event_keeps_the_last_valid_state(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.wait_for(lambda s: s.hid is not None, timeout=5)
        valid = ws.state.hid
        # well-formed JSON, not kvmd's shape
        emu.faults.send_frames(json.dumps({"event_type": "hid", "event": {"keyboard": 5}}))
        await ws.ping()
        assert ws.state.hid == valid
        assert ws.state.hid == valid  # read again: logged once, for the one bad event
        await ws.type_text("ok", delay=0.001)  # typing reads the state too
        await kvm.hid.set_params(mouse_output="usb_rel")  # a valid event replaces it
        await ws.wait_for(lambda s: s.hid is not None and not s.hid.mouse.absolute, timeout=5)
    assert emu.target.screen_text == "ok"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [m for m in warnings if "hid" in m] == [
        "the device's 'hid' state does not have kvmd's shape: Field required at online"
        " (3 problem(s)); keeping the last valid hid state"
    ]


# ----- a socket nobody reads --------------------------------------------------------------


async def test_an_unread_session_stays_alive_and_drops_oldest_events(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(max_queue=8) as ws:
        for _ in range(6):
            await kvm.atx.click_reset(wait=True)
            await kvm.atx.click_power(wait=True)
        await ws.ping()
        assert ws.dropped_events > 0
        assert ws.state.atx == await kvm.atx.get_state()  # the state saw every event
        events = [e async for e in _take(ws, 8)]
        assert len(events) == 8


async def test_an_unread_session_answers_keepalives() -> None:
    # kvmd pings every 15 s and drops a client that does not answer; here every 50 ms.
    async with Emulator(ws_heartbeat=0.05) as emulator:
        # What the background reader prevents: a client that stops reading (its buffer
        # full) answers no ping, and the device drops it.
        url = emulator.url.replace("http", "ws", 1) + "/api/ws?stream=0"
        headers = {"X-KVMD-User": "admin", "X-KVMD-Passwd": "admin"}
        async with connect(url, additional_headers=headers, max_queue=1, ping_interval=None) as raw:
            await asyncio.sleep(0.5)
            with pytest.raises(websockets.ConnectionClosedError):
                await _drain(raw)
        async with PiKVM(emulator.url, passwd="admin") as kvm, kvm.ws() as ws:
            await asyncio.sleep(0.5)  # ten heartbeats, events() never read
            assert ws.is_open
            await ws.ping()


async def _drain(conn: ClientConnection) -> None:
    while True:
        await conn.recv()


async def _take(ws: PiKVMWebSocket, n: int) -> Any:
    async for event in ws.events():
        yield event
        n -= 1
        if n == 0:
            return


async def test_totp_code_is_fresh_for_every_connect() -> None:
    secret = "JBSWY3DPEHPK3PXP"
    async with Emulator(totp_secret=secret) as emulator:
        async with PiKVM(emulator.url, passwd="admin", totp_secret=secret) as kvm:
            for _ in range(2):
                async with kvm.ws() as ws:
                    await ws.ping()
            await kvm.auth.check()
        async with PiKVM(emulator.url, passwd="admin") as no_code:
            with pytest.raises(AuthError):
                async with no_code.ws():
                    pass
