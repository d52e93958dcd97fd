"""How much two pictures of the screen differ, tolerating a capture's noise.

A PiKVM digitises the host's video and JPEG-encodes every frame: no two snapshots of an
unchanged screen are byte-identical, a text cursor blinks, a clock ticks. So "the same"
is a measurement here, :func:`compare`:

1. both pictures become brightness (luma) images, cut to ``region`` if given;
2. each is shrunk ``scale`` times by area averaging (OpenCV's ``INTER_AREA``), which damps
   the noise of single pixels and of the encoder's 8x8 blocks while a glyph still shows;
3. a shrunk pixel counts as changed when it differs by more than ``pixel_tolerance``
   levels (of 255); pixels touched by an ``ignore`` box (a clock, a cursor) are left out;
4. the pictures differ when the changed area — changed shrunk pixels times ``scale``
   squared, in screen pixels — exceeds ``tolerance``.

The threshold is an area, not a share of the picture, because what it must tell apart has a
size in pixels: a blinking cursor is 64 screen pixels of change on the emulated 16x24-pixel
console at any resolution — 0.003 % of a 1920x1080 picture but 0.02 % of a 640x480 one,
while one typed character is 0.006 % of the first. The defaults were measured on the
emulator's noisy video (JPEG at kvmd's quality 80 with 3 levels of dithering noise per
channel; the README's screen section has the figures): between frames of an unchanged
screen the largest shrunk difference was 4 levels (6 at quality 50, 9-11 at 30), so
:data:`PIXEL_TOLERANCE` is 16; a cursor blink changes 64 pixels of area, every letter and
digit typed but ``r`` at least 80, so :data:`DEFAULT_TOLERANCE` is 64: a blink is no change,
a character is. ``changed_share`` reports the same change as a share of the compared area.

Pure functions over decoded images (NumPy arrays, as OpenCV makes them), no I/O. OpenCV and
NumPy come with the ``vision`` extra and are imported on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ..errors import InvalidInputError, ProtocolError
from ..results import ScreenDiff

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Image = npt.NDArray[np.uint8]

__all__ = [
    "DEFAULT_SCALE",
    "DEFAULT_TOLERANCE",
    "MAX_IGNORE",
    "MAX_SIDE",
    "PIXEL_TOLERANCE",
    "Box",
    "ScreenDiff",
    "check_box",
    "check_ignore",
    "check_tolerance",
    "compare",
    "decode",
    "gray",
    "require",
]

Box = tuple[int, int, int, int]
"""``(left, top, right, bottom)`` in screen pixels, right and bottom excluded."""

DEFAULT_SCALE: Final = 4
"""Times each side is shrunk before comparing: 1920x1080 becomes 480x270."""
PIXEL_TOLERANCE: Final = 16
"""Levels (of 255) a shrunk pixel may differ by and still be the same."""
DEFAULT_TOLERANCE: Final = 64.0
"""Screen pixels of area that may change while the pictures count as the same: a cursor's
blink, not a typed character (see the module notes)."""
MAX_IGNORE: Final = 64
"""Boxes at most in ``ignore``."""
MAX_SIDE: Final = 16384
"""Pixels at most per side of a picture decoded (ustreamer's limit too): a hostile JPEG's
header cannot make the decoder allocate more."""

_EXTRA: Final = "pip install 'aiopikvm[vision]'"


def require() -> tuple[Any, Any]:
    """``(cv2, numpy)``; a clear :class:`ModuleNotFoundError` naming the extra without them."""
    modules = []
    for name in ("cv2", "numpy"):
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"comparing screens needs the 'vision' extra ({error.name} is not installed):"
                f" {_EXTRA}",
                name=error.name,
            ) from None
    return modules[0], modules[1]


# ----- checks of the arguments (no extra needed) -----------------------------------------


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:50] + "..."


def check_box(box: object, name: str = "region") -> Box:
    """A box ``(left, top, right, bottom)`` of ints, with left < right and top < bottom."""
    if (
        not isinstance(box, tuple | list)
        or len(box) != 4
        or any(isinstance(side, bool) or not isinstance(side, int) for side in box)
    ):
        raise InvalidInputError(f"{name} must be (left, top, right, bottom) ints, got {_show(box)}")
    left, top, right, bottom = box
    if not (0 <= left < right <= MAX_SIDE and 0 <= top < bottom <= MAX_SIDE):
        raise InvalidInputError(
            f"{name} must have 0 <= left < right <= {MAX_SIDE} and 0 <= top < bottom <="
            f" {MAX_SIDE}, got {_show(box)}"
        )
    return left, top, right, bottom


def check_ignore(ignore: object) -> tuple[Box, ...]:
    """A sequence of at most :data:`MAX_IGNORE` boxes (see :func:`check_box`)."""
    if isinstance(ignore, str | bytes) or not isinstance(ignore, Sequence):
        raise InvalidInputError(f"ignore must be a sequence of boxes, got {_show(ignore)}")
    if len(ignore) > MAX_IGNORE:
        raise InvalidInputError(f"ignore must hold at most {MAX_IGNORE} boxes, got {len(ignore)}")
    boxes = []
    for index, box in enumerate(ignore):
        try:
            boxes.append(check_box(box, f"ignore[{index}]"))
        except InvalidInputError as error:
            raise InvalidInputError(f"{error} (in ignore={_show(ignore)})") from None
    return tuple(boxes)


def check_tolerance(tolerance: object) -> float:
    """An area in screen pixels: a finite number from 0 (any change counts) up."""
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not 0 <= tolerance <= MAX_SIDE * MAX_SIDE
    ):
        raise InvalidInputError(
            "tolerance must be the screen pixels of area that may change, a finite number"
            f" >= 0, got {_show(tolerance)}"
        )
    return float(tolerance)


# ----- pictures --------------------------------------------------------------------------


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's frame header, or None if there is none."""
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        # SOF0..SOF15, but DHT (C4), JPG (C8) and DAC (CC) are not frame headers
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if at + 9 > len(data):
                return None
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        at += 2 + length
    return None


def decode(data: bytes) -> Image:
    """A JPEG snapshot as a brightness image (2-D ``uint8`` array); :class:`ProtocolError`
    when it is not a JPEG of at most :data:`MAX_SIDE` pixels a side that OpenCV reads."""
    cv2, numpy = require()
    size = _jpeg_size(data)
    if size is None or not (0 < size[0] <= MAX_SIDE and 0 < size[1] <= MAX_SIDE):
        raise ProtocolError(f"not a JPEG snapshot of at most {MAX_SIDE} pixels a side")
    image = cv2.imdecode(numpy.frombuffer(data, numpy.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ProtocolError("the snapshot is a JPEG OpenCV cannot decode")
    result: Image = image
    return result


def gray(image: Image) -> Image:
    """``image`` as brightness: a 2-D array stays, OpenCV's BGR or BGRA (3-D) is converted."""
    cv2, numpy = require()
    if not isinstance(image, numpy.ndarray) or image.dtype != numpy.uint8:
        raise InvalidInputError(f"a picture must be a uint8 NumPy array, got {_show(image)}")
    if image.ndim == 2:
        same: Image = image  # narrowed to Any by the lazily imported numpy
        return same
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        result: Image = cv2.cvtColor(image, code)
        return result
    raise InvalidInputError(f"a picture must be 2-D, or 3-D BGR/BGRA, got shape {image.shape}")


def compare(
    before: Image,
    after: Image,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    region: Box | None = None,
    ignore: Sequence[Box] = (),
    scale: int = DEFAULT_SCALE,
    pixel_tolerance: int = PIXEL_TOLERANCE,
) -> ScreenDiff:
    """How much ``after`` differs from ``before`` (see the module notes). Pictures of
    different sizes differ entirely. :class:`InvalidInputError` when ``region`` lies outside
    the picture or ``ignore`` leaves nothing of it to compare."""
    cv2, numpy = require()
    tolerance = check_tolerance(tolerance)
    box = None if region is None else check_box(region)
    boxes = check_ignore(ignore)
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 64:
        raise InvalidInputError(f"scale must be an int from 1 to 64, got {_show(scale)}")
    if isinstance(pixel_tolerance, bool) or not isinstance(pixel_tolerance, int):
        raise InvalidInputError(f"pixel_tolerance must be an int, got {_show(pixel_tolerance)}")
    first, second = gray(before), gray(after)
    if first.shape != second.shape:
        area = max(first.size, second.size)
        return ScreenDiff(changed_area=area, changed_share=1.0, max_delta=255, tolerance=tolerance)
    height, width = first.shape
    left, top, right, bottom = box or (0, 0, width, height)
    right, bottom = min(right, width), min(bottom, height)
    if left >= right or top >= bottom:
        raise InvalidInputError(f"region {box} lies outside the {width}x{height} picture")
    first, second = first[top:bottom, left:right], second[top:bottom, left:right]
    size = (max(1, (right - left) // scale), max(1, (bottom - top) // scale))
    delta = cv2.absdiff(
        cv2.resize(first, size, interpolation=cv2.INTER_AREA),
        cv2.resize(second, size, interpolation=cv2.INTER_AREA),
    )
    if boxes:
        # A shrunk pixel that any ignored pixel went into is left out: pixel i of a side
        # shrunk by ``ratio`` holds the pixels from i * ratio to (i + 1) * ratio.
        compared = numpy.ones(delta.shape, bool)
        ratio_x, ratio_y = (right - left) / size[0], (bottom - top) / size[1]
        for box_left, box_top, box_right, box_bottom in boxes:
            compared[
                max(0, math.floor((box_top - top) / ratio_y)) : max(
                    0, math.ceil((box_bottom - top) / ratio_y)
                ),
                max(0, math.floor((box_left - left) / ratio_x)) : max(
                    0, math.ceil((box_right - left) / ratio_x)
                ),
            ] = False
        values = delta[compared]
        if values.size == 0:
            raise InvalidInputError("ignore covers the whole region: nothing is left to compare")
    else:
        values = delta.ravel()
    changed = int(numpy.count_nonzero(values > pixel_tolerance))
    return ScreenDiff(
        # each shrunk pixel stands for this much of the region (scale squared, at the edges less)
        changed_area=round(changed * first.size / delta.size),
        changed_share=changed / values.size,
        max_delta=int(values.max()),
        tolerance=tolerance,
    )
