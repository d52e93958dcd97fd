"""Secrets never show: every failing path the client can reach, with every logger at DEBUG
(ours, httpx, httpcore, websockets), must leave the password, the TOTP secret and codes and
the session cookie out of log records, exception messages, reprs and tracebacks. And
credentials never follow a redirect to another host."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    CertificateFingerprint,
    ConnectionClosedError,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMError,
    PiKVMTimeoutError,
    PiKVMWebSocket,
    ServerError,
    StreamError,
    TLSError,
    UnavailableError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.protocol import totp

from .secret_walk import exception_texts

PASSWORD = "Zebra-Secret-Pa55"
SECRET = "KRSXG5CTMVRXEZLUKRSXG5CT"
LOGGERS = ("", "aiopikvm", "httpx", "httpcore", "websockets", "asyncio", "aiohttp")


def _codes() -> list[str]:
    now = time.time()
    return [totp.totp(SECRET, at=now + step) for step in (-60, -30, 0, 30, 60)]


class Leaks:
    """Collects every text a user could see and checks none holds a secret."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.secrets = {PASSWORD, SECRET, base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
        self.texts: list[str] = []
        self.failures = 0

    def add_secret(self, value: str) -> None:
        self.secrets.add(value)

    async def expect(self, error: type[PiKVMError], call: Callable[[], Awaitable[Any]]) -> None:
        with pytest.raises(error) as info:
            await call()
        exc = info.value
        self.failures += 1
        self.texts += [
            "".join(traceback.format_exception(exc)),
            str(exc),
            repr(exc),
            repr(vars(exc)),
        ]

    def check(self, *objects: object) -> None:
        codes = [code for code in _codes()]
        texts = [*self.texts, self.caplog.text, *map(repr, objects)]
        texts += [str(record.args) for record in self.caplog.records]
        assert self.caplog.records, "nothing was logged: the loggers are not at DEBUG"
        for text in texts:
            for secret in self.secrets:
                assert secret not in text, f"{secret!r} leaked in: {text[:2000]}"
            for code in codes:
                assert PASSWORD[-4:] + code not in text


@pytest.fixture
def leaks(caplog: pytest.LogCaptureFixture) -> Leaks:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return Leaks(caplog)


async def test_no_failing_path_shows_a_secret(leaks: Leaks, unused_tcp_port: int) -> None:
    users = {"admin": PASSWORD}
    async with Emulator(users=users, totp_secret=SECRET, hid_delay=0.001) as emu:
        good = PiKVM(emu.url, passwd=PASSWORD, totp_secret=SECRET, timeout=0.3)
        wrong = PiKVM(emu.url, passwd=PASSWORD + "x", totp_secret=SECRET)
        no_code = PiKVM(emu.url, passwd=PASSWORD)  # two-factor failure
        basic = PiKVM(emu.url, passwd=PASSWORD, auth="basic")  # no code: 403 too
        async with good, wrong, no_code, basic:
            await good.auth.check()  # a success logs at DEBUG too
            await leaks.expect(AuthError, wrong.auth.check)
            await leaks.expect(AuthError, no_code.hid.get_state)
            await leaks.expect(AuthError, basic.hid.get_state)
            await leaks.expect(AuthError, _ws_session(wrong))
            await leaks.expect(AuthError, _ws_session(no_code))

            emu.faults.fail("hid", 500)
            await leaks.expect(ServerError, good.hid.get_state)
            emu.faults.fail("hid", 502)
            await leaks.expect(ServerError, good.hid.get_state)
            emu.faults.fail("hid", 503)
            await leaks.expect(UnavailableError, good.hid.get_state)
            emu.faults.fail("ws", 503)
            await leaks.expect(UnavailableError, _ws_session(good))
            emu.faults.delay("hid", 30, times=1)
            await leaks.expect(PiKVMTimeoutError, good.hid.get_state)

            async with good.ws() as ws:  # the device drops the session
                await ws.send_key("ShiftLeft", True)
                await emu.faults.drop_ws_now()
                await leaks.expect(ConnectionClosedError, _drain(ws))
                await leaks.expect(ConnectionClosedError, ws.ping)
            leaks.check(good, wrong, basic, ws, good._credentials)

            # the session cookie: logged in, then forgotten by a reboot -> 403 with it
            await good.auth.login()
            leaks.add_secret(good._transport.cookies["auth_token"])
            await good.hid.get_state()
            await emu.reboot()
            await leaks.expect(AuthError, good.hid.get_state)

            await emu.go_offline()
            await leaks.expect(PiKVMConnectionError, good.hid.get_state)
            await leaks.expect(PiKVMConnectionError, _ws_session(good))
    refused = PiKVM(f"http://127.0.0.1:{unused_tcp_port}", passwd=PASSWORD)
    await leaks.expect(PiKVMConnectionError, refused.hid.get_state)
    await refused.aclose()
    assert leaks.failures == 16
    leaks.check(good, refused)


