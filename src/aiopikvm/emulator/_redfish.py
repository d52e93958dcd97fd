"""Redfish (``/api/redfish/v1``): kvmd's DMTF Redfish service over the ATX, the switch
ports and the MSD.

The documents are kvmd's (see the ``redfish_*.json`` recordings), plain JSON without the
envelope; refusals still come in kvmd's envelope (``HttpError``, ``ValidatorError``, the
MSD's errors). What kvmd does and this copies:

- the root needs no credentials; everything else does;
- a system id is ``0`` (the host behind the ATX) or ``SwitchPort<N>`` (a switch port); any
  other is "Missing or invalid Server ID", and a port the switch does not have is
  "Non-existent Switch Port ID" on GET (a reset of one is accepted and goes nowhere);
- ``PowerState`` is the power LED; the system collection lists ``0`` only while the ATX is
  enabled, and then one member per switch port;
- PATCH of a system is a stub: 204, nothing validated or changed;
- ``ComputerSystem.Reset`` takes one of six ``ResetType`` values (case-sensitive), mapped
  onto ATX actions that are not waited for; it answers 204. ``SetDefaultBootOrder`` is
  advertised and has no route (aiohttp's plain-text 404);
- ``InsertMedia`` and ``EjectMedia`` drive the MSD. With no drive (the MSD offline or
  disabled) the insertion crashes in kvmd (it reads the drive before checking), which the
  recording shows as a 500; the ejection is refused by the MSD itself.

The MSD is reached through :class:`MsdControl`, the few calls of kvmd's MSD plugin that
Redfish makes.
"""

from __future__ import annotations

import json
import os.path
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

from aiohttp import web

from . import _captures
from ._atx import Atx
from ._errors import HttpError, ValidatorError
from ._info import Info
from ._server import Route, crash_response
from ._switch import Switch
from ._validators import fail, not_empty_string, valid_bool, valid_int

_SWITCH_PREFIX: Final = "SwitchPort"
_IMAGE_NAME: Final = "MSD image name"

_ATX_ACTIONS: Final[Mapping[str, Callable[[Atx], Awaitable[None]]]] = {
    "On": lambda atx: atx.power("on", False),
    "ForceOff": lambda atx: atx.power("off_hard", False),
    "GracefulShutdown": lambda atx: atx.power("off", False),
    "ForceRestart": lambda atx: atx.power("reset_hard", False),
    "ForceOn": lambda atx: atx.power("on", False),
    "PushPowerButton": lambda atx: atx.click("power", False),
}
"""``ResetType`` -> the ATX action kvmd runs for it, in the order the documents list them."""

_SWITCH_ACTIONS: Final[Mapping[str, Callable[[Switch, int], None]]] = {
    "On": lambda switch, port: switch.atx_power(port, "on"),
    "ForceOff": lambda switch, port: switch.atx_power(port, "off_hard"),
    "GracefulShutdown": lambda switch, port: switch.atx_power(port, "off"),
    "ForceRestart": lambda switch, port: switch.atx_power(port, "reset_hard"),
    "ForceOn": lambda switch, port: switch.atx_power(port, "on"),
    "PushPowerButton": lambda switch, port: switch.atx_click(port, "power"),
}


class MsdControl(Protocol):
    """What Redfish needs of the MSD: kvmd's MSD state and two of its operations."""

    def get_state(self) -> dict[str, Any]: ...

    def set_params(
        self, *, name: str | None = None, cdrom: bool | None = None, rw: bool | None = None
    ) -> None: ...

    def set_connected(self, connected: bool) -> None: ...


def valid_msd_image_name(arg: object) -> str:
    # A missing or blank Image is refused under a generic name (redfish_actions.json).
    if arg is None or not str(arg).strip():
        raise ValidatorError("None argument is not a valid stripped string")
    text = str(arg).strip()
    parts = [part for part in text.split("/") if part]
    if not parts:
        fail(text, _IMAGE_NAME)
    return "/".join(_printable_filename(part) for part in parts)


def _printable_filename(arg: str) -> str:
    text = not_empty_string(arg, _IMAGE_NAME)
    if "\0" in text or text.startswith(".") or text == "lost+found":
        fail(text, _IMAGE_NAME)
    return "".join(char if char.isprintable() else "_" for char in text[:255])


def document(body: Mapping[str, Any] | None = None, *, status: int = 200) -> web.Response:
    """A Redfish answer: bare JSON as kvmd writes it, or an empty 204."""
    if body is None:
        return web.Response(status=204)
    text = json.dumps(body, sort_keys=True, indent=4)
    return web.Response(text=text, status=status, content_type="application/json")


