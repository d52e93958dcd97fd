"""Sessions with ``reconnect``: a drop, a refusal, a reboot with a rolling TOTP code, and
what the user sees meanwhile — against the emulator's real outages and faults."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from aiopikvm import (
    AuthError,
    ConnectionClosedError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMWebSocket,
    ReconnectFailedError,
    RetryPolicy,
    TypingInterruptedError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.protocol import totp

from .conftest import eventually

SECRET = "JBSWY3DPEHPK3PXP"
PASSWORD = "correct-horse"


class Backoff:
    """The policy's ``sleep``: records each delay asked for and, instead of sleeping, runs
    ``during`` — what happens to the device while the client waits."""

    def __init__(self, during: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.delays: list[float] = []
        self._during = during

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self._during is not None:
            await self._during(len(self.delays))
        await asyncio.sleep(0)

    def policy(self, attempts: int = 5) -> RetryPolicy:
        return RetryPolicy(
            attempts, base_delay=1.0, max_delay=4.0, sleep=self, rng=random.Random(5)
        )


async def until_reconnected(ws: PiKVMWebSocket) -> dict[str, Any]:
    """Read events up to the reconnect marker; returns its ``event``."""
    async for event in ws.events():
        if event["event_type"] == "reconnected":
            return dict(event["event"])
    raise AssertionError("the events ended without a reconnect")


async def test_a_drop_reconnects_with_a_marker_and_the_state_read_afresh(emu: Emulator) -> None:
    async def meanwhile(attempt: int) -> None:
        # The device changes while the session is away: the old connection cannot see it.
        await kvm.hid.set_params(mouse_output="usb_rel")

    backoff = Backoff(meanwhile)
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(reconnect=backoff.policy()) as ws:
        await ws.wait_for(lambda s: s.hid is not None and s.hid.mouse.absolute, timeout=5)
        await ws.send_key("ShiftLeft", True)
        await ws.send_mouse_button("left", True)
        await ws.ping()
        emu.faults.fail("ws", 503, times=1)  # the first attempt is refused: kvmd restarting
        await emu.faults.drop_ws_now()

        marker = await until_reconnected(ws)
        assert marker["attempts"] == 2 and len(backoff.delays) == 1
        assert marker["code"] == 1006  # a dead link, not a goodbye
        assert marker["released"] == ["ShiftLeft", "left"]
        assert marker["downtime"] >= 0
        assert ws.reconnects == 1 and ws.is_open
        assert ws.held_keys == () and ws.held_buttons == ()
        # the new connection's events follow the marker, from the start of its burst
        following = [event["event_type"] async for event in _take(ws, 3)]
        assert following[0] == "loop"
        # the state is the new connection's, not the stale one of before the drop
        assert ws.state.hid is not None and ws.state.hid.mouse.absolute is False
        assert ws.state.hid == await kvm.hid.get_state()
        assert ws.state.clients is not None and ws.state.clients.count == 1
        await ws.send_key("KeyA")  # input works again
        await ws.ping()
    assert emu.target.screen_text == "a"
    assert emu.target.held_keys == frozenset() and emu.target.mouse_buttons == frozenset()
    assert emu.faults.count("ws") == 3  # the first connect and two attempts


async def _take(ws: PiKVMWebSocket, n: int) -> Any:
    async for event in ws.events():
        yield event
        n -= 1
        if n == 0:
            return


async def test_an_auth_failure_is_never_retried(emu: Emulator) -> None:
    backoff = Backoff()
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(reconnect=backoff.policy()) as ws:
        emu.faults.fail("ws", 403, times=None)  # e.g. the password was changed meanwhile
        await emu.faults.drop_ws_now()
        with pytest.raises(ReconnectFailedError) as caught:
            async for _ in ws.events():
                pass
        assert not ws.is_open
        with pytest.raises(ConnectionClosedError):
            await ws.send_key("KeyA")
    error = caught.value
    assert isinstance(error, ConnectionClosedError) and error.code == 1006
    assert error.attempts == 1 and isinstance(error.last_error, AuthError)
    assert error.last_error.status_code == 403 and "403" in str(error)
    assert backoff.delays == []
    assert emu.faults.count("ws") == 2


async def test_attempts_run_out_with_a_logged_backoff(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    seen_while_down: list[str] = []

    async def meanwhile(attempt: int) -> None:
        seen_while_down.append(repr(ws))
        with pytest.raises(ConnectionClosedError, match="reconnecting"):
            await ws.send_key("KeyA")  # nothing is sent late: the caller hears at once

    backoff = Backoff(meanwhile)
    caplog.set_level(logging.INFO, logger="aiopikvm")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws(reconnect=backoff.policy(attempts=3))
        async with ws:
            await emu.go_offline()  # the device is gone: every connection is refused
            with pytest.raises(ReconnectFailedError) as caught:
                async for _ in ws.events():
                    pass
    assert caught.value.attempts == 3
    assert isinstance(caught.value.last_error, PiKVMConnectionError)
    # jittered exponential backoff: before retry n, 1.0 * 2 ** (n - 1) less up to half
    assert len(backoff.delays) == 2
    assert 0.5 <= backoff.delays[0] <= 1.0 and 1.0 <= backoff.delays[1] <= 2.0
    assert all("reconnecting" in state for state in seen_while_down)
    messages = [record.getMessage() for record in caplog.records]
    assert sum(message.endswith("; reconnecting") for message in messages) == 1
    assert sum("retrying in" in message for message in messages) == 2
    assert any("reconnecting failed after 3 attempt(s)" in message for message in messages)


async def test_a_reboot_while_the_totp_code_rolls(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # One clock for the client and the emulator, moved on by hand: no waiting 30 s.
    clock = [1_700_000_000.0]
    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: clock[0]))
    caplog.set_level(logging.DEBUG)
    first_code = totp.totp(SECRET)
    text = "Typed across a reboot, with two-factor on: 0123456789."

    async def meanwhile(attempt: int) -> None:
        if attempt == 1:
            clock[0] += 120  # four 30-second steps: the first code is long refused
            assert not totp.verify(SECRET, first_code)
            await emu.reboot()  # the device is back, sessions forgotten

    async def progress(typed: int, total: int) -> None:
        if typed == 20:
            await emu.go_offline()  # power cut mid-text: connections refused meanwhile

    backoff = Backoff(meanwhile)
    async with (
        Emulator(users={"admin": PASSWORD}, totp_secret=SECRET, hid_delay=0.001) as emu,
        PiKVM(emu.url, passwd=PASSWORD, totp_secret=SECRET) as kvm,
        kvm.ws(reconnect=backoff.policy()) as ws,
    ):
        result = await ws.type_text(text, delay=0.002, progress=progress)
        assert ws.reconnects == 1 and ws.is_open
    assert result.typed == len(text) and result.disruptions == 1
    assert result.uncertain and max(result.uncertain) <= 20  # in flight when the power went
    assert matches_minus(emu.target.screen_text, text, result.uncertain)
    assert emu.target.held_keys == frozenset()
    # each attempt was logged, and no secret was
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "reconnected after 2 attempt(s)" in logged and "retrying in" in logged
    codes = {totp.totp(SECRET, at=clock[0] + step * 30) for step in range(-6, 2)}
    assert PASSWORD not in logged and not any(code in logged for code in codes)


def matches_minus(screen: str, text: str, uncertain: tuple[int, ...]) -> bool:
    """Whether ``screen`` is ``text`` with some of the ``uncertain`` positions left out."""
    may_miss = set(uncertain)
    reach = {0}  # how many characters are left out so far, along the ways that still fit
    for i, char in enumerate(text):
        step = {d for d in reach if i - d < len(screen) and screen[i - d] == char}
        if i in may_miss:
            step |= {d + 1 for d in reach}
        if not step:
            return False
        reach = step
    return any(len(text) - d == len(screen) for d in reach)


async def test_typing_without_reconnect_reports_how_far_it_got() -> None:
    text = "The link drops and this text stops."

    async def progress(typed: int, total: int) -> None:
        if typed == 12:
            emu.faults.drop_ws(after=3)

    async with Emulator(hid_delay=0.001) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(TypingInterruptedError) as caught:
            await kvm.type_text(text, delay=0.002, progress=progress)
    result = caught.value.result
    assert isinstance(caught.value, ConnectionClosedError) and caught.value.code == 1006
    assert 12 <= result.typed < len(text) and result.disruptions == 1
    assert result.uncertain == tuple(range(min(result.uncertain), result.typed))
    assert matches_minus(emu.target.screen_text, text[: result.typed], result.uncertain)
    assert "uncertain" in str(caught.value)
    assert emu.target.held_keys == frozenset()


async def test_typing_gives_up_with_the_session_when_reconnecting_fails(emu: Emulator) -> None:
    text = "This one never gets to the end."

    async def progress(typed: int, total: int) -> None:
        if typed == 8:
            await emu.go_offline()

    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(TypingInterruptedError) as caught:
            await kvm.type_text(
                text, delay=0.002, progress=progress, reconnect=Backoff().policy(attempts=2)
            )
    assert isinstance(caught.value.__cause__, ReconnectFailedError)
    result = caught.value.result
    assert 8 <= result.typed < len(text)
    assert matches_minus(emu.target.screen_text, text[: result.typed], result.uncertain)


@pytest.mark.parametrize("reconnect", [0, "yes", None])
def test_reconnect_must_be_a_bool_or_a_policy(reconnect: object) -> None:
    with pytest.raises(ValueError, match="reconnect"):
        PiKVMWebSocket("http://127.0.0.1:1", reconnect=reconnect)  # type: ignore[arg-type]


async def test_closing_while_reconnecting_stops_the_attempts(emu: Emulator) -> None:
    closed = asyncio.Event()

    async def meanwhile(attempt: int) -> None:
        await closed.wait()

    backoff = Backoff(meanwhile)
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws(reconnect=backoff.policy())
        async with ws:
            await emu.go_offline()
            await eventually(lambda: len(backoff.delays) == 1)
        closed.set()
        assert [e async for e in ws.events() if e["event_type"] == "reconnected"] == []
        assert "closed" in repr(ws)
    assert len(backoff.delays) == 1
