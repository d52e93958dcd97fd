"""The emulator's installer (``Emulator(installer=...)``), driven through the public client
as a scenario drives a real machine: power it on, wait for the boot menu, type a boot line,
and watch a real HTTP server get asked for the preseed or kickstart file."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import re
import socket
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aiopikvm import PiKVM, PiKVMWebSocket
from aiopikvm.emulator import Emulator, Installer
from aiopikvm.emulator._installer_fetch import FETCH_LIMIT
from aiopikvm.emulator._installer_screens import KICKSTART_KERNEL_LINE

FAST = {"interval": 0.05, "keep_video": False}
"""The session of :func:`machine` keeps the video on: a wait that opened its own would make
the device drop the keys still queued when it closes, as kvmd does."""
QUICK = {"installer_speed": 20.0, "atx_click_delay": 0.05, "host_powered": False}


class Files:
    """A directory served over HTTP on loopback, the paths it was asked for logged."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        log = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                log.append(self.path)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextlib.contextmanager
    def serving(self) -> Iterator[Files]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()


@pytest.fixture
def files(tmp_path: Path) -> Iterator[Files]:
    (tmp_path / "preseed.cfg").write_text("d-i debian-installer/locale string en_US\n")
    (tmp_path / "ks.cfg").write_text("text\nrootpw --lock\n")
    with Files(tmp_path).serving() as served:
        yield served


@contextlib.asynccontextmanager
async def machine(**kwargs: Any) -> AsyncIterator[tuple[Emulator, PiKVM, PiKVMWebSocket]]:
    async with (
        Emulator(**kwargs) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws(stream=True) as ws,
    ):
        yield emu, kvm, ws


def installer(emu: Emulator) -> Installer:
    assert emu.target.installer is not None
    return emu.target.installer


async def see(kvm: PiKVM, *phrases: str) -> None:
    for phrase in phrases:
        await kvm.wait_for_text(phrase, timeout=10, **FAST)


async def debian_boot(kvm: PiKVM, ws: PiKVMWebSocket, line: str) -> None:
    await kvm.atx.power_on()
    await see(kvm, "Debian GNU/Linux installer menu", "Press ESC for the boot prompt")
    await ws.send_key("Escape")
    await see(kvm, "boot:")  # OCR, as Tesseract, drops the trailing space
    await ws.type_text(line)
    await ws.send_key("Enter")


async def kickstart_boot(kvm: PiKVM, ws: PiKVMWebSocket, typed: str) -> None:
    await kvm.atx.power_on()
    await see(kvm, "Install Red Hat Enterprise Linux", "Press Tab for full configuration options")
    await ws.send_key("Tab")
    await see(kvm, f"> {KICKSTART_KERNEL_LINE}")
    await ws.type_text(typed)
    await ws.send_key("Enter")


async def test_debian_preseed_install(files: Files) -> None:
    url = f"{files.url}/preseed.cfg"
    async with machine(installer="debian", **QUICK) as (emu, kvm, ws):
        assert installer(emu).state == "off"
        await kvm.atx.power_on()
        await see(kvm, "Debian GNU/Linux installer menu")
        await ws.send_key("Escape")
        await see(kvm, "boot:")
        await ws.type_text("install autp")
        await ws.send_key("Backspace")
        await ws.type_text(f"o url={url} locale=en_US.UTF-8")
        await see(kvm, f"boot: install auto url={url}")
        await ws.send_key("Enter")
        await see(kvm, f"Retrieving {url}", "Installing the base system", "Installing software")
        await see(kvm, "Installation complete")
        done = installer(emu)
        assert done.state == "complete"
        assert done.command_line == f"install auto url={url} locale=en_US.UTF-8"
        assert [(fetch.url, fetch.status) for fetch in done.fetched] == [(url, 200)]
    assert files.requests == ["/preseed.cfg"]


async def test_debian_takes_preseed_url_too(files: Files) -> None:
    url = f"{files.url}/preseed.cfg"
    async with machine(installer="debian", **QUICK) as (_, kvm, ws):
        await debian_boot(kvm, ws, f"install preseed/url={url} priority=critical")
        await see(kvm, "Installation complete")
    assert files.requests == ["/preseed.cfg"]


