from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from .._checks import check_bool, check_number, invalid
from ..transport.params import Params
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.gpio import GpioState

_CHANNEL: Final = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]*\Z")
_CHANNEL_LIMIT: Final = 255


def _channel(channel: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel) or len(channel) > _CHANNEL_LIMIT:
        raise invalid("channel", "a GPIO channel name kvmd accepts", channel)
    return channel


class Gpio(Resource):
    """User GPIO channels (``/api/gpio``): inputs to read, outputs to switch and pulse.

    Only outputs can be switched or pulsed; kvmd answers an unknown or input channel with
    ``GpioChannelNotFoundError``, an output that cannot do it with
    ``GpioSwitchNotSupported`` / ``GpioPulseNotSupported`` (all
    :class:`~aiopikvm.BadRequestError`), and an operation on a channel still busy with the
    last one with :class:`~aiopikvm.BusyError` (``GpioChannelIsBusyError``).
    """

    async def get_state(self) -> GpioState:
        """The channels' ``model`` (what each can do) and their live ``state``."""
        from ..models.gpio import GpioState

        return parse(GpioState, await self._http.request("GET", "gpio"), "gpio state")

    async def switch(self, channel: str, state: bool, *, wait: bool = False) -> None:
        """Set an output to ``state``. With ``wait=True`` the call returns once it is set
        (and the channel's busy time has passed); otherwise as soon as it started."""
        params: Params = {
            "channel": _channel(channel),
            "state": check_bool(state, "state"),
            "wait": check_bool(wait, "wait"),
        }
        await self._http.request("POST", "gpio/switch", params=params)

    async def pulse(self, channel: str, *, delay: float | None = None, wait: bool = False) -> None:
        """Turn an output on for ``delay`` seconds, then off. ``None`` (or 0) uses the
        channel's own delay; kvmd clamps any delay to the channel's min/max (see
        ``model.scheme.outputs[channel].pulse``)."""
        if delay is not None:
            check_number(delay, "delay", low=0, query=True)
        params: Params = {
            "channel": _channel(channel),
            "delay": delay,
            "wait": check_bool(wait, "wait"),
        }
        await self._http.request("POST", "gpio/pulse", params=params)
