from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, get_args

from .._checks import (
    KVMD_INT_MAX,
    KVMD_RAW_LIMIT,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_optional_bool,
    check_str,
    invalid,
)
from ..errors import InvalidInputError, ProtocolError
from ..transport.params import Params
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.switch import SwitchColor, SwitchState

Port: TypeAlias = int | float | str
"""A switch port: an ``int`` is the 0-based port index across all units; ``"U.C"`` (or the
float ``U.C``) is unit U, channel C, both 1-based (``"2.3"``: the 2nd unit's 3rd port)."""
Color: TypeAlias = "SwitchColor | str"
"""A :class:`~aiopikvm.models.SwitchColor`, ``"RRGGBB:LL:TTTT"`` (hex colour, brightness,
blink time in ms), or ``"default"`` to go back to kvmd's colour for that role."""
AtxPowerAction: TypeAlias = Literal["on", "off", "off_hard", "reset_hard"]
AtxButton: TypeAlias = Literal["power", "power_long", "reset"]

_PORT_TEXT: Final = re.compile(r"^\d+(\.\d+)?\Z")
_EDID_ID: Final = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE
)
_EDID_HEX: Final = re.compile(r"^([0-9a-f]{256}|[0-9a-f]{512})\Z", re.IGNORECASE)
_COLOR: Final = re.compile(r"^[0-9a-f]{6}:[0-9a-f]{2}:[0-9a-f]{4}\Z", re.IGNORECASE)
_MAX_ATX_DELAY: Final = 10.0
_NAME_LIMIT: Final = 255  # kvmd cuts a port's name to this many characters


def _port(port: Port, name: str = "port") -> int | float | str:
    # kvmd reads a fraction by its decimal digits (an exponent or inf crashes it), and at
    # most 16 characters of it.
    if (
        not isinstance(port, bool)
        and isinstance(port, int | float | str)
        and _PORT_TEXT.match(str(port))
        and len(str(port)) <= KVMD_RAW_LIMIT
    ):
        return port
    raise invalid(name, "a port index >= 0, or 'unit.channel' like '1.2'", port)


def _unit(unit: int, name: str = "unit") -> int:
    return check_int(unit, name, low=0, high=KVMD_INT_MAX)


def _edid_id(edid_id: str, *, allow_default: bool, name: str = "edid_id") -> str:
    if isinstance(edid_id, str) and (
        _EDID_ID.match(edid_id) or (allow_default and edid_id == "default")
    ):
        return edid_id.lower()
    what = "an EDID id (a UUID, or 'default')" if allow_default else "a created EDID's id"
    raise invalid(name, what, edid_id)


def _edid_data(data: str | bytes) -> str:
    if isinstance(data, bytes | bytearray):
        text = bytes(data).hex()
    elif isinstance(data, str):
        text = re.sub(r"\s", "", data)
    else:
        raise invalid("data", "an EDID as hex text or bytes", data)
    if not _EDID_HEX.match(text):
        raise invalid("data", "an EDID of 128 or 256 bytes (as bytes, or 256/512 hex digits)", data)
    return text.upper()


def _color(role: str, color: Color) -> str:
    from ..models.switch import SwitchColor

    if isinstance(color, SwitchColor):
        parts = (color.red, color.green, color.blue, color.brightness)
        if not all(0 <= part <= 0xFF for part in parts) or not 0 <= color.blink_ms <= 0xFFFF:
            raise invalid(role, "a colour within range", color)
        red, green, blue, brightness = parts
        return f"{red:02X}{green:02X}{blue:02X}:{brightness:02X}:{color.blink_ms:04X}"
    if isinstance(color, str) and (color.lower() == "default" or _COLOR.match(color)):
        return color
    raise invalid(role, "a colour ('RRGGBB:LL:TTTT' or 'default')", color)


