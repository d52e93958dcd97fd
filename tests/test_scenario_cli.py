"""``pikvm run`` through its real entry point: in-process against a threaded emulator
playing an installer, and as subprocesses (``pikvm emulator --installer`` and ``pikvm
run``); its JUnit XML parsed, its HTML report opened in a real headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from aiopikvm.emulator import Emulator, ThreadedEmulator

from .cli_helpers import SRC, Cli, run_subprocess

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
INSTALLER = ("--installer", "debian", "--installer-speed", "20")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return Cli(capsys, monkeypatch, tmp_path)


@pytest.fixture
def kickstart() -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(installer="kickstart", installer_speed=20.0) as emu:
        yield emu


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("AIOPIKVM_REQUIRE_CHROMIUM") == "1":
            pytest.fail("AIOPIKVM_REQUIRE_CHROMIUM=1 and no chromium on PATH")
        pytest.skip("no chromium on PATH (CI installs Debian's chromium package)")
    return CHROMIUM


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_run_passes_and_leaves_junit_and_a_report_a_browser_shows(
    cli: Cli, kickstart: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(kickstart)
    junit, report, lines = tmp_path / "junit.xml", tmp_path / "report.html", tmp_path / "ev.jsonl"
    ran = cli(
        "run",
        str(EXAMPLES / "kickstart.yaml"),
        "--var",
        "hostname=ci-01",
        "--output",
        str(tmp_path / "out"),
        "--junit",
        str(junit),
        "--report",
        str(report),
        "--json-lines",
        str(lines),
    )
    assert ran.code == 0, ran.err
    assert "kickstart: passed, 6 steps" in ran.out
    assert "✓   4. anaconda fetches the kickstart" in ran.err
    assert "serving the install files at http://127.0.0.1:" in ran.err
    assert "http: 127.0.0.1 GET /ks.cfg 200" in ran.err
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("kickstart", "6", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names[3] == "04 anaconda fetches the kickstart"
    events = [json.loads(line) for line in lines.read_text().splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["ok"] is True
    fetched = [e for e in events if e["event"] == "http_request"]
    assert [(e["method"], e["path"], e["status"]) for e in fetched] == [("GET", "/ks.cfg", 200)]
    installer = kickstart.emulator.target.installer
    assert installer is not None and installer.state == "complete"

    dom = _browser("--dump-dom", report.as_uri()).stdout
    assert "kickstart</h1>" in dom
    assert dom.count('class="step passed"') == 6
    assert dom.count('src="data:image/') >= 6  # a picture after every step
    first = dom.split('src="data:image/jpeg;base64,', 1)[1].split('"', 1)[0]
    with Image.open(io.BytesIO(base64.b64decode(first))) as thumbnail:
        assert thumbnail.size == (640, 360)  # a filmstrip of thumbnails, not full HD
    # The pictures decode in the browser: the console is dark, an empty page is white.
    shot = tmp_path / "page.png"
    _browser(f"--screenshot={shot}", "--window-size=1200,2000", report.as_uri())
    with Image.open(shot) as page:
        darkest, _ = page.convert("L").getextrema()
    assert darkest < 40


def test_run_fails_at_the_step_that_failed(
    cli: Cli, kickstart: ThreadedEmulator, tmp_path: Path
) -> None:
    cli.device(kickstart)
    junit, report, out = tmp_path / "junit.xml", tmp_path / "report.html", tmp_path / "out"
    ran = cli(
        "run",
        str(EXAMPLES / "kickstart.yaml"),
        "--var",
        "ks=missing.cfg",
        "--output",
        str(out),
        "--junit",
        str(junit),
        "--report",
        str(report),
    )
    assert ran.code == 1, ran.err
    assert "FAILED at step 4 (anaconda fetches the kickstart)" in ran.out
    assert "got 404" in ran.out and f"saved in {out}" in ran.out
    assert "✗   4. anaconda fetches the kickstart" in ran.err
    assert (out / "step-04-failed.jpg").is_file()
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "2")
    failure = next(suite.iter("failure"))
    assert "got 404" in (failure.get("message") or "")
    assert "Failed to fetch kickstart" in (failure.text or "")  # the screen's text
    dom = _browser("--dump-dom", report.as_uri()).stdout
    assert dom.count('class="step failed"') == 1 and dom.count('class="step skipped"') == 2


def test_a_bad_file_is_refused_before_connecting(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - power: sideways\n")
    cli.env(PIKVM_URL="http://127.0.0.1:9", PIKVM_PASSWD="x")
    ran = cli("run", str(bad))
    assert ran.code == 2
    assert f"{bad}:2: steps[1] power: action" in ran.err
    ran = cli("run", str(EXAMPLES / "kickstart.yaml"), "--var", "nope")
    assert ran.code == 2 and "NAME=VALUE" in ran.err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_pikvm_run_against_pikvm_emulator_processes(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    emulator = subprocess.Popen(
        [sys.executable, "-m", "aiopikvm", "emulator", "--port", str(port), *INSTALLER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        junit, out = tmp_path / "junit.xml", tmp_path / "out"
        example = str(EXAMPLES / "debian-preseed.yaml")
        done = run_subprocess(
            ["run", example, "--junit", str(junit), "--output", str(out)],
            {"PIKVM_URL": f"http://127.0.0.1:{port}", "PIKVM_PASSWD": "admin"},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "debian-preseed: passed, 8 steps" in done.stdout
        assert "Installation complete" in done.stderr
        assert 'failures="0"' in junit.read_text()
        assert (out / "installed.png").read_bytes().startswith(b"\x89PNG")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
