"""Screenshots for an agent: the device's JPEG scaled to a bounded size, and the mapping from
a pixel of that picture back to a pixel of the screen (and so to kvmd's absolute position)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_MAX_SIDE: Final = 1280
"""The longest side of a screenshot an agent gets: what vision models read well (they scale
bigger pictures down themselves, to about this), and 1920x1080 becomes 1280x720, 1.5x."""
JPEG_QUALITY: Final = 85


@dataclass(frozen=True)
class Geometry:
    """A screenshot of ``width`` x ``height`` pixels of a screen of ``screen_width`` x
    ``screen_height``."""

    width: int
    height: int
    screen_width: int
    screen_height: int

    @classmethod
    def for_screen(cls, screen: tuple[int, int], max_side: int) -> Geometry:
        screen_width, screen_height = screen
        longest = max(screen_width, screen_height)
        if longest <= max_side:
            return cls(screen_width, screen_height, screen_width, screen_height)
        return cls(
            max(1, round(screen_width * max_side / longest)),
            max(1, round(screen_height * max_side / longest)),
            screen_width,
            screen_height,
        )

    @property
    def scale(self) -> float:
        """Screen pixels per screenshot pixel (the same across and down, to rounding)."""
        return self.screen_width / self.width

    def to_screen(self, x: int, y: int) -> tuple[int, int]:
        """The screen pixel under screenshot pixel ``(x, y)``: ``x * screen_width //
        width`` (and so for y), exact in integers."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise ValueError(
                f"({x}, {y}) is off the screenshot: x is 0..{self.width - 1}, "
                f"y 0..{self.height - 1}"
            )
        return x * self.screen_width // self.width, y * self.screen_height // self.height

    def region_to_screen(self, region: list[int]) -> tuple[int, int, int, int]:
        """A ``[left, top, right, bottom]`` box of the screenshot (right and bottom
        excluded) as the same box of the screen."""
        left, top, right, bottom = region
        if not (0 <= left < right <= self.width and 0 <= top < bottom <= self.height):
            raise ValueError(
                f"region {region} is not a box within the {self.width}x{self.height} "
                "screenshot: [left, top, right, bottom] with left < right, top < bottom"
            )
        return (
            left * self.screen_width // self.width,
            top * self.screen_height // self.height,
            -(-right * self.screen_width // self.width),
            -(-bottom * self.screen_height // self.height),
        )

    def box_from_screen(self, box: tuple[int, int, int, int]) -> list[int]:
        """A ``(left, top, right, bottom)`` box of the screen as the screenshot's pixels
        that cover it (right and bottom excluded), the inverse of :meth:`region_to_screen`."""
        left, top, right, bottom = box
        return [
            min(self.width - 1, left * self.width // self.screen_width),
            min(self.height - 1, top * self.height // self.screen_height),
            min(self.width, -(-right * self.width // self.screen_width)),
            min(self.height, -(-bottom * self.height // self.screen_height)),
        ]

    def describe(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "screen_width": self.screen_width,
            "screen_height": self.screen_height,
            "scale": round(self.scale, 6),
            "to_screen": "screen_x = x * screen_width // width, and so for y",
        }


def scaled(jpeg: bytes, max_side: int) -> tuple[bytes, Geometry]:
    """``jpeg`` no bigger than ``max_side`` on its longest side, as JPEG, and its geometry."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as picture:
        picture.load()
        geometry = Geometry.for_screen(picture.size, max_side)
        if (geometry.width, geometry.height) == picture.size:
            return jpeg, geometry
        small = picture.convert("RGB").resize(
            (geometry.width, geometry.height), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), geometry


def geometry_of(jpeg: bytes, max_side: int) -> Geometry:
    """The geometry :func:`scaled` would give ``jpeg``, without scaling it."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as picture:
        return Geometry.for_screen(picture.size, max_side)
