"""The simulated host's screen: a text console laid out on a grid, drawn as a JPEG, read back.

A real PiKVM captures the host's HDMI output and kvmd runs Tesseract on it. Here the host
is a text console, so one layout serves both sides: :func:`render` draws it and
:func:`recognize` reads the characters whose cells fall inside a region back out of the same
grid, so OCR of the emulated screen is exact rather than a guess.

The console is what a terminal would show: light text on a dark background in fixed cells,
long lines wrapped, tabs to the next multiple of eight, and the newest lines at the bottom
once the text no longer fits. Glyphs come from Pillow's bundled default font, each drawn in
the middle of its own cell, which makes any font look monospaced.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont

CELL_WIDTH: Final = 16
CELL_HEIGHT: Final = 24
"""One character cell in pixels: 120 columns by 45 rows at 1920x1080."""

_FONT_SIZE: Final = 18  # the widest glyph (W) is 17 px at this size
_TAB: Final = 8
_BACKGROUND: Final = (16, 16, 16)
FOREGROUND: Final = (224, 224, 224)
NO_SIGNAL: Final = "< NO SIGNAL >"
"""What ustreamer draws on its blank frame while the source has no signal."""


@dataclass(frozen=True, slots=True)
class Screen:
    """A picture of ``width`` x ``height`` pixels; row ``i`` of ``rows`` fills the cells
    ``i * CELL_HEIGHT`` pixels down, its character ``j`` the one ``j * CELL_WIDTH`` across."""

    width: int
    height: int
    rows: tuple[str, ...]


def grid(width: int, height: int) -> tuple[int, int]:
    """How many whole cells fit: ``(columns, rows)``."""
    return width // CELL_WIDTH, height // CELL_HEIGHT


def console(text: str, width: int, height: int) -> Screen:
    """``text`` as a console of that size shows it."""
    columns, max_rows = grid(width, height)
    rows: list[str] = []
    if columns > 0:
        for line in text.split("\n"):
            visible = _printable(line.expandtabs(_TAB))
            rows.extend(visible[i : i + columns] for i in range(0, len(visible), columns))
            if not visible:
                rows.append("")
    return Screen(width, height, tuple(rows[-max_rows:] if max_rows else ()))


def no_signal(width: int, height: int) -> Screen:
    """ustreamer's blank frame: the no-signal notice in the middle of the picture."""
    columns, max_rows = grid(width, height)
    if columns < len(NO_SIGNAL) or max_rows == 0:
        return Screen(width, height, ())
    indent = " " * ((columns - len(NO_SIGNAL)) // 2)
    return Screen(width, height, ("",) * (max_rows // 2) + (indent + NO_SIGNAL,))


def _printable(line: str) -> str:
    return "".join(char for char in line if char.isprintable())


# ----- the picture --------------------------------------------------------------------


@functools.cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=_FONT_SIZE)  # scalable since Pillow 10.1


def render(screen: Screen, quality: int) -> bytes:
    """The screen as a JPEG of its size, encoded at ``quality`` (1-100): the clean picture,
    without the capture's noise, cursor or clock (see :mod:`._capture`)."""
    return encode(paint(screen), quality)


def paint(screen: Screen) -> Image.Image:
    """The screen's text drawn on a picture of its size."""
    image = Image.new("RGB", (screen.width, screen.height), _BACKGROUND)
    for row, line in enumerate(screen.rows):
        draw_text(image, 0, row, line)
    return image


def draw_text(image: Image.Image, column: int, row: int, text: str, *, clear: bool = False) -> None:
    """``text`` in the cells from ``(column, row)`` on; ``clear`` blanks them first."""
    draw = ImageDraw.Draw(image)
    font = _font()
    top = row * CELL_HEIGHT
    if clear:
        left = column * CELL_WIDTH
        draw.rectangle(
            (left, top, left + len(text) * CELL_WIDTH - 1, top + CELL_HEIGHT - 1), fill=_BACKGROUND
        )
    for offset, char in enumerate(text):
        if char != " ":
            _draw_glyph(draw, font, (column + offset) * CELL_WIDTH, top, char)


def encode(image: Image.Image, quality: int) -> bytes:
    with io.BytesIO() as out:
        image.save(out, format="JPEG", quality=quality)
        return out.getvalue()


def _draw_glyph(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    left: int,
    top: int,
    char: str,
) -> None:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        baseline = top + (CELL_HEIGHT - ascent - descent) // 2 + ascent
        draw.text((left + CELL_WIDTH / 2, baseline), char, font=font, fill=FOREGROUND, anchor="ms")
    else:  # the bitmap font takes no anchor: centre its box by hand
        box = font.getbbox(char)
        x = left + (CELL_WIDTH - (box[2] - box[0])) // 2
        y = top + (CELL_HEIGHT - (box[3] - box[1])) // 2
        draw.text((x, y), char, font=font, fill=FOREGROUND)


def thumbnail(data: bytes, max_width: int, max_height: int, quality: int) -> bytes:
    """A JPEG shrunk to fit the box, aspect ratio kept, as kvmd makes its previews."""
    with io.BytesIO(data) as source, Image.open(source) as image, io.BytesIO() as out:
        image.thumbnail((max_width, max_height), Image.Resampling.LANCZOS)
        image.save(out, format="JPEG", quality=quality)
        return out.getvalue()


# ----- OCR ----------------------------------------------------------------------------


def recognize(screen: Screen, left: int, top: int, right: int, bottom: int) -> str:
    """The text in a region, with kvmd's region rules: a negative bound means the picture's
    edge, bounds are clamped to the picture, and a region with no area reads all of it.

    The result reads like Tesseract's: one line per row of text, words separated by single
    spaces, one empty line between blocks, a newline at the end ("" when nothing is there).
    A character is in the region when the middle of its cell is.
    """
    box = (0, 0, screen.width, screen.height)
    if left >= 0 or top >= 0 or right >= 0 or bottom >= 0:
        cropped = (
            0 if left < 0 else min(screen.width, left),
            0 if top < 0 else min(screen.height, top),
            screen.width if right < 0 else min(screen.width, right),
            screen.height if bottom < 0 else min(screen.height, bottom),
        )
        if cropped[0] < cropped[2] and cropped[1] < cropped[3]:
            box = cropped
    lines: list[str] = []
    for row, line in enumerate(screen.rows):
        middle_y = row * CELL_HEIGHT + CELL_HEIGHT / 2
        if not box[1] <= middle_y < box[3]:
            continue
        inside = "".join(
            char
            for column, char in enumerate(line)
            if box[0] <= column * CELL_WIDTH + CELL_WIDTH / 2 < box[2]
        )
        words = " ".join(inside.split())
        if words or (lines and lines[-1]):
            lines.append(words)
    while lines and not lines[-1]:
        lines.pop()
    return "".join(line + "\n" for line in lines)
