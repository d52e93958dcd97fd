"""The session's own keepalive: a ping every ``KEEPALIVE_INTERVAL``, and the link failed
(1011) once nothing at all has come for ``KEEPALIVE_TIMEOUT`` after one — any frame, not
only the pong, proves the link alive. Run with the intervals cut to a fraction of a second
(the real ones, 5 and 20 s, would make each test half a minute long)."""

from __future__ import annotations

import asyncio

import pytest

from aiopikvm import ConnectionClosedError, PiKVMWebSocket
from aiopikvm.emulator import Emulator
from aiopikvm.transport import ws_connection

from .stalling_link import StallingLink

GUARD = 30  # seconds: what a regression waits before it fails instead of hanging
INTERVAL = 0.1
TIMEOUT = 1.0  # well above a loaded machine's stalls: the emulator shares the loop


@pytest.fixture
def short_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_connection, "KEEPALIVE_INTERVAL", INTERVAL)
    monkeypatch.setattr(ws_connection, "KEEPALIVE_TIMEOUT", TIMEOUT)


@pytest.mark.usefixtures("short_keepalive")
async def test_a_link_that_goes_silent_is_failed_by_the_keepalive() -> None:
    async with (
        asyncio.timeout(GUARD),
        Emulator() as emu,
        StallingLink(emu.url).running() as link,
    ):
        ws = PiKVMWebSocket(link.url, passwd="admin", close_timeout=0.5)
        async with ws:
            await ws.ping()
            link.stall()  # nothing comes through any more, the pongs included
            with pytest.raises(ConnectionClosedError) as caught:
                async for _ in ws.events():
                    pass
            assert not ws.is_open
    assert caught.value.code == 1011
    assert "keepalive" in caught.value.reason


@pytest.mark.usefixtures("short_keepalive")
async def test_a_quiet_link_that_answers_its_pings_stays_open() -> None:
    async with asyncio.timeout(GUARD), Emulator() as emu:
        async with PiKVMWebSocket(emu.url, passwd="admin") as ws:
            await ws.ping()
            # Several keepalive timeouts with no event at all: only the pongs come.
            await asyncio.sleep(TIMEOUT * 3)
            assert ws.is_open
            await ws.ping()
            await ws.send_key("KeyA")
        assert ws.dropped_events == 0
