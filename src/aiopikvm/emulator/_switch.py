"""The PiKVM Switch (``/api/switch``), as kvmd serves it with no switch unit attached.

That is the recorded device's situation, and the state is the recording's: no units, no
ports, ``active_port`` -1. kvmd still keeps the EDID library and the LED colours, and so
does this: ``edids/create``, ``edids/change``, ``edids/remove`` and ``set_colors`` change
the state and broadcast ``{"edids": ...}`` / ``{"colors": ...}`` to every session.

Everything that would talk to a unit (``set_active*``, ``set_beacon``, ``reset``, ``atx/*``)
is validated exactly like kvmd does it, answered with success, and then has no effect: kvmd
queues such commands for a unit that is not there, and drops them. ``set_port_params``
is validated (an unknown ``edid_id`` is refused) and then dropped too: kvmd keeps those
values, but shows them only on the ports of attached units.

A port is a float: an integer is the 0-based port index, ``U.C`` is unit U, channel C
(both 1-based and clamped, so ``1.2`` is port 1). A value kvmd's port translation chokes
on (``nan``, ``inf``, ``1e-05``) crashes kvmd's handler; it gets kvmd's crash answer here.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, Final

from aiohttp import web

from . import _captures
from ._errors import SwitchUnknownEdidError
from ._server import Broadcast, Route, crash_response, json_response
from ._subsystem import StatePublisher, changed_keys
from ._validators import (
    valid_atx_button,
    valid_atx_power_action,
    valid_bool,
    valid_float,
    valid_int,
    valid_not_empty_string,
    valid_switch_atx_click_delay,
    valid_switch_color,
    valid_switch_edid_data,
    valid_switch_edid_id,
    valid_switch_port_name,
)

_COLOR_ROLES: Final = ("inactive", "active", "flashing", "beacon", "bootloader")
_ATX_DELAYS: Final = (
    "atx_click_power_delay",
    "atx_click_power_long_delay",
    "atx_click_reset_delay",
)
_DTD_OFFSETS: Final = (54, 72, 90, 108)
_MONITOR_NAME: Final = 0xFC
_MONITOR_SERIAL: Final = 0xFF
_CEA_AUDIO: Final = 1
_CEA_SPEAKERS: Final = 4


class _PortCrash(Exception):
    """kvmd's port translation failed on this value: its handler dies with a 500."""


def translate_port(port: float) -> int:
    """kvmd's port number -> 0-based port index (see the module's docs)."""
    try:
        if not port >= 0:
            raise _PortCrash()
        if int(port) == port:
            return int(port)
        unit, channel = map(int, str(port).split("."))
    except (ValueError, OverflowError):
        raise _PortCrash() from None
    unit = min(max(unit, 1), 5)
    channel = min(max(channel, 1), 4)
    return min((unit - 1) * 4 + (channel - 1), 19)


# ----- EDIDs --------------------------------------------------------------------------


def edid_info(data: bytes) -> dict[str, Any] | None:
    """What kvmd shows as an EDID's ``parsed``; None where kvmd's parser gives up."""
    if len(data) == 256 and (data[126] != 1 or data[128:130] != b"\x02\x03"):
        return None  # a second block that is not the one CEA extension kvmd understands
    raw = data[8] << 8 | data[9]
    mfc_id = "".join(chr(((raw >> shift) & 0x1F) + 0x40) for shift in (10, 5, 0))
    try:
        audio = _edid_audio(data) if len(data) == 256 else False
    except ValueError:
        return None
    return {
        "mfc_id": mfc_id,
        "product_id": int.from_bytes(data[10:12], "little"),
        "serial": int.from_bytes(data[12:16], "little"),
        "monitor_name": _edid_text(data, _MONITOR_NAME),
        "monitor_serial": _edid_text(data, _MONITOR_SERIAL),
        "audio": audio,
    }


def _edid_text(data: bytes, tag: int) -> str | None:
    # Like kvmd, the first of the four descriptors whose tag byte matches; not checked further.
    for offset in _DTD_OFFSETS:
        if data[offset + 3] == tag:
            return data[offset + 5 : offset + 18].decode("cp437").strip()
    return None


