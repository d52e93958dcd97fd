from __future__ import annotations

from ._base import Model


class AtxActs(Model):
    power: bool = False
    reset: bool = False


class AtxLeds(Model):
    power: bool = False
    hdd: bool = False


class AtxState(Model):
    """``GET /api/atx`` and the ``atx`` event."""

    enabled: bool
    busy: bool
    acts: AtxActs = AtxActs()
    leds: AtxLeds = AtxLeds()
