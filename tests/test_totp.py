"""RFC 6238 with the RFC's own SHA-1 test vectors (the last six digits of each)."""

from __future__ import annotations

import base64

import pytest

from aiopikvm import InvalidInputError
from aiopikvm.protocol import totp

SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
        (20000000000, "353130"),
    ],
)
def test_rfc6238_vectors(at: int, code: str) -> None:
    assert totp.totp(SECRET, at=at) == code


def test_verify_accepts_one_step_either_side_only() -> None:
    now = 1_700_000_000.0
    assert totp.verify(SECRET, totp.totp(SECRET, at=now - 30), at=now)
    assert totp.verify(SECRET, totp.totp(SECRET, at=now + 30), at=now)
    assert not totp.verify(SECRET, totp.totp(SECRET, at=now - 90), at=now)


def test_secret_as_apps_show_it() -> None:
    spaced = " ".join(SECRET[i : i + 4] for i in range(0, len(SECRET), 4)).lower()
    assert totp.totp(spaced, at=59) == "287082"
    with pytest.raises(InvalidInputError, match="base32"):
        totp.totp("not base32 !", at=59)
