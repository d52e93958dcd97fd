"""The picture as a PiKVM captures it: never the same twice.

A real device digitises the host's video and JPEG-encodes every frame, so no two
snapshots of an unchanged screen are byte-identical: the capture's last bits wander (an
ADC's noise, an encoder's rounding), a console's text cursor blinks, a clock ticks. A
client comparing snapshots byte for byte works against a pixel-perfect fake and fails on a
device; this makes the fake as hard as the device:

- every frame gets fresh dithering noise, up to ``NOISE`` levels either way per channel,
  before it is encoded (from a seeded generator: the same seed, the same noise);
- the host's text cursor, an underline at the cell after the last character, shows for
  half of every ``CURSOR_PERIOD`` seconds;
- with ``clock=True`` the host shows the time (``HH:MM:SS``, UTC) in the top right corner.

Only the picture changes: OCR reads the console's text, as Tesseract would not read a
half-visible cursor (the clock's digits are not part of the text either).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Final

from PIL import Image, ImageChops, ImageDraw

from ._screen import CELL_HEIGHT, CELL_WIDTH, FOREGROUND, Screen, draw_text, encode, grid, paint

NOISE: Final = 3
"""Levels (of 255) the capture adds or takes per channel, uniformly: a few, as a capture
card's least significant bits wander."""
CURSOR_PERIOD: Final = 1.0
"""Seconds of one blink: the cursor shows for the first half (a console's ~1 Hz)."""
CURSOR_HEIGHT: Final = 2
"""Pixels of the underline cursor at the bottom of its cell, as the Linux console's."""
CLOCK_FORMAT: Final = "%H:%M:%S"

_NOISE_LUT: Final = [value % (2 * NOISE + 1) for value in range(256)]


def cursor_cell(screen: Screen) -> tuple[int, int] | None:
    """``(column, row)`` of the cell where the console's next character goes."""
    columns, max_rows = grid(screen.width, screen.height)
    if columns == 0 or max_rows == 0:
        return None
    if not screen.rows:
        return 0, 0
    row = len(screen.rows) - 1
    column = len(screen.rows[-1])
    if column >= columns:  # a full line: the next character starts the next one
        if row + 1 < max_rows:
            return 0, row + 1
        return columns - 1, row  # the console scrolls when it comes; until then, the end
    return column, row


class Capture:
    """What the streamer encodes, frame by frame. Thread-safe: frames are made in threads.

    ``noise=False`` gives the clean picture (still with cursor and clock): for nothing in
    this package's tests, which run against the noisy one; ``seed`` seeds the noise.
    ``clock_time`` and ``blink_time`` are where the clock and the blink read the time.
    """

    def __init__(
        self,
        *,
        noise: bool = True,
        clock: bool = False,
        seed: int | None = None,
        clock_time: Callable[[], float] = time.time,
        blink_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self._noise = noise
        self._clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._clock_time = clock_time
        self._blink_time = blink_time
        self._painted: tuple[Screen, Image.Image] | None = None

    def overlay(self) -> tuple[bool, str | None]:
        """What shows now beside the text: ``(cursor visible, clock text or None)``."""
        visible = (self._blink_time() % CURSOR_PERIOD) < CURSOR_PERIOD / 2
        if not self._clock:
            return visible, None
        return visible, time.strftime(CLOCK_FORMAT, time.gmtime(self._clock_time()))

    def frame(self, screen: Screen, quality: int) -> bytes:
        """The JPEG of ``screen`` as captured now."""
        cursor, clock = self.overlay()
        with self._lock:
            if self._painted is None or self._painted[0] != screen:
                self._painted = (screen, paint(screen))
            image = self._painted[1].copy()
            data = self._random.randbytes(screen.width * screen.height) if self._noise else b""
        draw = ImageDraw.Draw(image)
        cell = cursor_cell(screen) if cursor else None
        if cell is not None:
            left, bottom = cell[0] * CELL_WIDTH, (cell[1] + 1) * CELL_HEIGHT
            draw.rectangle(
                (left + 1, bottom - 1 - CURSOR_HEIGHT, left + CELL_WIDTH - 2, bottom - 2),
                fill=FOREGROUND,
            )
        if clock is not None:
            columns, rows = grid(screen.width, screen.height)
            if columns >= len(clock) and rows > 0:
                draw_text(image, columns - len(clock), 0, clock, clear=True)
        if data:
            image = ImageChops.add(image, _noise(image.size, data), offset=-NOISE)
        return encode(image, quality)


def _noise(size: tuple[int, int], data: bytes) -> Image.Image:
    """0..2*NOISE per channel from one random byte a pixel: the other channels read the
    same bytes mirrored, which costs half as much as three times the bytes and still puts
    unrelated noise on each channel of a pixel (but on the picture's middle lines)."""
    levels = Image.frombytes("L", size, data).point(_NOISE_LUT)
    return Image.merge(
        "RGB",
        (
            levels,
            levels.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            levels.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        ),
    )