def _edid_audio(data: bytes) -> bool:
    cea = data[128:]
    dtd_begin = cea[2]
    if dtd_begin == 0:
        return False
    tags: set[int] = set()
    blocks = cea[4:dtd_begin] if dtd_begin > 4 else b""
    while blocks:
        tag, size = blocks[0] >> 5, blocks[0] & 0x1F
        if not tag or not size or len(blocks) < 2:
            raise ValueError("a CEA data block kvmd refuses")  # kvmd asserts on these
        tags.add(tag)
        blocks = blocks[size + 1 :]
    if dtd_begin < 4:
        raise ValueError("a CEA DTD offset kvmd refuses")
    return _CEA_AUDIO in tags and _CEA_SPEAKERS in tags and bool(cea[3] & 0x40)


def _edid(name: str, data_hex: str) -> dict[str, Any]:
    data = bytes.fromhex(data_hex)
    return {"name": name, "data": data.hex().upper(), "parsed": edid_info(data)}


def _color(text: str) -> dict[str, int]:
    rgb, brightness, blink = text.split(":")
    return {
        "red": int(rgb[0:2], 16),
        "green": int(rgb[2:4], 16),
        "blue": int(rgb[4:6], 16),
        "brightness": int(brightness, 16),
        "blink_ms": int(blink, 16),
    }


