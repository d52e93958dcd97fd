from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

from .._checks import check_bool, check_choice, check_json, check_mapping, invalid, show
from ..errors import InvalidInputError
from ._base import Resource, parse
from .msd_names import check_image_name

if TYPE_CHECKING:
    from ..models.redfish import (
        RedfishCollection,
        RedfishManager,
        RedfishRoot,
        RedfishSystem,
        RedfishVirtualMedia,
    )

ResetType: TypeAlias = Literal[
    "On", "ForceOff", "GracefulShutdown", "ForceRestart", "ForceOn", "PushPowerButton"
]
"""The six ``ResetType`` values kvmd implements (case-sensitive). On the host behind the
ATX: ``On``/``ForceOn`` press power if it is off, ``GracefulShutdown`` presses it if it
is on, ``ForceOff`` holds it if it is on, ``ForceRestart`` presses reset if it is on,
``PushPowerButton`` always presses power."""

_BASE: Final = "redfish/v1"
_VIRTUAL_MEDIA: Final = f"{_BASE}/Managers/BMC/VirtualMedia"
_SYSTEM_ID: Final = re.compile(r"^(0|SwitchPort\d+)\Z")


def _system(system_id: str) -> str:
    if not isinstance(system_id, str) or not _SYSTEM_ID.match(system_id):
        raise invalid(
            "system_id", "a Redfish system id kvmd knows ('0' or 'SwitchPort<N>')", system_id
        )
    return f"{_BASE}/Systems/{system_id}"


class Redfish(Resource):
    """kvmd's DMTF Redfish service (``/api/redfish/v1``): plain JSON documents, no kvmd
    envelope. Actions answer 204 with no body and return None.

    kvmd refuses what it cannot do in its own envelope, so errors come as usual:
    :class:`~aiopikvm.BadRequestError` with ``error`` ``"HttpError"`` ("Missing or invalid
    Server ID", "Non-existent Switch Port ID", ...), ``"ValidatorError"``, or the MSD's
    and ATX's own errors (409 :class:`~aiopikvm.BusyError` while an ATX click runs).
    """

    async def _get(self, path: str, *, authenticate: bool = True) -> Any:
        return await self._http.request("GET", path, envelope=False, authenticate=authenticate)

    async def _post(self, path: str, body: Mapping[str, Any] | None) -> None:
        await self._http.request("POST", path, json=body, envelope=False)

    async def get_root(self) -> RedfishRoot:
        """The service root; readable without credentials (none are sent)."""
        from ..models.redfish import RedfishRoot

        return parse(RedfishRoot, await self._get(_BASE, authenticate=False), "Redfish root")

    async def get_systems(self) -> RedfishCollection:
        """The systems: ``0`` while the device's ATX is enabled, and ``SwitchPort<N>`` for
        each port of an attached PiKVM Switch."""
        from ..models.redfish import RedfishCollection

        data = await self._get(f"{_BASE}/Systems")
        return parse(RedfishCollection, data, "Redfish systems")

    async def get_system(self, system_id: str = "0") -> RedfishSystem:
        """A system, with its ``power_state`` (the host's power LED)."""
        from ..models.redfish import RedfishSystem

        return parse(RedfishSystem, await self._get(_system(system_id)), "Redfish system")

    async def patch_system(
        self, system_id: str = "0", changes: Mapping[str, Any] | None = None
    ) -> None:
        """PATCH a system. kvmd accepts it for compatibility with Redfish tools and changes
        nothing."""
        path = _system(system_id)
        if changes is not None:
            check_mapping(changes, "changes")
            check_json(dict(changes), "changes")
        await self._http.request("PATCH", path, json=dict(changes or {}), envelope=False)

    async def reset_system(self, reset_type: ResetType, *, system_id: str = "0") -> None:
        """Run a power action (see :data:`ResetType`). kvmd does not wait for the button
        press, and on ``0`` does nothing at all while its ATX is disabled."""
        check_choice(reset_type, "reset_type", get_args(ResetType))
        path = f"{_system(system_id)}/Actions/ComputerSystem.Reset"
        await self._post(path, {"ResetType": reset_type})

    async def get_managers(self) -> RedfishCollection:
        from ..models.redfish import RedfishCollection

        data = await self._get(f"{_BASE}/Managers")
        return parse(RedfishCollection, data, "Redfish managers")

    async def get_manager(self, manager_id: str = "BMC") -> RedfishManager:
        """The one manager kvmd has, ``BMC``: PiKVM itself."""
        from ..models.redfish import RedfishManager

        check_choice(manager_id, "manager_id", ("BMC",))  # kvmd's only one
        return parse(RedfishManager, await self._get(f"{_BASE}/Managers/BMC"), "Redfish manager")

    async def get_virtual_media_collection(self) -> RedfishCollection:
        from ..models.redfish import RedfishCollection

        data = await self._get(_VIRTUAL_MEDIA)
        return parse(RedfishCollection, data, "Redfish virtual media collection")

    async def get_virtual_media(self) -> RedfishVirtualMedia:
        """The MSD as virtual media: the image in the drive and whether it is inserted."""
        from ..models.redfish import RedfishVirtualMedia

        data = await self._get(f"{_VIRTUAL_MEDIA}/MSD")
        return parse(RedfishVirtualMedia, data, "Redfish virtual media")

    async def insert_media(
        self, image: str, *, inserted: bool = True, write_protected: bool = True
    ) -> None:
        """Put a stored MSD image (by name, as in the MSD's storage, not a URL) in the
        drive, unplugging the one that was there, and plug it in unless
        ``inserted=False``. ``write_protected=False`` makes the drive writable. An image the
        storage does not have is refused by the MSD (``MsdUnknownImageError``); with the MSD
        offline kvmd fails with a 500 (:class:`~aiopikvm.ServerError`)."""
        check_image_name(image, "image")
        check_bool(inserted, "inserted")
        check_bool(write_protected, "write_protected")
        if "://" in image:
            raise InvalidInputError(
                f"kvmd inserts images from its storage, not URLs: {show(image)} "
                "(upload it first, e.g. with kvm.msd.upload_remote)"
            )
        body = {"Image": image, "Inserted": bool(inserted), "WriteProtected": bool(write_protected)}
        await self._post(f"{_VIRTUAL_MEDIA}/MSD/Actions/VirtualMedia.InsertMedia", body)

    async def eject_media(self) -> None:
        """Unplug the drive and empty it."""
        await self._post(f"{_VIRTUAL_MEDIA}/MSD/Actions/VirtualMedia.EjectMedia", None)
