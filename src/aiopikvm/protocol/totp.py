"""RFC 6238 time-based one-time passwords, as kvmd's two-factor authentication uses them.

kvmd expects the current 6-digit code appended to the password, accepts the codes of the
previous, current and next 30-second steps, and nothing older: a client must compute a
fresh code for each request rather than keep one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from typing import Final

from ..errors import InvalidInputError

STEP: Final = 30
DIGITS: Final = 6


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret as authenticator apps show it (spaces, any case)."""
    cleaned = secret.replace(" ", "").upper()
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise InvalidInputError("the TOTP secret is not valid base32") from None


def totp(secret: str, at: float | None = None) -> str:
    """The code for the 30-second step containing ``at`` (default: now)."""
    return _code(decode_secret(secret), int((time.time() if at is None else at) // STEP))


def verify(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """Whether ``code`` is the code of a step within ``window`` steps of ``at``."""
    key = decode_secret(secret)
    step = int((time.time() if at is None else at) // STEP)
    return any(
        hmac.compare_digest(_code(key, step + offset), code)
        for offset in range(-window, window + 1)
    )


def _code(key: bytes, counter: int) -> str:
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFF_FFFF
    return str(value % 10**DIGITS).zfill(DIGITS)