class Switch:
    def __init__(self, *, broadcast: Broadcast) -> None:
        self._state: dict[str, Any] = _captures.result("switch.json")
        # The recording shows kvmd's default colours, which "default" resets a role to.
        self._default_colors: dict[str, Any] = copy.deepcopy(self._state["colors"])
        self.publisher = StatePublisher("switch", broadcast, self.get_state, changed_keys)
        self.publisher.full()  # what each change is compared with, burst or no burst

    def get_state(self) -> dict[str, Any]:
        return copy.deepcopy(self._state)

    @property
    def ports(self) -> list[dict[str, Any]]:
        """The ports of the attached units (none)."""
        return copy.deepcopy(self._state["model"]["ports"])

    def port_powered(self, port: int) -> bool:
        powered: bool = self._state["atx"]["leds"]["power"][port]
        return powered

    def atx_power(self, port: float, action: str) -> None:
        """A unit's ATX power action; with no unit attached kvmd queues it to nowhere."""
        translate_port(port)

    def atx_click(self, port: float, button: str) -> None:
        translate_port(port)

    def _set(self, field: str, value: Any) -> None:
        self._state[field] = value
        self.publisher.publish()

    def _edids(self) -> dict[str, Any]:
        return copy.deepcopy(self._state["edids"])

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/switch", self._h_state),
            Route("POST", "/switch/set_active_prev", self._h_nothing),
            Route("POST", "/switch/set_active_next", self._h_nothing),
            Route("POST", "/switch/set_active", self._h_set_active),
            Route("POST", "/switch/set_beacon", self._h_set_beacon),
            Route("POST", "/switch/set_port_params", self._h_set_port_params),
            Route("POST", "/switch/set_colors", self._h_set_colors),
            Route("POST", "/switch/reset", self._h_reset),
            Route("POST", "/switch/edids/create", self._h_edids_create),
            Route("POST", "/switch/edids/change", self._h_edids_change),
            Route("POST", "/switch/edids/remove", self._h_edids_remove),
            Route("POST", "/switch/atx/power", self._h_atx_power),
            Route("POST", "/switch/atx/click", self._h_atx_click),
        ]

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self.get_state())

    async def _h_nothing(self, _: web.Request) -> web.StreamResponse:
        return json_response()

    async def _h_set_active(self, request: web.Request) -> web.StreamResponse:
        port = valid_float(request.query.get("port"), low=0)
        try:
            translate_port(port)
        except _PortCrash:
            return crash_response()
        return json_response()

    async def _h_set_beacon(self, request: web.Request) -> web.StreamResponse:
        valid_bool(request.query.get("state"))
        if "port" in request.query:
            port = valid_float(request.query.get("port"), low=0)
            try:
                translate_port(port)
            except _PortCrash:
                return crash_response()
        elif "uplink" in request.query:
            valid_int(request.query.get("uplink"), "int", low=0)
        else:
            valid_int(request.query.get("downlink"), "int", low=0)
        return json_response()

    async def _h_set_port_params(self, request: web.Request) -> web.StreamResponse:
        # Validated in kvmd's order; with no unit to show them on, only the EDID id matters.
        query = request.query
        port = valid_float(query.get("port"), low=0)
        edid_id = None
        if (raw := query.get("edid_id")) is not None:
            edid_id = valid_switch_edid_id(raw, allow_default=True)
        if (raw := query.get("dummy")) is not None:
            valid_bool(raw)
        if (raw := query.get("name")) is not None:
            valid_switch_port_name(raw)
        for delay in _ATX_DELAYS:
            if (raw := query.get(delay)) is not None:
                valid_switch_atx_click_delay(raw)
        try:
            translate_port(port)
        except _PortCrash:
            return crash_response()
        if edid_id is not None and edid_id not in self._state["edids"]["all"]:
            raise SwitchUnknownEdidError()
        return json_response()

    async def _h_set_colors(self, request: web.Request) -> web.StreamResponse:
        values = {
            role: valid_switch_color(request.query[role])
            for role in _COLOR_ROLES
            if request.query.get(role) is not None
        }
        colors = copy.deepcopy(self._state["colors"])
        for role, value in values.items():
            colors[role] = (
                copy.deepcopy(self._default_colors[role]) if value == "default" else _color(value)
            )
        self._set("colors", colors)
        return json_response()

    async def _h_reset(self, request: web.Request) -> web.StreamResponse:
        valid_int(request.query.get("unit"), "int", low=0)
        valid_bool(request.query.get("bootloader", False))
        return json_response()

    async def _h_edids_create(self, request: web.Request) -> web.StreamResponse:
        name = valid_not_empty_string(request.query.get("name"))
        data_hex = valid_switch_edid_data(request.query.get("data"))
        edid_id = str(uuid.uuid4())
        edids = self._edids()
        edids["all"][edid_id] = _edid(name, data_hex)
        self._set("edids", edids)
        return json_response({"id": edid_id})

    async def _h_edids_change(self, request: web.Request) -> web.StreamResponse:
        edid_id = valid_switch_edid_id(request.query.get("id"), allow_default=False)
        name = data_hex = None
        if (raw := request.query.get("name")) is not None:
            name = valid_switch_port_name(raw)
        if (raw := request.query.get("data")) is not None:
            data_hex = valid_switch_edid_data(raw)
        if name is None and data_hex is None:
            return json_response()  # kvmd looks nothing up when there is nothing to change
        edids = self._edids()
        old = edids["all"].get(edid_id)
        if old is None:
            raise SwitchUnknownEdidError()
        # An empty value keeps the old one, as in kvmd.
        edids["all"][edid_id] = _edid(name or old["name"], data_hex or old["data"])
        self._set("edids", edids)
        return json_response()

    async def _h_edids_remove(self, request: web.Request) -> web.StreamResponse:
        edid_id = valid_switch_edid_id(request.query.get("id"), allow_default=False)
        edids = self._edids()
        if edids["all"].pop(edid_id, None) is None:
            raise SwitchUnknownEdidError()
        self._set("edids", edids)
        return json_response()

    async def _h_atx_power(self, request: web.Request) -> web.StreamResponse:
        port = valid_float(request.query.get("port"), low=0)
        action = valid_atx_power_action(request.query.get("action"))
        try:
            self.atx_power(port, action)
        except _PortCrash:
            return crash_response()
        return json_response()

    async def _h_atx_click(self, request: web.Request) -> web.StreamResponse:
        port = valid_float(request.query.get("port"), low=0)
        button = valid_atx_button(request.query.get("button"))
        try:
            self.atx_click(port, button)
        except _PortCrash:
            return crash_response()
        return json_response()
