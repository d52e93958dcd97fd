"""aiopikvm: an async client for PiKVM (kvmd), and a kvmd-compatible emulator to test with.

    async with PiKVM("https://pikvm.local", user="admin", passwd="admin") as kvm:
        async with kvm.ws() as ws:
            await ws.send_key("KeyA")

Everything public is importable from here; the modules behind it are private.
"""

from ._client import PiKVM
from ._version import __version__
from ._websocket import PiKVMWebSocket
from .errors import (
    APIError,
    AuthError,
    BadRequestError,
    BusyError,
    ConnectionClosedError,
    InvalidInputError,
    KeyboardOfflineError,
    NotFoundError,
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
from .models import DeviceState
from .protocol.keys import KEYS, MOUSE_BUTTONS
from .protocol.typing import TypingResult
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
    "InvalidInputError",
    "KeyboardOfflineError",
    "NotFoundError",
    "PiKVM",
    "PiKVMConnectionError",
    "PiKVMError",
    "PiKVMTimeoutError",
    "PiKVMWebSocket",
    "ProtocolError",
    "ReconnectFailedError",
    "RequestInfo",
    "RetryPolicy",
    "ScreenTimeoutError",
    "ServerError",
    "StreamError",
    "TLSError",
    "TextNotFoundError",
    "TypingInterruptedError",
    "TypingResult",
    "UnavailableError",
    "UntypableTextError",
    "WaitTimeoutError",
    "__version__",
]
