"""The declared preamble of every Python block in README.md and docs/ (pytest-markdown-docs).

A block runs as it is printed, with these names bound when it uses them without defining
them (so a reader sees where each comes from — the page says so in its first lines):

- ``emu``: a running emulator (a :class:`~aiopikvm.emulator.ThreadedEmulator` serving
  HTTPS with a self-signed certificate, as a PiKVM does), one per page, shared by the
  page's blocks in order;
- ``kvm``: a :class:`~aiopikvm.PiKVM` on it, as user admin, its certificate pinned;
- ``ws``: an open ``kvm.ws()`` session.

Every block also sees ``PIKVM_URL``, ``PIKVM_PASSWD`` and ``PIKVM_PIN`` in its environment
(the command line's names), pointing at that page's emulator: examples written for a real
device read them. A block marked ``notest`` is not run here; tests/test_docs_examples.py
compiles it.
"""

from __future__ import annotations

import ast
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

_BOUND = ("emu", "kvm", "ws")
_OUTSIDE_DEV: dict[str, str] = {"mcp": "aiopikvm[mcp]"}
"""Modules of the extras ``dev`` leaves out (the MCP SDK needs a newer pydantic than the
minimum-version run has): a block importing one is skipped where it is missing."""
_pages: dict[Path, Any] = {}


def _missing_extra(code: str) -> str | None:
    """The extra a block needs and this environment lacks, if any."""
    import importlib.util

    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            roots = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots = [node.module.split(".")[0]]
        else:
            continue
        for root in roots:
            if root in _OUTSIDE_DEV and importlib.util.find_spec(root) is None:
                return _OUTSIDE_DEV[root]
    return None


def _free_names(code: str) -> set[str]:
    """The preamble's names that ``code`` reads but never assigns."""
    tree = ast.parse(code)
    loads, stores = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
    return {name for name in _BOUND if name in loads and name not in stores}


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The Markdown pages' blocks, as pytest-markdown-docs collects them; its own switch
    (``--markdown-docs``) would also scan every test module's docstrings, for nothing."""
    if file_path.suffix != ".md" or parent.config.option.markdowndocs:
        return None
    from pytest_markdown_docs.plugin import MarkdownTextFile

    collector: pytest.Collector = MarkdownTextFile.from_parent(parent, path=file_path)
    return collector


def pytest_markdown_docs_globals() -> dict[str, Any]:
    """A block's ``print`` writes nowhere: pytest-markdown-docs runs blocks with capture off,
    and the test log is no place for an example's output (the page shows it)."""

    def quiet_print(*values: object, **options: Any) -> None:
        options["file"] = io.StringIO()
        print(*values, **options)

    return {"print": quiet_print}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("markdown-docs") is None:
            continue
        extra = _missing_extra(item.code)  # type: ignore[attr-defined]
        if extra is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs {extra}, not installed"))
        names = _free_names(item.code)  # type: ignore[attr-defined]
        if "ws" in names:
            names.add("kvm")
        # the page's emulator always runs: the environment points at it
        item.add_marker(pytest.mark.usefixtures("_docs_env"))
        # pytest-markdown-docs binds the item's own fixture names as the block's globals
        item.fixturenames = (*item.fixturenames, *sorted(names))  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _docs_emulators() -> Iterator[dict[Path, Any]]:
    yield _pages
    for emulator in _pages.values():
        emulator.stop()
    _pages.clear()


@pytest.fixture
def emu(request: pytest.FixtureRequest, _docs_emulators: dict[Path, Any]) -> Any:
    """The page's emulator, started for its first block; the previous page's stops."""
    from aiopikvm.emulator import Emulator

    page = Path(request.node.path)
    if page not in _docs_emulators:
        for other in list(_docs_emulators):
            _docs_emulators.pop(other).stop()
        emulator = Emulator.in_thread(tls=True)
        emulator.start()
        _docs_emulators[page] = emulator
    return _docs_emulators[page]


@pytest.fixture
def _docs_env(emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIKVM_URL", emu.url)
    monkeypatch.setenv("PIKVM_PASSWD", "admin")
    monkeypatch.setenv("PIKVM_PIN", emu.emulator.cert_fingerprint)
    monkeypatch.chdir(tmp_path)  # files a block writes land in a fresh directory


@pytest.fixture
async def kvm(emu: Any) -> AsyncIterator[Any]:
    from aiopikvm import CertificateFingerprint, PiKVM

    pin = CertificateFingerprint(emu.emulator.cert_fingerprint)
    async with PiKVM(emu.url, passwd="admin", verify_ssl=pin) as client:
        yield client


@pytest.fixture
async def ws(kvm: Any) -> AsyncIterator[Any]:
    async with kvm.ws() as session:
        yield session