async def test_tls_failures_show_no_secret(leaks: Leaks) -> None:
    async with Emulator(users={"admin": PASSWORD}, tls=True) as emu:
        for verify in (True, CertificateFingerprint("00" * 32)):
            async with PiKVM(emu.url, passwd=PASSWORD, verify_ssl=verify) as kvm:
                await leaks.expect(TLSError, kvm.hid.get_state)
                await leaks.expect(TLSError, _ws_session(kvm))
        pinned = CertificateFingerprint(emu.cert_fingerprint)
        async with PiKVM(emu.url, passwd=PASSWORD, verify_ssl=pinned) as kvm, kvm.ws() as ws:
            await ws.ping()
        standalone = PiKVMWebSocket(emu.url, passwd=PASSWORD, verify_ssl=True)
        await leaks.expect(TLSError, standalone.connect)
    leaks.check(standalone)


def _ws_session(kvm: PiKVM) -> Callable[[], Awaitable[None]]:
    async def session() -> None:
        async with kvm.ws() as ws:
            await ws.ping()

    return session


def _drain(ws: PiKVMWebSocket) -> Callable[[], Awaitable[None]]:
    async def drain() -> None:
        async for _ in ws.events():
            pass

    return drain


# ----- redirects --------------------------------------------------------------------------


@pytest.fixture
async def redirect_pair() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A device that redirects everything to a second host, which records what it gets."""
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True, "result": {}})

    other = await _serve(web.get("/{tail:.*}", record))
    other_url = f"http://127.0.0.1:{_port(other)}"

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(other_url + request.path_qs)

    device = await _serve(web.route("*", "/{tail:.*}", redirect))
    yield f"http://127.0.0.1:{_port(device)}", seen
    await device.cleanup()
    await other.cleanup()


async def _serve(route: web.RouteDef) -> web.AppRunner:
    app = web.Application()
    app.add_routes([route])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])


async def test_credentials_never_follow_a_redirect(
    redirect_pair: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = redirect_pair
    for auth in ("headers", "basic"):
        async with PiKVM(url, passwd=PASSWORD, auth=auth) as kvm:  # type: ignore[arg-type]
            with pytest.raises(APIError) as http:
                await kvm.hid.get_state()
            with pytest.raises(APIError) as ws:
                async with kvm.ws():
                    pass
            assert http.value.status_code == 302 and ws.value.status_code == 302
    assert seen == []  # the second host never heard from us


# ----- tracebacks with locals -------------------------------------------------------------

URL_TOKEN = "Sn0wyUrlT0ken"
SECRET_URL = f"http://joe:{URL_TOKEN}@127.0.0.1:9/image.iso"  # nothing listens on port 9
CLIENT_LOGGERS = ("httpx", "httpcore", "aiopikvm")


class FrameLeaks:
    """Failing calls whose exceptions and log records must not hold a secret."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.failures: list[BaseException] = []

    async def expect(self, error: type[PiKVMError], call: Callable[[], Awaitable[Any]]) -> None:
        with pytest.raises(error) as info:
            await call()
        self.failures.append(info.value)

    def check(self) -> None:
        texts = [text for exc in self.failures for text in exception_texts(exc, skip_file=__file__)]
        records = [
            record
            for record in self.caplog.records
            if record.name.startswith(CLIENT_LOGGERS)
            # the emulator's own log is the device's, which quotes what it was asked
            and not record.name.startswith("aiopikvm.emulator")
        ]
        texts += [f"{record.name}: {record.getMessage()} {record.args!r}" for record in records]
        assert any("msd/write_remote" in text for text in texts)  # httpx's INFO line is here
        codes = re.compile(rf"(?<![0-9a-fA-F])({'|'.join(_codes())})(?![0-9a-fA-F])")
        secrets = (PASSWORD, SECRET, URL_TOKEN)
        for text in texts:
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked in: {text[:2000]}"
            assert codes.search(text) is None, f"a TOTP code leaked in: {text[:2000]}"


