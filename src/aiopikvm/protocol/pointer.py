"""Screen pixels to kvmd's absolute pointer coordinates: pure, no I/O.

kvmd's absolute mouse spans -32768..32767 on each axis over the whole captured screen.
Its web UI (since kvmd 4.72) maps a pixel ``p`` of a screen ``size`` pixels across over
``size - 1``, so that the last pixel reaches the far edge: ``round(p * 65535 / (size - 1))
- 32768``, clamped, with a one-pixel axis divided by 1 (``tools.remap`` in kvmd's
``web/share/js/tools.js``, called from ``kvm/mouse.js`` with ``0, width - 1``).
JavaScript's ``Math.round`` rounds halves up. :func:`to_absolute` computes the same
operations in the same order, so a script points exactly where a click in the web UI
would.
"""

from __future__ import annotations

import math

from .keys import MOVE_MAX, MOVE_MIN

__all__ = ["to_absolute"]

_SPAN = MOVE_MAX - MOVE_MIN


def to_absolute(pixel: float, size: int) -> int:
    """kvmd's coordinate for ``pixel`` (0 at the left or top edge, ``size - 1`` at the
    right or bottom one) on an axis ``size`` pixels long."""
    if size < 1:
        raise ValueError(f"a screen axis has at least one pixel, got {size}")
    value = pixel * _SPAN / ((size - 1) or 1) + MOVE_MIN
    whole = math.floor(value)
    # Math.round: halves up. Not floor(value + 0.5), whose addition can round up a value
    # just under a half.
    rounded = whole + 1 if value - whole >= 0.5 else whole
    return min(max(rounded, MOVE_MIN), MOVE_MAX)
