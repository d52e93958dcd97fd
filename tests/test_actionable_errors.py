"""Errors a user can act on: each says what to check or what to use instead, and what is
already as asked (unplugging an unplugged drive) is not an error. And an upload that
cannot fit is refused before a byte is sent."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    CertificateFingerprint,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    TLSError,
    UnavailableError,
)
from aiopikvm.emulator import Emulator

from .captures import load
from .hostile_server import Head, head_bytes, hostile

SECRET = "KRSXG5CTMVRXEZLUKRSXG5CT"


# ----- which credential -------------------------------------------------------------------


async def test_a_refusal_says_which_credential_to_check() -> None:
    async with Emulator(users={"admin": "pw"}, totp_secret=SECRET) as emu:
        async with PiKVM(emu.url, passwd="wrong", totp_secret=SECRET) as kvm:
            with pytest.raises(AuthError, match="check user 'admin', the password and totp"):
                await kvm.hid.get_state()
            with pytest.raises(AuthError, match="user name or password was refused"):
                await kvm.auth.login()
            with pytest.raises(AuthError, match="this endpoint needs credentials"):
                await kvm.request("GET", "hid", authenticate=False)
        async with PiKVM(emu.url, passwd="pw") as kvm:
            with pytest.raises(AuthError, match="pass totp_secret="):
                await kvm.hid.get_state()
        async with PiKVM(emu.url, passwd="pw", totp_secret=SECRET) as kvm:
            await kvm.auth.login()
            await emu.reboot()  # kvmd forgets its sessions
            with pytest.raises(AuthError, match=r"session cookie .* log in again") as caught:
                await kvm.hid.get_state()
    assert caught.value.status_code == 403 and caught.value.error == "ForbiddenError"


# ----- http and https mixed up ------------------------------------------------------------


async def test_https_to_a_plain_http_port_says_to_use_http(emu: Emulator) -> None:
    url = f"https://127.0.0.1:{emu.port}"
    pin = CertificateFingerprint("AB" * 32)
    for verify in (False, True, pin):
        async with PiKVM(url, passwd="admin", verify_ssl=verify, timeout=3) as kvm:
            with pytest.raises(TLSError, match="does not speak TLS") as caught:
                await kvm.hid.get_state()
        assert f"use http://127.0.0.1:{emu.port}" in str(caught.value), verify


async def test_http_to_a_tls_port_says_to_use_https() -> None:
    async with Emulator(tls=True) as emu:
        port = emu.port
        async with PiKVM(f"http://127.0.0.1:{port}", passwd="admin", timeout=3) as kvm:
            with pytest.raises(PiKVMConnectionError) as caught:
                await kvm.hid.get_state()
    assert f"use https://127.0.0.1:{port}" in str(caught.value)


async def test_nginx_saying_plain_http_to_its_https_port_says_to_use_https() -> None:
    page = (
        b"<html><head><title>400 The plain HTTP request was sent to HTTPS port</title>"
        b"</head><body><center><h1>400 Bad Request</h1></center></body></html>"
    )

    async def nginx(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "text/html", "Content-Length": str(len(page))}
        writer.write(head_bytes("400 Bad Request", headers) + page)

    async with hostile(nginx) as (url, _), PiKVM(url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError, match="the port speaks HTTPS: use an https:// URL"):
            await kvm.hid.get_state()


async def test_a_redirect_shows_its_target_and_suggests_https() -> None:
    async def redirect(head: Head, writer: asyncio.StreamWriter) -> None:
        # what a PiKVM's nginx answers on port 80 (configs/nginx/nginx.conf.mako)
        target = f"https://pikvm.local{head.target}"
        writer.write(
            head_bytes("301 Moved Permanently", {"Location": target, "Content-Length": "0"})
        )

    async with hostile(redirect) as (url, _), PiKVM(url, passwd="admin") as kvm:
        with pytest.raises(APIError) as caught:
            await kvm.hid.get_state()
    message = str(caught.value)
    assert caught.value.status_code == 301
    assert "redirects to https://pikvm.local/api/hid" in message
    assert "use https://pikvm.local" in message


# ----- the video and the drive --------------------------------------------------------------


async def test_a_snapshot_without_video_says_to_hold_a_stream_session(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(UnavailableError, match=r"kvm\.ws\(stream=True\)") as caught:
            await kvm.streamer.snapshot()
        with pytest.raises(UnavailableError, match=r"kvm\.ws\(stream=True\)"):
            await kvm.streamer.ocr()
    assert (caught.value.status_code, caught.value.error) == (503, "UnavailableError")
    assert caught.value.__context__ is None  # one error in the traceback, not two


async def test_plugging_or_unplugging_twice_is_not_an_error_unless_strict(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.msd.set_connected(False)  # already unplugged
        with pytest.raises(BadRequestError) as strict:
            await kvm.msd.set_connected(False, strict=True)
        with pytest.raises(BadRequestError) as nothing:  # a real refusal still is one
            await kvm.msd.set_connected(True)
        await kvm.msd.upload("a.iso", b"\0" * 4096)
        await kvm.msd.wait_for_image("a.iso")
        await kvm.msd.set_params(image="a.iso")
        await kvm.msd.set_connected(True)
        await kvm.msd.set_connected(True)
        with pytest.raises(BadRequestError) as plugged:
            await kvm.msd.set_connected(True, strict=True)
        await kvm.msd.set_connected(False)
        assert (await kvm.msd.get_state()).drive.connected is False  # type: ignore[union-attr]
        with pytest.raises(InvalidInputError, match="strict"):
            await kvm.msd.set_connected(False, strict="yes")  # type: ignore[arg-type]
    assert strict.value.error == "MsdDisconnectedError"
    assert nothing.value.error == "MsdImageNotSelected"
    assert plugged.value.error == "MsdConnectedError"


# ----- room for an upload -------------------------------------------------------------------


async def _never_read() -> AsyncIterator[bytes]:
    raise AssertionError("the body was read: something was sent")
    yield b""  # pragma: no cover


async def test_an_upload_bigger_than_the_free_space_is_refused_before_sending(
    tmp_path: Path,
) -> None:
    async with Emulator(msd_dir=tmp_path) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        storage = (await kvm.msd.get_state()).storage
        assert storage is not None
        free = storage.parts[""].free
        with pytest.raises(InvalidInputError, match=f"has {free} free") as caught:
            await kvm.msd.upload("huge.iso", _never_read(), size=free + 1)
        assert emu.faults.count("msd/write") == 0
    assert "nothing was sent" in str(caught.value)


async def test_the_free_space_checked_is_that_of_the_part_the_image_goes_to() -> None:
    state = copy.deepcopy(load("msd_online.json"))
    parts = state["result"]["storage"]["parts"]
    parts["small"] = {"free": 1000, "size": 4096, "writable": True}  # a mount point inside

    async def device(head: Head, writer: asyncio.StreamWriter) -> None:
        body = json.dumps(state if head.target == "/api/msd" else _written(head)).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        writer.write(head_bytes("200 OK", headers) + body)

    async with hostile(device) as (url, seen), PiKVM(url, passwd="admin") as kvm:
        with pytest.raises(InvalidInputError, match="storage part 'small' has 1000 free"):
            await kvm.msd.upload("x.iso", _never_read(), size=1001, prefix="small")
        with pytest.raises(InvalidInputError, match="part 'small'"):
            await kvm.msd.upload("small/x.iso", _never_read(), size=1001)
        await kvm.msd.upload("x.iso", b"\0" * 1001, prefix="smaller")  # the root part
        await kvm.msd.upload("x.iso", b"\0" * 1000, prefix="small")  # fits
    assert [head.body_size for head in seen.heads if head.method == "POST"] == [1001, 1000]


def _written(head: Head) -> dict[str, object]:
    size = int(head.headers.get("content-length", "0"))
    return {"ok": True, "result": {"image": {"name": "x.iso", "size": size, "written": size}}}