def _delay(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    return check_number(value, name, low=0, high=_MAX_ATX_DELAY, query=True)


class Switch(Resource):
    """The PiKVM Switch (``/api/switch``): a chain of up to five 4-port KVM switch units.

    Commands for a unit are queued by kvmd and carried out when the unit reads them: the
    call returns before anything happened, and nothing happens for a port or unit that is
    not attached. Watch :meth:`get_state` (or the ``switch`` events) for the outcome. The
    EDID library and the colours are kvmd's own and change at once.
    """

    async def get_state(self) -> SwitchState:
        from ..models.switch import SwitchState

        return parse(SwitchState, await self._http.request("GET", "switch"), "switch state")

    async def _post(self, path: str, params: Params | None = None) -> object:
        return await self._http.request("POST", f"switch/{path}", params=params)

    async def set_active(self, port: Port) -> None:
        """Switch the keyboard, mouse and video to ``port``."""
        await self._post("set_active", {"port": _port(port)})

    async def set_active_prev(self) -> None:
        await self._post("set_active_prev")

    async def set_active_next(self) -> None:
        await self._post("set_active_next")

    async def set_beacon(
        self,
        state: bool,
        *,
        port: Port | None = None,
        uplink: int | None = None,
        downlink: int | None = None,
    ) -> None:
        """Blink (or stop blinking) the beacon LED of one ``port``, or of a unit's
        ``uplink`` or ``downlink`` connector (units are 0-based). Give exactly one."""
        check_bool(state, "state")
        if port is not None:
            _port(port)
        if uplink is not None:
            _unit(uplink, "uplink")
        if downlink is not None:
            _unit(downlink, "downlink")
        given = [
            name
            for name, value in (("port", port), ("uplink", uplink), ("downlink", downlink))
            if value is not None
        ]
        if len(given) != 1:
            raise InvalidInputError(f"give exactly one of port, uplink, downlink (got {given})")
        target: tuple[str, int | float | str]
        if port is not None:
            target = ("port", _port(port))
        elif uplink is not None:
            target = ("uplink", _unit(uplink))
        else:
            assert downlink is not None
            target = ("downlink", _unit(downlink))
        params: Params = {"state": state, target[0]: target[1]}
        await self._post("set_beacon", params)

    async def set_port_params(
        self,
        port: Port,
        *,
        edid_id: str | None = None,
        dummy: bool | None = None,
        name: str | None = None,
        atx_click_power_delay: float | None = None,
        atx_click_power_long_delay: float | None = None,
        atx_click_reset_delay: float | None = None,
    ) -> None:
        """Change a port's settings; only the arguments given change. ``edid_id`` is the
        EDID the port shows the host (``"default"`` for kvmd's own); ``dummy`` keeps a
        video signal when no host is there; ``name`` labels the port (``""`` clears it);
        the delays (0..10 s, 0 resets to the default) are how long kvmd presses the
        host's buttons for."""
        if name is not None:
            check_str(name, "name", printable=True, max_length=_NAME_LIMIT)
        params: Params = {
            "port": _port(port),
            "edid_id": None if edid_id is None else _edid_id(edid_id, allow_default=True),
            "dummy": check_optional_bool(dummy, "dummy"),
            "name": name,
            "atx_click_power_delay": _delay("atx_click_power_delay", atx_click_power_delay),
            "atx_click_power_long_delay": _delay(
                "atx_click_power_long_delay", atx_click_power_long_delay
            ),
            "atx_click_reset_delay": _delay("atx_click_reset_delay", atx_click_reset_delay),
        }
        await self._post("set_port_params", params)

    async def set_colors(
        self,
        *,
        inactive: Color | None = None,
        active: Color | None = None,
        flashing: Color | None = None,
        beacon: Color | None = None,
        bootloader: Color | None = None,
    ) -> None:
        """Set the LED colour of port roles; only the roles given change."""
        roles = {
            "inactive": inactive,
            "active": active,
            "flashing": flashing,
            "beacon": beacon,
            "bootloader": bootloader,
        }
        params: Params = {
            role: _color(role, color) for role, color in roles.items() if color is not None
        }
        await self._post("set_colors", params)

    async def reset(self, unit: int, *, bootloader: bool = False) -> None:
        """Reboot a unit (0-based), into its bootloader for a firmware update if asked."""
        params = {"unit": _unit(unit), "bootloader": check_bool(bootloader, "bootloader")}
        await self._post("reset", params)

    async def create_edid(self, name: str, data: str | bytes) -> str:
        """Add an EDID to the library; returns its new id."""
        check_str(name, "name", printable=True)
        if not name.strip():
            raise invalid("name", "a name for the EDID", name)
        result = await self._post("edids/create", {"name": name, "data": _edid_data(data)})
        edid_id = result.get("id") if isinstance(result, dict) else None
        if not isinstance(edid_id, str):
            raise ProtocolError(f"the device's answer to edids/create has no id: {result!r}")
        return edid_id

    async def change_edid(
        self, edid_id: str, *, name: str | None = None, data: str | bytes | None = None
    ) -> None:
        """Rename an EDID or replace its data; the ``default`` one cannot change."""
        if name is not None:
            check_str(name, "name", printable=True, max_length=_NAME_LIMIT)
        params: Params = {
            "id": _edid_id(edid_id, allow_default=False),
            "name": name,
            "data": None if data is None else _edid_data(data),
        }
        await self._post("edids/change", params)

    async def remove_edid(self, edid_id: str) -> None:
        """Delete an EDID; ports that showed it go back to the default one."""
        await self._post("edids/remove", {"id": _edid_id(edid_id, allow_default=False)})

    async def atx_power(self, port: Port, action: AtxPowerAction) -> None:
        """The power actions of :meth:`PiKVM.atx <aiopikvm.resources.atx.Atx>` for the host
        on ``port``: they act only if its power LED says they must."""
        check_choice(action, "action", get_args(AtxPowerAction))
        await self._post("atx/power", {"port": _port(port), "action": action})

    async def atx_click(self, port: Port, button: AtxButton) -> None:
        """Press a button of the host on ``port``: ``power``, ``power_long``, ``reset``."""
        check_choice(button, "button", get_args(AtxButton))
        await self._post("atx/click", {"port": _port(port), "button": button})
