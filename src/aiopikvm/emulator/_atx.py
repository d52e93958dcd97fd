"""ATX: the power and reset buttons of the simulated host, and its power LED.

Like kvmd's GPIO ATX driver, a click keeps the ATX busy for the press plus a short settle
time, and any other click meanwhile is refused with 409. (Recent kvmd sources give the
reset button a busy region of its own; older ones share one region for all buttons, which
is what this does: it refuses at least everything any kvmd refuses.) ``wait=1`` answers
after the click; otherwise the answer comes at once while ``busy`` stays true.
``atx/power`` reads the power LED first and does nothing if the host is already where it
was asked to go.

The simulated host reacts when the button is released: a short power press toggles it,
a long one forces it off, reset restarts what it runs (see ``Target.reset``).

A device without ATX (kvmd's ``disabled`` plugin) reports everything off and answers each
action, once its parameters passed the validators, with ``AtxDisabledError``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from aiohttp import web

from ._busy import BusyRegion
from ._errors import AtxDisabledError, AtxIsBusyError
from ._log import Journal
from ._server import Broadcast, Route, json_response
from ._subsystem import StatePublisher
from ._target import Target
from ._tasks import Tasks
from ._validators import valid_atx_button, valid_atx_power_action, valid_bool

logger = logging.getLogger("aiopikvm.emulator.atx")

_POWER_ACTIONS: Final = {
    "on": ("power", False),
    "off": ("power", True),
    "off_hard": ("power_long", True),
    "reset_hard": ("reset", True),
}
"""``atx/power`` action -> (button, the power LED state in which it is pressed)."""


class Atx:
    def __init__(
        self,
        target: Target,
        *,
        enabled: bool = True,
        click_delay: float,
        long_click_delay: float,
        broadcast: Broadcast,
        journal: Journal,
    ) -> None:
        self.enabled = enabled
        self._target = target
        self._journal = journal
        self._delays = {"power": click_delay, "power_long": long_click_delay, "reset": click_delay}
        self._settle = click_delay
        # One region for all buttons (see above); the button being held down, if any.
        self._region = BusyRegion(AtxIsBusyError)
        self._pressing: str | None = None
        self._tasks = Tasks()
        self.publisher = StatePublisher("atx", broadcast, self.get_state)
        target.add_listener(self.publisher.publish)

    async def stop(self) -> None:
        await self._tasks.cancel_all()

    # ----- state ----------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        power = self._pressing in ("power", "power_long")
        reset = self._pressing == "reset"
        return {
            "enabled": self.enabled,
            "busy": power or reset,
            "acts": {"power": power, "reset": reset},
            "leds": {"power": self.enabled and self._target.powered, "hdd": False},
        }

    # ----- buttons --------------------------------------------------------------------

    async def power(self, action: str, wait: bool) -> None:
        # Each action is one button, pressed only if the power LED says it is needed.
        if not self.enabled:
            raise AtxDisabledError()
        button, wanted_power = _POWER_ACTIONS[action]
        if self._target.powered == wanted_power:
            await self.click(button, wait)

    async def click(self, button: str, wait: bool) -> None:
        if not self.enabled:
            raise AtxDisabledError()
        self._region.enter()
        self._pressing = button
        self.publisher.publish()
        task = self._tasks.spawn(self._press(button), name=f"emulator-atx-{button}")
        if wait:
            # Shielded: a client that hangs up does not cut the button press short.
            await asyncio.shield(task)

    async def _press(self, button: str) -> None:
        try:
            await asyncio.sleep(self._delays[button])
            logger.info("Clicked ATX button %r", button)
            self._journal.write("kvmd.plugins.atx.gpio", f"Clicked ATX button {button!r}")
            if button == "power":
                self._target.set_powered(not self._target.powered)
            elif button == "power_long":
                self._target.set_powered(False)
            else:
                self._target.reset()
            await asyncio.sleep(self._settle)
        finally:
            self._pressing = None
            self._region.exit()
            self.publisher.publish()

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/atx", self._h_state),
            Route("POST", "/atx/power", self._h_power),
            Route("POST", "/atx/click", self._h_click),
        ]

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self.get_state())

    async def _h_power(self, request: web.Request) -> web.StreamResponse:
        action = valid_atx_power_action(request.query.get("action"))
        wait = valid_bool(request.query.get("wait", False))
        await self.power(action, wait)
        return json_response()

    async def _h_click(self, request: web.Request) -> web.StreamResponse:
        button = valid_atx_button(request.query.get("button"))
        wait = valid_bool(request.query.get("wait", False))
        await self.click(button, wait)
        return json_response()
