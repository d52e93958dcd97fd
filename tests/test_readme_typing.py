"""The README's typing example runs as printed, against the emulator, so it cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example(section: str) -> str:
    """The first Python code block under the README heading ``section``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    block = re.compile(r"```python\n(.*?)```", re.DOTALL).search(text, start)
    assert block is not None, f"no Python example under '## {section}'"
    return block.group(1)


def test_the_german_password_example_runs() -> None:
    code = readme_example("Typing text")
    # The example the issue asks for: a German target, its prompt waited for, then typed.
    assert 'target_layout="de"' in code and "wait_for_text" in code and "type_text" in code
    exec(compile(code, f"{README}:Typing text", "exec"), {"__name__": "readme_example"})
