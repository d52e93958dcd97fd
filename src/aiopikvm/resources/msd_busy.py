"""kvmd's 409 on the drive, answered by trying again: an operation that has just ended (a
download whose last bytes the client already read) still holds kvmd's MSD region a moment
(kvmd/plugins/msd/otg/__init__.py, its busy region)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._checks import check_number
from ..errors import BusyError


def check_busy_wait(value: object) -> float:
    return float(check_number(value, "busy_wait", low=0))


async def while_busy(seconds: float, call: Callable[[], Awaitable[object]]) -> None:
    """``call()``, again while kvmd answers 409 for up to ``seconds`` (0: once)."""
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + seconds, 0.05
    while True:
        try:
            await call()
            return
        except BusyError:
            if loop.time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
