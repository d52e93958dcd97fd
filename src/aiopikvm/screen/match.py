"""Finding a picture on the screen (openQA's needles, vncdotool's ``expect``): OpenCV's
template matching, normalised correlation (``TM_CCOEFF_NORMED``), so a score is 1.0 for a
perfect match and JPEG noise or a brightness shift costs little.

Templates are matched at the screen's own scale: cut them from a screenshot of the same
resolution. For speed, a first pass runs in greyscale on both pictures shrunk by 2 or 4
(as far as the template stays at least :data:`_COARSE_MIN_SIDE` pixels across); the few
best places it finds are then scored in colour at full size, in a window a few pixels
around each. That is what the score says: colour matters, so a red button does not match a
green one of the same brightness.

Needs the ``vision`` extra (OpenCV, numpy), imported on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from ..errors import InvalidInputError
from ._images import (
    as_bgr,
    check_region,
    check_score,
    crop,
    declared_size,
    load_image,
    modules,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Image: TypeAlias = NDArray[Any]

ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | Image"
"""A picture: a PNG or JPEG file's path, its bytes, or an array (``H x W`` grey, ``H x W x
3`` BGR as OpenCV reads it, ``H x W x 4`` BGRA: the alpha is dropped), 8 bits per channel."""

Region: TypeAlias = tuple[int, int, int, int]

DEFAULT_THRESHOLD: Final = 0.95
"""The lowest score that counts as found. Measured on the emulator's 1920x1080 screen, a
160x48 button template against JPEG snapshots: the right button scores 0.98 at quality
80, 0.965 at 40 (dithering noise of 3-8 levels changes the third decimal); the same button
with one letter of its label changed ("Reboot"/"Rebook") 0.92, another label 0.81-0.87,
text elsewhere below 0.3. A template that is mostly frame and little label needs this
margin: cut templates around what tells them apart.
"""
_COARSE_MIN_SIDE: Final = 12
"""The coarse pass shrinks no further than leaves the template this many pixels across."""
_CANDIDATES: Final = 5
"""Places of the coarse pass scored at full size (separated by at least half a template)."""


@dataclass(frozen=True, slots=True)
class ImageMatch:
    """Where a template was found: ``box`` is ``(left, top, right, bottom)`` in screen
    pixels (right and bottom exclusive), ``score`` the correlation (-1..1, 1 is identical),
    ``center`` the pixel to click."""

    box: Region
    score: float
    center: tuple[int, int]


def find_image(
    screen: ImageSource,
    template: ImageSource,
    *,
    region: Region | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ImageMatch | None:
    """The best place of ``template`` on ``screen`` (a snapshot's JPEG bytes, a file, an
    array), or None when it scores below ``threshold`` or does not fit.

    ``region`` (``(left, top, right, bottom)``, clamped to the screen) limits the search;
    boxes are still in whole-screen pixels."""
    check_score(threshold, "threshold")
    found = best_match(screen, template, region=region)
    return found if found is not None and found.score >= threshold else None


def best_match(
    screen: ImageSource, template: ImageSource, *, region: Region | None = None
) -> ImageMatch | None:
    """The best place of ``template`` whatever its score (None only when the template is
    larger than the screen or region): what a timeout reports as the best score seen."""
    if region is not None:
        check_region(region)
    cv2, np = modules()
    needle = load_template(template)
    picture = as_bgr(load_image(screen, "screen"))
    left, top, area = crop(picture, region)
    height, width = needle.shape[:2]
    if area.shape[0] < height or area.shape[1] < width:
        return None
    best: tuple[float, int, int] | None = None
    for x, y in _candidates(cv2, np, area, needle):
        score, bx, by = _refine(cv2, area, needle, x, y)
        if best is None or score > best[0]:
            best = (score, bx, by)
    if best is None:  # pragma: no cover - _candidates always yields at least one place
        return None
    score, x, y = best
    box = (left + x, top + y, left + x + width, top + y + height)
    return ImageMatch(box, round(score, 4), (left + x + width // 2, top + y + height // 2))


def load_template(template: ImageSource) -> Image:
    """``template`` read and checked once (a wait matches it against every snapshot):
    three colour channels, not one flat colour."""
    needle = as_bgr(load_image(template, "template"))
    if float(needle.std()) == 0.0:
        raise InvalidInputError(
            "the template is a single flat colour, which correlation cannot place: cut it"
            " with some of its surroundings or its border"
        )
    return needle


def screen_size(screen: ImageSource) -> tuple[int, int]:
    """``(width, height)`` of a picture, as a click on it needs (bytes: from the header,
    without decoding)."""
    if isinstance(screen, bytes | bytearray | memoryview):
        return declared_size(bytes(screen), "screen")
    height, width = load_image(screen, "screen").shape[:2]
    return int(width), int(height)


def _candidates(cv2: Any, np: Any, area: Image, needle: Image) -> list[tuple[int, int]]:
    """Top-left corners worth scoring at full size, best first (full-size pixels)."""
    height, width = needle.shape[:2]
    factor = 1
    for shrink in (4, 2):
        if min(height, width) // shrink >= _COARSE_MIN_SIDE:
            factor = shrink
            break
    if factor == 1:
        return [(-1, -1)]  # small template: one full-size pass over the whole area
    small_area = _grey_small(cv2, area, factor)
    small_needle = _grey_small(cv2, needle, factor)
    if small_needle.std() == 0 or small_area.shape[0] < small_needle.shape[0]:
        return [(-1, -1)]
    scores = cv2.matchTemplate(small_area, small_needle, cv2.TM_CCOEFF_NORMED)
    scores = np.nan_to_num(scores, nan=-1.0, posinf=-1.0, neginf=-1.0)
    found: list[tuple[int, int]] = []
    half_h, half_w = max(1, small_needle.shape[0] // 2), max(1, small_needle.shape[1] // 2)
    for _ in range(_CANDIDATES):
        _, peak, _, (x, y) = cv2.minMaxLoc(scores)
        if peak <= -1.0 and found:
            break
        found.append((x * factor, y * factor))
        scores[max(0, y - half_h) : y + half_h + 1, max(0, x - half_w) : x + half_w + 1] = -1.0
    return found


def _grey_small(cv2: Any, image: Image, factor: int) -> Image:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    size = (max(1, grey.shape[1] // factor), max(1, grey.shape[0] // factor))
    small: Image = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return small


def _refine(cv2: Any, area: Image, needle: Image, x: int, y: int) -> tuple[float, int, int]:
    """The best colour score near ``(x, y)`` (anywhere, for ``(-1, -1)``): ``(score, x,
    y)``, the corner in ``area``'s pixels."""
    height, width = needle.shape[:2]
    if x < 0:
        x0, y0, window = 0, 0, area
    else:
        pad = 6  # a coarse pixel of 4 plus the rounding of the shrink, on either side
        x0, y0 = max(0, x - pad), max(0, y - pad)
        window = area[
            y0 : min(area.shape[0], y + height + pad), x0 : min(area.shape[1], x + width + pad)
        ]
    scores = cv2.matchTemplate(window, needle, cv2.TM_CCOEFF_NORMED)
    _, peak, _, (bx, by) = cv2.minMaxLoc(scores)
    peak = float(peak)
    if peak != peak or peak > 1.0:  # NaN/overshoot on a flat window: not a match
        peak = min(peak, 1.0) if peak == peak else -1.0
    return peak, x0 + bx, y0 + by
