"""``find_text`` over the MCP SDK's client: where text is, in screenshot pixels, read by the
local Tesseract, and a click at the center it gives lands on that text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("mcp")

from aiopikvm.emulator import ThreadedEmulator
from aiopikvm.protocol.pointer import to_absolute

from .cli_helpers import threaded
from .emulator_helpers import eventually
from .mcp_helpers import call, data_of, mcp_session, text_of
from .test_screen_text import needs_tesseract


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    needs_tesseract()
    yield from threaded()


async def test_find_text_gives_a_box_the_pointer_tools_take(emu: ThreadedEmulator) -> None:
    async with mcp_session(emu) as session:
        assert not (await call(session, "type_text", text="echo Install now\n")).is_error
        await eventually(lambda: emu.target.screen_text == "echo Install now\n")
        found = data_of(await call(session, "find_text", text="Install"))
        assert found["screenshot"]["width"] == 1280  # the 1920x1080 screen, scaled 1.5x
        assert [m["text"] for m in found["matches"]] == ["Install"]
        left, top, right, bottom = found["matches"][0]["box"]
        assert 0 <= left < right <= 1280 and 0 <= top < bottom <= 40  # the first line
        x, y = found["matches"][0]["center"]
        assert left <= x < right and top <= y < bottom
        regex = data_of(await call(session, "find_text", text=r"I\w+ n\w+", regex=True))
        assert [m["text"] for m in regex["matches"]] == ["Install now"]
        nowhere = data_of(await call(session, "find_text", text="Uninstall"))
        assert nowhere["matches"] == [] and nowhere["truncated"] is False
        inside = data_of(await call(session, "find_text", text="Install", region=[0, 0, 40, 40]))
        assert inside["matches"] == []  # the word starts right of that box
        # The click last: the pointer drawn over the word would hide it from the OCR.
        clicked = data_of(await call(session, "click", x=x, y=y))
        assert clicked["screen_pixel"] == [x * 1920 // 1280, y * 1080 // 720]
        sx, sy = clicked["screen_pixel"]
        await eventually(lambda: ("mouse_button", "left", False) in emu.target.events)
        assert emu.target.mouse_position == (to_absolute(sx, 1920), to_absolute(sy, 1080))

        bad = await call(session, "find_text", text="(", regex=True)
        assert bad.is_error and text_of(bad)
