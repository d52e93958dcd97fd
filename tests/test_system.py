"""``kvm.system``: device information and kvmd's log, through the public client against the
emulator (and the emulator's journal on its own where time has to pass)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator

import pytest

from aiopikvm import BadRequestError, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator, _log

from .captures import CAPTURES, result
from .conftest import eventually

NOWHERE = "http://127.0.0.1:9"
"""A closed port: a call that raises InvalidInputError there sent nothing."""

JOURNAL_LINE = re.compile(
    r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d kvmd\.service\] --- (?P<source>\S+) +"
    r"(?P<level>INFO|WARNING|ERROR|CRITICAL|DEBUG) --- (?P<message>.*)"
)
"""kvmd's log line, as ``log_seek60.txt`` shows it."""


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


# ----- info ---------------------------------------------------------------------------


async def test_default_info_is_the_legacy_0_shape(kvm: PiKVM) -> None:
    info = await kvm.system.get_info()
    assert info.model_fields_set == set(result("info_legacy0.json"))
    assert info.health is not None and info.hw is None
    assert info.system is not None and info.system.platform is not None
    assert info.system.platform.model == "v3"
    assert info.auth is not None and info.auth.enabled is True
    assert info.node is not None and info.node.host == "pikvm"


async def test_legacy_info_folds_health_and_platform_into_hw(kvm: PiKVM) -> None:
    info = await kvm.system.get_info(legacy=True)
    assert info.model_fields_set == set(result("info.json"))
    assert info.hw is not None and info.hw.health is not None and info.health is None
    assert info.system is not None and info.system.platform is None


async def test_info_fields(kvm: PiKVM) -> None:
    some = await kvm.system.get_info("health", "uptime")
    assert some.model_fields_set == {"health", "uptime"}
    hw = await kvm.system.get_info("hw", "system", legacy=True)
    assert hw.model_fields_set == set(result("info_hw_system.json"))


@pytest.mark.parametrize(
    ("fields", "legacy"),
    [
        pytest.param(("hw",), False, id="hw-needs-legacy"),
        pytest.param(("system", "bogus"), True, id="unknown"),
        pytest.param(("System",), False, id="case"),
        pytest.param((), 0, id="legacy-not-bool"),
    ],
)
async def test_bad_info_arguments_are_refused_before_sending(
    fields: tuple[str, ...], legacy: bool
) -> None:
    async with PiKVM(NOWHERE) as kvm:
        with pytest.raises(InvalidInputError):
            await kvm.system.get_info(*fields, legacy=legacy)


# ----- log ----------------------------------------------------------------------------


def test_the_capture_and_the_pattern_agree() -> None:
    lines = (CAPTURES / "log_seek60.txt").read_bytes().split(b"\r\n")
    assert lines[-1] == b""  # every line ends in CRLF
    assert all(JOURNAL_LINE.fullmatch(line.decode()) for line in lines[:-1])


async def test_log_lines_have_kvmds_format(kvm: PiKVM) -> None:
    await kvm.atx.click_reset(wait=True)
    text = await kvm.system.get_log()
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    matches = [JOURNAL_LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    said = [(m["source"], m["message"]) for m in matches if m]
    assert ("kvmd.plugins.atx.gpio", "Clicked ATX button 'reset'") in said
    assert ("kvmd.apps.kvmd.auth", "Authorized user 'admin' via auth service 'htpasswd'") in said
    access = [message for source, message in said if source == "aiohttp.access"]
    assert any(
        re.fullmatch(
            r"\[admin \(xhdr\) / 127\.0\.0\.1\] 'POST /atx/click\?button=reset&wait=1 "
            r"HTTP/1\.1' => 200; size=\d+ --- referer='-'; user_agent='python-httpx/.*'",
            message,
        )
        for message in access
    ), access


async def test_a_disabled_log_reader_is_refused_as_kvmd_refuses_it() -> None:
    async with Emulator(log_enabled=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        for read in (kvm.system.get_log(seek=60), anext(kvm.system.stream_log())):
            with pytest.raises(BadRequestError) as caught:
                await read
            assert (caught.value.error, caught.value.error_msg) == (
                "LogReaderDisabledError",
                "LogReader is disabled",
            )
        # checked before the parameters, as kvmd does
        with pytest.raises(BadRequestError, match="LogReader is disabled"):
            await kvm.request("GET", "log", params={"seek": "soon"}, expect="text")


async def test_log_seek_is_sent(kvm: PiKVM) -> None:
    await kvm.system.get_log(seek=60)
    assert "'GET /log?seek=60 HTTP/1.1' => 200" in await kvm.system.get_log()


@pytest.mark.parametrize("seek", [-1, 1.5, True, "60"])
async def test_bad_seek_is_refused_before_sending(seek: int) -> None:
    async with PiKVM(NOWHERE) as kvm:
        with pytest.raises(InvalidInputError):
            await kvm.system.get_log(seek=seek)
        with pytest.raises(InvalidInputError):
            kvm.system.stream_log(seek=seek)


def test_seek_keeps_the_last_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = _log.Journal()
    clock = [1_800_000_000.0]
    monkeypatch.setattr(_log.time, "time", lambda: clock[0])
    journal.write("kvmd.apps.kvmd.server", "old")
    clock[0] += 100
    journal.write("kvmd.apps.kvmd.server", "new")
    clock[0] += 20
    assert [line.rsplit(" --- ", 1)[1] for line in journal.lines(seek=60)] == ["new"]
    assert len(journal.lines(seek=0)) == len(journal.lines(seek=121)) == 2


async def test_follow_streams_new_lines_until_cancelled(emu: Emulator, kvm: PiKVM) -> None:
    seen: list[str] = []
    clicked = asyncio.Event()

    async def follow() -> None:
        async for line in kvm.system.stream_log():
            seen.append(line)
            if "Clicked ATX button 'power'" in line:
                clicked.set()

    task = asyncio.create_task(follow())
    await eventually(lambda: bool(seen))  # the stream is open and the backlog arrived
    await kvm.atx.click_power(wait=True)
    await asyncio.wait_for(clicked.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(JOURNAL_LINE.fullmatch(line) for line in seen)
    # The emulator notices the client left and finishes the response: it is logged then.
    deadline = time.monotonic() + 5
    while "'GET /log?follow=1 HTTP/1.1' => 200" not in await kvm.system.get_log():
        assert time.monotonic() < deadline, "the follow response never ended"
        await asyncio.sleep(0.05)


async def test_follow_has_no_read_timeout(emu: Emulator, kvm: PiKVM) -> None:
    async with PiKVM(emu.url, passwd="admin", timeout=0.1) as impatient:
        lines = impatient.system.stream_log()
        async with contextlib.aclosing(lines):
            first = await anext(lines)
            assert JOURNAL_LINE.fullmatch(first)
            await asyncio.sleep(0.3)  # idle for three times the client's timeout
            await kvm.atx.click_reset(wait=True)
            async for line in lines:
                if "Clicked ATX button 'reset'" in line:
                    break


async def test_stopping_the_emulator_ends_a_follower() -> None:
    emu = Emulator()
    await emu.start()
    async with PiKVM(emu.url, passwd="admin") as kvm:
        count = 0

        async def follow() -> None:
            nonlocal count
            async for _ in kvm.system.stream_log():
                count += 1

        task = asyncio.create_task(follow())
        await eventually(lambda: count > 0)
        await emu.stop()
        await asyncio.wait_for(task, 5)  # ends on its own, without an error
