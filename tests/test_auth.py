"""``kvm.auth`` and the two ways credentials travel, through the public client against the
emulator: login and its session cookie, logout, HTTP Basic, two-factor."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from aiopikvm import AuthError, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator

SECRET = "JBSWY3DPEHPK3PXP"
NOWHERE = "http://127.0.0.1:9"
"""A closed port: a call that raises InvalidInputError there sent nothing."""


async def last_access_line(kvm: PiKVM, request: str) -> str:
    """The emulator's access-log line for the latest ``request`` (``"GET /auth/check"``)."""
    lines = [line for line in (await kvm.system.get_log()).splitlines() if f"'{request}" in line]
    assert lines, request
    return lines[-1]


# ----- the session cookie -------------------------------------------------------------


async def test_after_login_the_cookie_is_sent_instead_of_the_headers(emu: Emulator) -> None:
    # kvmd reads the headers first and refuses a wrong header password even when a valid
    # cookie comes along: this client's requests only pass if they carry no headers.
    async with PiKVM(emu.url, passwd="wrong") as kvm:
        with pytest.raises(AuthError) as refused:
            await kvm.auth.check()
        assert refused.value.status_code == 403
        await kvm.auth.login("admin", "admin")
        await kvm.auth.check()
        assert "[admin (token) /" in await last_access_line(kvm, "GET /auth/check")


async def test_a_session_ended_elsewhere_fails_until_logout(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, PiKVM(emu.url, passwd="admin") as other:
        await kvm.auth.login()
        await other.auth.login()
        await other.auth.logout()  # kvmd ends every session of the user
        with pytest.raises(AuthError) as refused:
            await kvm.auth.check()  # the dead cookie, not the valid headers
        assert refused.value.status_code == 403
        with pytest.raises(AuthError):
            await kvm.auth.logout()  # refused, yet the cookie is dropped
        await kvm.auth.check()
        assert "[admin (xhdr) /" in await last_access_line(kvm, "GET /auth/check")


async def test_login_sends_expire(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.auth.login(expire=3600)
        log = await kvm.system.get_log()
    assert "Logged in user 'admin'; expire=[1:00:00], sessions_now=1" in log


async def test_wrong_login_keeps_the_credentials(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(AuthError) as refused:
            await kvm.auth.login("admin", "nope")
        assert refused.value.status_code == 403
        await kvm.auth.check()


@pytest.mark.parametrize(
    ("user", "passwd", "expire"),
    [
        pytest.param("Admin", "admin", None, id="user"),
        pytest.param("admin", "pass\n", None, id="passwd"),
        pytest.param("admin", "admin", -1, id="negative-expire"),
        pytest.param("admin", "admin", 1.5, id="float-expire"),
        pytest.param("admin", "admin", True, id="bool-expire"),
    ],
)
async def test_bad_login_arguments_are_refused_before_sending(
    user: str, passwd: str, expire: int | None
) -> None:
    async with PiKVM(NOWHERE) as kvm:
        with pytest.raises(InvalidInputError):
            await kvm.auth.login(user, passwd, expire=expire)


async def test_logout_needs_a_login() -> None:
    async with PiKVM(NOWHERE) as kvm:
        with pytest.raises(InvalidInputError, match="login"):
            await kvm.auth.logout()


async def test_the_cookie_stays_out_of_reprs_logs_errors_and_the_http_client(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    # httpcore's DEBUG trace prints response headers, Set-Cookie included; ours and
    # httpx's own request log must not.
    caplog.set_level(logging.DEBUG, logger="aiopikvm")
    caplog.set_level(logging.INFO, logger="httpx")
    async with (
        httpx.AsyncClient() as client,
        PiKVM(emu.url, passwd="admin", http_client=client) as kvm,
    ):
        await kvm.auth.login()
        token = kvm._transport.cookies["auth_token"]
        await kvm.auth.check()
        with pytest.raises(AuthError) as refused:
            await kvm.request("GET", "auth/check", headers={"X-KVMD-User": "admin"})
        shown = [repr(kvm), str(refused.value), repr(refused.value), caplog.text]
        assert caplog.text and not any(token in text for text in shown)
        assert "auth_token" not in client.cookies  # the caller's jar holds none of ours


# ----- HTTP Basic ---------------------------------------------------------------------


async def test_basic_auth_for_requests_and_websocket(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin", auth="basic") as kvm:
        await kvm.auth.check()
        assert "[admin (basic) /" in await last_access_line(kvm, "GET /auth/check")
        async with kvm.ws() as ws:
            await ws.ping()
    async with PiKVM(emu.url, passwd="nope", auth="basic") as kvm:
        with pytest.raises(AuthError) as refused:
            await kvm.auth.check()
        assert refused.value.status_code == 403


async def test_basic_after_logout_sends_no_dead_cookie(emu: Emulator) -> None:
    # kvmd reads a cookie before HTTP Basic: one left behind would make every request 403.
    async with PiKVM(emu.url, passwd="admin", auth="basic") as kvm:
        await kvm.auth.login()
        await kvm.auth.logout()
        await kvm.auth.check()


async def test_a_colon_in_the_password_cannot_use_basic() -> None:
    with pytest.raises(InvalidInputError, match="':'"):
        PiKVM(NOWHERE, passwd="ad:min", auth="basic")


async def test_a_colon_in_the_password_works_with_headers() -> None:
    async with (
        Emulator(users={"admin": "ad:min"}) as emu,
        PiKVM(emu.url, passwd="ad:min") as kvm,
    ):
        await kvm.auth.check()


def test_unknown_auth_mode() -> None:
    with pytest.raises(InvalidInputError, match="basic"):
        PiKVM(NOWHERE, auth="digest")  # type: ignore[arg-type]


# ----- two-factor ---------------------------------------------------------------------


@pytest.fixture
async def totp_emu() -> AsyncIterator[Emulator]:
    async with Emulator(totp_secret=SECRET) as emulator:
        yield emulator


async def test_login_with_two_factor_uses_a_fresh_code(totp_emu: Emulator) -> None:
    async with PiKVM(totp_emu.url, passwd="admin", totp_secret=SECRET) as kvm:
        await kvm.auth.login()
        await kvm.auth.check()
        assert "[admin (token) /" in await last_access_line(kvm, "GET /auth/check")


async def test_an_explicit_password_is_sent_as_given(totp_emu: Emulator) -> None:
    async with PiKVM(totp_emu.url, passwd="admin", totp_secret=SECRET) as kvm:
        with pytest.raises(AuthError):
            await kvm.auth.login("admin", "admin")  # no code at its end
