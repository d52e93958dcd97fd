from __future__ import annotations

from typing import Any

from ._base import Model


class GpioHardware(Model):
    """Where a channel is wired: the driver instance and its pin (as a string)."""

    driver: str
    pin: str


class GpioPulse(Model):
    """Pulse lengths in seconds; ``delay`` 0 means the channel cannot pulse."""

    delay: float
    min_delay: float
    max_delay: float


class GpioInputScheme(Model):
    hw: GpioHardware | None = None


class GpioOutputScheme(Model):
    switch: bool
    pulse: GpioPulse
    hw: GpioHardware | None = None


class GpioScheme(Model):
    inputs: dict[str, GpioInputScheme] = {}
    outputs: dict[str, GpioOutputScheme] = {}


class GpioView(Model):
    """How kvmd's web UI lays the channels out: a header and rows of items."""

    header: dict[str, Any] = {}
    table: list[list[dict[str, Any]] | None] = []


class GpioModel(Model):
    """What the channels are (fixed by the device's configuration)."""

    scheme: GpioScheme
    view: GpioView = GpioView()


class GpioInput(Model):
    online: bool
    state: bool


class GpioOutput(Model):
    """An output's level; kvmd reports ``state`` false while the channel is ``busy``."""

    online: bool
    state: bool
    busy: bool = False


class GpioChannels(Model):
    inputs: dict[str, GpioInput] = {}
    outputs: dict[str, GpioOutput] = {}


class GpioState(Model):
    """``GET /api/gpio`` and the merged ``gpio`` events: the model (``scheme``, ``view``)
    and the live ``state`` of each channel, both split into ``inputs`` and ``outputs``."""

    model: GpioModel
    state: GpioChannels
