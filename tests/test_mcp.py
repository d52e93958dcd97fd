"""``pikvm mcp`` through the MCP SDK's own client over stdio, against the emulator: the
tools and their schemas, screenshots and the pixels they map to, typing for the host's
layout."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

pytest.importorskip("mcp")

from PIL import Image

from aiopikvm.emulator import ThreadedEmulator
from aiopikvm.protocol.pointer import to_absolute

from .cli_helpers import threaded
from .emulator_helpers import eventually
from .mcp_helpers import call, data_of, image_of, mcp_session, text_of

ALL_TOOLS = {
    "screenshot",
    "read_screen",
    "find_text",
    "wait_for_text",
    "wait_for_screen",
    "click",
    "double_click",
    "move",
    "drag",
    "scroll",
    "type_text",
    "press_keys",
    "power_status",
    "power",
    "media_list",
    "media_mount",
    "media_unmount",
    "device_info",
    "list_devices",
}


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    yield from threaded(target_layout="de")


async def test_the_tools_and_their_schemas(emu: ThreadedEmulator) -> None:
    async with mcp_session(emu) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == ALL_TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        schema = tool.input_schema
        assert schema["type"] == "object"
        for name, field in schema["properties"].items():
            assert field.get("description"), f"{tool.name}.{name} has no description"
    click = tools["click"].input_schema
    assert click["required"] == ["x", "y"]
    assert click["properties"]["x"]["type"] == "integer"
    assert click["properties"]["x"]["minimum"] == 0
    assert click["properties"]["button"]["enum"] == ["left", "right", "middle"]
    assert click["properties"]["force"]["default"] is False
    power = tools["power"].input_schema
    assert power["properties"]["action"]["enum"] == ["on", "off", "off_hard", "reset"]
    assert power["properties"]["confirm"]["default"] is False
    typing = tools["type_text"].input_schema["properties"]
    assert typing["text"]["minLength"] == 1 and typing["text"]["maxLength"] == 10_000
    assert tools["press_keys"].input_schema["properties"]["keys"]["type"] == "array"
    assert tools["wait_for_screen"].input_schema["properties"]["until"]["enum"] == [
        "stable",
        "change",
    ]
    assert tools["screenshot"].annotations is not None
    assert tools["screenshot"].annotations.read_only_hint is True
    assert tools["click"].annotations is not None
    assert tools["click"].annotations.read_only_hint is False


async def test_screenshot_click_and_typing_in_german(emu: ThreadedEmulator) -> None:
    german = "Grüße aus Köln: Maß & Straße, 20 € @ 10 °C!\n"
    async with mcp_session(emu) as session:
        shot = await call(session, "screenshot")
        stated = data_of_note(shot)
        with Image.open(io.BytesIO(image_of(shot))) as picture:
            assert picture.format == "JPEG"
            assert picture.size == (stated["width"], stated["height"]) == (1280, 720)
        assert (stated["screen_width"], stated["screen_height"]) == (1920, 1080)
        assert stated["scale"] == 1.5

        clicked = data_of(await call(session, "click", x=853, y=411))
        # 853 * 1920 // 1280 = 1279, 411 * 1080 // 720 = 616: the stated mapping
        assert clicked["screen_pixel"] == [1279, 616]
        expected = (to_absolute(1279, 1920), to_absolute(616, 1080))
        await eventually(lambda: ("mouse_button", "left", False) in emu.target.events)
        assert emu.target.mouse_position == expected

        typed = data_of(await call(session, "type_text", text=german, layout="de"))
        assert typed == {
            "typed": len(german),
            "total": len(german),
            "exact": True,
            "uncertain": [],
            "layout": "de",
        }
        await eventually(lambda: emu.target.screen_text == german)

        refused = await call(session, "type_text", text="ok ☃ ✓", layout="de")
        assert refused.is_error
        assert "'☃' at 3" in text_of(refused) and "'✓' at 5" in text_of(refused)
        assert "nothing was typed" in text_of(refused)

        off = await call(session, "click", x=1280, y=0)
        assert off.is_error and "off the screenshot" in text_of(off)
        read = data_of(await call(session, "read_screen"))
        assert "Grüße aus Köln" in read["text"]
        top = data_of(await call(session, "read_screen", region=[0, 0, 1280, 16]))
        assert top["text"].strip() == "Grüße aus Köln: Maß & Straße, 20 € @ 10 °C!"

        dragged = data_of(await call(session, "drag", x=0, y=0, to_x=640, to_y=360))
        assert dragged["screen_pixel"] == [[0, 0], [960, 540]]
        end = (to_absolute(960, 1920), to_absolute(540, 1080))
        await eventually(lambda: emu.target.events[-1] == ("mouse_button", "left", False))
        assert emu.target.mouse_position == end
        data_of(await call(session, "scroll", x=640, y=360, down=2))
        await eventually(lambda: emu.target.events[-1][0] == "mouse_wheel")
        assert emu.target.events[-1] == ("mouse_wheel", 0, -2)  # USB HID: positive is up

        stable = await call(session, "wait_for_screen", until="stable", duration=0.5)
        assert not stable.is_error and image_of(stable)
        still = await call(session, "wait_for_screen", until="change", timeout=1.5)
        assert still.is_error and "did not change" in text_of(still)
        assert image_of(still)  # it gives up with the screen as it was
    assert emu.target.screen_text == german  # nothing of the refused text arrived


def data_of_note(result: object) -> dict[str, int | float]:
    note = data_of(result)  # type: ignore[arg-type]
    screenshot: dict[str, int | float] = note["screenshot"]
    return screenshot
