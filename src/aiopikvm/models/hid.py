from __future__ import annotations

from ._base import Model


class HidOutputs(Model):
    available: list[str] = []
    active: str = ""


class KeyboardLeds(Model):
    caps: bool = False
    num: bool = False
    scroll: bool = False


class KeyboardState(Model):
    online: bool
    leds: KeyboardLeds = KeyboardLeds()
    outputs: HidOutputs = HidOutputs()


class MouseState(Model):
    online: bool
    absolute: bool = True
    outputs: HidOutputs = HidOutputs()


class JigglerState(Model):
    enabled: bool = False
    active: bool = False
    interval: int = 0


class HidState(Model):
    """``GET /api/hid`` and the ``hid`` event."""

    enabled: bool = True
    online: bool
    busy: bool = False
    connected: bool | None = None
    keyboard: KeyboardState
    mouse: MouseState
    jiggler: JigglerState = JigglerState()


class Keymaps(Model):
    default: str
    available: list[str]


class HidKeymaps(Model):
    """``GET /api/hid/keymaps`` and the ``hid_keymaps`` event."""

    keymaps: Keymaps


class HidInactivity(Model):
    """``GET /api/hid/inactivity``: seconds since the last input kvmd accepted."""

    inactivity: int
