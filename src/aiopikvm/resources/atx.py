from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .._checks import check_bool
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.atx import AtxState

PowerAction = Literal["on", "off", "off_hard", "reset_hard"]
ClickButton = Literal["power", "power_long", "reset"]


class Atx(Resource):
    """The host's power and reset buttons (``/api/atx``).

    ``power_*`` act only when the power LED says they must (``power_on`` on a running host
    does nothing); ``click_*`` always press. With ``wait=True`` the call returns after the
    press; a press while another runs raises :class:`~aiopikvm.BusyError`.
    """

    async def get_state(self) -> AtxState:
        from ..models.atx import AtxState

        return parse(AtxState, await self._http.request("GET", "atx"), "atx state")

    async def _power(self, action: PowerAction, wait: bool) -> None:
        await self._http.request(
            "POST", "atx/power", params={"action": action, "wait": check_bool(wait, "wait")}
        )

    async def _click(self, button: ClickButton, wait: bool) -> None:
        await self._http.request(
            "POST", "atx/click", params={"button": button, "wait": check_bool(wait, "wait")}
        )

    async def power_on(self, *, wait: bool = False) -> None:
        await self._power("on", wait)

    async def power_off(self, *, wait: bool = False) -> None:
        """A short press of the power button: the OS shuts down."""
        await self._power("off", wait)

    async def power_off_hard(self, *, wait: bool = False) -> None:
        """A long press of the power button: the host is cut off."""
        await self._power("off_hard", wait)

    async def reset_hard(self, *, wait: bool = False) -> None:
        await self._power("reset_hard", wait)

    async def click_power(self, *, wait: bool = False) -> None:
        await self._click("power", wait)

    async def click_power_long(self, *, wait: bool = False) -> None:
        await self._click("power_long", wait)

    async def click_reset(self, *, wait: bool = False) -> None:
        await self._click("reset", wait)
