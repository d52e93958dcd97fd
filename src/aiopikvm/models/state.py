from __future__ import annotations

from ._base import Model
from .atx import AtxState
from .gpio import GpioState
from .hid import HidKeymaps, HidState
from .info import Info
from .msd import MsdState
from .streamer import OcrState, StreamerState
from .switch import SwitchState


class ClientsState(Model):
    count: int


class DeviceState(Model):
    """The device as a WebSocket session has seen it so far: every subsystem's last full
    state with the partial updates merged in. A subsystem is None until its first event."""

    atx: AtxState | None = None
    clients: ClientsState | None = None
    gpio: GpioState | None = None
    hid: HidState | None = None
    hid_keymaps: HidKeymaps | None = None
    info: Info = Info()
    msd: MsdState | None = None
    ocr: OcrState | None = None
    streamer: StreamerState | None = None
    switch: SwitchState | None = None
