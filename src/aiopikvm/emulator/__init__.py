"""A kvmd-compatible fake PiKVM on aiohttp, to test PiKVM clients without a device.

    async with Emulator() as emu:
        ...  # talk to emu.url + "/api/..." ; assert on emu.target

It copies kvmd's behaviour including what makes a client's job hard: silent drops of bad
WebSocket input, queued HID input thrown away whenever a session opens or closes, 409 on a
parallel ATX click. Its answers are built from a real kvmd 4.206's recordings.

Needs the ``emulator`` extra (aiohttp). This package imports it lazily, so the pytest
plugin (fixture ``pikvm_emulator``) loads even where the extra is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._emulator import Emulator, ThreadedEmulator
    from ._target import Target, TargetEvent

__all__ = ["Emulator", "Target", "TargetEvent", "ThreadedEmulator"]


def __getattr__(name: str) -> Any:
    if name in ("Emulator", "ThreadedEmulator"):
        from . import _emulator

        return getattr(_emulator, name)
    if name in ("Target", "TargetEvent"):
        from . import _target

        return getattr(_target, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