async def test_kickstart_install_after_a_reset(files: Files) -> None:
    url = f"{files.url}/ks.cfg"
    quick = {**QUICK, "host_powered": True}  # on from the start: it boots with the emulator
    async with machine(installer="kickstart", **quick) as (emu, kvm, ws):
        await see(kvm, "Install Red Hat Enterprise Linux")
        await ws.send_key("Tab")
        await see(kvm, "> vmlinuz")
        await kvm.atx.click_reset(wait=True)  # starts over: the menu again, nothing typed
        await see(kvm, "Press Tab for full configuration options")
        assert installer(emu).state == "menu"
        await ws.send_key("Tab")
        await see(kvm, f"> {KICKSTART_KERNEL_LINE}")
        await ws.send_key("Backspace")
        await ws.type_text(f"t inst.text inst.ks={url}")
        await ws.send_key("Enter")
        await see(kvm, f"Retrieving {url}", "Installation complete")
        done = installer(emu)
        assert done.command_line == f"{KICKSTART_KERNEL_LINE} inst.text inst.ks={url}"
        assert [(fetch.url, fetch.status) for fetch in done.fetched] == [(url, 200)]
    assert files.requests == ["/ks.cfg"]


async def test_a_missing_preseed_file_fails(files: Files) -> None:
    url = f"{files.url}/nothing.cfg"
    async with machine(installer="debian", **QUICK) as (emu, kvm, ws):
        await debian_boot(kvm, ws, f"auto url={url}")
        await see(kvm, "Failed to retrieve the preconfiguration file", url)
        assert installer(emu).state == "failed"
        assert [(fetch.url, fetch.status, fetch.ok) for fetch in installer(emu).fetched] == [
            (url, 404, False)
        ]
    assert files.requests == ["/nothing.cfg"]


async def test_a_missing_kickstart_fails(files: Files) -> None:
    url = f"{files.url}/missing-ks.cfg"
    async with machine(installer="kickstart", **QUICK) as (emu, kvm, ws):
        await kickstart_boot(kvm, ws, f" inst.ks={url}")
        await see(kvm, f"Failed to fetch kickstart from {url}")
        assert installer(emu).state == "failed"
        assert [(fetch.url, fetch.status) for fetch in installer(emu).fetched] == [(url, 404)]


async def test_an_answer_over_the_size_limit_fails(files: Files, tmp_path: Path) -> None:
    (tmp_path / "huge.cfg").write_bytes(b"#" * (FETCH_LIMIT + 1))
    url = f"{files.url}/huge.cfg"
    async with machine(installer="kickstart", **QUICK) as (emu, kvm, ws):
        await kickstart_boot(kvm, ws, f" inst.ks={url}")
        await see(kvm, f"Failed to fetch kickstart from {url}")
        [fetch] = installer(emu).fetched
        assert (fetch.status, fetch.error) == (200, f"larger than {FETCH_LIMIT} bytes")


async def test_a_server_that_does_not_answer_fails() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/preseed.cfg"
        quick = {**QUICK, "installer_fetch_timeout": 0.5}
        async with machine(installer="debian", **quick) as (emu, kvm, ws):
            await debian_boot(kvm, ws, f"auto url={url}")
            await see(kvm, "Failed to retrieve the preconfiguration file")
            [fetch] = installer(emu).fetched
            assert (fetch.status, fetch.error) == (None, "no answer within 0.5 s")


async def test_a_server_that_is_not_there_fails() -> None:
    with Files(Path(".")).serving() as gone:
        url = f"{gone.url}/ks.cfg"  # its port, closed once it stopped
    async with machine(installer="kickstart", **QUICK) as (emu, kvm, ws):
        await kickstart_boot(kvm, ws, f" ks={url}")
        await see(kvm, f"Failed to fetch kickstart from {url}")
        [fetch] = installer(emu).fetched
        assert (fetch.url, fetch.status) == (url, None)
        assert fetch.error == "cannot connect: connection refused"


