"""The host's screen: ``screenshot``, ``ocr``, ``wait text|stable|change``."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import click

from ..screen.picture import SUFFIXES
from ._exit import CliError
from ._media import file_or_stdout, one_device, spinner, until_video, video
from ._run import execute, output

if TYPE_CHECKING:
    from .. import PiKVM


_video_timeout = click.option(
    "--video-timeout",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the streamer's first picture.",
)


def register(cli: click.Group) -> None:
    for command in (screenshot, ocr, wait):
        cli.add_command(command)


# ----- screenshot and OCR -------------------------------------------------------------------


def _format(path: str, given: str | None) -> str:
    if given is not None:
        return given
    if path == "-":
        return "jpeg"
    found = SUFFIXES.get(os.path.splitext(path)[1].lower())
    if found is None:
        raise CliError(f"-o {path}: name a .png, .jpg or .jpeg file (or give --format)")
    return found


@click.command()
@click.option("-o", "--output", "path", required=True, metavar="FILE", help="FILE, or - (stdout).")
@click.option("--format", "kind", type=click.Choice(["png", "jpeg"]), help="Default: by FILE.")
@_video_timeout
@click.pass_context
def screenshot(ctx: click.Context, path: str, kind: str | None, video_timeout: float) -> None:
    """Save a picture of the host's screen: PNG or JPEG by the file's extension."""
    kind = _format(path, kind)
    out = output(ctx)

    async def action(kvm: PiKVM) -> bytes:
        return await kvm.screenshot(format=kind, timeout=video_timeout)  # type: ignore[arg-type]

    data = one_device(ctx, action)
    with file_or_stdout(path) as file:
        file.write(data)
    if path != "-":
        out.result({"file": path, "format": kind, "bytes": len(data)}, _saved)


def _saved(result: dict[str, Any]) -> str:
    return f"saved {result['file']} ({result['format']}, {result['bytes']} bytes)"


def _region(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        left, top, right, bottom = (int(part) for part in text.split(","))
    except ValueError:
        raise CliError(f"--region is LEFT,TOP,RIGHT,BOTTOM in pixels, got {text!r}") from None
    return left, top, right, bottom


def _langs(text: str | None) -> list[str] | None:
    return None if text is None else [lang.strip() for lang in text.split(",") if lang.strip()]


_region_option = click.option(
    "--region", metavar="L,T,R,B", help="Read only this rectangle (pixels)."
)
_langs_option = click.option(
    "--langs", metavar="LANG[,LANG]", help="Tesseract languages (default: the device's)."
)


@click.command()
@_region_option
@_langs_option
@_video_timeout
@click.pass_context
def ocr(ctx: click.Context, region: str | None, langs: str | None, video_timeout: float) -> None:
    """The text on the host's screen, read by the device's OCR."""
    area, names = _region(region), _langs(langs)

    async def action(kvm: PiKVM) -> Any:
        async with video(kvm):
            text = await until_video(
                lambda: kvm.streamer.ocr(langs=names, region=area), video_timeout
            )
        return {"text": text}

    execute(ctx, output(ctx), action, lambda result: result["text"].rstrip("\n"))


# ----- waits --------------------------------------------------------------------------------

_timeout = click.option(
    "--timeout",
    type=click.FloatRange(0, 86400),
    default=60.0,
    show_default=True,
    help="Seconds to wait at most (then exit code 6).",
)
_save = click.option(
    "--save", metavar="FILE", help="Write the last snapshot (JPEG) here, also on a timeout."
)


@click.group()
def wait() -> None:
    """Wait for the screen: some text on it, a still picture, a change."""


def _waiting(ctx: click.Context, what: str, save: str | None, wait_for: Any, show: Any) -> None:
    from ..errors import ScreenTimeoutError

    out = output(ctx)

    async def action(kvm: PiKVM) -> Any:
        with spinner(out, f"waiting for {what}"):
            try:
                value, snapshot = await wait_for(kvm)
            except ScreenTimeoutError as exc:
                if save is not None and exc.last_snapshot is not None:
                    _write(save, exc.last_snapshot)
                raise
        if save is not None and snapshot is not None:
            _write(save, snapshot)
        return value

    execute(ctx, out, action, show, fleet=False)


def _write(path: str, data: bytes) -> None:
    with file_or_stdout(path) as file:
        file.write(data)


@wait.command("text")
@click.argument("pattern")
@click.option("--regex", is_flag=True, help="PATTERN is a regular expression (Python's).")
@_region_option
@_langs_option
@_timeout
@_save
@click.pass_context
def wait_text(
    ctx: click.Context,
    pattern: str,
    regex: bool,
    region: str | None,
    langs: str | None,
    timeout: float,
    save: str | None,
) -> None:
    """Wait until PATTERN (a substring; a regex with --regex) shows up in the OCR text."""
    try:
        wanted: str | re.Pattern[str] = re.compile(pattern) if regex else pattern
    except re.error as exc:
        raise CliError(f"PATTERN is not a regular expression: {exc}") from None
    area, names = _region(region), _langs(langs)

    async def wait_for(kvm: PiKVM) -> Any:
        async with video(kvm):  # one session for the wait and the snapshot after it
            match = await kvm.wait_for_text(
                wanted, timeout=timeout, region=area, langs=names, keep_video=False
            )
            snapshot = await kvm.streamer.snapshot(allow_offline=True) if save else None
        return {"found": match.group(0), "text": match.string}, snapshot

    _waiting(ctx, f"{pattern!r} on the screen", save, wait_for, lambda r: f"found {r['found']!r}")


@wait.command("stable")
@click.option(
    "--duration",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="Seconds the picture must stay the same.",
)
@_timeout
@_save
@click.pass_context
def wait_stable(ctx: click.Context, duration: float, timeout: float, save: str | None) -> None:
    """Wait until the screen has stayed the same for --duration seconds."""

    async def wait_for(kvm: PiKVM) -> Any:
        shot = await kvm.wait_for_screen_stable(timeout=timeout, duration=duration)
        return {"stable": True, "duration": duration, "bytes": len(shot)}, shot

    _waiting(ctx, "a still screen", save, wait_for, lambda _: f"still for {duration:g} s")


@wait.command("change")
@_timeout
@_save
@click.pass_context
def wait_change(ctx: click.Context, timeout: float, save: str | None) -> None:
    """Wait until the screen differs from what it shows now."""

    async def wait_for(kvm: PiKVM) -> Any:
        shot = await kvm.wait_for_screen_change(timeout=timeout)
        return {"changed": True, "bytes": len(shot)}, shot

    _waiting(ctx, "the screen to change", save, wait_for, lambda _: "changed")
