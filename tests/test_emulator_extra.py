"""Without the ``emulator`` extra: one line saying what to install, and pytest unharmed.

Each check runs a fresh interpreter whose ``sitecustomize`` makes a module of the extra
unimportable (``sys.modules[name] = None``), as where it was never installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HINT = "pip install 'aiopikvm[emulator]'"
SRC = Path(__file__).resolve().parent.parent / "src"


def run(tmp_path: Path, missing: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``argv`` in a child without ``missing``, from ``tmp_path``; its output as text."""
    blocker = tmp_path / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(f"import sys\nsys.modules[{missing!r}] = None\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the plugin must load as for a user
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), str(SRC), env.get("PYTHONPATH", "")])
    return subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("missing", ["aiohttp", "cryptography", "PIL"])
def test_importing_the_emulator_names_the_extra(tmp_path: Path, missing: str) -> None:
    code = "import aiopikvm.emulator; from aiopikvm.emulator import Emulator"
    result = run(tmp_path, missing, sys.executable, "-c", code)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"ModuleNotFoundError: aiopikvm.emulator needs the 'emulator' extra"
        f" ({missing} is not installed): {HINT}"
    )
    assert "During handling" not in result.stderr  # not chained to the import's own error


def test_the_package_and_its_target_import_without_the_extra(tmp_path: Path) -> None:
    code = "from aiopikvm.emulator import Target; print(Target().screen_text == '')"
    result = run(tmp_path, "aiohttp", sys.executable, "-c", code)
    assert (result.returncode, result.stdout, result.stderr) == (0, "True\n", "")


def _command_lines() -> list[list[str]]:
    module = [sys.executable, "-m", "aiopikvm.emulator"]
    lines = [module, [*module, "--help"]]
    script = shutil.which("pikvm-emulator", path=os.path.dirname(sys.executable))
    if script is not None:  # installed with the package's scripts, as pip does
        lines.append([script])
    return lines


@pytest.mark.parametrize(
    "argv", _command_lines(), ids=lambda argv: " ".join(Path(arg).name for arg in argv)
)
def test_the_command_says_what_to_install(tmp_path: Path, argv: list[str]) -> None:
    result = run(tmp_path, "aiohttp", *argv)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"pikvm-emulator: aiopikvm.emulator needs the 'emulator' extra"
        f" (aiohttp is not installed): {HINT}\n"
    )


def test_pytest_runs_and_the_fixture_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_user.py").write_text(
        "def test_plain():\n    pass\n\n\ndef test_device(pikvm_emulator):\n    pass\n"
    )
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"]
    result = run(tmp_path, "aiohttp", *argv)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert f"aiopikvm.emulator needs the 'emulator' extra (aiohttp is not installed): {HINT}" in (
        result.stdout
    )
    assert "import of aiohttp halted" not in result.stdout  # not the raw import error
