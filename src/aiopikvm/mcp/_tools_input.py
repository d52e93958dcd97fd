"""The tools that send input: the mouse at screenshot pixels, typing, shortcuts. Each goes
through the safety checks (read-only, the rate limit, a human at the device) on the
device's one shared session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Final

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from ..protocol.typing import check_typable
from ._context import Context, text_result
from ._device import Device
from ._params import Button, DeviceName, Force, X, Y

if TYPE_CHECKING:
    from .. import PiKVMWebSocket as _Ws

_At = Callable[[int, int], tuple[int, int]]
_Act = Callable[["_Ws", _At, tuple[int, int]], Awaitable[object]]

MAX_TYPED: Final = 10_000
"""Characters one type_text call types at most (about eight minutes at kvmd's safe pace)."""
INPUT: Final = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)


def register(app: MCPServer, ctx: Context) -> None:
    async def pointer(
        tool: str, arguments: dict[str, Any], force: bool, act: _Act
    ) -> CallToolResult:
        async def body(dev: Device) -> CallToolResult:
            geometry = await dev.pointer_geometry()
            ws = await dev.session()
            screen = (geometry.screen_width, geometry.screen_height)
            done = await act(ws, geometry.to_screen, screen)
            return text_result({"done": tool, "screen_pixel": done})

        return await ctx.call(tool, "input", arguments, body, force=force)

    async def click(
        x: X, y: Y, button: Button = "left", force: Force = False, device: DeviceName = None
    ) -> CallToolResult:
        """Move the pointer to (x, y) of your last screenshot and click there."""

        async def act(ws: _Ws, at: _At, screen: tuple[int, int]) -> object:
            sx, sy = at(x, y)
            await ws.click(sx, sy, button, screen_size=screen)
            return [sx, sy]

        args = {"x": x, "y": y, "button": button, "force": force, "device": device}
        return await pointer("click", args, force, act)

    async def double_click(
        x: X, y: Y, button: Button = "left", force: Force = False, device: DeviceName = None
    ) -> CallToolResult:
        """Move the pointer to (x, y) of your last screenshot and click twice."""

        async def act(ws: _Ws, at: _At, screen: tuple[int, int]) -> object:
            sx, sy = at(x, y)
            await ws.click(sx, sy, button, screen_size=screen)
            await ws.send_mouse_button(button)
            return [sx, sy]

        args = {"x": x, "y": y, "button": button, "force": force, "device": device}
        return await pointer("double_click", args, force, act)

    async def move(x: X, y: Y, force: Force = False, device: DeviceName = None) -> CallToolResult:
        """Move the pointer to (x, y) of your last screenshot (to hover), clicking nothing."""

        async def act(ws: _Ws, at: _At, screen: tuple[int, int]) -> object:
            sx, sy = at(x, y)
            await ws.move_to(sx, sy, screen_size=screen)
            return [sx, sy]

        return await pointer("move", {"x": x, "y": y, "force": force, "device": device}, force, act)

    async def drag(
        x: X,
        y: Y,
        to_x: Annotated[int, Field(ge=0, description="Where to let go: x, screenshot pixels.")],
        to_y: Annotated[int, Field(ge=0, description="Where to let go: y, screenshot pixels.")],
        button: Button = "left",
        force: Force = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Press the button at (x, y) of your last screenshot, move to (to_x, to_y) in
        small steps, and release it there (select text, move a window, a slider)."""

        async def act(ws: _Ws, at: _At, screen: tuple[int, int]) -> object:
            start, end = at(x, y), at(to_x, to_y)
            await ws.drag(start, end, button, screen_size=screen)
            return [list(start), list(end)]

        args = {"x": x, "y": y, "to_x": to_x, "to_y": to_y, "button": button, "force": force}
        return await pointer("drag", {**args, "device": device}, force, act)

    async def scroll(
        x: X,
        y: Y,
        down: Annotated[
            int, Field(ge=-100, le=100, description="Wheel notches down (negative: up).")
        ] = 3,
        right: Annotated[
            int, Field(ge=-100, le=100, description="Notches right (negative: left).")
        ] = 0,
        force: Force = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Move the pointer to (x, y) of your last screenshot and turn the wheel there."""

        async def act(ws: _Ws, at: _At, screen: tuple[int, int]) -> object:
            sx, sy = at(x, y)
            await ws.scroll(right, down, at=(sx, sy), screen_size=screen)
            return [sx, sy]

        args = {"x": x, "y": y, "down": down, "right": right, "force": force}
        return await pointer("scroll", {**args, "device": device}, force, act)

    async def type_text(
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_TYPED,
                description='The text; "\\n" presses Enter, "\\t" Tab. Never written to the log.',
            ),
        ],
        enter: Annotated[bool, Field(description="Press Enter after the text.")] = False,
        layout: Annotated[
            str | None,
            Field(
                description=(
                    "The keyboard layout the host's OS is set to, as a kvmd keymap name "
                    '("en-us", "de", "fr", "en-gb", ...); omit for the device\'s (see '
                    "device_info). Wrong here, wrong characters there."
                )
            ),
        ] = None,
        force: Force = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Type text on the host's keyboard as a person would, key by key, for the host's
        keyboard layout, and say whether every character arrived. Text with a character
        the layout cannot type is refused before anything is typed, naming each one. Click
        the field first; wait_for_text afterwards to see the result."""
        full = text + ("\n" if enter else "")
        arguments = {"text": text, "enter": enter, "layout": layout, "force": force}

        async def body(dev: Device) -> CallToolResult:
            chosen = layout or dev.layout
            ws = await dev.session()
            result = await ws.type_text(full, layout=chosen)
            return text_result(
                {
                    "typed": result.typed,
                    "total": result.total,
                    "exact": result.exact,
                    "uncertain": list(result.uncertain),
                    "layout": chosen,
                }
            )

        def check(dev: Device) -> None:  # untypable text: refused before anything is sent
            check_typable(full, layout or dev.layout)

        return await ctx.call(
            "type_text", "input", {**arguments, "device": device}, body, force=force, check=check
        )

    async def press_keys(
        keys: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]],
            Field(
                min_length=1,
                max_length=50,
                description=(
                    'Shortcuts pressed one after the other: ["ctrl+alt+del"], ["win+r"], '
                    '["enter"], ["alt+f4", "enter"]. Names: ctrl, alt, shift, win, altgr, '
                    "del, esc, enter, tab, space, backspace, up, down, left, right, home, end, "
                    "pgup, pgdn, f1..f24, a letter or digit, or kvmd's (KeyA, Enter, ControlLeft)."
                ),
            ),
        ],
        force: Force = False,
        device: DeviceName = None,
    ) -> CallToolResult:
        """Press keys or shortcuts (keys joined by '+' go down together, then come up).
        For text, use type_text."""
        chords: list[list[str]] = []

        def check(_: Device) -> None:  # every name known before the first key goes down
            chords.extend(ctx.keys(item) for item in keys)

        async def body(dev: Device) -> CallToolResult:
            ws = await dev.session()
            for names in chords:
                await ws.send_shortcut(*names)
            return text_result({"pressed": ["+".join(names) for names in chords]})

        return await ctx.call(
            "press_keys",
            "input",
            {"keys": keys, "force": force, "device": device},
            body,
            force=force,
            check=check,
        )

    for tool in (click, double_click, move, drag, scroll, type_text, press_keys):
        app.add_tool(tool, annotations=INPUT)