async def test_no_traceback_local_or_log_record_holds_a_secret(
    caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    for name in CLIENT_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    leaks = FrameLeaks(caplog)
    creds = {"passwd": PASSWORD, "totp_secret": SECRET}
    async with (
        Emulator(users={"admin": PASSWORD}, totp_secret=SECRET) as emu,
        PiKVM(emu.url, **creds, timeout=0.5) as good,
        PiKVM(emu.url, passwd=PASSWORD + "x", totp_secret=SECRET) as wrong,
    ):
        await leaks.expect(AuthError, lambda: good.request("GET", "hid", authenticate=False))
        await leaks.expect(AuthError, wrong.hid.get_state)  # 403
        await leaks.expect(AuthError, wrong.auth.login)  # the password in a form
        await leaks.expect(AuthError, lambda: good.auth.login(passwd=PASSWORD + "000000"))
        emu.faults.delay("hid", 30, times=1)
        await leaks.expect(PiKVMTimeoutError, good.hid.get_state)
        await leaks.expect(BadRequestError, lambda: good.msd.upload_remote(SECRET_URL))
        quoted = {"error": "ValidatorError", "error_msg": f"bad URL {SECRET_URL!r}"}
        emu.faults.respond(
            "msd/write_remote", json.dumps({"ok": False, "result": quoted}), status=400
        )
        await leaks.expect(BadRequestError, lambda: good.msd.upload_remote(SECRET_URL))
        broken = {"error": "ClientPayloadError", "error_msg": f"{SECRET_URL} closed early"}
        emu.faults.respond("msd/write_remote", json.dumps({"ok": False, "result": broken}))
        await leaks.expect(StreamError, lambda: good.msd.upload_remote(SECRET_URL))
        ftp = SECRET_URL.replace("http:", "ftp:")
        await leaks.expect(InvalidInputError, lambda: good.msd.upload_remote(ftp))
    async with PiKVM(f"http://127.0.0.1:{unused_tcp_port}", **creds) as refused:
        await leaks.expect(PiKVMConnectionError, refused.hid.get_state)
        await leaks.expect(PiKVMConnectionError, lambda: refused.msd.upload_remote(SECRET_URL))
    async with Emulator(users={"admin": PASSWORD}, totp_secret=SECRET, tls=True) as tls:
        for verify in (True, CertificateFingerprint("00" * 32)):
            async with PiKVM(tls.url, **creds, verify_ssl=verify) as untrusted:  # type: ignore[arg-type]
                await leaks.expect(TLSError, untrusted.hid.get_state)
    await leaks.expect(InvalidInputError, lambda: _construct(verify_ssl="/no/such/ca.pem"))
    leaks.check()


async def _construct(**settings: Any) -> None:
    PiKVM("https://pikvm.local", passwd=PASSWORD, totp_secret=SECRET, **settings)
