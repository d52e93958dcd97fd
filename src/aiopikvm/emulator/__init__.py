"""A kvmd-compatible fake PiKVM on aiohttp, to test PiKVM clients without a device.

    async with Emulator() as emu:
        ...  # talk to emu.url + "/api/..." ; assert on emu.target

It copies kvmd's behaviour including what makes a client's job hard: silent drops of bad
WebSocket input, queued HID input thrown away whenever a session opens or closes, 409 on a
parallel ATX click. Its answers are built from a real kvmd 4.206's recordings.

Needs the ``emulator`` extra (aiohttp, cryptography, Pillow). This package imports it
lazily, so the pytest plugin (fixture ``pikvm_emulator``) loads even where the extra is not
installed; using the emulator there raises a ModuleNotFoundError saying what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._installer import Installer
    from ._installer_fetch import Fetch
    from ._login import LoginPrompt
    from ._target import Target, TargetEvent
    from ._threaded import ThreadedEmulator
    from ._widgets import Button

__all__ = [
    "Button",
    "Emulator",
    "Fetch",
    "Installer",
    "LoginPrompt",
    "Target",
    "TargetEvent",
    "ThreadedEmulator",
]


_EXPORTS: Final = {
    "Button": "_widgets",
    "Emulator": "_emulator",
    "Fetch": "_installer_fetch",
    "Installer": "_installer",
    "LoginPrompt": "_login",
    "ThreadedEmulator": "_threaded",
    "Target": "_target",
    "TargetEvent": "_target",
}
"""The module each public name comes from, imported on first use."""


def _load(module: str) -> ModuleType:
    """This package's ``module``; a third-party module it cannot import means the extra is
    missing, and the error says so in one line."""
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] == "aiopikvm":
            raise
        raise ModuleNotFoundError(
            f"aiopikvm.emulator needs the 'emulator' extra ({error.name} is not installed):"
            " pip install 'aiopikvm[emulator]'",
            name=error.name,
        ) from None


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(_load(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
