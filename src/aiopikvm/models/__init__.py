"""Typed models of kvmd's state, checked against a real device's captures.

Each model loads with its module on first use (PEP 562): pydantic and the classes cost import
time that a client using a few subsystems need not pay for the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .atx import AtxActs, AtxLeds, AtxState
    from .gpio import (
        GpioChannels,
        GpioHardware,
        GpioInput,
        GpioInputScheme,
        GpioModel,
        GpioOutput,
        GpioOutputScheme,
        GpioPulse,
        GpioScheme,
        GpioState,
        GpioView,
    )
    from .hid import (
        HidInactivity,
        HidKeymaps,
        HidOutputs,
        HidState,
        JigglerState,
        KeyboardState,
        Keymaps,
        MouseState,
    )
    from .info import AuthInfo, Hardware, Health, Info, NodeInfo, Platform, SystemInfo, Uptime
    from .msd import (
        MsdDrive,
        MsdImage,
        MsdPart,
        MsdState,
        MsdStorage,
        MsdTransfer,
        MsdWriteResult,
    )
    from .prometheus import MetricSample
    from .redfish import (
        PiKVMVirtualMediaOem,
        RedfishCollection,
        RedfishLink,
        RedfishManager,
        RedfishResource,
        RedfishRoot,
        RedfishSystem,
        RedfishVirtualMedia,
        RedfishVirtualMediaOem,
    )
    from .state import ClientsState, DeviceState
    from .streamer import (
        OcrState,
        Resolution,
        SavedSnapshot,
        StreamerFeatures,
        StreamerLimits,
        StreamerParams,
        StreamerProcess,
        StreamerSource,
        StreamerState,
    )
    from .switch import (
        SwitchAtx,
        SwitchAtxLeds,
        SwitchBeacons,
        SwitchColor,
        SwitchColors,
        SwitchEdid,
        SwitchEdidInfo,
        SwitchEdids,
        SwitchFirmware,
        SwitchLinks,
        SwitchModel,
        SwitchPort,
        SwitchState,
        SwitchSummary,
        SwitchUnit,
    )

__all__ = [
    "AtxActs",
    "AtxLeds",
    "AtxState",
    "AuthInfo",
    "ClientsState",
    "DeviceState",
    "GpioChannels",
    "GpioHardware",
    "GpioInput",
    "GpioInputScheme",
    "GpioModel",
    "GpioOutput",
    "GpioOutputScheme",
    "GpioPulse",
    "GpioScheme",
    "GpioState",
    "GpioView",
    "Hardware",
    "Health",
    "HidInactivity",
    "HidKeymaps",
    "HidOutputs",
    "HidState",
    "Info",
    "JigglerState",
    "KeyboardState",
    "Keymaps",
    "MetricSample",
    "MouseState",
    "MsdDrive",
    "MsdImage",
    "MsdPart",
    "MsdState",
    "MsdStorage",
    "MsdTransfer",
    "MsdWriteResult",
    "NodeInfo",
    "OcrState",
    "PiKVMVirtualMediaOem",
    "Platform",
    "RedfishCollection",
    "RedfishLink",
    "RedfishManager",
    "RedfishResource",
    "RedfishRoot",
    "RedfishSystem",
    "RedfishVirtualMedia",
    "RedfishVirtualMediaOem",
    "Resolution",
    "SavedSnapshot",
    "StreamerFeatures",
    "StreamerLimits",
    "StreamerParams",
    "StreamerProcess",
    "StreamerSource",
    "StreamerState",
    "SwitchAtx",
    "SwitchAtxLeds",
    "SwitchBeacons",
    "SwitchColor",
    "SwitchColors",
    "SwitchEdid",
    "SwitchEdidInfo",
    "SwitchEdids",
    "SwitchFirmware",
    "SwitchLinks",
    "SwitchModel",
    "SwitchPort",
    "SwitchState",
    "SwitchSummary",
    "SwitchUnit",
    "SystemInfo",
    "Uptime",
]

# The module each name lives in (relative to this package); every one is in __all__.
_MODULES: dict[str, str] = {
    "atx": "AtxActs AtxLeds AtxState",
    "gpio": (
        "GpioChannels GpioHardware GpioInput GpioInputScheme GpioModel GpioOutput "
        "GpioOutputScheme GpioPulse GpioScheme GpioState GpioView"
    ),
    "hid": (
        "HidInactivity HidKeymaps HidOutputs HidState JigglerState KeyboardState Keymaps MouseState"
    ),
    "info": "AuthInfo Hardware Health Info NodeInfo Platform SystemInfo Uptime",
    "msd": "MsdDrive MsdImage MsdPart MsdState MsdStorage MsdTransfer MsdWriteResult",
    "prometheus": "MetricSample",
    "redfish": (
        "PiKVMVirtualMediaOem RedfishCollection RedfishLink RedfishManager RedfishResource "
        "RedfishRoot RedfishSystem RedfishVirtualMedia RedfishVirtualMediaOem"
    ),
    "state": "ClientsState DeviceState",
    "streamer": (
        "OcrState Resolution SavedSnapshot StreamerFeatures StreamerLimits StreamerParams "
        "StreamerProcess StreamerSource StreamerState"
    ),
    "switch": (
        "SwitchAtx SwitchAtxLeds SwitchBeacons SwitchColor SwitchColors SwitchEdid "
        "SwitchEdidInfo SwitchEdids SwitchFirmware SwitchLinks SwitchModel SwitchPort "
        "SwitchState SwitchSummary SwitchUnit"
    ),
}
_HOMES: dict[str, str] = {
    name: f".{module}" for module, names in _MODULES.items() for name in names.split()
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # found once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
