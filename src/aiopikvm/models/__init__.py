"""Typed models of kvmd's state, checked against a real device's captures."""

from .atx import AtxActs, AtxLeds, AtxState
from .gpio import GpioChannels, GpioInput, GpioModel, GpioOutput, GpioState
from .hid import HidKeymaps, HidOutputs, HidState, JigglerState, KeyboardState, Keymaps, MouseState
from .info import Hardware, Health, Info, Platform, SystemInfo, Uptime
from .msd import MsdDrive, MsdImage, MsdPart, MsdState, MsdStorage, MsdTransfer
from .state import ClientsState, DeviceState
from .streamer import OcrState, Resolution, StreamerProcess, StreamerState
from .switch import SwitchState, SwitchSummary

__all__ = [
    "AtxActs",
    "AtxLeds",
    "AtxState",
    "ClientsState",
    "DeviceState",
    "GpioChannels",
    "GpioInput",
    "GpioModel",
    "GpioOutput",
    "GpioState",
    "Hardware",
    "Health",
    "HidKeymaps",
    "HidOutputs",
    "HidState",
    "Info",
    "JigglerState",
    "KeyboardState",
    "Keymaps",
    "MouseState",
    "MsdDrive",
    "MsdImage",
    "MsdPart",
    "MsdState",
    "MsdStorage",
    "MsdTransfer",
    "OcrState",
    "Platform",
    "Resolution",
    "StreamerProcess",
    "StreamerState",
    "SwitchState",
    "SwitchSummary",
    "SystemInfo",
    "Uptime",
]
