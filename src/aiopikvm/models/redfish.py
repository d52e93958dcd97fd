"""kvmd's Redfish documents (plain JSON, DMTF names). Fields keep their Redfish names as
aliases (``"@odata.id"``, ``"PowerState"``); ``model_dump(by_alias=True)`` gives them back."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import Model


class RedfishLink(Model):
    odata_id: str = Field(alias="@odata.id")

    @property
    def id(self) -> str:
        """The last part of the link: ``"0"`` for ``/redfish/v1/Systems/0``."""
        return self.odata_id.rstrip("/").rsplit("/", 1)[-1]


class RedfishResource(Model):
    odata_id: str = Field(alias="@odata.id")
    odata_type: str = Field(alias="@odata.type")
    name: str | None = Field(default=None, alias="Name")
    """kvmd's system documents have none."""


class RedfishRoot(RedfishResource):
    """``GET /redfish/v1``, the one document readable without credentials."""

    id: str = Field(alias="Id")
    redfish_version: str = Field(alias="RedfishVersion")
    systems: RedfishLink | None = Field(default=None, alias="Systems")
    managers: RedfishLink | None = Field(default=None, alias="Managers")


class RedfishCollection(RedfishResource):
    """A collection (systems, managers, virtual media): links to its members."""

    members: list[RedfishLink] = Field(alias="Members")
    members_count: int = Field(alias="Members@odata.count")

    @property
    def ids(self) -> list[str]:
        return [member.id for member in self.members]


class RedfishSystem(RedfishResource):
    """A computer system: ``0`` is the host behind PiKVM's ATX, ``SwitchPort<N>`` the host
    on a PiKVM Switch port."""

    id: str = Field(alias="Id")
    host_name: str = Field(alias="HostName")
    power_state: str = Field(alias="PowerState")
    """``"On"`` or ``"Off"``: the host's power LED."""
    actions: dict[str, Any] = Field(default={}, alias="Actions")
    boot: dict[str, Any] = Field(default={}, alias="Boot")

    @property
    def reset_types(self) -> list[str]:
        """The ``ResetType`` values the system's reset action accepts."""
        reset = self.actions.get("#ComputerSystem.Reset", {})
        values = reset.get("ResetType@Redfish.AllowableValues", [])
        return [str(value) for value in values]


class RedfishManager(RedfishResource):
    id: str = Field(alias="Id")
    description: str = Field(default="", alias="Description")
    manager_type: str = Field(alias="ManagerType")
    virtual_media: RedfishLink | None = Field(default=None, alias="VirtualMedia")


class PiKVMVirtualMediaOem(Model):
    """kvmd's own fields: the MSD's state behind the virtual media."""

    msd_enabled: bool = Field(alias="MsdEnabled")
    msd_online: bool = Field(alias="MsdOnline")
    msd_busy: bool = Field(alias="MsdBusy")
    drive_optical: bool | None = Field(default=None, alias="DriveOptical")
    """Whether the drive is a CD-ROM; None while there is no drive."""


class RedfishVirtualMediaOem(Model):
    pikvm: PiKVMVirtualMediaOem = Field(alias="PiKVM")


class RedfishVirtualMedia(RedfishResource):
    """The MSD as Redfish virtual media. The drive's fields are None while the MSD is
    offline. kvmd sets ``write_protected`` from the drive's *rw* flag, as it is."""

    id: str = Field(alias="Id")
    description: str = Field(default="", alias="Description")
    media_types: list[str] = Field(default=[], alias="MediaTypes")
    image: str | None = Field(default=None, alias="Image")
    image_name: str | None = Field(default=None, alias="ImageName")
    connected_via: str | None = Field(default=None, alias="ConnectedVia")
    inserted: bool | None = Field(default=None, alias="Inserted")
    write_protected: bool | None = Field(default=None, alias="WriteProtected")
    oem: RedfishVirtualMediaOem = Field(alias="Oem")
    actions: dict[str, Any] = Field(default={}, alias="Actions")
