"""aiopikvm: an async client for PiKVM (kvmd), and a kvmd-compatible emulator to test with.

    async with PiKVM("https://pikvm.local", user="admin", passwd="admin") as kvm:
        async with kvm.ws() as ws:
            await ws.send_key("KeyA")

Everything public is importable from here; the modules behind it are private, but for
``aiopikvm.errors``. Names load on first use (PEP 562): ``import aiopikvm.emulator``, or
``from aiopikvm import InvalidInputError``, loads neither httpx nor pydantic nor websockets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._client import PiKVM
    from .errors import (
        APIError,
        AuthError,
        BadRequestError,
        BusyError,
        ConnectionClosedError,
        ImageNotFoundError,
        InvalidInputError,
        KeyboardOfflineError,
        NotFoundError,
        OcrUnavailableError,
        PiKVMConnectionError,
        PiKVMError,
        PiKVMTimeoutError,
        ProtocolError,
        ReconnectFailedError,
        RequestInfo,
        ScreenTimeoutError,
        ServerError,
        StreamError,
        TextNotFoundError,
        TLSError,
        TypingInterruptedError,
        UnavailableError,
        UntypableTextError,
        WaitTimeoutError,
    )
    from .fleet import Fleet, FleetResult
    from .models import DeviceState
    from .protocol.keys import KEYS, MOUSE_BUTTONS
    from .resources.video import H264Frame, VideoFrame
    from .results import ScreenDiff, TypingResult
    from .screen.match import ImageMatch
    from .screen.text import TextMatch
    from .session.websocket import PiKVMWebSocket
    from .transport.pinning import CertificateFingerprint
    from .transport.retry import RetryPolicy

__all__ = [
    "KEYS",
    "MOUSE_BUTTONS",
    "APIError",
    "AuthError",
    "BadRequestError",
    "BusyError",
    "CertificateFingerprint",
    "ConnectionClosedError",
    "DeviceState",
    "Fleet",
    "FleetResult",
    "H264Frame",
    "ImageMatch",
    "ImageNotFoundError",
    "InvalidInputError",
    "KeyboardOfflineError",
    "NotFoundError",
    "OcrUnavailableError",
    "PiKVM",
    "PiKVMConnectionError",
    "PiKVMError",
    "PiKVMTimeoutError",
    "PiKVMWebSocket",
    "ProtocolError",
    "ReconnectFailedError",
    "RequestInfo",
    "RetryPolicy",
    "ScreenDiff",
    "ScreenTimeoutError",
    "ServerError",
    "StreamError",
    "TLSError",
    "TextMatch",
    "TextNotFoundError",
    "TypingInterruptedError",
    "TypingResult",
    "UnavailableError",
    "UntypableTextError",
    "VideoFrame",
    "WaitTimeoutError",
    "__version__",
]

# Where each public name lives (relative to this package); every error is in .errors.
_ERRORS = frozenset(name for name in __all__ if name.endswith("Error") or name == "RequestInfo")
_HOMES: dict[str, str] = {
    **dict.fromkeys(_ERRORS, ".errors"),
    "CertificateFingerprint": ".transport.pinning",
    "DeviceState": ".models",
    "Fleet": ".fleet",
    "FleetResult": ".fleet",
    "ImageMatch": ".screen.match",
    "H264Frame": ".resources.video",
    "KEYS": ".protocol.keys",
    "MOUSE_BUTTONS": ".protocol.keys",
    "PiKVM": "._client",
    "PiKVMWebSocket": ".session.websocket",
    "RetryPolicy": ".transport.retry",
    "ScreenDiff": ".results",
    "TextMatch": ".screen.text",
    "TypingResult": ".results",
    "VideoFrame": ".resources.video",
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
