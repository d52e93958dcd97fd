"""``pikvm``: every command through its real entry point against the emulator, in-process
(``aiopikvm.cli.main``) and a few as subprocesses."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiopikvm.emulator import Emulator, ThreadedEmulator

from .cli_helpers import Cli, run_subprocess


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return Cli(capsys, monkeypatch, tmp_path)


@pytest.fixture
def device() -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(hid_delay=0.001) as emu:
        yield emu


def _until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("the target never showed it")
        time.sleep(0.01)


# ----- the entry points -------------------------------------------------------------------


def test_python_m_aiopikvm_lists_every_command() -> None:
    done = run_subprocess(["--help"], {})
    assert done.returncode == 0, done.stderr
    for command in ("config", "info", "power", "key", "shortcut", "type", "mouse", "gpio"):
        assert f"  {command} " in done.stdout


def test_a_subprocess_talks_to_a_device_and_prints_one_json_document(
    device: ThreadedEmulator,
) -> None:
    done = run_subprocess(
        ["power", "status", "--json"], {"PIKVM_URL": device.url, "PIKVM_PASSWD": "admin"}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"power": True, "hdd": False, "busy": False}


def test_no_device_named_is_a_usage_error(cli: Cli) -> None:
    ran = cli("info")
    assert ran.code == 2
    assert ran.out == ""
    assert "no device: give --url URL (or PIKVM_URL)" in ran.err
    assert "Traceback" not in ran.err


def test_a_bad_flag_is_a_usage_error_with_where_to_look(cli: Cli) -> None:
    ran = cli("power", "on", "--wiat")
    assert ran.code == 2
    assert "No such option" in ran.err and "--wiat" in ran.err  # worded per click version
    assert "(see `pikvm power on --help`)" in ran.err


# ----- device commands --------------------------------------------------------------------


def test_info_in_words_and_in_json(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    assert cli("info").out == "kvmd 4.206 on rpi\n"
    ran = cli("--json", "info")
    assert ran.code == 0
    assert ran.json()["system"]["kvmd"]["version"] == "4.206"


def test_power_on_waits_for_the_led(cli: Cli) -> None:
    with Emulator.in_thread(host_powered=False) as emu:
        cli.device(emu)
        assert cli("power", "status").out == "off\n"
        ran = cli("power", "on", "--wait", "--json")
        assert ran.code == 0, ran.err
        assert ran.json()["power"] is True
        assert cli("power", "status", "--wait", "on").out == "on\n"
        ran = cli("power", "status", "--wait", "off", "--wait-timeout", "0.5")
        assert ran.code == 6
        assert "the power LED was not off within 0.5 s" in ran.err


def test_gpio_metrics_redfish_and_switch(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("--json", "gpio", "list")
    assert ran.code == 0 and "outputs" in ran.json()["state"]
    assert cli("metrics").out.startswith("# ")
    samples = cli("metrics", "--json").json()
    assert any(sample["name"] == "pikvm_atx_enabled" for sample in samples)
    assert cli("redfish").out == "power: On\n"
    assert cli("switch").code == 0


def test_a_wrong_password_is_one_line_with_a_hint_and_exit_code_3(
    cli: Cli, device: ThreadedEmulator
) -> None:
    cli.device(device, passwd="wrong")
    ran = cli("info")
    assert ran.code == 3
    assert ran.err.count("\n") == 1 and "check user 'admin' and the password" in ran.err
    assert "wrong" not in ran.err
    debug = cli("--debug", "info")
    assert debug.code == 3 and "Traceback" in debug.err and "wrong" not in debug.err


def test_an_unreachable_device_is_exit_code_7(cli: Cli) -> None:
    cli.env(PIKVM_URL="http://127.0.0.1:9", PIKVM_PASSWD="x")
    ran = cli("info")
    assert ran.code == 7 and "cannot reach the device" in ran.err


# ----- keyboard and mouse -----------------------------------------------------------------


def test_keys_and_shortcuts_by_friendly_names(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    assert cli("key", "a", "enter", "F2").out == "KeyA Enter F2\n"
    assert cli("shortcut", "ctrl+alt+del").out == "ControlLeft+AltLeft+Delete\n"
    pressed = [e[1] for e in device.target.events if e[0] == "key" and e[2]]
    _until(
        lambda: (
            [e[1] for e in device.target.events if e[0] == "key" and e[2]][-3:]
            == ["ControlLeft", "AltLeft", "Delete"]
        )
    )
    assert pressed[:3] == ["KeyA", "Enter", "F2"]
    assert device.target.held_keys == frozenset()
    ran = cli("shortcut", "ctrl+hyper")
    assert ran.code == 2 and "unknown key 'hyper'" in ran.err


def test_type_a_line_and_from_stdin(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    num_lock = device.target.leds["num"]
    ran = cli("--json", "type", "hello world", "--delay", "0.002")
    assert ran.code == 0, ran.err
    assert ran.json() == {
        "total": 11,
        "typed": 11,
        "uncertain": [],
        "disruptions": 0,
        "ack": "kvmd",  # a fixed --delay: kvmd's answers vouch, Num Lock is left alone
        "host_acked": [],
        "fallback": "",
        "host_event_time": None,
        "delay_too_short": False,
        "exact": True,
    }
    assert cli("type", "-", "--delay", "0.002", stdin="from stdin").out == "typed 10 characters\n"
    _until(lambda: device.target.screen_text == "hello worldfrom stdin")
    # No --delay: the host's LED echoes vouch (the emulated host echoes), unless --ack kvmd.
    line = " and a line long enough to ask the host"
    assert cli("type", line).out == f"typed {len(line)} characters (acknowledged by the host)\n"
    ran = cli("--json", "type", "x", "--ack", "kvmd")
    assert ran.code == 0 and ran.json()["ack"] == "kvmd"
    assert cli("type", "x", "--ack", "nobody").code == 2
    _until(lambda: device.target.screen_text == "hello worldfrom stdin" + line + "x")
    assert device.target.leds["num"] == num_lock  # the host's acks toggled it in pairs


def test_untypable_text_types_nothing_and_exits_8(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("type", "naïve ☃")
    assert ran.code == 8
    assert "'☃' at 6" in ran.err and "nothing was typed" in ran.err
    assert device.target.events == []


def test_mouse_in_screen_pixels(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    assert cli("mouse", "click", "10", "20", "--screen", "1920x1080").code == 0
    assert cli("mouse", "scroll", "-2").out == "scrolled -2\n"
    ran = cli("mouse", "move", "5000", "5", "--screen", "1920x1080")
    assert ran.code == 2 and "off the screen" in ran.err
    _until(lambda: ("mouse_wheel", 0, 2) in device.target.events)
    assert ("mouse_button", "left", True) in device.target.events


def test_mouse_reads_the_screen_size_from_the_streamer(cli: Cli, device: ThreadedEmulator) -> None:
    cli.device(device)
    ran = cli("mouse", "double-click", "100", "100")
    assert ran.code == 0, ran.err
    clicks = [e for e in device.target.events if e == ("mouse_button", "left", True)]
    _until(
        lambda: len([e for e in device.target.events if e == ("mouse_button", "left", True)]) == 2
    )
    assert clicks


# ----- profiles ---------------------------------------------------------------------------


def test_profiles_are_stored_0600_without_a_password(cli: Cli, device: ThreadedEmulator) -> None:
    command = f"{sys.executable} -c \"print('admin')\""
    ran = cli("config", "add", "lab", "--url", device.url, "--passwd-command", command)
    assert ran.code == 0, ran.err
    assert stat.S_IMODE(os.stat(cli.config).st_mode) == 0o600
    assert "admin'" not in cli.config.read_text() or "passwd_command" in cli.config.read_text()
    assert cli("--device", "lab", "info").out == "kvmd 4.206 on rpi\n"
    listed = cli("--json", "config", "list").json()
    assert listed["devices"]["lab"]["url"] == device.url
    assert cli("config", "add", "lab", "--url", device.url).code == 2  # exists: --replace
    assert cli("config", "remove", "lab").code == 0
    ran = cli("--device", "lab", "info")
    assert ran.code == 2 and "no device 'lab'" in ran.err


def test_a_profile_keeps_the_hosts_layout_and_refuses_an_unknown_one(
    cli: Cli, device: ThreadedEmulator
) -> None:
    ran = cli("config", "add", "lab", "--url", device.url, "--layout", "de")
    assert ran.code == 0, ran.err
    assert cli("--json", "config", "show", "lab").json()["layout"] == "de"
    ran = cli("config", "add", "other", "--url", device.url, "--layout", "klingon")
    assert ran.code == 2
    assert "unknown --layout 'klingon'" in ran.err and "de, " in ran.err
    assert "other" not in cli("--json", "config", "list").json()["devices"]  # nothing saved


def test_a_profile_pins_the_certificate_seen_first(cli: Cli) -> None:
    with Emulator.in_thread(tls=True) as emu:
        cli.env(PIKVM_PASSWD="admin")
        ran = cli("config", "add", "tls", "--url", emu.url)  # --tofu is the default
        assert ran.code == 0, ran.err
        assert "the certificate's SHA-256 is" in ran.err
        assert cli("--device", "tls", "power", "status").out == "on\n"
        assert cli("--url", emu.url, "power", "status").code == 7  # not pinned: unverified
        wrong = "00" * 32
        ran = cli("--url", emu.url, "--pin", wrong, "power", "status")
        assert ran.code == 7
        assert cli("config", "add", "plain", "--url", emu.url, "--no-tofu").code == 0
        assert "pin" not in cli("--json", "config", "show", "plain").json()
        assert cli("--device", "plain", "power", "status").code == 7  # verified: refused


# ----- fleets -----------------------------------------------------------------------------


def test_a_fleet_of_ten_with_one_down(cli: Cli) -> None:
    emulators = [Emulator.in_thread(host_powered=False) for _ in range(9)]
    for emu in emulators:
        emu.start()
    try:
        cli.env(PIKVM_PASSWD="admin")
        for n, emu in enumerate(emulators):
            assert cli("config", "add", f"pi{n}", "--url", emu.url, "--group", "rack").code == 0
        assert (
            cli("config", "add", "gone", "--url", "http://127.0.0.1:9", "--group", "rack").code == 0
        )
        ran = cli("--group", "rack", "--json", "power", "on", "--wait")
        assert ran.code == 7  # the one that failed could not be reached
        results = {entry["device"]: entry for entry in ran.json()}
        assert len(results) == 10
        assert not results["gone"]["ok"] and results["gone"]["exit_code"] == 7
        assert all(results[f"pi{n}"]["ok"] for n in range(9))
        assert all(results[f"pi{n}"]["result"]["power"] for n in range(9))
        assert "9 of 10 devices ok, 1 failed: gone" in ran.err
        human = cli("--all", "power", "status")
        lines = sorted(human.out.splitlines())
        assert lines[0].startswith("gone: FAILED: GET http://127.0.0.1:9/api/atx: cannot reach")
        assert lines[1:] == [f"pi{n}: on" for n in range(9)]
    finally:
        for emu in emulators:
            emu.stop()
