"""Screen pixels to kvmd's absolute pointer coordinates: pure, no I/O.

kvmd's absolute mouse spans -32768..32767 on each axis over the whole captured screen.
Its web UI maps a pixel ``p`` of a screen ``size`` pixels across as
``round(p * 65535 / size) - 32768``, clamped (``tools.remap`` in kvmd's ``tools.js``,
called from ``kvm/mouse.js`` with the picture's geometry); JavaScript's ``Math.round``
rounds halves up. :func:`to_absolute` gives the same numbers, so a script points exactly
where a click in the web UI would.
"""

from __future__ import annotations

import math

from .keys import MOVE_MAX, MOVE_MIN

__all__ = ["to_absolute"]

_SPAN = MOVE_MAX - MOVE_MIN


def to_absolute(pixel: float, size: int) -> int:
    """kvmd's coordinate for ``pixel`` (0 at the left or top edge) on an axis ``size``
    pixels long."""
    if size < 1:
        raise ValueError(f"a screen axis has at least one pixel, got {size}")
    value = math.floor(pixel * _SPAN / size + MOVE_MIN + 0.5)
    return min(max(value, MOVE_MIN), MOVE_MAX)
