"""User GPIO (``/api/gpio``): input channels to read, output channels to switch and pulse.

The channels come from a scheme given to the emulator, in the shape of kvmd's own
``kvmd.gpio.scheme`` config (see :data:`GpioScheme`); without one, the recorded device's
scheme (the v3's ``__v3_usb_breaker__`` output) is used. What kvmd does and this copies:

- only outputs can be switched or pulsed: an input or unknown channel is "not found";
  an output with ``switch: false`` refuses switching, one whose pulse delay is 0 refuses
  pulsing, and one that can do neither is left out of the model and the state;
- an operation keeps its channel busy for the action plus ``busy_delay``; any other
  operation on it meanwhile is refused with 409, and a busy output reads ``state: false``;
- ``wait=1`` answers after the action, otherwise as soon as it has started;
- a pulse lasts ``delay`` (0 = the channel's default), clamped to its min/max;
- every change is broadcast as a diff, ``{"state": {"outputs": {ch: {...}}}}``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from . import _captures
from ._busy import BusyRegion
from ._errors import (
    GpioChannelIsBusyError,
    GpioChannelNotFoundError,
    GpioPulseNotSupported,
    GpioSwitchNotSupported,
)
from ._server import Broadcast, Route, json_response
from ._subsystem import State, StatePublisher
from ._tasks import Tasks
from ._validators import valid_bool, valid_float, valid_gpio_channel

logger = logging.getLogger("aiopikvm.emulator.gpio")

GpioScheme = Mapping[str, Mapping[str, Any]]
"""``{channel: config}``, like kvmd's ``kvmd.gpio.scheme``. Keys of a channel's config:

