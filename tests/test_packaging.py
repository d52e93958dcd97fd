"""What the package declares about itself: its licence, shipped in the wheel and sdist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.version import Version  # pytest's own dependency

ROOT = Path(__file__).resolve().parent.parent


def test_the_mit_licence_is_there_and_declared() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 aiopikvm contributors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    project = pyproject["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]  # into the wheel's .dist-info/licenses
    # PEP 639's license-files: hatchling 1.27 is the first to read it
    requires = pyproject["build-system"]["requires"]
    assert any(re.fullmatch(r"hatchling>=1\.(2[7-9]|[3-9]\d)(\.\d+)*", item) for item in requires)


def _lower_bounds() -> dict[str, Version]:
    """``{name: version}`` of every ``name>=version`` the package and its extras need."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    bounds = {}
    extras = project["optional-dependencies"]
    for requirement in [
        *project["dependencies"],
        *extras["emulator"],
        *extras["cli"],
        *extras["vision"],
        *extras["video"],
        *extras["fast"],
    ]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", requirement)
        assert match is not None, f"{requirement!r}: give it a lower bound, and nothing else"
        bounds[match[1].lower()] = Version(match[2])
    return bounds


def test_ci_installs_exactly_the_declared_lower_bounds() -> None:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-min.txt").read_text("utf-8").splitlines():
        line = line.partition("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    bounds = _lower_bounds()
    assert {name: pins.get(name) for name in bounds} == bounds
    assert "constraints-min.txt" in (ROOT / ".ci" / "run").read_text("utf-8")