@pytest.mark.parametrize("kind", ["debian", "kickstart"])
async def test_the_boot_menu_times_out_to_the_interactive_installer(
    files: Files, kind: str
) -> None:
    async with machine(installer=kind, installer_boot_timeout=0.5, **QUICK) as (emu, kvm, ws):
        await kvm.atx.power_on()
        # No key pressed: only the menu's countdown leads here (a wait for the menu itself
        # could miss its half second on a loaded machine).
        await see(kvm, "Select a language")
        assert installer(emu).state == "interactive"
        await ws.send_key("Escape")  # too late: nothing it types is a boot line any more
        await ws.send_key("Tab")
        await ws.type_text(f"auto url={files.url}/preseed.cfg\n")
        await see(kvm, "Select a language")
        assert installer(emu).fetched == [] and installer(emu).command_line is None
    assert files.requests == []


async def test_debian_typed_with_the_wrong_layout_fails(files: Files) -> None:
    # Typed for en-us on a German target: "=" is a dead key there, ":" an "Ö", "/" a "-".
    typed = f"install auto url={files.url}/preseed.cfg"
    async with machine(installer="debian", target_layout="de", **QUICK) as (emu, kvm, ws):
        await debian_boot(kvm, ws, typed)
        await see(kvm, "Failed to retrieve the preconfiguration file")
        line = installer(emu).command_line
        assert line is not None and line.startswith("install auto url") and line != typed
        assert installer(emu).state == "failed"
    assert files.requests == []


async def test_kickstart_typed_with_the_wrong_layout_installs_nothing(files: Files) -> None:
    # Anaconda ignores the garbled inst.ks (no "=" left) and asks its questions.
    async with machine(installer="kickstart", target_layout="de", **QUICK) as (emu, kvm, ws):
        await kickstart_boot(kvm, ws, f" inst.ks={files.url}/ks.cfg")
        await see(kvm, "Select a language")
        assert installer(emu).fetched == []
    assert files.requests == []


async def test_a_garbled_url_is_not_fetched() -> None:
    async with machine(installer="debian", target_layout="fr", **QUICK) as (emu, kvm, ws):
        # AZERTY keeps "expert url=" but not the URL: "http://" arrives as "httpM!!".
        await debian_boot(kvm, ws, "expert url=http://127.0.0.1/preseed.cfg")
        await see(kvm, "Failed to retrieve the preconfiguration file")
        [fetch] = installer(emu).fetched
        assert fetch.url.startswith("httpM!!") and fetch.status is None


async def test_an_unknown_label_asks_again() -> None:
    async with machine(installer="debian", **QUICK) as (emu, kvm, ws):
        await debian_boot(kvm, ws, "instal auto")
        await see(kvm, "Could not find kernel image: instal")
        assert installer(emu).state == "prompt"


async def test_without_an_installer_the_console_is_unchanged() -> None:
    async with machine(host_powered=False, atx_click_delay=0.05) as (emu, kvm, ws):
        assert emu.target.installer is None
        await kvm.atx.power_on(wait=True)
        await kvm.atx.click_reset(wait=True)
        await ws.type_text("ab")
        await ws.send_key("Escape")
        await ws.send_key("Backspace")
        await ws.type_text("c")
        await see(kvm, "ac")
        assert emu.target.screen_text == "ac"


def test_bad_installer_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="choose 'debian', 'kickstart' or 'ubuntu'"):
        Emulator(installer="windows")
    with pytest.raises(ValueError, match="installer_boot_timeout"):
        Emulator(installer="debian", installer_boot_timeout=-1)
    with pytest.raises(ValueError, match="installer_speed"):
        Emulator(installer="kickstart", installer_speed=0)
    with pytest.raises(ValueError, match="installer_fetch_timeout"):
        Emulator(installer="kickstart", installer_fetch_timeout=math.inf)


