"""Scenarios run against the emulator (in-process, on 127.0.0.1:0) through the public API:
the steps on a plain host, virtual media uploaded only when the device lacks the image,
and the examples installing on the emulated Debian and RHEL installers — and failing, each
scripted failure at the right step, with its screenshot saved."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.scenario import (
    MediaStep,
    RunResult,
    Scenario,
    SleepStep,
    StepFailedError,
    TypeStep,
    load_scenario,
    parse_scenario,
    run_scenario,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
SPEED = 20.0
"""The emulated installers' speed-up: their POST and install steps take ~0.1 s in all."""
JPEG = b"\xff\xd8"


@pytest.fixture
async def plain() -> AsyncIterator[tuple[Emulator, PiKVM]]:
    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm:
        yield emu, kvm


async def _installer(
    kind: str,
    scenario: Scenario,
    out: Path,
    *,
    layout: str = "en-us",
    boot_timeout: float = 30.0,
    variables: dict[str, str] | None = None,
) -> tuple[RunResult, Emulator]:
    async with (
        Emulator(
            installer=kind,
            installer_boot_timeout=boot_timeout,
            installer_speed=SPEED,
            target_layout=layout,
        ) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        result = await run_scenario(kvm, scenario, variables=variables, output_dir=out)
        return result, emu


def _shortened(scenario: Scenario, timeout: float = 8.0) -> Scenario:
    """The example with its long (real machine) timeouts cut down for the suite, and typing
    paced for the emulator's 1 ms HID rather than a device's."""
    steps = [
        step.model_copy(
            update={"timeout": min(step.timeout or timeout, timeout)}
            | ({"delay": 0.002} if isinstance(step, TypeStep) else {})
        )
        for step in scenario.steps
    ]
    return scenario.model_copy(update={"steps": steps})


def _failed(result: RunResult) -> tuple[int, str, str]:
    failed = result.failed
    assert failed is not None, result.as_dict()
    return failed.number, failed.label, failed.message or ""


# ----- a plain host -------------------------------------------------------------------


PLAIN = """\
name: plain
vars: {greeting: hello}
steps:
  - power: cycle
  - type: "{{ .greeting }} world"
  - wait: {text: hello world, timeout: 5}
  - type: {boot_command: "<enter>x<bs>y <leftShiftOn>ab<leftShiftOff><wait0.1s>{{ .Name }}"}
  - assert: "y AB"
  - key: ctrl+alt+del
  - screenshot: shot.png
  - name: never there
    assert: not on the screen
    retries: 1
  - sleep: 0
"""


async def test_steps_on_a_plain_host_and_what_a_failure_leaves(
    plain: tuple[Emulator, PiKVM], tmp_path: Path
) -> None:
    emu, kvm = plain
    events: list[dict[str, object]] = []
    result = await run_scenario(
        kvm, parse_scenario(PLAIN), output_dir=tmp_path, on_event=events.append
    )
    assert emu.target.screen_text == "hello world\ny ABplain"
    assert [step.status for step in result.steps] == ["passed"] * 7 + ["failed", "skipped"]
    number, label, message = _failed(result)
    assert (number, label) == (8, "never there")
    assert "'not on the screen' is not on the screen" in message
    failed = result.steps[7]
    assert failed.attempts == 2
    assert failed.ocr_text is not None and "y ABplain" in failed.ocr_text
    assert (tmp_path / "step-08-failed.jpg").read_bytes().startswith(JPEG)
    assert "y ABplain" in (tmp_path / "step-08-failed-ocr.txt").read_text()
    assert (tmp_path / "step-08-failed-frame-1.jpg").read_bytes().startswith(JPEG)
    assert (tmp_path / "shot.png").read_bytes().startswith(b"\x89PNG")
    assert all(step.frames for step in result.steps[:8])  # the filmstrip
    assert [e["event"] for e in events][:2] == ["run_started", "step_started"]
    assert events[-1]["event"] == "run_finished" and events[-1]["failed_step"] == 8
    with pytest.raises(StepFailedError, match=r"step 1 \(wait for 'nothing'\) failed"):
        await run_scenario(
            kvm,
            parse_scenario("steps:\n  - wait: {text: nothing, timeout: 0.5}\n"),
            raise_on_failure=True,
        )


async def test_media_is_uploaded_only_when_the_device_lacks_the_same_image(
    plain: tuple[Emulator, PiKVM], tmp_path: Path
) -> None:
    _, kvm = plain
    image = tmp_path / "boot.iso"
    image.write_bytes(os.urandom(256 * 1024))
    mount = Scenario(steps=[MediaStep(file=str(image), image="boot.iso")])

    async def mounted() -> tuple[str, float]:
        result = await run_scenario(kvm, mount)
        assert result.ok, result.as_dict()
        state = await kvm.msd.get_state()
        assert state.drive is not None and state.drive.connected and state.drive.cdrom
        assert state.storage is not None
        return result.steps[0].message or "", state.storage.images["boot.iso"].mod_ts

    said, stamp = await mounted()
    assert said.startswith("uploaded boot.iso (262144 bytes)")
    said, again = await mounted()
    assert said.startswith("upload skipped: boot.iso on the device is identical")
    assert again == stamp
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF  # the same size, another hash
    image.write_bytes(bytes(data))
    said, _ = await mounted()
    assert said.startswith("uploaded boot.iso")
    result = await run_scenario(kvm, Scenario(steps=[MediaStep(action="unmount")]))
    assert result.ok
    state = await kvm.msd.get_state()
    assert state.drive is not None and not state.drive.connected


# ----- the examples on the emulated installers ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "file", "fetched"),
    [("debian", "debian-preseed.yaml", "/preseed.cfg"), ("kickstart", "kickstart.yaml", "/ks.cfg")],
)
async def test_the_examples_install(kind: str, file: str, fetched: str, tmp_path: Path) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / file))
    result, emu = await _installer(kind, scenario, tmp_path)
    assert result.ok, result.as_dict()
    installer = emu.target.installer
    assert installer is not None and installer.state == "complete"
    assert [fetch.url.rsplit(":", 1)[1].split("/", 1)[1] for fetch in installer.fetched] == [
        fetched.lstrip("/")
    ]
    assert installer.command_line is not None and f"{fetched}" in installer.command_line
    assert (tmp_path / "installed.png").read_bytes().startswith(b"\x89PNG")


