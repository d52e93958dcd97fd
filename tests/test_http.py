"""The HTTP request path against the emulator and against small stand-ins for nginx's
failures: the envelope, every error class, TLS, and a caller's own httpx client."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme
from aiohttp import web

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    BusyError,
    InvalidInputError,
    NotFoundError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    ProtocolError,
    ServerError,
    StreamError,
    TLSError,
    UnavailableError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.models import AtxState, HidState, Info
from aiopikvm.models._base import parse
from aiopikvm.protocol import totp

from .captures import result


async def test_typed_state_from_the_emulator_matches_the_capture_shapes(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        hid = await kvm.hid.get_state()
        atx = await kvm.atx.get_state()
        info = await kvm.system.get_info(legacy=True)
    assert isinstance(hid, HidState) and isinstance(atx, AtxState) and isinstance(info, Info)
    assert hid.model_dump().keys() == parse(HidState, result("hid.json"), "hid").model_dump().keys()
    assert info.system is not None and info.system.kvmd.version == "4.206"
    assert info.hw is not None and info.health is None  # kvmd's default legacy=1 shape


async def test_info_fields_are_comma_joined_and_legacy_0_moves_health(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        some = await kvm.system.get_info("system", "meta")
        modern = await kvm.system.get_info(legacy=False)
    assert some.system is not None and some.meta is not None and some.extras is None
    assert modern.health is not None and modern.hw is None


async def test_atx_power_follows_the_led_and_a_parallel_click_is_busy(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        assert (await kvm.atx.get_state()).leds.power is True
        await kvm.atx.power_on(wait=True)  # already on: kvmd does nothing
        await kvm.atx.power_off_hard(wait=True)
        assert (await kvm.atx.get_state()).leds.power is False
        await kvm.atx.click_power()  # returns at once; the click runs on
        with pytest.raises(BusyError) as caught:
            await kvm.atx.click_reset()
        assert caught.value.status_code == 409
        assert caught.value.error == "AtxIsBusyError"
        assert caught.value.request is not None and "atx/click" in caught.value.request.url


async def test_validation_error_carries_kvmds_error_and_message(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as caught:
            await kvm.request("GET", "info", params={"fields": "nonsense"})
        with pytest.raises(BadRequestError) as power:
            await kvm.request("POST", "atx/power", params={"action": "explode"})
    assert caught.value.status_code == 400
    assert caught.value.error == "ValidatorError"
    assert caught.value.error_msg and "nonsense" in caught.value.error_msg
    assert power.value.error == "ValidatorError"


async def test_wrong_password_is_an_auth_error_without_the_password(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="s3cret-wrong") as kvm:
        with pytest.raises(AuthError) as caught:
            await kvm.auth.check()
    assert caught.value.status_code == 403
    assert "s3cret-wrong" not in str(caught.value) and "s3cret-wrong" not in repr(caught.value)


async def test_plain_text_404_and_405(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(NotFoundError) as missing:
            await kvm.request("GET", "no/such/thing")
        with pytest.raises(APIError) as method:
            await kvm.request("GET", "atx/power")
    assert missing.value.status_code == 404 and missing.value.error is None
    assert "Not Found" in str(missing.value)
    assert method.value.status_code == 405


async def test_totp_secret_sends_a_fresh_code(emu: Emulator) -> None:
    secret = "JBSWY3DPEHPK3PXP"
    async with Emulator(totp_secret=secret) as emulator:
        async with PiKVM(emulator.url, passwd="admin", totp_secret=secret) as kvm:
            await kvm.auth.check()
        async with PiKVM(emulator.url, passwd="admin") as no_code:
            with pytest.raises(AuthError):
                await no_code.auth.check()
        stale = totp.totp(secret, at=0)
        async with PiKVM(emulator.url, passwd="admin" + stale) as frozen:
            with pytest.raises(AuthError):
                await frozen.auth.check()


async def test_a_callers_raise_for_status_hook_still_gives_our_errors(emu: Emulator) -> None:
    async def read_then_raise(response: httpx.Response) -> None:
        await response.aread()
        response.raise_for_status()

    async def just_raise(response: httpx.Response) -> None:
        response.raise_for_status()

    async with httpx.AsyncClient(event_hooks={"response": [read_then_raise]}) as http:
        async with PiKVM(emu.url, passwd="wrong", http_client=http) as kvm:
            with pytest.raises(AuthError) as caught:
                await kvm.hid.get_state()
        assert (caught.value.status_code, caught.value.error) == (403, "ForbiddenError")
        async with PiKVM(emu.url, passwd="admin", http_client=http) as kvm:
            with pytest.raises(BadRequestError) as refused:
                await kvm.request("POST", "atx/click", params={"button": "turbo"})
            assert refused.value.error == "ValidatorError"
            assert (await kvm.hid.get_state()).online  # a 200 goes through the hook
    async with httpx.AsyncClient(event_hooks={"response": [just_raise]}) as http:
        async with PiKVM(emu.url, passwd="wrong", http_client=http) as kvm:
            with pytest.raises(AuthError) as caught:
                await kvm.hid.get_state()
        assert caught.value.status_code == 403  # httpx closed the body: no kvmd name then


async def test_json_nested_too_deep_is_our_error_not_a_recursion_error(emu: Emulator) -> None:
    deep = "[" * 100_000 + "]" * 100_000  # valid JSON, past the interpreter's recursion limit
    emu.faults.respond("hid", deep, status=502)
    emu.faults.respond("atx", deep)
    emu.faults.respond("msd/write_remote", deep)  # as an NDJSON progress record
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(ServerError) as failed:
            await kvm.hid.get_state()
        with pytest.raises(ProtocolError, match="expected JSON"):
            await kvm.atx.get_state()
        with pytest.raises(ProtocolError, match="not JSON"):
            await kvm.msd.upload_remote("http://127.0.0.1:9/x.iso")
    assert failed.value.status_code == 502 and failed.value.error is None


async def test_a_bad_path_or_header_is_refused_before_sending(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(InvalidInputError, match="not a valid request path"):
            await kvm.request("GET", "hid\x00")
        with pytest.raises(InvalidInputError, match="cannot send"):
            await kvm.request("GET", "hid", headers={"X-Note": "\u4e00"})
        assert emu.faults.count() == 0


def test_a_malformed_proxy_in_the_environment_is_our_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in [
        ("HTTPS_PROXY", "http://proxy.local:abc"),
        ("ALL_PROXY", "ftp://user:hunter2@proxy.local"),
    ]:
        with monkeypatch.context() as env:
            env.setenv(variable, value)
            with pytest.raises(InvalidInputError, match="proxy") as caught:
                PiKVM("https://pikvm.local")
            assert "hunter2" not in str(caught.value)


async def test_a_download_urls_credentials_stay_out_of_errors(emu: Emulator) -> None:
    secret_url = "http://user:hunter2@127.0.0.1:9/image.iso"  # nothing listens on port 9
    quoted = {"error": "ValidatorError", "error_msg": f"The argument {secret_url!r} is bad"}
    broken = {"error": "ClientPayloadError", "error_msg": f"{secret_url} closed early"}
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as refused:
            await kvm.msd.upload_remote(secret_url, timeout=1)
        # a device that quotes the URL back, before streaming and in the stream
        emu.faults.respond(
            "msd/write_remote", json.dumps({"ok": False, "result": quoted}), status=400
        )
        with pytest.raises(BadRequestError) as quoting:
            await kvm.msd.upload_remote(secret_url)
        emu.faults.respond("msd/write_remote", json.dumps({"ok": False, "result": broken}))
        with pytest.raises(StreamError) as streamed:
            await kvm.msd.upload_remote(secret_url)
    async with PiKVM("http://127.0.0.1:9", passwd="admin") as kvm:
        with pytest.raises(PiKVMConnectionError) as unreachable:
            await kvm.msd.upload_remote(secret_url)
    errors = (refused.value, quoting.value, streamed.value, unreachable.value)
    for error in errors:
        assert "hunter2" not in f"{error} {error!r} {error.request} {vars(error)}"
        assert error.request is not None and "url=http://***@127.0.0.1:9/" in error.request.url
    assert refused.value.error == "ClientConnectorError"
    assert quoting.value.error_msg == "The argument 'http://***@127.0.0.1:9/image.iso' is bad"
    assert streamed.value.error_msg == "http://***@127.0.0.1:9/image.iso closed early"


async def test_a_callers_http_client_is_used_and_left_open(emu: Emulator) -> None:
    async with httpx.AsyncClient() as http:  # no base URL, no auth, no timeout of ours
        async with PiKVM(emu.url, passwd="admin", http_client=http) as kvm:
            assert (await kvm.hid.get_state()).online
        assert not http.is_closed
        assert (await http.get(emu.url + "/api/hid")).status_code == 401


# ----- failures that are not kvmd's JSON --------------------------------------------------


@pytest.fixture
async def nginx() -> AsyncIterator[str]:
    """What sits in front of kvmd: HTML when kvmd is down, odd bodies, redirects."""

    async def bad_gateway(_: web.Request) -> web.Response:
        html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        return web.Response(status=502, text=html, content_type="text/html")

    async def crash(_: web.Request) -> web.Response:
        return web.Response(
            status=500, text="500 Internal Server Error\n\nServer got itself in trouble"
        )

    async def unavailable(_: web.Request) -> web.Response:
        error = {"error": "UnavailableError", "error_msg": "Service Unavailable"}
        return web.json_response({"ok": False, "result": error}, status=503)

    async def not_envelope(_: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    async def not_json(_: web.Request) -> web.Response:
        return web.Response(text="<html>login page</html>", content_type="text/html")

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("http://elsewhere.invalid/api/hid")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response({"ok": True, "result": {}})

    app = web.Application()
    for path, handler in [
        ("/api/down", bad_gateway),
        ("/api/crash", crash),
        ("/api/unavailable", unavailable),
        ("/api/odd", not_envelope),
        ("/api/html", not_json),
        ("/api/moved", redirect),
        ("/api/slow", slow),
    ]:
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)  # the slow handler is not waited for
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_non_kvmd_failures_become_our_errors(nginx: str) -> None:
    async with PiKVM(nginx, passwd="admin", timeout=0.3) as kvm:
        with pytest.raises(ServerError, match="502 Bad Gateway") as down:
            await kvm.request("GET", "down")
        with pytest.raises(ServerError, match="Internal Server Error"):
            await kvm.request("GET", "crash")
        with pytest.raises(UnavailableError) as unavailable:
            await kvm.request("GET", "unavailable")
        with pytest.raises(ProtocolError, match="envelope"):
            await kvm.request("GET", "odd")
        with pytest.raises(ProtocolError, match="expected JSON"):
            await kvm.request("GET", "html")
        with pytest.raises(APIError) as moved:
            await kvm.request("GET", "moved")
        with pytest.raises(PiKVMTimeoutError):
            await kvm.request("GET", "slow")
    assert down.value.status_code == 502 and "<html>" not in str(down.value)
    assert unavailable.value.error == "UnavailableError"
    assert moved.value.status_code == 302  # never followed: credentials stay home


async def test_refused_connection(unused_tcp_port: int) -> None:
    async with PiKVM(f"http://127.0.0.1:{unused_tcp_port}", passwd="admin") as kvm:
        with pytest.raises(PiKVMConnectionError, match="cannot reach"):
            await kvm.hid.get_state()


# ----- TLS -------------------------------------------------------------------------------


@pytest.fixture
async def tls_device(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """An HTTPS server with a certificate from a CA nobody trusts, like a PiKVM's own."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def hid(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": result("hid.json")})

    app = web.Application()
    app.router.add_get("/api/hid", hid)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"https://127.0.0.1:{port}", ca_file
    await runner.cleanup()


