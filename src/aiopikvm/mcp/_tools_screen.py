"""The tools that look: ``screenshot``, ``read_screen``, ``find_text``, ``wait_for_text``,
``wait_for_screen``. They need no permission, and send no input."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Annotated, Final, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from ..errors import UnavailableError
from ..screen import text as screen_text
from ._context import Context, image_content, text_result
from ._device import VIDEO_RETRY, VIDEO_TIMEOUT, Device
from ._params import DeviceName, Regex, Region, Timeout
from ._picture import geometry_of

MAX_TEXT: Final = 20_000
"""Characters of OCR text returned at most."""
MAX_MATCHES: Final = 100
"""Matches ``find_text`` returns at most."""
LOOK: Final = ToolAnnotations(read_only_hint=True, open_world_hint=True)


def register(app: MCPServer, ctx: Context) -> None:
    async def screenshot(device: DeviceName = None) -> CallToolResult:
        """A picture of the host's screen now (JPEG), scaled to fit the server's maximum
        size. The text part gives its width and height, the screen's, and the scale:
        the pointer tools take coordinates in the pixels of your latest screenshot, so
        read them straight off the picture."""

        async def body(dev: Device) -> CallToolResult:
            picture, geometry = await dev.picture(await dev.snapshot())
            note = TextContent(type="text", text=json.dumps({"screenshot": geometry.describe()}))
            return CallToolResult(content=[image_content(picture), note])

        return await ctx.call("screenshot", "look", {"device": device}, body)

    async def read_screen(region: Region = None, device: DeviceName = None) -> CallToolResult:
        """The text on the screen, read by the device's OCR (Tesseract), line by line;
        optionally only a box of it, in screenshot pixels."""

        async def body(dev: Device) -> CallToolResult:
            box = (
                None if region is None else (await dev.pointer_geometry()).region_to_screen(region)
            )
            text = await _ocr(dev, box)
            return text_result({"text": text[:MAX_TEXT], "truncated": len(text) > MAX_TEXT})

        return await ctx.call("read_screen", "look", {"region": region, "device": device}, body)

    async def find_text(
        text: Annotated[
            str, Field(min_length=1, max_length=1000, description="The text to look for.")
        ],
        regex: Regex = False,
        region: Region = None,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Where the text shows on the screen now: each match with its box [left, top,
        right, bottom] and its center [x, y] in screenshot pixels, to click it (read by
        Tesseract on the machine running this server; a match lies within one line). The
        coordinates are those of a screenshot of the screen now, which the pointer tools
        then take; an empty list when the text is nowhere."""
        arguments = {"text": text, "regex": regex, "region": region}

        async def body(dev: Device) -> CallToolResult:
            pattern = screen_text.compile_pattern(text, regex)
            jpeg = await dev.snapshot()
            geometry = await asyncio.to_thread(geometry_of, jpeg, dev.max_side)
            box = None if region is None else geometry.region_to_screen(region)
            found = await asyncio.to_thread(
                screen_text.find_text, jpeg, pattern, region=box, timeout=VIDEO_TIMEOUT
            )
            dev.geometry = geometry  # the pointer tools take these coordinates from now on
            matches = []
            for match in found[:MAX_MATCHES]:
                left, top, right, bottom = geometry.box_from_screen(match.box)
                center = [(left + right - 1) // 2, (top + bottom - 1) // 2]
                matches.append(
                    {
                        "text": match.text,
                        "box": [left, top, right, bottom],
                        "center": center,
                        "confidence": round(match.confidence, 3),
                    }
                )
            note = {"matches": matches, "truncated": len(found) > MAX_MATCHES}
            return text_result({**note, "screenshot": geometry.describe()})

        return await ctx.call("find_text", "look", {**arguments, "device": device}, body)

    async def wait_for_text(
        text: Annotated[
            str, Field(min_length=1, max_length=1000, description="The text to wait for.")
        ],
        regex: Regex = False,
        timeout: Timeout = 30.0,
        region: Region = None,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Wait until the text shows on the screen (read by the device's OCR about once a
        second); returns what matched and the whole text read. Use it instead of sleeping:
        after typing a command, wait for its output or the next prompt. When it gives up it
        says what it read last, with a screenshot."""
        arguments = {"text": text, "regex": regex, "timeout": timeout, "region": region}

        async def body(dev: Device) -> CallToolResult:
            pattern = re.compile(text if regex else re.escape(text))
            box = (
                None if region is None else (await dev.pointer_geometry()).region_to_screen(region)
            )
            await dev.session()  # keeps the video up for the wait
            match = await dev.kvm.wait_for_text(
                pattern, timeout=timeout, region=box, keep_video=False
            )
            return text_result({"found": match.group(0), "text": match.string[:MAX_TEXT]})

        return await ctx.call("wait_for_text", "look", {**arguments, "device": device}, body)

    async def wait_for_screen(
        until: Annotated[
            Literal["stable", "change"],
            Field(
                description=(
                    "stable: until the picture has stayed the same for `duration` seconds "
                    "(a boot or an installer step has settled); change: until it differs "
                    "from what it shows now (a click took effect)."
                )
            ),
        ],
        timeout: Timeout = 60.0,
        duration: Annotated[
            float, Field(gt=0, le=600, description="For stable: seconds without change.")
        ] = 2.0,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Wait for the screen to settle or to change, measured beyond the capture's noise
        and a blinking cursor; returns a screenshot of how it ended (also when it gives up)."""
        arguments = {"until": until, "timeout": timeout, "duration": duration}

        async def body(dev: Device) -> CallToolResult:
            await dev.session()
            kvm = dev.kvm
            if until == "stable":
                shot = await kvm.wait_for_screen_stable(
                    timeout=timeout, duration=duration, keep_video=False
                )
            else:
                shot = await kvm.wait_for_screen_change(timeout=timeout, keep_video=False)
            picture, geometry = await dev.picture(shot)
            note = {"screen": until, "screenshot": geometry.describe()}
            text = TextContent(type="text", text=json.dumps(note))
            return CallToolResult(content=[image_content(picture), text])

        return await ctx.call("wait_for_screen", "look", {**arguments, "device": device}, body)

    for tool in (screenshot, read_screen, find_text, wait_for_text, wait_for_screen):
        app.add_tool(tool, annotations=LOOK)


async def _ocr(dev: Device, region: tuple[int, int, int, int] | None) -> str:
    await dev.session()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + VIDEO_TIMEOUT
    while True:
        try:
            return await dev.kvm.streamer.ocr(region=region)
        except UnavailableError:
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(VIDEO_RETRY)