async def test_debian_boot_menu_timeout_fails_at_the_boot_prompt(tmp_path: Path) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / "debian-preseed.yaml"))
    # Late to the menu: a sleep after it showed, longer than its countdown.
    steps = list(scenario.steps)
    steps.insert(2, SleepStep(seconds=1.5))
    late = scenario.model_copy(update={"steps": steps})
    result, emu = await _installer("debian", late, tmp_path, boot_timeout=1.0)
    number, label, message = _failed(result)
    assert (number, label) == (5, "wait for 'boot:'")
    assert "'Select a language' (fail_on)" in message
    assert emu.target.installer is not None and emu.target.installer.fetched == []
    assert (tmp_path / "step-05-failed.jpg").read_bytes().startswith(JPEG)
    assert "Select a language" in (tmp_path / "step-05-failed-ocr.txt").read_text()


async def test_debian_typed_for_the_wrong_layout_fails_to_preseed(tmp_path: Path) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / "debian-preseed.yaml"))
    result, emu = await _installer("debian", scenario, tmp_path, layout="de")
    number, label, message = _failed(result)
    assert (number, label) == (6, "the installer reads its answers")
    assert "Failed to retrieve the preconfiguration file" in message
    assert emu.target.installer is not None and emu.target.installer.fetched == []
    assert (tmp_path / "step-06-failed.jpg").read_bytes().startswith(JPEG)


async def test_kickstart_404_fails_at_the_fetch(tmp_path: Path) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / "kickstart.yaml"))
    result, emu = await _installer("kickstart", scenario, tmp_path, variables={"ks": "missing.cfg"})
    number, label, message = _failed(result)
    assert (number, label) == (4, "anaconda fetches the kickstart")
    assert message.endswith("/missing.cfg and got 404, not 200: no such file in the http directory")
    assert emu.target.installer is not None
    assert [fetch.status for fetch in emu.target.installer.fetched] == [404]
    assert (tmp_path / "step-04-failed.jpg").read_bytes().startswith(JPEG)


