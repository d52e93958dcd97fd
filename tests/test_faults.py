"""Fault injection in the emulator, seen through the public client: failing, slow and
refused requests, dropped and malformed WebSocket sessions, reboots, and the command's flags."""

from __future__ import annotations

import asyncio
import logging

import pytest
import websockets

from aiopikvm import (
    AuthError,
    BusyError,
    ConnectionClosedError,
    NotFoundError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    PiKVMWebSocket,
    ProtocolError,
    ServerError,
    UnavailableError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.emulator._faults import MALFORMED_FRAMES

from .conftest import eventually
from .emulator_helpers import recv_until, ws_connect


async def read_until_dropped(ws: PiKVMWebSocket) -> tuple[list[str], ConnectionClosedError]:
    """The event types read before the device dropped the session, and how it ended."""
    received: list[str] = []
    try:
        async for event in ws.events():
            received.append(event["event_type"])
    except ConnectionClosedError as error:
        return received, error
    raise AssertionError("the session ended cleanly")


async def test_failures_look_like_the_device_and_run_out(emu: Emulator) -> None:
    emu.faults.fail("hid", 503, times=2)
    emu.faults.fail("atx/*", 409, method="POST")
    emu.faults.fail("system/*", 502, times=None)
    emu.faults.fail("info", 500)
    async with PiKVM(emu.url, passwd="admin") as kvm:
        for _ in range(2):
            with pytest.raises(UnavailableError) as unavailable:
                await kvm.hid.get_state()
        assert (await kvm.hid.get_state()).online  # the rule ran out
        with pytest.raises(BusyError) as busy:
            await kvm.atx.click_power()
        assert (await kvm.atx.get_state()).busy is False  # a GET did not match the rule
        for _ in range(3):
            with pytest.raises(ServerError, match="502 Bad Gateway"):
                await kvm.request("GET", "system/whatever")
        with pytest.raises(ServerError, match="Internal Server Error") as crashed:
            await kvm.request("GET", "info")
    assert unavailable.value.error == "UnavailableError"
    assert unavailable.value.error_msg == "Service Unavailable"
    assert busy.value.error == "AtxIsBusyError"
    assert crashed.value.status_code == 500 and crashed.value.error is None
    assert emu.faults.count("hid", "GET") == 3
    assert emu.faults.count("atx/click", "POST") == 1
    assert not emu.target.events  # the refused click never reached the host


async def test_a_failure_can_name_its_error_and_be_removed(emu: Emulator) -> None:
    rule = emu.faults.fail("auth/check", 403, times=None, error="ForbiddenError")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(AuthError) as caught:
            await kvm.auth.check()
        emu.faults.remove(rule)
        await kvm.auth.check()
    assert caught.value.error == "ForbiddenError" and caught.value.error_msg == "Forbidden"
    assert rule.hits == 1


async def test_a_canned_answer_is_served_as_given_then_runs_out(emu: Emulator) -> None:
    odd = '{"ok": true, "result": {"online": "sometimes"}}'
    rule = emu.faults.respond("hid", odd, method="GET", times=2)
    emu.faults.respond("hid/*", b"\x00", status=404, content_type=None, method="POST")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        assert await kvm.request("GET", "hid") == {"online": "sometimes"}
        with pytest.raises(ProtocolError, match="shape"):  # what the client makes of it
            await kvm.hid.get_state()
        assert (await kvm.hid.get_state()).online  # the rule ran out: the emulator answers
        with pytest.raises(NotFoundError):
            await kvm.hid.reset()  # a POST: the other rule
    assert rule.hits == 2 and rule.remaining == 0
    for status in (199, 600):
        with pytest.raises(ValueError, match="status"):
            emu.faults.respond("hid", "", status=status)
    with pytest.raises(TypeError, match="bytes or str"):
        emu.faults.respond("hid", {"ok": True})  # type: ignore[arg-type]


async def test_the_websocket_handshake_can_fail(emu: Emulator) -> None:
    emu.faults.fail("ws", 503)
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(UnavailableError):
            async with kvm.ws():
                pass
        async with kvm.ws() as ws:  # once only
            await ws.ping()


async def test_a_delayed_path_times_out_and_others_do_not(emu: Emulator) -> None:
    emu.faults.delay("hid", 30)
    async with PiKVM(emu.url, passwd="admin", timeout=0.3) as kvm:
        with pytest.raises(PiKVMTimeoutError):
            await kvm.hid.get_state()
        await kvm.auth.check()
    assert emu.faults.count("hid") == 1


async def test_a_slow_link_delays_every_frame_to_the_client_in_order(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="seconds"):
        emu.faults.lag_ws(-1)
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        emu.faults.lag_ws(1.0)  # the open session too
        with pytest.raises(PiKVMTimeoutError):
            await ws.ping(timeout=0.2)
        emu.faults.clear()  # the lag with the rest
        async with kvm.ws() as second:
            await second.ping(timeout=0.5)  # answered sooner than the lag it had


# ----- WebSocket drops --------------------------------------------------------------------


async def test_a_dropped_session_loses_queued_input_like_kvmd() -> None:
    # Input waits in kvmd's queue while the host does not poll; a session that ends throws
    # it away. The press went into the free USB endpoint (f_hid holds one report), its
    # release waited in the queue and was dropped: the host saw "A" go down, then the clear.
    async with Emulator(hid_poll=0.01) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            await ws.send_key("ShiftLeft", True)
            await eventually(lambda: emu.target.held_keys == {"ShiftLeft"})
            emu.target.stall_usb(0.5)
            emu.faults.drop_ws(after=1)  # the next frame is accepted, then the link dies
            await ws.send_key("KeyA")
            with pytest.raises(ConnectionClosedError) as caught:
                async for _ in ws.events():
                    pass
        await eventually(lambda: ("clear",) in emu.target.events)
        assert not emu.target.held_keys
        assert emu.target.screen_text == "A"
        assert ("key", "KeyA", False) not in emu.target.events  # the queued release: lost
    assert caught.value.code == 1006  # no close frame: a dead link, not a goodbye


async def test_a_clean_drop_sends_kvmds_close(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.ping()
        assert await emu.faults.drop_ws_now(clean=True) == 1
        with pytest.raises(ConnectionClosedError) as caught:
            async for _ in ws.events():
                pass
    assert caught.value.code == 1000


async def test_dropping_after_frames_sent_cuts_the_burst(emu: Emulator) -> None:
    emu.faults.drop_ws(after=5, counting="sent")
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        received, _ = await read_until_dropped(ws)
    assert len(received) == 5 and received[0] == "loop"


async def test_random_drop_points_replay_from_the_seed() -> None:
    async def drop_points(emu: Emulator) -> list[int]:
        emu.faults.seed(7)
        rule = emu.faults.drop_ws(after=(2, 15), counting="sent", times=None)
        counts = []
        for _ in range(4):
            async with PiKVMWebSocket(emu.url, passwd="admin") as ws:
                received, _ = await read_until_dropped(ws)
                counts.append(len(received))
        emu.faults.remove(rule)
        return counts

    async with Emulator() as emu:
        first = await drop_points(emu)
        again = await drop_points(emu)
    assert first == again
    assert all(2 <= n <= 15 for n in first) and len(set(first)) > 1


async def test_malformed_frames_are_survived(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiopikvm")
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.ping()
        assert emu.faults.send_malformed() == 1
        await ws.ping()
        assert ws.state.hid is not None and ws.state.hid.online
        async with asyncio.timeout(5):
            async for event in ws.events():  # well-formed, just unknown: handed over as it is
                if event["event_type"] == "x_no_such_event":
                    break
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "ignoring a frame" in m]) == 3  # the rest are counted
    assert any("4 malformed frames" in m for m in messages)


async def test_malformed_frames_arrive_exactly_as_named(emu: Emulator) -> None:
    async with ws_connect(emu) as ws:
        await ws.recv()  # loop
        emu.faults.send_malformed("invalid_json", "unknown_binary")
        frames = await recv_until(ws, lambda frame: frame == MALFORMED_FRAMES["unknown_binary"])
    assert MALFORMED_FRAMES["invalid_json"] in frames
    assert MALFORMED_FRAMES["unknown_binary"] in frames
    with pytest.raises(ValueError, match="unknown malformed"):
        emu.faults.send_malformed("nonsense")


# ----- outages and reboots ----------------------------------------------------------------


async def test_going_offline_refuses_and_cuts_then_the_same_port_answers(emu: Emulator) -> None:
    url = emu.url
    async with PiKVM(url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            await emu.go_offline()
            with pytest.raises(ConnectionClosedError) as cut:
                async for _ in ws.events():
                    pass
        with pytest.raises(PiKVMConnectionError, match="cannot reach"):
            await kvm.hid.get_state()
        await emu.go_online()
        assert emu.url == url
        assert (await kvm.hid.get_state()).online
    assert cut.value.code == 1006


async def test_a_reboot_keeps_the_state_but_forgets_logins() -> None:
    emu = Emulator(atx_click_delay=0.01, atx_long_click_delay=0.01)
    async with emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.atx.power_off_hard(wait=True)
        await kvm.auth.login()
        await kvm.auth.check()  # with the cookie
        await emu.reboot(downtime=0.05)
        with pytest.raises(AuthError):  # kvmd keeps its sessions in memory only
            await kvm.auth.check()
        async with PiKVM(emu.url, passwd="admin") as fresh:
            assert (await fresh.atx.get_state()).leds.power is False  # the host stayed off


async def test_raw_clients_see_a_dead_link_too(emu: Emulator) -> None:
    emu.faults.drop_ws(after=0)
    async with ws_connect(emu) as ws:
        with pytest.raises(websockets.ConnectionClosedError) as caught:
            await recv_until(ws, lambda _: False)
    assert caught.value.rcvd is None  # no close frame came
