"""Credentials: validated up front, never shown, and a fresh TOTP code every time."""

from __future__ import annotations

import pytest

from aiopikvm import InvalidInputError
from aiopikvm.protocol import totp
from aiopikvm.transport.auth import Credentials

SECRET = "JBSWY3DPEHPK3PXP"


def test_each_password_carries_the_code_of_its_own_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = Credentials("admin", "pw", SECRET)
    clock = [1_700_000_000.0]
    monkeypatch.setattr(totp.time, "time", lambda: clock[0])
    first = credentials.headers()["X-KVMD-Passwd"]
    clock[0] += 90  # past the ±1-step window kvmd accepts
    later = credentials.headers()["X-KVMD-Passwd"]
    assert first == "pw" + totp.totp(SECRET, at=1_700_000_000.0)
    assert later == "pw" + totp.totp(SECRET, at=1_700_000_090.0)
    assert first != later
    assert totp.verify(SECRET, later[-6:], at=clock[0])
    assert not totp.verify(SECRET, first[-6:], at=clock[0])


def test_without_a_secret_the_password_is_sent_as_given() -> None:
    assert Credentials("admin", "pw").headers() == {"X-KVMD-User": "admin", "X-KVMD-Passwd": "pw"}


@pytest.mark.parametrize("user", ["", "Admin", "1admin", "ad min", "admin.", "ädmin"])
def test_user_names_kvmd_would_refuse(user: str) -> None:
    with pytest.raises(InvalidInputError, match="user name"):
        Credentials(user, "pw")


@pytest.mark.parametrize("user", ["admin", "_svc", "ci.runner@lab", "a", "user_1-x"])
def test_user_names_kvmd_accepts(user: str) -> None:
    assert Credentials(user, "pw").user == user


def test_repr_hides_password_and_secret() -> None:
    text = repr(Credentials("admin", "hunter2", SECRET))
    assert "hunter2" not in text and SECRET not in text and "totp=True" in text