async def test_image_and_stable_waits(plain: tuple[Emulator, PiKVM], tmp_path: Path) -> None:
    from PIL import Image

    _, kvm = plain
    first = parse_scenario(
        "steps:\n  - type: MARK\n  - wait: MARK\n  - screenshot: whole.png\n",
        base_dir=str(tmp_path),
    )
    assert (await run_scenario(kvm, first, output_dir=tmp_path)).ok
    with Image.open(tmp_path / "whole.png") as whole:
        whole.crop((0, 0, 64, 24)).save(tmp_path / "mark.png")  # four 16x24 cells
    second = parse_scenario(
        "steps:\n"
        "  - wait: {image: mark.png, timeout: 5}\n"
        "  - assert: {image: mark.png}\n"
        "  - wait: {stable: 0.5, timeout: 5}\n",
        base_dir=str(tmp_path),
    )
    result = await run_scenario(kvm, second)
    assert result.ok, result.as_dict()
    assert (result.steps[0].message or "").startswith("found at (0, 0")


async def test_power_steps_wait_for_the_led(plain: tuple[Emulator, PiKVM]) -> None:
    emu, kvm = plain
    steps = "steps:\n  - power: off_hard\n  - power: on\n  - power: reset\n  - power: off\n"
    result = await run_scenario(kvm, parse_scenario(steps))
    assert result.ok, result.as_dict()
    said = [step.message for step in result.steps]
    assert said == [f"the power LED is {led}" for led in ("off", "on", "on", "off")]
    assert not emu.target.powered


async def test_the_right_layout_installs_on_a_german_console(tmp_path: Path) -> None:
    # The same example that fails for en-us installs once the file says the console is de:
    # "=", ":" and "/" are typed with the keys that make them there.
    scenario = _shortened(load_scenario(EXAMPLES / "debian-preseed.yaml"))
    german = scenario.model_copy(update={"layout": "de"})
    result, emu = await _installer("debian", german, tmp_path, layout="de")
    assert result.ok, result.as_dict()
    assert emu.target.installer is not None
    assert [fetch.status for fetch in emu.target.installer.fetched] == [200]


async def test_wait_for_a_change(plain: tuple[Emulator, PiKVM]) -> None:
    emu, kvm = plain

    async def later() -> None:
        await asyncio.sleep(1.0)
        emu.target.write("something new on the screen")

    writer = asyncio.create_task(later())
    result = await run_scenario(kvm, parse_scenario("steps:\n  - wait: {change: true}\n"))
    await writer
    assert result.ok, result.as_dict()
    assert result.steps[0].message == "the screen changed"
    unchanged = await run_scenario(
        kvm, parse_scenario("steps:\n  - wait: {change: true, timeout: 1}\n")
    )
    assert _failed(unchanged)[2].startswith("the screen did not change within 1")


# ----- Ubuntu: GRUB's editor and cloud-init's seed --------------------------------------


async def test_the_ubuntu_example_installs(tmp_path: Path) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / "ubuntu-autoinstall.yaml"))
    result, emu = await _installer("ubuntu", scenario, tmp_path)
    assert result.ok, result.as_dict()
    installer = emu.target.installer
    assert installer is not None and installer.state == "complete"
    assert [fetch.url.rsplit("/", 1)[1] for fetch in installer.fetched] == [
        "user-data",
        "meta-data",
    ]
    assert installer.command_line is not None
    assert installer.command_line.startswith("--- autoinstall ds=nocloud;s=http://")
    assert (tmp_path / "installed.png").read_bytes().startswith(b"\x89PNG")


async def test_ubuntu_seed_typed_with_a_bare_semicolon_never_reaches_the_kernel(
    tmp_path: Path,
) -> None:
    scenario = _shortened(load_scenario(EXAMPLES / "ubuntu-autoinstall.yaml"), timeout=3.0)
    steps = list(scenario.steps)
    typing = steps[2]
    assert isinstance(typing, TypeStep) and typing.boot_command is not None
    steps[2] = typing.model_copy(update={"boot_command": typing.boot_command.replace("\\;", ";")})
    bare = scenario.model_copy(update={"steps": steps})
    result, emu = await _installer("ubuntu", bare, tmp_path)
    number, label, _ = _failed(result)
    assert (number, label) == (4, "cloud-init fetches the seed")
    installer = emu.target.installer
    assert installer is not None and installer.fetched == []
    assert installer.command_line == "--- autoinstall ds=nocloud"  # GRUB ended it at ';'
    assert installer.state == "interactive"
    assert (tmp_path / "step-04-failed.jpg").read_bytes().startswith(JPEG)
