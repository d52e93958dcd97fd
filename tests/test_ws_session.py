"""How a session is made, opened, refused and reused: one construction path for
``kvm.ws()`` and ``PiKVMWebSocket(...)`` (TLS decided once, from the parsed URL), the pin
and redirects handled without websockets' internals, no secret in the traceback of a
failed connect, and what a closed session does when used again."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from aiopikvm import (
    APIError,
    AuthError,
    CertificateFingerprint,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMError,
    PiKVMTimeoutError,
    PiKVMWebSocket,
    TLSError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.protocol import totp

from .hostile_ws import server_url
from .secret_walk import exception_texts, reprs

PASSWORD = "Zebra-Secret-Pa55"
SECRET = "KRSXG5CTMVRXEZLUKRSXG5CT"
OTHER_PIN = "AB:" * 31 + "AB"


@pytest.fixture
async def tls_emu() -> AsyncIterator[Emulator]:
    async with Emulator(tls=True) as emulator:
        yield emulator


# ----- 10. one construction path ---------------------------------------------------------


@pytest.mark.parametrize("scheme", ["HTTPS", "Https", "WSS"])
@pytest.mark.parametrize("verify", ["pin", "off"])
async def test_the_tls_settings_hold_whatever_the_case_of_the_scheme(
    tls_emu: Emulator, scheme: str, verify: str
) -> None:
    trust = CertificateFingerprint(tls_emu.cert_fingerprint) if verify == "pin" else False
    url = scheme + tls_emu.url.removeprefix("https")
    async with PiKVMWebSocket(url, passwd="admin", verify_ssl=trust) as ws:
        await ws.ping()
    if scheme != "WSS":  # the HTTP client takes http(s) only
        async with PiKVM(url, passwd="admin", verify_ssl=trust) as kvm, kvm.ws() as ws:
            await ws.ping()


async def test_a_wrong_pin_is_refused_whatever_the_case_of_the_scheme(tls_emu: Emulator) -> None:
    url = "HTTPS" + tls_emu.url.removeprefix("https")
    pin = CertificateFingerprint(OTHER_PIN)
    with pytest.raises(TLSError) as caught:
        async with PiKVMWebSocket(url, passwd="admin", verify_ssl=pin):
            pass
    assert OTHER_PIN in str(caught.value)  # the pin was checked, not the system's CAs
    assert tls_emu.faults.requests == []


# ----- 11. redirects are refused, by the handshake's status ----------------------------------


async def test_a_redirect_to_the_same_host_is_not_followed_either() -> None:
    elsewhere: list[str] = []

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/elsewhere")

    async def record(request: web.Request) -> web.StreamResponse:
        elsewhere.append(request.path)
        return web.Response(status=404)

    app = web.Application()
    app.add_routes([web.get("/api/ws", redirect), web.get("/elsewhere", record)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        with pytest.raises(APIError) as caught:
            async with PiKVMWebSocket(f"http://127.0.0.1:{port}", passwd=PASSWORD):
                pass
    finally:
        await runner.cleanup()
    assert caught.value.status_code == 302 and "redirect" in str(caught.value)
    assert elsewhere == []


# ----- 13. no secret in the traceback of a failed connect ----------------------------------


def _leaks(error: BaseException, secrets: list[str]) -> list[str]:
    texts = exception_texts(error, skip_file=__file__)
    return [text[:300] for text in texts if any(secret in text for secret in secrets)]


def _sent_secrets(secret: str = SECRET) -> list[str]:
    now = time.time()
    return [PASSWORD, secret] + [totp.totp(secret, at=now + s) for s in (-30, 0, 30)]


async def _refused_401(connection: ServerConnection, request: Request) -> Response:
    return connection.respond(401, "Unauthorized\n")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@pytest.mark.parametrize("how", ["403", "401", "refused", "timeout", "tls", "pin"])
async def test_a_failed_connect_keeps_the_secrets_out_of_its_traceback(
    how: str, caplog: pytest.LogCaptureFixture, silent_port: int, unused_tcp_port: int
) -> None:
    for name in ("websockets", "aiopikvm"):
        caplog.set_level(logging.DEBUG, logger=name)
    options: dict[str, Any] = {"passwd": PASSWORD, "totp_secret": SECRET, "open_timeout": 0.5}
    expected: type[PiKVMError]
    async with (
        Emulator(users={"admin": PASSWORD}, tls=how in ("tls", "pin")) as emu,
        serve(lambda c: asyncio.sleep(0), "127.0.0.1", 0, process_request=_refused_401) as s401,
    ):
        if how == "403":
            url, expected = emu.url, AuthError  # the password, and a code for no secret
        elif how == "401":
            url, expected = server_url(s401), AuthError
        elif how == "refused":
            url, expected = f"http://127.0.0.1:{unused_tcp_port}", PiKVMConnectionError
        elif how == "timeout":
            url, expected = f"http://127.0.0.1:{silent_port}", PiKVMTimeoutError
        else:
            url, expected = emu.url, TLSError
            if how == "pin":
                options["verify_ssl"] = CertificateFingerprint(OTHER_PIN)
        ws = PiKVMWebSocket(url, **options)
        with pytest.raises(expected) as caught:
            async with ws:
                pass
    secrets = _sent_secrets()
    assert _leaks(caught.value, secrets) == []
    ours = [r for r in caplog.records if not r.name.startswith("websockets.server")]
    assert ours or how in ("refused", "pin")  # at DEBUG, a handshake shows every header
    assert not [r for r in ours for s in secrets if s in r.getMessage()]


async def test_an_open_session_keeps_the_sent_password_only_in_its_credentials() -> None:
    # Any traceback with the session (or its connection) in a frame's locals shows all of
    # this: the handshake request websockets keeps must not hold the password either.
    async with (
        Emulator(users={"admin": PASSWORD}, totp_secret=SECRET) as emu,
        PiKVMWebSocket(emu.url, passwd=PASSWORD, totp_secret=SECRET) as ws,
    ):
        await ws.ping()
        secrets = _sent_secrets()
        assert [t[:300] for t in reprs(ws, depth=8) if any(s in t for s in secrets)] == []


# ----- 18. a session used after it closed ----------------------------------------------------


async def test_a_closed_session_cannot_be_entered_again(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            with pytest.raises(InvalidInputError, match="already open"):
                await ws.connect()
        with pytest.raises(InvalidInputError, match=r"closed.*new one"):
            async with ws:
                pass
        assert not ws.is_open


async def test_a_session_that_failed_to_open_may_be_tried_again(emu: Emulator) -> None:
    emu.faults.fail("ws", 503, times=1)
    ws = PiKVMWebSocket(emu.url, passwd="admin")
    with pytest.raises(APIError):
        async with ws:
            pass
    async with ws:
        await ws.ping()


async def test_events_after_closing_yield_nothing_stale(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws()
        async with ws:
            await ws.ping()  # the device's state burst is in, unread
        assert [event async for event in ws.events()] == []
        assert ws.state.hid is not None  # the state it showed is kept
