"""The emulator's authentication, checked against the recorded kvmd answers."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopikvm.emulator import Emulator
from aiopikvm.protocol.totp import totp

from .emulator_helpers import ADMIN, capture, request

SECRET = "JBSWY3DPEHPK3PXP"
FORBIDDEN = {"ok": False, "result": {"error": "ForbiddenError", "error_msg": "Forbidden"}}
UNAUTHORIZED = {"ok": False, "result": {"error": "UnauthorizedError", "error_msg": "Unauthorized"}}
OK: dict[str, Any] = {"ok": True, "result": {}}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


def basic(user: str, passwd: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{passwd}".encode()).decode()}


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"auth_token={token}"}


async def login(emu: Emulator, user: str = "admin", passwd: str = "admin") -> str:
    response = await request(
        emu, "POST", "/api/auth/login", headers=None, data={"user": user, "passwd": passwd}
    )
    assert response.status_code == 200, response.text
    token = response.cookies["auth_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    return token


async def test_auth_roundtrip_capture(emu: Emulator) -> None:
    steps = {step["name"]: step for step in capture("auth_roundtrip.json")["steps"]}
    seen: dict[str, tuple[int, Any]] = {}

    async def run(name: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await request(emu, method, path, **kwargs)
        seen[name] = (response.status_code, response.json())
        return response

    await run(
        "login_json_body",
        "POST",
        "/api/auth/login",
        headers=None,
        json={"user": "admin", "passwd": "admin"},
    )
    response = await run(
        "login_form_body",
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "admin"},
    )
    assert re.fullmatch(
        r"auth_token=[0-9a-f]{64}; HttpOnly; Path=/; SameSite=Strict",
        response.headers["set-cookie"],
    )
    token = response.cookies["auth_token"]
    await run(
        "login_wrong_passwd",
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "wrong"},
    )
    await run(
        "login_invalid_user",
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "ADMIN!", "passwd": "admin"},
    )
    await run(
        "login_invalid_expire",
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "admin", "expire": "abc"},
    )
    await run("check_with_cookie", "GET", "/api/auth/check", headers=cookie(token))
    await run("check_without_credentials", "GET", "/api/auth/check", headers=None)
    await run("logout_without_cookie", "POST", "/api/auth/logout", headers=ADMIN)
    await run("logout", "POST", "/api/auth/logout", headers=cookie(token))
    await run("logout_refused", "POST", "/api/auth/logout", headers=cookie(token))
    await run("check_after_logout", "GET", "/api/auth/check", headers=cookie(token))

    assert set(seen) == set(steps)
    for name, step in steps.items():
        assert seen[name] == (step["status"], step["body"]), name


async def test_logout_ends_every_session_of_the_user(emu: Emulator) -> None:
    first, second = await login(emu), await login(emu)
    response = await request(emu, "POST", "/api/auth/logout", headers=cookie(first))
    assert response.status_code == 200
    response = await request(emu, "GET", "/api/auth/check", headers=cookie(second))
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


async def test_expired_session_is_forbidden(emu: Emulator) -> None:
    response = await request(
        emu,
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "admin", "expire": "1"},
    )
    token = response.cookies["auth_token"]
    deadline = time.monotonic() + 5
    while (await request(emu, "GET", "/api/auth/check", headers=cookie(token))).status_code == 200:
        assert time.monotonic() < deadline, "the session never expired"
        await asyncio.sleep(0.05)
    response = await request(emu, "GET", "/api/auth/check", headers=cookie(token))
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


async def test_negative_expire_is_refused(emu: Emulator) -> None:
    response = await request(
        emu,
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "admin", "expire": "-1"},
    )
    assert response.status_code == 400
    assert response.json()["result"] == {
        "error": "ValidatorError",
        "error_msg": "The argument '-1' must be expiration time and greater or equial than 0",
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param(ADMIN, 200, id="headers"),
        pytest.param(basic("admin", "admin"), 200, id="basic"),
        pytest.param({}, 401, id="nothing"),
        pytest.param({"X-KVMD-User": "admin", "X-KVMD-Passwd": "nope"}, 403, id="wrong-header"),
        pytest.param({"X-KVMD-User": "nobody", "X-KVMD-Passwd": "admin"}, 403, id="unknown-user"),
        pytest.param(basic("admin", "nope"), 403, id="wrong-basic"),
        pytest.param(basic("admin", "ad:min"), 401, id="basic-colon-password"),
        pytest.param({"Authorization": "Basic !!!"}, 401, id="basic-garbage"),
        pytest.param(cookie("0" * 64), 403, id="unknown-cookie"),
    ],
)
async def test_credential_sources(emu: Emulator, headers: dict[str, str], status: int) -> None:
    response = await request(emu, "GET", "/api/auth/check", headers=headers)
    assert response.status_code == status
    expected = {200: OK, 401: UNAUTHORIZED, 403: FORBIDDEN}[status]
    assert response.json() == expected


async def test_first_credential_source_decides(emu: Emulator) -> None:
    token = await login(emu)
    wrong_header = {"X-KVMD-User": "admin", "X-KVMD-Passwd": "nope", **cookie(token)}
    assert (await request(emu, "GET", "/api/auth/check", headers=wrong_header)).status_code == 403
    unknown_cookie = {**cookie("f" * 64), **basic("admin", "admin")}
    assert (await request(emu, "GET", "/api/auth/check", headers=unknown_cookie)).status_code == 403
    good_header = {**ADMIN, **cookie("f" * 64)}
    assert (await request(emu, "GET", "/api/auth/check", headers=good_header)).status_code == 200


async def test_malformed_cookie_is_a_validator_error(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/auth/check", headers=cookie("not-a-token"))
    assert response.status_code == 400
    assert response.json()["result"] == {
        "error": "ValidatorError",
        "error_msg": "The argument is not a valid auth token",
    }


async def test_every_endpoint_requires_auth_except_login(emu: Emulator) -> None:
    for method, path in [
        ("GET", "/api/info"),
        ("GET", "/api/hid"),
        ("POST", "/api/atx/click"),
        ("POST", "/api/hid/events/send_key"),
        ("POST", "/api/auth/logout"),
    ]:
        response = await request(emu, method, path, headers=None)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), path


# ----- two-factor ---------------------------------------------------------------------


@pytest.fixture
async def totp_emu() -> AsyncIterator[Emulator]:
    async with Emulator(totp_secret=SECRET) as emulator:
        yield emulator


async def test_totp_login_with_fresh_code(totp_emu: Emulator) -> None:
    await login(totp_emu, passwd="admin" + totp(SECRET))


async def test_totp_login_with_stale_code(totp_emu: Emulator) -> None:
    stale = totp(SECRET, at=time.time() - 300)
    response = await request(
        totp_emu,
        "POST",
        "/api/auth/login",
        headers=None,
        data={"user": "admin", "passwd": "admin" + stale},
    )
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


async def test_totp_applies_to_headers_and_basic(totp_emu: Emulator) -> None:
    code = totp(SECRET)
    for headers, status in [
        ({"X-KVMD-User": "admin", "X-KVMD-Passwd": "admin" + code}, 200),
        (basic("admin", "admin" + code), 200),
        (ADMIN, 403),  # the plain password alone is not enough any more
        (basic("admin", "admin"), 403),
    ]:
        response = await request(totp_emu, "GET", "/api/auth/check", headers=headers)
        assert response.status_code == status, headers
