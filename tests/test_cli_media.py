"""``pikvm`` screen, virtual media, stream, emulator and completion commands, through the
real entry point against the emulator (in-process, and as subprocesses where a signal, a
binary stdout or a process of its own is the point)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiopikvm.emulator import Emulator, ThreadedEmulator

from .cli_helpers import SRC, Cli, run_subprocess
from .conftest import eventually

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return Cli(capsys, monkeypatch, tmp_path)


@pytest.fixture
def device() -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(hid_delay=0.001) as emu:
        yield emu


def _env(emu: Emulator | ThreadedEmulator) -> dict[str, str]:
    return {"PIKVM_URL": emu.url, "PIKVM_PASSWD": "admin"}


def _python_env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIKVM_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), clean.get("PYTHONPATH")]))
    return clean


# ----- screenshot and OCR -------------------------------------------------------------------


def test_help_lists_the_media_commands(cli: Cli) -> None:
    ran = cli("--help")
    assert ran.code == 0
    for command in ("screenshot", "ocr", "wait", "msd", "events", "log", "emulator", "completion"):
        assert f"  {command} " in ran.out


def test_screenshot_is_png_or_jpeg_by_the_extension(
    cli: Cli, device: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(device)
    png, jpeg = tmp_path / "screen.png", tmp_path / "screen.JPG"
    ran = cli("screenshot", "-o", str(png), "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == {"file": str(png), "format": "png", "bytes": png.stat().st_size}
    assert png.read_bytes().startswith(PNG)
    ran = cli("screenshot", "-o", str(jpeg))
    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"saved {jpeg} (jpeg, ")
    assert jpeg.read_bytes().startswith(JPEG)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pikvm-")] == []


def test_screenshot_to_stdout_writes_only_the_picture(device: ThreadedEmulator) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aiopikvm", "screenshot", "-o", "-"],
        env={**_python_env(), **_env(device)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(JPEG) and done.stdout.endswith(b"\xff\xd9")


def test_screenshot_refuses_an_unknown_extension_before_connecting(
    cli: Cli, device: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(device)
    ran = cli("screenshot", "-o", str(tmp_path / "screen.gif"))
    assert ran.code == 2
    assert "name a .png, .jpg or .jpeg file" in ran.err
    assert device.emulator.faults.count() == 0


def test_screenshot_without_video_times_out_with_code_6(cli: Cli, tmp_path: Path) -> None:
    with Emulator.in_thread(host_powered=False) as emu:
        cli.device(emu)
        ran = cli("screenshot", "-o", str(tmp_path / "s.png"), "--video-timeout", "0.3")
    assert ran.code == 6
    assert "no video came up within 0.3 s" in ran.err
    assert list(tmp_path.iterdir()) == []


def test_ocr_reads_the_screen_and_a_region(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    device.target.write("hello pikvm")
    ran = cli("ocr", "--json")
    assert ran.code == 0, ran.err
    assert "hello pikvm" in ran.json()["text"]
    # The emulator's console: 16 x 24 pixel cells, so five cells are "hello".
    assert cli("ocr", "--region", "0,0,80,24").out.strip() == "hello"
    assert cli("ocr", "--langs", "eng", "--region", "96,0,176,24").out.strip() == "pikvm"
    bad = cli("ocr", "--region", "1,2")
    assert bad.code == 2 and "--region is LEFT,TOP,RIGHT,BOTTOM" in bad.err


# ----- waits --------------------------------------------------------------------------------


def test_wait_text_finds_a_substring_or_a_regex(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    device.target.write("login: ")
    ran = cli("wait", "text", "login:", "--json", "--timeout", "30")
    assert ran.code == 0, ran.err
    assert ran.json()["found"] == "login:"
    ran = cli("wait", "text", "--regex", r"log\w+", "--timeout", "30")
    assert ran.code == 0 and ran.out == "found 'login'\n"
    assert cli("wait", "text", "--regex", "(", "--timeout", "1").code == 2


def test_wait_text_times_out_with_code_6_and_saves_the_last_screen(
    cli: Cli, device: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(device)
    saved = tmp_path / "last.jpg"
    ran = cli("wait", "text", "no where.", "--timeout", "0.5", "--save", str(saved))
    assert ran.code == 6
    # The text as the user gave it, not as the regular expression it became.
    assert "'no where.' did not appear on the screen within 0.5 s" in ran.err
    assert saved.read_bytes().startswith(JPEG)


def test_wait_stable_and_change(cli: Cli, device: ThreadedEmulator, tmp_path: Path) -> None:
    cli.device(device)
    ran = cli("wait", "stable", "--duration", "0.2", "--timeout", "30", "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["stable"] is True
    ran = cli("wait", "change", "--timeout", "0.5")
    assert ran.code == 6 and "the screen did not change within 0.5 s" in ran.err

    done = threading.Event()

    def typing() -> None:  # the host prints until the wait has seen it
        while not done.wait(0.05):
            device.target.write("x")

    writer = threading.Thread(target=typing)
    writer.start()
    try:
        ran = cli("wait", "change", "--timeout", "30", "--save", str(tmp_path / "new.jpg"))
    finally:
        done.set()
        writer.join()
    assert ran.code == 0, ran.err
    assert ran.out == "changed\n"
    assert (tmp_path / "new.jpg").read_bytes().startswith(JPEG)


# ----- virtual media ------------------------------------------------------------------------


def _images(cli: Cli) -> dict[str, dict[str, object]]:
    ran = cli("msd", "list", "--json")
    assert ran.code == 0, ran.err
    return {image["name"]: image for image in ran.json()["images"]}


def test_msd_upload_connect_download_remove(
    cli: Cli, device: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(device)
    iso = tmp_path / "debian.iso"
    iso.write_bytes(os.urandom(700_000))
    ran = cli("msd", "upload", str(iso), "--connect", "--cdrom", "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == {
        "image": {"name": "debian.iso", "size": 700_000, "written": 700_000},
        "connected": True,
    }
    assert "uploading debian.iso" in ran.err  # the progress bar, on stderr
    assert ran.out.count("\n") == 1  # and one document on stdout
    listed = cli("msd", "list", "--json").json()
    assert listed["drive"] == {"image": "debian.iso", "connected": True, "cdrom": True, "rw": False}
    assert (
        cli("msd", "list").out
        == "debian.iso  700.0 kB  connected\ndrive: CD-ROM, connected: debian.iso\n"
    )

    # kvmd changes nothing while the drive is plugged in: said with what to do.
    ran = cli("msd", "remove", "debian.iso")
    assert ran.code == 1 and "MsdConnectedError" in ran.err and "pikvm msd disconnect" in ran.err
    assert cli("msd", "disconnect", "--json").json()["drive"]["connected"] is False

    again = cli("msd", "upload", str(iso))
    assert again.code == 1 and "give --replace, or --name" in again.err
    ran = cli("msd", "upload", str(iso), "--replace", "--name", "debian.iso", "-q")
    assert ran.code == 0 and ran.out == "uploaded debian.iso (700000 bytes)\n"
    assert ran.err == ""  # --quiet: no progress bar

    back = tmp_path / "back.iso"
    ran = cli("msd", "download", "debian.iso", "-o", str(back), "--json")
    assert ran.code == 0, ran.err
    assert ran.json() == {"image": "debian.iso", "file": str(back), "bytes": 700_000}
    assert back.read_bytes() == iso.read_bytes()
    if os.name == "posix":  # the mode open() gives a new file, not a temporary file's 0600
        mask = os.umask(0)
        os.umask(mask)
        assert back.stat().st_mode & 0o777 == 0o666 & ~mask

    ran = cli("msd", "connect", "debian.iso", "--flash", "--json")
    assert ran.code == 0 and ran.json()["drive"]["cdrom"] is False
    cli("msd", "disconnect")
    assert cli("msd", "remove", "debian.iso", "--json").json() == {"removed": "debian.iso"}
    assert _images(cli) == {}  # gone from the listing when the command returns


def test_msd_a_missing_image_is_code_4(cli: Cli, device: ThreadedEmulator, tmp_path: Path) -> None:
    cli.device(device)
    for args in (
        ("msd", "remove", "nothing.iso"),
        ("msd", "connect", "nothing.iso"),
        ("msd", "download", "nothing.iso", "-o", str(tmp_path / "x.iso")),
    ):
        ran = cli(*args)
        assert ran.code == 4, (args, ran.err)
        assert ran.err.startswith("pikvm: error: ") and ran.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no file for a download that did not happen


def test_msd_upload_of_a_missing_file_is_a_usage_error(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("msd", "upload", "/nonexistent/debian.iso")
    assert ran.code == 2 and "does not exist" in ran.err
    assert device.emulator.faults.count() == 0


async def _cli_async(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiopikvm",
        *args,
        env={**_python_env(), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_msd_busy_is_code_5(tmp_path: Path) -> None:
    """While an upload runs kvmd answers any other MSD operation with 409."""
    from aiopikvm import PiKVM

    more = asyncio.Event()

    async def slow_source() -> object:
        yield b"x" * 65536
        await more.wait()
        yield b"x" * 65536

    iso = tmp_path / "other.iso"
    iso.write_bytes(b"y" * 1000)
    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm:
        upload = asyncio.create_task(kvm.msd.upload("slow.iso", slow_source(), size=131072))
        # A remote state to poll: no event to wait on.
        while (await kvm.msd.get_state()).storage.uploading is None:  # type: ignore[union-attr]  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        env = _env(emu)
        for args in (("msd", "remove", "slow.iso"), ("msd", "upload", str(iso))):
            code, out, err = await _cli_async(env, *args)
            assert code == 5, (args, err)
            assert "MsdIsBusyError" in err and out == ""
        more.set()
        await upload


@POSIX
async def test_ctrl_c_during_an_upload_leaves_no_image(tmp_path: Path) -> None:
    """SIGINT mid-upload: exit code 130, and the device deletes the part it got (the
    upload asked for remove_incomplete). The emulator holds the request, so the client is
    still sending the body when the signal comes."""
    from aiopikvm import PiKVM

    storage = tmp_path / "storage"
    storage.mkdir()
    iso = tmp_path / "big.iso"
    iso.write_bytes(os.urandom(16 * 1024 * 1024))  # more than the socket buffers hold
    async with Emulator(msd_dir=storage) as emu:
        emu.faults.delay("msd/write", 120)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aiopikvm",
            "msd",
            "upload",
            str(iso),
            env={**_python_env(), **_env(emu)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await eventually(lambda: emu.faults.count("msd/write") > 0, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 130, err
        assert b"the device deletes the part it got" in err and b"interrupted" in err
        assert out == b""
        emu.faults.release_held()  # kvmd would have been reading the body all along
        async with PiKVM(emu.url, passwd="admin") as kvm:
            # Until the upload's handler is done and the storage watcher has looked.
            settled = time.monotonic() + 10
            while time.monotonic() < settled:
                state = await kvm.msd.get_state()
                assert state.storage is not None
                if not state.busy and "big.iso" not in state.storage.images:
                    break
                await asyncio.sleep(0.05)
        code, out_text, err_text = await _cli_async(_env(emu), "msd", "list", "--json")
        assert code == 0, err_text
        listed = json.loads(out_text)
        assert listed["busy"] is False
        assert [image["name"] for image in listed["images"]] == []
        assert sorted(p.name for p in storage.iterdir()) == []


# ----- events and the log -------------------------------------------------------------------


def test_events_as_ndjson_and_as_lines(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("events", "--count", "3", "--json")
    assert ran.code == 0, ran.err
    lines = [json.loads(line) for line in ran.out.splitlines()]
    assert len(lines) == 3
    assert lines[0] == {"event_type": "loop", "event": {"version": {"major": 4, "minor": 206}}}
    ran = cli("events", "--count", "1", "--type", "atx")
    assert ran.code == 0 and ran.out.startswith('atx: {"enabled": true')
    assert ran.out.count("\n") == 1


def test_events_follow_a_reconnect(device: ThreadedEmulator) -> None:
    device.emulator.faults.drop_ws(2, counting="sent")  # the first session dies early
    done = run_subprocess(
        ["events", "--json", "--type", "reconnected", "--count", "1"], _env(device)
    )
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert event["event_type"] == "reconnected" and event["event"]["attempts"] >= 1


def test_log_all_and_followed(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("log", "--json")
    assert ran.code == 0, ran.err
    lines = ran.json()
    assert isinstance(lines, list) and any("Authorized user 'admin'" in line for line in lines)
    assert len(cli("log", "--count", "2").out.splitlines()) == 2
    ran = cli("log", "--follow", "--count", "2", "--json", "--seek", "3600")
    assert ran.code == 0, ran.err
    assert all(isinstance(json.loads(line), str) for line in ran.out.splitlines())
    assert len(ran.out.splitlines()) == 2


def test_log_on_a_device_without_a_log_reader(cli: Cli) -> None:
    with Emulator.in_thread(log_enabled=False) as emu:
        cli.device(emu)
        ran = cli("log")
    assert ran.code == 1 and "LogReaderDisabledError" in ran.err


def test_events_and_log_take_one_device(cli: Cli, device: ThreadedEmulator) -> None:
    cli.config.write_text(
        f'[devices.a]\nurl = "{device.url}"\n[devices.b]\nurl = "{device.url}"\n', "utf-8"
    )
    cli.env(PIKVM_PASSWD="admin")
    ran = cli("--device", "a,b", "events")
    assert ran.code == 2 and "one device at a time" in ran.err


# ----- the emulator and completion ----------------------------------------------------------


@POSIX
def test_pikvm_emulator_serves_one_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiopikvm", "emulator", "--port", "0", "--host-off"],
        env=_python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PiKVM emulator listening on http://127.0.0.1:"), line
        url = line.split()[4]
        done = run_subprocess(
            ["power", "status", "--json"], {"PIKVM_URL": url, "PIKVM_PASSWD": "admin"}
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["power"] is False  # its own flag: --host-off
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_pikvm_emulator_help_is_the_emulators() -> None:
    done = run_subprocess(["emulator", "--help"], {})
    assert done.returncode == 0, done.stderr
    assert "--drop-ws-after" in done.stdout and "--msd-dir" in done.stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "_PIKVM_COMPLETE=bash_complete"),
        ("zsh", "#compdef pikvm"),
        ("fish", "_PIKVM_COMPLETE=fish_complete"),
    ],
)
def test_completion_prints_the_script(cli: Cli, shell: str, marker: str) -> None:
    ran = cli("completion", shell)
    assert ran.code == 0, ran.err
    assert marker in ran.out


def test_completion_of_an_unknown_shell_is_a_usage_error(cli: Cli) -> None:
    ran = cli("completion", "tcsh")
    assert ran.code == 2 and "'tcsh' is not one of" in ran.err


@pytest.mark.parametrize(
    ("shell", "words", "cword", "expected"),
    [
        ("bash", "pikvm ms", "1", "plain,msd"),
        ("zsh", "pikvm msd up", "2", "plain\nupload\n"),
        ("fish", "pikvm msd up", "up", "plain,upload"),
        ("bash", "pikvm completion ", "2", "plain,bash\nplain,fish\nplain,zsh"),
    ],
)
def test_completion_completes_commands(shell: str, words: str, cword: str, expected: str) -> None:
    """What the printed script asks the command for, answered by the real entry point."""
    done = run_subprocess(
        [], {"_PIKVM_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
