"""Buttons the simulated host shows over its console, for tests of finding a picture on
the screen and clicking it.

``emu.target.show_button("OK", left, top)`` puts a button on the host's screen: a filled
box with a border and its label, drawn on every snapshot over the console (so it is in the
JPEG, with the encoder's loss, at the pixels given). :meth:`Button.png` is the button alone,
as a template cut from a screenshot would be. The device's OCR does not read the labels
(the emulator's OCR reads the console's text only); a click on a button does nothing but
arrive at the target, where ``emu.target.events`` shows it.

Pillow is imported on first drawing: the target, which holds the buttons, stays light.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    from ._snapshot import Frame

_FILL: Final = (208, 212, 220)
_BORDER: Final = (32, 64, 176)
_LABEL: Final = (16, 16, 16)
_BORDER_WIDTH: Final = 3
_FONT_SIZE: Final = 18


@dataclass(frozen=True, slots=True)
class Button:
    """A button at ``(left, top)``, ``width`` x ``height`` pixels, showing ``label``."""

    label: str
    left: int
    top: int
    width: int = 160
    height: int = 48

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``, right and bottom excluded."""
        return self.left, self.top, self.left + self.width, self.top + self.height

    @property
    def center(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2

    def png(self) -> bytes:
        """The button alone as a PNG: a template to look for."""
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (self.width, self.height))
        _draw(ImageDraw.Draw(image), dataclasses.replace(self, left=0, top=0))
        with io.BytesIO() as out:
            image.save(out, format="PNG")
            return out.getvalue()


@functools.cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=_FONT_SIZE)  # scalable since Pillow 10.1


def _draw(draw: ImageDraw.ImageDraw, button: Button) -> None:
    left, top, right, bottom = button.box
    draw.rectangle(
        (left, top, right - 1, bottom - 1), fill=_FILL, outline=_BORDER, width=_BORDER_WIDTH
    )
    from PIL import ImageFont

    x, y = button.center
    font = _font()
    if isinstance(font, ImageFont.FreeTypeFont):
        draw.text((x, y), button.label, font=font, fill=_LABEL, anchor="mm")
    else:
        box = font.getbbox(button.label)
        draw.text(
            (x - (box[2] - box[0]) // 2, y - (box[3] - box[1]) // 2),
            button.label,
            font=font,
            fill=_LABEL,
        )


def _overlay(data: bytes, buttons: Sequence[Button], quality: int) -> bytes:
    from PIL import Image, ImageDraw

    with io.BytesIO(data) as source, Image.open(source) as opened:
        image = opened.convert("RGB")
    draw = ImageDraw.Draw(image)
    for button in buttons:
        _draw(draw, button)
    with io.BytesIO() as out:
        image.save(out, format="JPEG", quality=quality)
        return out.getvalue()


async def with_buttons(frame: Frame, buttons: Sequence[Button], quality: int) -> Frame:
    """``frame`` with the host's buttons drawn on it (the same frame when there are none or
    the host shows nothing)."""
    if not buttons or not frame.online:
        return frame
    data = await asyncio.to_thread(_overlay, frame.data, buttons, quality)
    return dataclasses.replace(frame, data=data)
