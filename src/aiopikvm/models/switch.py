from __future__ import annotations

from typing import Any

from ._base import Model


class SwitchColor(Model):
    """One LED colour: RGB and brightness 0..255, ``blink_ms`` 0 for a steady light."""

    red: int
    green: int
    blue: int
    brightness: int
    blink_ms: int


class SwitchColors(Model):
    """The LED colour of each port role."""

    inactive: SwitchColor
    active: SwitchColor
    flashing: SwitchColor
    beacon: SwitchColor
    bootloader: SwitchColor


class SwitchEdidInfo(Model):
    """What kvmd reads out of an EDID."""

    mfc_id: str
    product_id: int
    serial: int
    monitor_name: str | None = None
    monitor_serial: str | None = None
    audio: bool = False


class SwitchEdid(Model):
    name: str
    data: str
    """The EDID bytes as upper-case hex (128 or 256 bytes)."""
    parsed: SwitchEdidInfo | None = None
    """None when kvmd cannot parse the EDID."""


class SwitchEdids(Model):
    all: dict[str, SwitchEdid] = {}
    """EDIDs by id: ``default`` and a UUID for each one created."""
    used: list[str] = []
    """The EDID id of each port, in port order."""


class SwitchFirmware(Model):
    version: int


class SwitchUnit(Model):
    firmware: dict[str, Any] = {}


class SwitchPort(Model):
    unit: int
    channel: int
    name: str = ""
    id: str
    """``"1"``-``"4"`` with one unit, ``"<unit>.<channel>"`` (1-based) with several."""
    atx: dict[str, Any] = {}
    video: dict[str, Any] = {}


class SwitchModel(Model):
    firmware: SwitchFirmware
    units: list[SwitchUnit] = []
    ports: list[SwitchPort] = []
    limits: dict[str, Any] = {}


class SwitchSummary(Model):
    active_port: int
    """0-based; -1 while no port is active (or no unit is attached)."""
    active_id: str = ""
    synced: bool = True


class SwitchLinks(Model):
    links: list[bool] = []
    """One entry per port: whether its cable carries 5 V."""


class SwitchBeacons(Model):
    uplinks: list[bool] = []
    downlinks: list[bool] = []
    ports: list[bool] = []


class SwitchAtxLeds(Model):
    power: list[bool] = []
    hdd: list[bool] = []


class SwitchAtx(Model):
    busy: list[bool] = []
    leds: SwitchAtxLeds = SwitchAtxLeds()


class SwitchState(Model):
    """``GET /api/switch`` and the merged ``switch`` events (the multi-port KVM switch).

    kvmd's events carry only the fields that changed, so a field is None until a full
    state has been seen. Lists run over the ports of every attached unit, in order."""

    model: SwitchModel | None = None
    summary: SwitchSummary | None = None
    edids: SwitchEdids | None = None
    colors: SwitchColors | None = None
    video: SwitchLinks | None = None
    usb: SwitchLinks | None = None
    beacons: SwitchBeacons | None = None
    atx: SwitchAtx | None = None
