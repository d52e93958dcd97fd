"""The ways to run the emulator: async, in a thread, as a pytest fixture, as a command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import httpx
import pytest

from aiopikvm.emulator import Emulator, ThreadedEmulator

from .emulator_helpers import ADMIN, eventually, request


def test_fixture_in_a_sync_test(pikvm_emulator: ThreadedEmulator) -> None:
    assert pikvm_emulator.url == f"http://127.0.0.1:{pikvm_emulator.port}"
    with httpx.Client(base_url=pikvm_emulator.url) as client:
        assert client.get("/api/auth/check", auth=("admin", "admin")).status_code == 200
        response = client.post("/api/hid/events/send_key?key=KeyK", headers=ADMIN)
        assert response.status_code == 200
    deadline = time.monotonic() + 5
    while pikvm_emulator.target.screen_text != "k":
        assert time.monotonic() < deadline
        time.sleep(0.005)


async def test_fixture_in_an_async_test(pikvm_emulator: ThreadedEmulator) -> None:
    response = await request(pikvm_emulator, "POST", "/api/hid/events/send_key?key=KeyJ")
    assert response.status_code == 200
    await eventually(lambda: pikvm_emulator.target.screen_text == "j")


@pytest.mark.pikvm_emulator(users={"bob": "hunter2"}, host_powered=False)
def test_fixture_takes_options_from_a_marker(pikvm_emulator: ThreadedEmulator) -> None:
    assert pikvm_emulator.target.powered is False
    with httpx.Client(base_url=pikvm_emulator.url) as client:
        assert client.get("/api/auth/check", auth=("bob", "hunter2")).status_code == 200
        assert client.get("/api/auth/check", auth=("admin", "admin")).status_code == 403


def test_in_thread_reports_a_failed_start() -> None:
    with Emulator.in_thread() as first:
        busy = Emulator.in_thread(port=first.port)
        with pytest.raises(OSError, match="address already in use"):
            busy.start()


async def test_start_stop_and_restart() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    await emu.start()
    with pytest.raises(RuntimeError):
        await emu.start()
    assert (await request(emu, "GET", "/api/auth/check")).status_code == 200
    await emu.stop()
    await emu.stop()  # harmless
    async with emu:
        assert (await request(emu, "GET", "/api/auth/check")).status_code == 200


async def test_command_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiopikvm.emulator",
        "--port",
        "0",
        "--user",
        "bob:s3:cret",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = line.split()[4]
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url) as client:
            headers = {"X-KVMD-User": "bob", "X-KVMD-Passwd": "s3:cret"}
            assert (await client.get("/api/auth/check", headers=headers)).status_code == 200
        process.send_signal(signal.SIGTERM)  # a service manager's stop: a clean exit
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
