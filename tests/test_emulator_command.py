"""The emulator's command, ``python -m aiopikvm.emulator``, run as a user runs it: its
configuration flags and its fault-injection flags, seen through the public client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from aiopikvm import (
    AuthError,
    BadRequestError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    UnavailableError,
)
from aiopikvm.emulator.__main__ import main
from aiopikvm.emulator._faults import MALFORMED_FRAMES

from .emulator_helpers import recv, ws_connect
from .test_faults import read_until_dropped


@dataclass(frozen=True)
class Running:
    """What the command printed on start-up."""

    url: str
    ca_file: str | None = None


# How the command starts when the test sends it Ctrl-C: with SIGINT's Python handler back,
# since a process started with SIGINT ignored (a shell's background job) keeps ignoring it.
_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " runpy.run_module('aiopikvm.emulator', run_name='__main__', alter_sys=True)"
)


@contextlib.asynccontextmanager
async def command(
    *flags: str, stop: signal.Signals = signal.SIGTERM, env: dict[str, str] | None = None
) -> AsyncIterator[Running]:
    """``pikvm-emulator --port 0 FLAGS`` in a process of its own; ``stop`` sent at the end
    (SIGTERM, as a service manager stops it; SIGINT is Ctrl-C), and it must exit with 0."""
    start = ["-c", _WITH_CTRL_C] if stop == signal.SIGINT else ["-m", "aiopikvm.emulator"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *start,
        "--port",
        "0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # its log; unread, a pipe could fill and block it
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().split()[4]
        ca_file = None
        if "--tls" in flags:
            await process.stdout.readline()  # the fingerprint
            ca_file = (await process.stdout.readline()).decode().split()[-1].rstrip(")")
        yield Running(url, ca_file)
        process.send_signal(stop)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_configuration_flags(tmp_path: Path) -> None:
    scheme = {"relay": {"mode": "output"}, "door": {"mode": "input", "state": True}}
    (tmp_path / "gpio.json").write_text(json.dumps(scheme))
    flags = ["--user", "bob:s3cret", "--gpio", str(tmp_path / "gpio.json"), "--screen", "800x600"]
    flags += ["--clock", "--seed", "3"]
    disabled = ["--no-atx", "--no-msd", "--no-log", "--no-ocr"]
    async with command(*flags, *disabled) as device:
        async with PiKVM(device.url, user="bob", passwd="s3cret") as kvm:
            gpio = await kvm.gpio.get_state()
            atx = await kvm.atx.get_state()
            msd = await kvm.msd.get_state()
            ocr = await kvm.streamer.get_ocr_info()
            refusals = []
            for call in (
                kvm.atx.click_power(),
                kvm.msd.set_connected(True),
                kvm.system.get_log(),
            ):
                with pytest.raises(BadRequestError) as caught:
                    await call
                refusals.append(caught.value.error)
            async with kvm.ws(stream=True):
                snapshot = await _first_snapshot(kvm)
                with pytest.raises(BadRequestError) as no_ocr:
                    await kvm.streamer.ocr()
        async with PiKVM(device.url, passwd="admin") as default_user:
            with pytest.raises(AuthError):
                await default_user.auth.check()
    assert set(gpio.model.scheme.outputs) == {"relay"}
    assert set(gpio.model.scheme.inputs) == {"door"} and gpio.state.inputs["door"].state is True
    assert (atx.enabled, msd.enabled, ocr.enabled) == (False, False, False)
    assert refusals == ["AtxDisabledError", "MsdDisabledError", "LogReaderDisabledError"]
    assert no_ocr.value.error == "OcrError"
    assert snapshot[:2] == b"\xff\xd8" and _jpeg_size(snapshot) == (800, 600)
    with Image.open(BytesIO(snapshot)) as image:  # the clock, in the top right cells
        assert image.convert("L").crop((800 - 8 * 16, 0, 800, 24)).getextrema()[1] > 150
        assert image.convert("L").crop((0, 24, 800, 600)).getextrema()[1] < 100  # nothing else


async def _first_snapshot(kvm: PiKVM) -> bytes:
    """A snapshot, once the streamer a ``stream=1`` session started has the signal."""
    for _ in range(500):
        with contextlib.suppress(UnavailableError):
            return await kvm.streamer.snapshot()
        await asyncio.sleep(0.01)
    raise AssertionError("no video")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        return image.size


async def test_images_go_to_the_msd_dir(tmp_path: Path) -> None:
    async with (
        command("--msd-dir", str(tmp_path)) as device,
        PiKVM(device.url, passwd="admin") as kvm,
    ):
        await kvm.msd.upload("disk.img", b"\x55" * 4096)
    assert (tmp_path / "disk.img").read_bytes() == b"\x55" * 4096


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_stop_signal_leaves_no_temporary_files(
    tmp_path: Path, stop: signal.Signals
) -> None:
    async with command("--tls", stop=stop, env={"TMPDIR": str(tmp_path)}) as device:
        assert device.ca_file is not None and Path(device.ca_file).is_relative_to(tmp_path)
        made = {name.rsplit("-", 1)[0] for name in os.listdir(tmp_path)}
        assert made == {"aiopikvm-msd", "pikvm-emulator"}  # the MSD storage, the CA file
    assert os.listdir(tmp_path) == []


async def test_fault_flags(tmp_path: Path) -> None:
    flags = ["--tls", "--seed", "3", "--fail", "hid:503:1", "--delay", "auth/check:30"]
    async with (
        command(*flags, "--drop-ws-after", "0", "--drop-ws-clean") as device,
        PiKVM(device.url, passwd="admin", verify_ssl=device.ca_file, timeout=0.3) as kvm,
    ):
        with pytest.raises(UnavailableError):
            await kvm.hid.get_state()
        assert (await kvm.hid.get_state()).online
        with pytest.raises(PiKVMTimeoutError):
            await kvm.auth.check()
        async with kvm.ws() as ws:
            _, dropped = await read_until_dropped(ws)
    assert device.url.startswith("https://") and dropped.code == 1000


async def test_drop_every_cuts_sessions_and_nothing_else() -> None:
    async with (
        command("--drop-ws-every", "0.1") as device,
        PiKVM(device.url, passwd="admin") as kvm,
    ):
        await kvm.auth.login()
        for _ in range(2):  # again and again, not once
            async with kvm.ws() as ws:
                _, dropped = await read_until_dropped(ws)
            assert dropped.code == 1006  # a dead link: no close frame
        await kvm.auth.check()  # the same device: its session cookie still holds


async def test_reboot_every_forgets_sessions() -> None:
    async with (
        command("--reboot-every", "0.2", "--reboot-downtime", "0.05") as device,
        PiKVM(device.url, passwd="admin") as kvm,
    ):
        await kvm.auth.login()

        async def forgotten() -> bool:
            try:
                await kvm.auth.check()
            except PiKVMConnectionError:
                return False  # down for the reboot
            except AuthError:
                return True  # back up, and the cookie means nothing to it
            return False

        for _ in range(500):
            if await forgotten():
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the device never rebooted")


async def test_malformed_every_sends_every_kind() -> None:
    wanted = set(MALFORMED_FRAMES.values())
    seen: set[str | bytes] = set()
    async with command("--malformed-every", "0.05") as device, ws_connect(device) as ws:  # type: ignore[arg-type]
        while not wanted <= seen:
            seen.add(await recv(ws))


def test_bad_flags_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text('{"relay": {"mode": "sideways"}}')
    for bad in (
        ["--fail", "hid"],
        ["--delay", "hid:soon"],
        ["--drop-ws-after", "x-y"],
        ["--drop-ws-every", "0"],
        ["--reboot-downtime", "-1"],
        ["--screen", "800"],
        ["--screen", "0x600"],
        ["--gpio", str(tmp_path / "missing.json")],
        ["--gpio", str(tmp_path / "bad.json")],
        ["--msd-dir", str(tmp_path / "missing")],
    ):
        with pytest.raises(SystemExit) as caught:
            main(bad)
        assert caught.value.code == 2, bad
        assert "error:" in capsys.readouterr().err, bad


def test_a_taken_port_is_one_line_and_exit_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--port 0" in err
    assert "Traceback" not in err
