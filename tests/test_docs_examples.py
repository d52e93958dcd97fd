"""The README and docs/ as a newcomer meets them: blocks not run still compile, every page
is in the site's navigation, and the README keeps the two set-up commands.

The runnable blocks themselves run as tests of their own (pytest-markdown-docs, with the
preamble in the root conftest.py); this file covers what that plugin skips.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from markdown_it import MarkdownIt  # pytest-markdown-docs's own parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [ROOT / "README.md", *PAGES]


def _python_blocks(path: Path) -> list[tuple[set[str], str, int]]:
    """``(options, code, line)`` of every Python fence, in either fence syntax."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(path.read_text("utf-8")):
        if token.type != "fence" or token.map is None:
            continue
        words = token.info.strip().strip("{}").split()
        words = [word.removeprefix(".") for word in words]
        if words and words[0] in ("py", "python", "python3"):
            blocks.append((set(words[1:]), token.content, token.map[0] + 1))
    return blocks


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_blocks_not_run_still_compile(path: Path) -> None:
    for options, code, line in _python_blocks(path):
        if "notest" in options:
            tree = compile(
                code, f"{path}:{line}", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            assert tree.body, f"{path.name}:{line}: an empty block"


def test_few_blocks_are_left_unrun() -> None:
    """A block is marked notest only when it needs a real device or serves until stopped;
    the rest run."""
    marked = [
        path.name
        for path in DOCUMENTS
        for options, _, _ in _python_blocks(path)
        if "notest" in options
    ]
    ran = sum(
        1 for path in DOCUMENTS for options, _, _ in _python_blocks(path) if "notest" not in options
    )
    # a real device's address; an emulator on a fixed port for an MCP client, until Ctrl-C
    assert marked == ["first-contact.md", "mcp.md"]
    assert ran >= 40


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text("utf-8")
    missing = [page.name for page in PAGES if f": {page.name}" not in nav]
    assert missing == []


def test_the_readme_keeps_the_set_up_commands_and_links_the_guides() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "python -m pip install -e '.[emulator]' && python examples/demo.py" in readme
    assert "python -m pip install -e '.[dev,mcp]' && python -m pytest" in readme
    for page in ("power", "typing", "screen", "emulator", "first-contact"):
        assert f"(docs/{page}.md)" in readme
        assert (ROOT / "docs" / f"{page}.md").is_file()