class Redfish:
    def __init__(self, *, atx: Atx, info: Info, switch: Switch, msd: MsdControl) -> None:
        self._atx = atx
        self._info = info
        self._switch = switch
        self._msd = msd
        self._documents = {
            name: _captures.load(f"redfish_{name}.json")
            for name in ("root", "managers", "manager_bmc", "vm", "vm_msd", "system_0")
        }

    # ----- documents ------------------------------------------------------------------

    def systems(self) -> dict[str, Any]:
        members = ["0"] if self._atx.get_state()["enabled"] else []
        members += [f"{_SWITCH_PREFIX}{port}" for port in range(len(self._switch.ports))]
        collection: dict[str, Any] = _captures.load("redfish_systems.json")
        collection["Members"] = [{"@odata.id": f"/redfish/v1/Systems/{m}"} for m in members]
        collection["Members@odata.count"] = len(members)
        return collection

    def system(self, sid: str, port: int) -> dict[str, Any]:
        if port < 0:
            host = str(self._info.get_field("meta")["server"]["host"])
            powered = bool(self._atx.get_state()["leds"]["power"])
        else:
            ports = self._switch.ports
            if port >= len(ports):
                raise HttpError("Non-existent Switch Port ID")
            host = str(ports[port]["name"] or sid)
            powered = self._switch.port_powered(port)
        # The recorded Systems/0 is the template; the id shows in its links too.
        text = json.dumps(self._documents["system_0"]).replace("/Systems/0/", f"/Systems/{sid}/")
        system: dict[str, Any] = json.loads(text)
        system.update(
            {
                "@odata.id": f"/redfish/v1/Systems/{sid}",
                "Id": sid,
                "HostName": re.sub(r"[^a-zA-Z0-9_\.]", "_", host),
                "PowerState": "On" if powered else "Off",
            }
        )
        return system

    def virtual_media(self) -> dict[str, Any]:
        state = self._msd.get_state()
        drive: Any = None
        path: Any = None
        if state["online"]:
            drive = state["drive"]
            # kvmd's own and/or chains: each field is None while there is no drive.
            path = drive and drive["image"] and drive["image"]["name"]
        media = dict(self._documents["vm_msd"])
        media.update(
            {
                "Image": path,
                "ImageName": path and os.path.basename(path),
                "ConnectedVia": drive and ("Oem" if drive["image"] else "NotConnected"),
                "Inserted": drive and drive["connected"],
                # kvmd reports the drive's rw flag here as it is, not inverted.
                "WriteProtected": drive and drive["rw"],
            }
        )
        oem = dict(media["Oem"]["PiKVM"])
        oem.update(
            {
                "MsdEnabled": state["enabled"],
                "MsdOnline": state["online"],
                "MsdBusy": state["busy"],
                "DriveOptical": drive and drive["cdrom"],
            }
        )
        media["Oem"] = {"PiKVM": oem}
        return media

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        base = "/redfish/v1"
        vm = f"{base}/Managers/BMC/VirtualMedia"
        return [
            Route("GET", base, self._h_root, auth_required=False),
            Route("GET", f"{base}/Systems", self._h_systems),
            Route("GET", f"{base}/Systems/{{sid}}", self._h_system),
            Route("PATCH", f"{base}/Systems/{{sid}}", self._h_patch_system),
            Route("POST", f"{base}/Systems/{{sid}}/Actions/ComputerSystem.Reset", self._h_reset),
            Route("GET", f"{base}/Managers", self._h_static("managers")),
            Route("GET", f"{base}/Managers/BMC", self._h_static("manager_bmc")),
            Route("GET", vm, self._h_static("vm")),
            Route("GET", f"{vm}/MSD", self._h_virtual_media),
            Route("POST", f"{vm}/MSD/Actions/VirtualMedia.InsertMedia", self._h_insert),
            Route("POST", f"{vm}/MSD/Actions/VirtualMedia.EjectMedia", self._h_eject),
        ]

    def _h_static(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(_: web.Request) -> web.StreamResponse:
            return document(self._documents[name])

        return handler

    async def _h_root(self, _: web.Request) -> web.StreamResponse:
        return document(self._documents["root"])

    async def _h_systems(self, _: web.Request) -> web.StreamResponse:
        return document(self.systems())

    async def _h_system(self, request: web.Request) -> web.StreamResponse:
        return document(self.system(*_server_id(request)))

    async def _h_patch_system(self, _: web.Request) -> web.StreamResponse:
        return document()

    async def _h_reset(self, request: web.Request) -> web.StreamResponse:
        _, port = _server_id(request)
        try:
            value = (await request.json()).get("ResetType")
        except Exception:  # no body, not JSON, or not an object: all the same refusal to kvmd
            value = None
        action = "" if value is None else str(value).strip()
        if action not in _ATX_ACTIONS:
            raise HttpError("Missing or invalid ResetType")
        if port < 0:
            # kvmd acts on Systems/0 only while its ATX is enabled; 204 either way.
            if self._atx.get_state()["enabled"]:
                await _ATX_ACTIONS[action](self._atx)
        else:
            _SWITCH_ACTIONS[action](self._switch, port)
        return document()

    async def _h_virtual_media(self, _: web.Request) -> web.StreamResponse:
        return document(self.virtual_media())

    async def _h_insert(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await request.json()
        except Exception:
            raise HttpError("Invalid body") from None
        if not isinstance(params, dict):
            return crash_response()
        name = valid_msd_image_name(params.get("Image"))
        # Sic: kvmd tests the start of the name, which a valid name never matches.
        cdrom = name.lower().startswith(".iso")
        connect = valid_bool(params.get("Inserted", True))
        rw = not valid_bool(params.get("WriteProtected", True))
        drive = self._msd.get_state().get("drive", {})
        if drive is None:
            return crash_response()  # kvmd reads the drive of an offline MSD and dies
        if drive.get("connected"):
            self._msd.set_connected(False)
            self._msd.set_params(name="")
        self._msd.set_params(name=name, cdrom=cdrom, rw=rw)
        if connect:
            self._msd.set_connected(True)
        return document()

    async def _h_eject(self, _: web.Request) -> web.StreamResponse:
        self._msd.set_connected(False)
        self._msd.set_params(name="")
        return document()


def _server_id(request: web.Request) -> tuple[str, int]:
    """``(sid, port)``: port -1 is the host behind the ATX."""
    sid = request.match_info["sid"].strip()
    if sid == "0":  # kvmd's legacy name for the machine PiKVM is wired to
        return "0", -1
    if sid.startswith(_SWITCH_PREFIX):
        try:
            port = valid_int(sid[len(_SWITCH_PREFIX) :], "int", low=0)
        except ValidatorError:
            pass
        else:
            return f"{_SWITCH_PREFIX}{port}", port
    raise HttpError("Missing or invalid Server ID")
