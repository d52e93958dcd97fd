"""Running ``pikvm`` in tests: in-process through its real entry point (``aiopikvm.cli.main``),
or as a subprocess (``python -m aiopikvm``), against emulators on their own threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiopikvm.cli import main
from aiopikvm.emulator import Emulator, ThreadedEmulator

SRC = Path(__file__).resolve().parents[1] / "src"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """``pikvm`` with a clean environment of its own: ``PIKVM_*`` set per test, a config
    file in a temporary directory, nothing read from the user's."""

    def __init__(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, home: Path
    ) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.config = home / "config.toml"
        for name in list(os.environ):
            if name.startswith("PIKVM_"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("PIKVM_CONFIG", str(self.config))

    def env(self, **values: str) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)

    def device(self, emu: Emulator | ThreadedEmulator, passwd: str = "admin") -> None:
        self.env(PIKVM_URL=emu.url, PIKVM_PASSWD=passwd)

    def __call__(self, *args: str, stdin: str | None = None) -> Ran:
        self.capsys.readouterr()  # what came before is not this run's
        if stdin is not None:
            import io

            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = self.capsys.readouterr()
        return Ran(code, captured.out, captured.err)


def run_subprocess(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """``python -m aiopikvm ARGS`` in a fresh process, with only ``env`` of PIKVM_*."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIKVM_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "aiopikvm", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def threaded(**kwargs: Any) -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(**kwargs) as emu:
        yield emu
