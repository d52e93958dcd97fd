from __future__ import annotations

from typing import Any

from ._base import Model


class GpioPulse(Model):
    delay: float
    min_delay: float
    max_delay: float


class GpioOutputScheme(Model):
    switch: bool
    pulse: GpioPulse
    hw: dict[str, Any] = {}


class GpioScheme(Model):
    inputs: dict[str, dict[str, Any]] = {}
    outputs: dict[str, GpioOutputScheme] = {}


class GpioModel(Model):
    scheme: GpioScheme
    view: dict[str, Any] = {}


class GpioInput(Model):
    online: bool
    state: bool


class GpioOutput(Model):
    online: bool
    state: bool
    busy: bool = False


class GpioChannels(Model):
    inputs: dict[str, GpioInput] = {}
    outputs: dict[str, GpioOutput] = {}


class GpioState(Model):
    """``GET /api/gpio`` and the merged ``gpio`` events: the scheme and the live channels."""

    model: GpioModel
    state: GpioChannels