async def test_untrusted_certificate_says_how_to_fix_it(tls_device: tuple[str, Path]) -> None:
    url, _ = tls_device
    async with PiKVM(url, passwd="admin") as kvm:
        with pytest.raises(TLSError) as caught:
            await kvm.hid.get_state()
    message = str(caught.value)
    assert "verify_ssl=" in message and "\n" not in message


async def test_trusting_the_device_ca_or_opting_out(tls_device: tuple[str, Path]) -> None:
    url, ca_file = tls_device
    for verify in (ca_file, str(ca_file), ssl.create_default_context(cafile=str(ca_file)), False):
        async with PiKVM(url, passwd="admin", verify_ssl=verify) as kvm:
            assert (await kvm.hid.get_state()).online


# ----- refused before sending -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"url": "pikvm.local"}, "URL"),
        ({"url": "https://pikvm.local/?x=1"}, "query"),
        ({"url": "https://pikvm.local:abc"}, "(?i)port"),
        ({"url": "https://pikvm.local:99999"}, "(?i)port"),
        ({"user": "Admin!"}, "user name"),
        ({"passwd": "pässword"}, "printable ASCII"),
        ({"passwd": "x" * 513}, "512"),
        ({"totp_secret": "!!"}, "base32"),
        ({"verify_ssl": "/no/such/ca.pem"}, "CA file"),
    ],
)
def test_bad_settings_raise_before_any_request(kwargs: dict[str, object], named: str) -> None:
    settings: dict[str, object] = {"url": "https://pikvm.local", **kwargs}
    with pytest.raises(InvalidInputError, match=named) as caught:
        PiKVM(**settings)  # type: ignore[arg-type]
    assert "pässword" not in str(caught.value)


def test_repr_never_shows_secrets() -> None:
    kvm = PiKVM("https://pikvm.local", passwd="hunter2", totp_secret="JBSWY3DPEHPK3PXP")
    ws = kvm.ws()
    for text in (repr(kvm), repr(ws), repr(kvm._credentials), repr(vars(ws))):
        assert "hunter2" not in text and "JBSWY3DPEHPK3PXP" not in text