- ``mode``: ``"input"`` or ``"output"`` (required);
- ``pin`` (default: the channel's position) and ``driver`` (default ``"__gpio__"``), shown in
  the model's ``hw``;
- inputs: ``state``, the level the input reads at start (default false; change it with
  :meth:`Emulator.set_gpio_input`);
- outputs: ``initial`` (default false), ``switch`` (default true), ``pulse``: false or
  ``{"delay", "min_delay", "max_delay"}`` in seconds (each default 0.1), and ``busy_delay``,
  how long the channel stays busy after an action (default 0.2, kvmd's).
"""

_DRIVER: Final = "__gpio__"
_INPUT_KEYS: Final = frozenset({"mode", "pin", "driver", "state"})
_OUTPUT_KEYS: Final = frozenset(
    {"mode", "pin", "driver", "initial", "switch", "pulse", "busy_delay"}
)
_PULSE_KEYS: Final = frozenset({"delay", "min_delay", "max_delay"})
_DEFAULT_PULSE: Final = 0.1
_DEFAULT_BUSY_DELAY: Final = 0.2


def recorded_scheme() -> dict[str, dict[str, Any]]:
    """The recorded device's channels, as a scheme this module accepts."""
    recorded = _captures.result("gpio.json")
    scheme: dict[str, dict[str, Any]] = {}
    for kind in ("inputs", "outputs"):
        for channel, model in recorded["model"]["scheme"][kind].items():
            state = recorded["state"][kind][channel]["state"]
            config: dict[str, Any] = {
                "mode": kind[:-1],
                "pin": model["hw"]["pin"],
                "driver": model["hw"]["driver"],
            }
            if kind == "inputs":
                config["state"] = state
            else:
                pulse = model["pulse"]
                config.update(
                    initial=state, switch=model["switch"], pulse=pulse if pulse["delay"] else False
                )
            scheme[channel] = config
    return scheme


@dataclass
class _Input:
    pin: str
    driver: str
    state: bool

    def scheme(self) -> dict[str, Any]:
        return {"hw": {"driver": self.driver, "pin": self.pin}}

    def io_state(self) -> dict[str, Any]:
        return {"online": True, "state": self.state}


@dataclass
class _Output:
    pin: str
    driver: str
    level: bool
    switch: bool
    pulse_delay: float
    min_pulse_delay: float
    max_pulse_delay: float
    busy_delay: float
    region: BusyRegion = field(default_factory=lambda: BusyRegion(GpioChannelIsBusyError))

    @property
    def busy(self) -> bool:
        return self.region.busy

    @property
    def const(self) -> bool:
        return not self.switch and not self.pulse_delay

    def scheme(self) -> dict[str, Any]:
        return {
            "switch": self.switch,
            "pulse": {
                "delay": self.pulse_delay,
                "min_delay": self.min_pulse_delay,
                "max_delay": self.max_pulse_delay,
            },
            "hw": {"driver": self.driver, "pin": self.pin},
        }

    def io_state(self) -> dict[str, Any]:
        # kvmd does not read the pin while the channel is busy, and reports false.
        return {"online": True, "state": self.level and not self.busy, "busy": self.busy}


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{what} must be a number >= 0, not {value!r}")
    return float(value)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be a bool, not {value!r}")
    return value


def _make_output(channel: str, config: Mapping[str, Any], pin: str, driver: str) -> _Output:
    pulse = config.get("pulse", {})
    if pulse is False:
        pulse = {"delay": 0}
    if not isinstance(pulse, Mapping) or set(pulse) - _PULSE_KEYS:
        raise ValueError(f"GPIO channel {channel!r}: pulse must be false or {sorted(_PULSE_KEYS)}")
    delay, low, high = (
        _number(pulse.get(key, _DEFAULT_PULSE), f"GPIO channel {channel!r}: pulse {key}")
        for key in ("delay", "min_delay", "max_delay")
    )
    if delay and not high:
        raise ValueError(f"GPIO channel {channel!r}: a pulse needs max_delay > 0")
    return _Output(
        pin=pin,
        driver=driver,
        level=_flag(config.get("initial", False), f"GPIO channel {channel!r}: initial"),
        switch=_flag(config.get("switch", True), f"GPIO channel {channel!r}: switch"),
        # As kvmd: a pulse delay of 0 disables pulsing, and then the limits read 0 too.
        pulse_delay=min(max(delay, low), high) if delay else 0.0,
        min_pulse_delay=low if delay else 0.0,
        max_pulse_delay=high if delay else 0.0,
        busy_delay=_number(
            config.get("busy_delay", _DEFAULT_BUSY_DELAY), f"GPIO channel {channel!r}: busy_delay"
        ),
    )


def _parse_scheme(scheme: GpioScheme) -> tuple[dict[str, _Input], dict[str, _Output]]:
    inputs: dict[str, _Input] = {}
    outputs: dict[str, _Output] = {}
    for index, channel in enumerate(scheme):
        config = scheme[channel]
        if not isinstance(channel, str) or not re.match(r"^[a-zA-Z_][a-zA-Z0-9_.-]*\Z", channel):
            raise ValueError(f"not a GPIO channel name kvmd accepts: {channel!r}")
        mode = config.get("mode")
        allowed = {"input": _INPUT_KEYS, "output": _OUTPUT_KEYS}.get(str(mode))
        if allowed is None:
            raise ValueError(f"GPIO channel {channel!r}: mode must be 'input' or 'output'")
        unknown = set(config) - allowed
        if unknown:
            raise ValueError(f"GPIO channel {channel!r}: unknown {mode} keys {sorted(unknown)}")
        pin = str(config.get("pin", index))
        driver = str(config.get("driver", _DRIVER))
        if mode == "input":
            state = _flag(config.get("state", False), f"GPIO channel {channel!r}: state")
            inputs[channel] = _Input(pin=pin, driver=driver, state=state)
        else:
            outputs[channel] = _make_output(channel, config, pin, driver)
    # kvmd walks its scheme sorted by channel name.
    return dict(sorted(inputs.items())), dict(sorted(outputs.items()))


class Gpio:
    def __init__(self, scheme: GpioScheme | None, *, broadcast: Broadcast) -> None:
        self._inputs, self._outputs = _parse_scheme(recorded_scheme() if scheme is None else scheme)
        self._view: dict[str, Any] = _captures.result("gpio.json")["model"]["view"]
        self.publisher = StatePublisher("gpio", broadcast, self.get_state, _diff)
        self._tasks = Tasks()

    async def stop(self) -> None:
        await self._tasks.cancel_all()

    # ----- state ----------------------------------------------------------------------

    def io_state(self) -> dict[str, Any]:
        return {
            "inputs": {channel: gin.io_state() for channel, gin in self._inputs.items()},
            "outputs": {
                channel: gout.io_state()
                for channel, gout in self._outputs.items()
                if not gout.const
            },
        }

    def get_state(self) -> dict[str, Any]:
        return {
            "model": {
                "scheme": {
                    "inputs": {channel: gin.scheme() for channel, gin in self._inputs.items()},
                    "outputs": {
                        channel: gout.scheme()
                        for channel, gout in self._outputs.items()
                        if not gout.const
                    },
                },
                "view": copy.deepcopy(self._view),
            },
            "state": self.io_state(),
        }

    def set_input(self, channel: str, state: bool) -> None:
        gin = self._inputs.get(channel)
        if gin is None:
            raise KeyError(f"no GPIO input {channel!r}")
        gin.state = state
        self.publisher.publish()

    # ----- actions --------------------------------------------------------------------

    def _output(self, channel: str) -> _Output:
        gout = self._outputs.get(channel)
        if gout is None:
            raise GpioChannelNotFoundError()
        return gout

    async def switch(self, channel: str, state: bool, wait: bool) -> None:
        gout = self._output(channel)
        if not gout.switch:
            raise GpioSwitchNotSupported()
        await self._run(channel, gout, wait, self._switch(channel, gout, state))

    async def pulse(self, channel: str, delay: float, wait: bool) -> None:
        gout = self._output(channel)
        if not gout.pulse_delay:
            raise GpioPulseNotSupported()
        delay = min(max(delay or gout.pulse_delay, gout.min_pulse_delay), gout.max_pulse_delay)
        await self._run(channel, gout, wait, self._pulse(channel, gout, delay))

    async def _run(
        self, channel: str, gout: _Output, wait: bool, action: Coroutine[Any, Any, None]
    ) -> None:
        try:
            gout.region.enter()
        except BaseException:
            action.close()
            raise
        self.publisher.publish()
        task = self._tasks.spawn(self._hold(gout, action), name=f"emulator-gpio-{channel}")
        if wait:
            # Shielded: a client that hangs up does not cut the action short.
            await asyncio.shield(task)

    async def _hold(self, gout: _Output, action: Coroutine[Any, Any, None]) -> None:
        try:
            await action
        finally:
            gout.region.exit()
            self.publisher.publish()

    async def _switch(self, channel: str, gout: _Output, state: bool) -> None:
        gout.level = state
        logger.info("Ensured switch %s to state=%d", channel, state)
        await asyncio.sleep(gout.busy_delay)

    async def _pulse(self, channel: str, gout: _Output, delay: float) -> None:
        try:
            gout.level = True
            await asyncio.sleep(delay)
        finally:
            gout.level = False
            await asyncio.sleep(gout.busy_delay)
        logger.info("Pulsed %s with delay=%.2f", channel, delay)

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/gpio", self._h_state),
            Route("POST", "/gpio/switch", self._h_switch),
            Route("POST", "/gpio/pulse", self._h_pulse),
        ]

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self.get_state())

    async def _h_switch(self, request: web.Request) -> web.StreamResponse:
        channel = valid_gpio_channel(request.query.get("channel"))
        state = valid_bool(request.query.get("state"))
        wait = valid_bool(request.query.get("wait", False))
        await self.switch(channel, state, wait)
        return json_response()

    async def _h_pulse(self, request: web.Request) -> web.StreamResponse:
        channel = valid_gpio_channel(request.query.get("channel"))
        delay = valid_float(request.query.get("delay", 0.0), low=0)
        wait = valid_bool(request.query.get("wait", False))
        await self.pulse(channel, delay, wait)
        return json_response()


def _diff(sent: State | None, new: State) -> State | None:
    """The channels whose level or busy flag changed, as kvmd's ``gpio`` events carry them."""
    last = sent["state"] if sent else {"inputs": {}, "outputs": {}}
    diff: dict[str, dict[str, Any]] = {}
    for kind in ("inputs", "outputs"):
        for channel, value in new["state"][kind].items():
            if value != last[kind].get(channel):
                diff.setdefault(kind, {})[channel] = value
    return {"state": diff} if diff else None
