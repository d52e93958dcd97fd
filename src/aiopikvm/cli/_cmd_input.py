"""Keyboard and mouse: ``key``, ``shortcut``, ``type``, ``mouse``."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import click

from ..protocol.typing import check_typable
from ._exit import CliError
from ._keys import chord, key_name
from ._run import execute, output

if TYPE_CHECKING:
    from .. import PiKVM, PiKVMWebSocket

SCREEN_WAIT = 10.0
"""Seconds a mouse command waits for the streamer to report the screen's size."""
MAX_STDIN_TEXT = 1 << 20


def register(cli: click.Group) -> None:
    for command in (key, shortcut, type_, mouse):
        cli.add_command(command)


@click.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def key(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Tap keys one after the other: `pikvm key enter`, `pikvm key f2`, `pikvm key KeyA`."""
    keys = [key_name(name) for name in names]

    async def action(kvm: PiKVM) -> Any:
        async with kvm.ws() as ws:
            for name in keys:
                await ws.send_key(name)
        return {"keys": keys}

    execute(ctx, output(ctx), action, lambda _: " ".join(keys))


@click.command()
@click.argument("keys")
@click.pass_context
def shortcut(ctx: click.Context, keys: str) -> None:
    """Press keys together, then release them: ctrl+alt+del, win+r, alt+f4."""
    names = chord(keys)

    async def action(kvm: PiKVM) -> Any:
        async with kvm.ws() as ws:
            await ws.send_shortcut(*names)
        return {"keys": names}

    execute(ctx, output(ctx), action, lambda _: "+".join(names))


@click.command("type")
@click.argument("text")
@click.option("--layout", default="en-us", show_default=True, help="The target's keyboard layout.")
@click.option(
    "--delay",
    type=click.FloatRange(0, 10),
    help="Seconds per HID event at least (default: the host's own pace, from its LED echoes;"
    " 0.025 when it gives none).",
)
@click.option(
    "--ack",
    type=click.Choice(["auto", "host", "kvmd"]),
    default="auto",
    show_default=True,
    help="What vouches for the characters: the host's Num Lock LED echoes (host), kvmd's"
    " answers (kvmd: Num Lock is never touched; for macOS), or host for 16 characters or"
    " more (auto).",
)
@click.option("--enter", "newline", is_flag=True, help="End with Enter.")
@click.pass_context
def type_(
    ctx: click.Context, text: str, layout: str, delay: float | None, ack: str, newline: bool
) -> None:
    """Type TEXT (- reads it from standard input) and say whether every character arrived."""
    if text == "-":
        text = sys.stdin.read(MAX_STDIN_TEXT + 1)
        if len(text) > MAX_STDIN_TEXT:
            raise CliError(f"standard input holds more than {MAX_STDIN_TEXT} characters")
    if newline:
        text += "\n"
    check_typable(text, layout)  # before anything is shown or sent
    out = output(ctx)
    options: dict[str, Any] = {"layout": layout, "ack": ack}
    if delay is not None:
        options["delay"] = delay

    async def action(kvm: PiKVM) -> Any:
        with out.progress("typing", len(text)) as update:
            return await kvm.type_text(text, progress=update, **options)

    def show(result: Any) -> str:
        vouched = " (acknowledged by the host)" if result.ack == "host" else ""
        fallback = f"; {result.fallback}" if result.fallback else ""
        if result.exact:
            return f"typed {result.typed} characters{vouched}{fallback}"
        return (
            f"typed {result.typed} of {result.total} characters; "
            f"uncertain at positions {list(result.uncertain)}{fallback}"
        )

    execute(ctx, out, action, show)


# ----- the mouse ---------------------------------------------------------------------------

_screen_option = click.option(
    "--screen", metavar="WxH", help="The screen's size in pixels (default: the streamer's)."
)
_button_option = click.option(
    "--button",
    type=click.Choice(["left", "right", "middle", "up", "down"]),
    default="left",
    show_default=True,
)
Act = Callable[[Any, "tuple[int, int] | None"], Awaitable[None]]


def _screen(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise CliError(f"--screen is WIDTHxHEIGHT, like 1920x1080, got {text!r}") from None


async def _open_knowing_screen(kvm: PiKVM, screen: tuple[int, int] | None) -> PiKVMWebSocket:
    """An open session that knows the screen's size: from ``--screen``, or the streamer's
    report (a stream=1 session keeps the streamer running)."""
    ws = kvm.ws(stream=screen is None)
    await ws.connect()
    if screen is None:
        try:
            await ws.wait_for_screen_size(timeout=SCREEN_WAIT)
        except BaseException:
            await ws.aclose()
            raise
    return ws


def _mouse(ctx: click.Context, screen: str | None, what: str, act: Act) -> None:
    size = _screen(screen)

    async def action(kvm: PiKVM) -> Any:
        ws = await _open_knowing_screen(kvm, size)
        try:
            await act(ws, size)
        finally:
            await ws.aclose()
        return {"mouse": what}

    execute(ctx, output(ctx), action, lambda r: what)


@click.group()
def mouse() -> None:
    """The mouse, in pixels of the captured screen ((0, 0) is its top left)."""


@mouse.command("move")
@click.argument("x", type=float)
@click.argument("y", type=float)
@_screen_option
@click.pass_context
def move(ctx: click.Context, x: float, y: float, screen: str | None) -> None:
    """Move the pointer to pixel (X, Y)."""

    async def act(ws: Any, size: Any) -> None:
        await ws.move_to(x, y, screen_size=size)

    _mouse(ctx, screen, f"moved to {x:g},{y:g}", act)


@mouse.command("click")
@click.argument("x", type=float)
@click.argument("y", type=float)
@_button_option
@_screen_option
@click.pass_context
def click_(ctx: click.Context, x: float, y: float, button: str, screen: str | None) -> None:
    """Click at pixel (X, Y)."""

    async def act(ws: Any, size: Any) -> None:
        await ws.click(x, y, button, screen_size=size)

    _mouse(ctx, screen, f"{button} click at {x:g},{y:g}", act)


@mouse.command("double-click")
@click.argument("x", type=float)
@click.argument("y", type=float)
@_button_option
@_screen_option
@click.pass_context
def double_click(ctx: click.Context, x: float, y: float, button: str, screen: str | None) -> None:
    """Double-click at pixel (X, Y)."""

    async def act(ws: Any, size: Any) -> None:
        await ws.click(x, y, button, screen_size=size)
        await ws.send_mouse_button(button)

    _mouse(ctx, screen, f"{button} double-click at {x:g},{y:g}", act)


@mouse.command("drag")
@click.argument("x1", type=float)
@click.argument("y1", type=float)
@click.argument("x2", type=float)
@click.argument("y2", type=float)
@_button_option
@click.option("--steps", type=click.IntRange(1, 1000), default=10, show_default=True)
@_screen_option
@click.pass_context
def drag(
    ctx: click.Context,
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    button: str,
    steps: int,
    screen: str | None,
) -> None:
    """Drag from pixel (X1, Y1) to (X2, Y2) with BUTTON held."""

    async def act(ws: Any, size: Any) -> None:
        await ws.drag((x1, y1), (x2, y2), button, steps=steps, screen_size=size)

    _mouse(ctx, screen, f"dragged {x1:g},{y1:g} -> {x2:g},{y2:g}", act)


@mouse.command("scroll", context_settings={"ignore_unknown_options": True})
@click.argument("dy", type=int)
@click.option("--dx", type=int, default=0, help="Notches right (negative: left).")
@click.option("--at", type=(float, float), metavar="X Y", help="Move to this pixel first.")
@_screen_option
@click.pass_context
def scroll(
    ctx: click.Context,
    dy: int,
    dx: int,
    at: tuple[float, float] | None,
    screen: str | None,
) -> None:
    """Turn the wheel DY notches down (negative: up)."""
    if at is None:

        async def action(kvm: PiKVM) -> Any:
            async with kvm.ws() as ws:
                await ws.scroll(dx, dy)
            return {"mouse": f"scrolled {dy}"}

        execute(ctx, output(ctx), action, lambda _: f"scrolled {dy}")
        return
    where = at

    async def act(ws: Any, size: Any) -> None:
        await ws.scroll(dx, dy, at=where, screen_size=size)

    _mouse(ctx, screen, f"scrolled {dy} at {at[0]:g},{at[1]:g}", act)