async def test_the_command_line_flags() -> None:
    """``pikvm emulator --installer ...`` (the real entry point, which hands over to
    ``pikvm-emulator``) on a German target, against a server that never answers."""
    flags = ["--installer", "kickstart", "--installer-boot-timeout", "30"]
    flags += ["--installer-speed", "20", "--installer-fetch-timeout", "0.5"]
    flags += ["--target-layout", "de", "--host-off"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiopikvm",
        "emulator",
        "--port",
        "0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    ks = f"http://127.0.0.1:{silent.getsockname()[1]}/ks.cfg"
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().split()[4]
        async with PiKVM(url, passwd="admin") as kvm, kvm.ws(stream=True) as ws:
            await kvm.atx.power_on()
            await see(kvm, "Install Red Hat Enterprise Linux")
            countdown = re.compile("Automatic boot in (30|29|28) seconds")
            await kvm.wait_for_text(countdown, timeout=10, **FAST)
            await ws.send_key("Tab")
            await ws.type_text(" yz")
            await see(kvm, "quiet zy")
            await ws.type_text(f" inst.ks={ks}", layout="de")  # typed for its layout: intact
            await ws.send_key("Enter")
            await see(kvm, f"Failed to fetch kickstart from {ks}", "no answer within 0.5 s")
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        silent.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


# ----- Ubuntu ---------------------------------------------------------------------------


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[Files]:
    (tmp_path / "user-data").write_text("#cloud-config\nautoinstall:\n  version: 1\n")
    (tmp_path / "meta-data").write_text("instance-id: test\n")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "user-data").write_text("#cloud-config\nhostname: x\n")
    (tmp_path / "plain" / "meta-data").write_text("")
    with Files(tmp_path).serving() as served:
        yield served


async def grub_edit(kvm: PiKVM, ws: PiKVMWebSocket, typed: str) -> None:
    """Power on, open the first entry in GRUB's editor, append ``typed`` to its linux line."""
    await kvm.atx.power_on()
    await see(kvm, "GNU GRUB", "Try or Install Ubuntu Server")
    await ws.type_text("e")
    await see(kvm, "Press Ctrl-x or F10 to boot")
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "End"):
        await ws.send_key(key)
    await ws.type_text(typed)


async def test_ubuntu_autoinstall_from_grub(seed: Files) -> None:
    async with machine(installer="ubuntu", **QUICK) as (emu, kvm, ws):
        await grub_edit(kvm, ws, f" autoinstall ds=nocloud\\;s={seed.url}/x")
        await ws.send_key("Backspace")  # the editor's own Backspace
        await see(kvm, f"linux /casper/vmlinuz --- autoinstall ds=nocloud\\;s={seed.url}/")
        await ws.send_shortcut("ControlLeft", "KeyX")  # GRUB boots the edited entry
        await see(kvm, "Install complete!")
        done = installer(emu)
        assert done.state == "complete"
        assert done.command_line == f"--- autoinstall ds=nocloud;s={seed.url}/"
        assert [(f.url, f.status) for f in done.fetched] == [
            (f"{seed.url}/user-data", 200),
            (f"{seed.url}/meta-data", 200),
        ]
    assert seed.requests == ["/user-data", "/meta-data"]


async def test_ubuntu_asks_before_an_autoinstall_the_kernel_line_did_not_confirm(
    seed: Files,
) -> None:
    async with machine(installer="ubuntu", **QUICK) as (emu, kvm, ws):
        await grub_edit(kvm, ws, f' "ds=nocloud;s={seed.url}/"')
        await ws.send_key("F10")
        await see(kvm, "Continue with autoinstall? (yes|no)")
        assert installer(emu).state == "confirm"
        await ws.type_text("yes\n")
        await see(kvm, "Install complete!")


async def test_ubuntu_without_a_seed_or_its_autoinstall_goes_interactive(seed: Files) -> None:
    async with machine(installer="ubuntu", **QUICK) as (emu, kvm, ws):
        await grub_edit(kvm, ws, f" autoinstall ds=nocloud\\;s={seed.url}/plain/")
        await ws.send_key("F10")
        await see(kvm, "select your language")
        assert installer(emu).state == "interactive"  # a seed with no autoinstall section
        await kvm.atx.reset_hard()
        await grub_edit(kvm, ws, f" autoinstall ds=nocloud\\;s={seed.url}/missing/")
        await ws.send_key("F10")
        await see(kvm, "url_helper.py[WARNING]", "select your language")
        assert installer(emu).state == "failed"
        assert [f.status for f in installer(emu).fetched][-1] == 404
        await kvm.atx.reset_hard()
        await grub_edit(kvm, ws, " autoinstall")
        await ws.send_key("Escape")  # the edits discarded
        await see(kvm, "Use the Up and Down keys")
        await ws.send_key("ArrowDown")
        await ws.send_key("Enter")  # the HWE entry, unedited: no seed
        await see(kvm, "select your language")
        assert installer(emu).command_line == "---"
