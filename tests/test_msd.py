"""Virtual media (``kvm.msd``) against the emulator's MSD over loopback: every method, every
refusal kvmd makes, transfers with progress, the NDJSON stream of remote uploads, events,
and a 256 MiB upload with flat memory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import lzma
import os
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from aiopikvm import (
    APIError,
    AuthError,
    BadRequestError,
    BusyError,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    ServerError,
    StreamError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.models import MsdDrive, MsdState, MsdWriteResult
from aiopikvm.models._base import parse
from aiopikvm.resources.msd import UploadSource

from .captures import load, result
from .conftest import eventually

MiB = 1024 * 1024
STATE_CAPTURES = ("msd.json", "msd_online.json", "msd_image.json", "msd_uploading.json")
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request that went out would fail to connect


def write_step(name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = load("msd_write.json")["steps"]
    return next(step for step in steps if step["name"] == name)


def captured_error(name: str) -> tuple[int, str, str]:
    step = write_step(name)
    return step["status"], step["body"]["result"]["error"], step["body"]["result"]["error_msg"]


def kvmd_error(exc: APIError) -> tuple[int, str | None, str | None]:
    return exc.status_code, exc.error, exc.error_msg


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


async def add_image(kvm: PiKVM, name: str, content: bytes = b"\x01" * 4096) -> None:
    await kvm.msd.upload(name, content)
    await kvm.msd.wait_for_image(name)


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


# ----- models against the captures (pure) -------------------------------------------------


@pytest.mark.parametrize("name", [*STATE_CAPTURES, "msd_downloading.json"])
def test_state_models_parse_the_captures(name: str) -> None:
    state = parse(MsdState, result(name), name)
    assert (state.drive is None, state.storage is None) == (not state.online, not state.online)


def test_capture_details_reach_the_models() -> None:
    offline = parse(MsdState, result("msd.json"), "msd")
    assert (offline.enabled, offline.online, offline.drive, offline.storage) == (
        True,
        False,
        None,
        None,
    )
    uploading = parse(MsdState, result("msd_uploading.json"), "msd")
    assert uploading.storage is not None and uploading.storage.uploading is not None
    assert uploading.storage.uploading.written == 1245184
    assert uploading.storage.images["test-slow.iso"].complete is False
    downloading = parse(MsdState, result("msd_downloading.json"), "msd")
    assert downloading.storage is not None and downloading.storage.downloading is not None
    assert downloading.storage.downloading.readed == 2424832
    assert downloading.drive is not None and downloading.drive.image is not None
    assert downloading.drive.image.name == "test-1m.iso"


def test_write_results_parse_the_captures() -> None:
    ok = parse(MsdWriteResult, write_step("write_ok")["body"]["result"]["image"], "write")
    assert (ok.name, ok.size, ok.written, ok.complete) == (
        "test-write.iso",
        1048576,
        1048576,
        True,
    )
    prefixed = parse(MsdWriteResult, write_step("write_prefix")["body"]["result"]["image"], "w")
    assert prefixed.name == "isos/test-write.iso"


# ----- state, selection, connection -------------------------------------------------------


async def test_starts_online_with_an_empty_drive_shaped_like_the_device(tmp_path: Path) -> None:
    async with Emulator(msd_dir=tmp_path) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        raw = await kvm.request("GET", "msd")
        state = await kvm.msd.get_state()
    captured = result("msd_online.json")
    assert raw["drive"] == captured["drive"]  # nothing selected, the gadget's own flags
    assert raw["storage"]["images"] == {}
    assert (raw["storage"]["downloading"], raw["storage"]["uploading"]) == (None, None)
    part = raw["storage"]["parts"][""]
    assert part.keys() == captured["storage"]["parts"][""].keys()
    stat = os.statvfs(tmp_path)
    assert part["size"] == stat.f_blocks * stat.f_frsize and part["free"] > 0
    assert (state.enabled, state.online, state.busy) == (True, True, False)


async def test_select_connect_disconnect_and_unselect(kvm: PiKVM) -> None:
    await add_image(kvm, "boot.iso")
    await kvm.msd.set_params(image="boot.iso", cdrom=False, rw=True)
    state = await kvm.msd.get_state()
    assert state.drive is not None and state.drive.image is not None
    assert (state.drive.image.name, state.drive.image.in_storage) == ("boot.iso", True)
    assert (state.drive.cdrom, state.drive.rw, state.drive.connected) == (False, True, False)

    await kvm.msd.set_params(cdrom=True)  # a CD-ROM is read-only: kvmd clears rw
    drive = (await kvm.msd.get_state()).drive
    assert drive is not None and (drive.cdrom, drive.rw) == (True, False)

    await kvm.msd.set_connected(True)
    drive = (await kvm.msd.get_state()).drive
    assert drive is not None and drive.connected is True
    await kvm.msd.set_connected(False)
    await kvm.msd.set_params(image=None)
    drive = (await kvm.msd.get_state()).drive
    assert drive is not None and (drive.image, drive.connected) == (None, False)


async def test_connected_drive_refuses_changes_transfers_and_removal(kvm: PiKVM) -> None:
    await add_image(kvm, "a.iso")
    await add_image(kvm, "b.iso")
    await kvm.msd.set_params(image="a.iso")
    await kvm.msd.set_connected(True)
    refused = (
        kvm.msd.set_params(image="b.iso"),
        kvm.msd.set_params(cdrom=False),
        kvm.msd.set_connected(True, strict=True),
        kvm.msd.remove("b.iso"),  # any image, not only the selected one
        kvm.msd.upload("c.iso", b"data"),
        kvm.msd.download("b.iso", io.BytesIO()),
    )
    for call in refused:
        with pytest.raises(BadRequestError) as caught:
            await call
        assert kvmd_error(caught.value) == (
            400,
            "MsdConnectedError",
            "MSD is connected to Server, but shouldn't for this operation",
        )


async def test_connect_and_disconnect_refusals(kvm: PiKVM) -> None:
    with pytest.raises(BadRequestError) as caught:
        await kvm.msd.set_connected(True)
    assert kvmd_error(caught.value) == (400, "MsdImageNotSelected", "The image is not selected")
    with pytest.raises(BadRequestError) as caught:
        await kvm.msd.set_connected(False, strict=True)
    assert kvmd_error(caught.value) == (
        400,
        "MsdDisconnectedError",
        "MSD is disconnected from Server, but should be for this operation",
    )


async def test_unknown_images_are_refused(kvm: PiKVM) -> None:
    unknown = (400, "MsdUnknownImageError", "The image is not found in the storage")
    for call in (
        kvm.msd.set_params(image="nope.iso"),
        kvm.msd.remove("nope.iso"),
        kvm.msd.download("nope.iso", io.BytesIO()),
    ):
        with pytest.raises(BadRequestError) as caught:
            await call
        assert kvmd_error(caught.value) == unknown


async def test_remove_unselects_and_the_storage_forgets_after_its_delay(kvm: PiKVM) -> None:
    await add_image(kvm, "old.iso")
    await kvm.msd.set_params(image="old.iso")
    await kvm.msd.remove("old.iso")
    state = await kvm.msd.get_state()
    assert state.drive is not None and state.drive.image is None
    with pytest.raises(BadRequestError, match="MsdUnknownImageError"):
        await kvm.msd.set_params(image="old.iso")  # listed a moment longer, but gone

    async def listed() -> bool:
        storage = (await kvm.msd.get_state()).storage
        return storage is not None and "old.iso" in storage.images

    for _ in range(100):
        if not await listed():
            break
        await asyncio.sleep(0.02)
    assert not await listed()


async def test_new_upload_shows_in_storage_only_after_a_delay() -> None:
    async with (
        Emulator(msd_storage_delay=0.5) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        await kvm.msd.upload("late.iso", b"late")
        with pytest.raises(BadRequestError, match="MsdUnknownImageError"):
            await kvm.msd.set_params(image="late.iso")  # as on kvmd, before its watcher runs
        image = await kvm.msd.wait_for_image("late.iso")
        assert (image.size, image.complete) == (4, True)
        await kvm.msd.set_params(image="late.iso")


async def test_reset_unplugs_the_drive(kvm: PiKVM) -> None:
    await add_image(kvm, "r.iso")
    await kvm.msd.set_params(image="r.iso")
    await kvm.msd.set_connected(True)
    await kvm.msd.reset()
    drive: MsdDrive | None = None
    for _ in range(100):
        drive = (await kvm.msd.get_state()).drive
        if drive is not None and not drive.connected:
            break
        await asyncio.sleep(0.02)
    assert drive is not None and drive.connected is False
    assert drive.image is not None and drive.image.name == "r.iso"  # still selected
    await kvm.msd.remove("r.iso")


async def test_disabled_msd() -> None:
    async with (
        Emulator(msd_enabled=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        state = await kvm.msd.get_state()
        assert (state.enabled, state.online, state.busy, state.drive, state.storage) == (
            False,
            False,
            False,
            None,
            None,
        )
        for call in (
            kvm.msd.set_params(cdrom=True),
            kvm.msd.set_connected(True),
            kvm.msd.remove("x.iso"),
            kvm.msd.reset(),
            kvm.msd.upload("x.iso", b"x"),
            kvm.msd.download("x.iso", io.BytesIO()),
        ):
            with pytest.raises(BadRequestError) as caught:
                await call
            assert kvmd_error(caught.value) == (400, "MsdDisabledError", "MSD is disabled")


# ----- uploads ----------------------------------------------------------------------------


async def test_upload_every_kind_of_source_and_read_it_back(kvm: PiKVM, tmp_path: Path) -> None:
    content = os.urandom(3 * MiB + 123)
    path = tmp_path / "src.img"
    path.write_bytes(content)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 100_000):
            yield content[start : start + 100_000]

    with path.open("rb") as file:
        file.seek(123)
        uploads: dict[str, tuple[UploadSource, int | None]] = {
            "bytes.img": (content, None),
            "path.img": (str(path), None),
            "pathlike.img": (path, None),
            "file.img": (file, None),  # from its current position
            "async.img": (pieces(), len(content)),
        }
        for name, (source, size) in uploads.items():
            progress = Progress()
            written = await kvm.msd.upload(name, source, size=size, progress=progress)
            expected = len(content) - 123 if name == "file.img" else len(content)
            assert written == MsdWriteResult(name=name, size=expected, written=expected)
            assert written.complete
            sent = [done for done, _ in progress.calls]
            assert sent == sorted(sent) and sent[-1] == expected and len(sent) > 1
            assert {total for _, total in progress.calls} == {expected}

    for name in uploads:
        await kvm.msd.wait_for_image(name)
        got = io.BytesIO()
        assert await kvm.msd.download(name, got) == len(got.getvalue())
        assert got.getvalue() == (content[123:] if name == "file.img" else content)


async def test_transfers_use_the_clients_credentials(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="wrong") as kvm:
        with pytest.raises(AuthError) as caught:
            await kvm.msd.upload("a.iso", b"\0" * (8 * MiB))  # refused before the body is read
        assert (caught.value.status_code, caught.value.error) == (403, "ForbiddenError")
        with pytest.raises(AuthError):
            await kvm.msd.upload_remote("http://127.0.0.1:9/a.iso")
        with pytest.raises(AuthError):
            await kvm.msd.download("a.iso", io.BytesIO())


async def test_async_progress_callbacks_are_awaited(kvm: PiKVM) -> None:
    seen: list[int] = []

    async def progress(done: int, total: int) -> None:
        await asyncio.sleep(0)
        seen.append(done)

    await kvm.msd.upload("p.img", b"z" * MiB, progress=progress)
    assert seen[-1] == MiB


async def test_upload_with_a_prefix_needs_the_directory(tmp_path: Path) -> None:
    (tmp_path / "isos").mkdir()
    async with (
        Emulator(msd_dir=tmp_path) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        stored = await kvm.msd.upload("test-write.iso", b"\0" * 4096, prefix="isos")
        captured = write_step("write_prefix")["body"]["result"]["image"]
        assert stored.model_dump() == captured
        assert (tmp_path / "isos" / "test-write.iso").stat().st_size == 4096
        image = await kvm.msd.wait_for_image("isos/test-write.iso")
        assert image.size == 4096

        # kvmd writes its marker before creating the directory: a bare 500, as recorded
        with pytest.raises(ServerError) as caught:
            await kvm.msd.upload("test-write.iso", b"\0" * 4096, prefix="nested")
        step = write_step("write_prefix_missing_dir")
        assert caught.value.status_code == step["status"]
        assert caught.value.error is None
        assert "500 Internal Server Error" in str(caught.value)
    assert (tmp_path / "isos" / "test-write.iso").exists()  # a caller's directory is kept


async def test_upload_refusals_as_recorded(kvm: PiKVM) -> None:
    await add_image(kvm, "test-write.iso")
    with pytest.raises(BadRequestError) as caught:
        await kvm.msd.upload("test-write.iso", b"again")
    assert kvmd_error(caught.value) == (400, "MsdImageExistsError", "This image is already exists")

    async def chunked() -> AsyncIterator[bytes]:
        yield b"no length"

    # what a client that forgets Content-Length gets (httpx frames an iterator as chunked)
    with pytest.raises(BadRequestError) as caught:
        await kvm.request(
            "POST", "msd/write", params={"image": "test-chunked.iso"}, content=chunked()
        )
    assert kvmd_error(caught.value) == captured_error("write_chunked")
    with pytest.raises(BadRequestError) as caught:
        await kvm.request("POST", "msd/write", content=b"x")
    assert kvmd_error(caught.value) == captured_error("write_no_image")


async def test_busy_while_uploading(kvm: PiKVM) -> None:
    release = asyncio.Event()

    async def held() -> AsyncIterator[bytes]:
        yield b"a" * 65536
        await release.wait()
        yield b"b" * 65536

    upload = asyncio.create_task(kvm.msd.upload("slow.iso", held(), size=131072))
    try:
        for _ in range(200):
            state = await kvm.msd.get_state()
            assert state.storage is not None
            uploading = state.storage.uploading
            if uploading is not None and uploading.written:
                break
            await asyncio.sleep(0.01)
        assert state.busy is True
        assert uploading is not None
        assert (uploading.name, uploading.size, uploading.written) == ("slow.iso", 131072, 65536)
        with pytest.raises(BusyError) as caught:
            await kvm.msd.set_params(cdrom=False)
        assert kvmd_error(caught.value) == (
            409,
            "MsdIsBusyError",
            "Performing another MSD operation, please try again later",
        )
        with pytest.raises(BusyError):
            await kvm.msd.upload("other.iso", b"x")
        with pytest.raises(InvalidInputError, match="busy_wait"):
            await kvm.msd.set_connected(False, busy_wait=-1)
        # busy_wait: the 409s are answered by trying again until the drive is free.
        waiting = asyncio.create_task(kvm.msd.set_params(cdrom=False, busy_wait=60))
        await asyncio.sleep(0.3)
        assert not waiting.done()
    finally:
        release.set()
    assert (await upload).written == 131072
    await waiting
    assert (await kvm.msd.get_state()).drive.cdrom is False
    state = await kvm.msd.get_state()
    assert state.busy is False and state.storage is not None and state.storage.uploading is None


def _images(state: MsdState) -> dict[str, Any]:
    return dict(state.storage.images) if state.storage else {}


async def test_a_source_that_breaks_its_size_raises_before_more_is_sent(kvm: PiKVM) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b"s" * 1000

    with pytest.raises(InvalidInputError, match="ended after 1000 of the 2000 bytes"):
        await kvm.msd.upload("short.iso", pieces(), size=2000)
    with pytest.raises(InvalidInputError, match="more than the 10 bytes"):
        await kvm.msd.upload("long.iso", pieces(), size=10)


async def cut_short(kvm: PiKVM, name: str, *, remove_incomplete: bool | None = None) -> None:
    """An upload whose source ends early, after the device has started writing it."""
    proceed = asyncio.Event()

    async def pieces() -> AsyncIterator[bytes]:
        yield b"s" * 1000
        await proceed.wait()

    upload = asyncio.create_task(
        kvm.msd.upload(name, pieces(), size=2000, remove_incomplete=remove_incomplete)
    )
    for _ in range(500):
        storage = (await kvm.msd.get_state()).storage
        if storage is not None and storage.uploading and storage.uploading.written == 1000:
            break
        await asyncio.sleep(0.01)
    proceed.set()
    with pytest.raises(InvalidInputError, match="ended after 1000 of the 2000 bytes"):
        await upload


async def test_an_aborted_upload_leaves_an_incomplete_image(tmp_path: Path) -> None:
    async with Emulator(msd_dir=tmp_path) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await cut_short(kvm, "short.iso")
        await cut_short(kvm, "gone.iso", remove_incomplete=True)
        for _ in range(500):
            state = await kvm.msd.get_state()
            images = _images(state)
            if not state.busy and "short.iso" in images and "gone.iso" not in images:
                break
            await asyncio.sleep(0.01)
    assert images["short.iso"].complete is False  # kept, marked incomplete
    assert images["short.iso"].size == 2000  # kvmd creates the file at the announced size
    assert "gone.iso" not in images  # remove_incomplete=True
    files = sorted(os.listdir(tmp_path))
    assert files == [".__short.iso.incomplete", "short.iso"]  # kvmd's marker beside the image


# ----- downloads --------------------------------------------------------------------------


async def test_download_to_a_path_compressed_and_in_pieces(kvm: PiKVM, tmp_path: Path) -> None:
    content = bytes(range(256)) * 8192  # 2 MiB
    await add_image(kvm, "dl.img", content)
    dest = tmp_path / "out.img"
    assert await kvm.msd.download("dl.img", dest) == len(content)
    assert dest.read_bytes() == content
    packed = b"".join([chunk async for chunk in kvm.msd.iter_download("dl.img", compress="lzma")])
    assert lzma.decompress(packed) == content and len(packed) < len(content)

    params = {"image": "dl.img", "compress": "lzma"}
    async with kvm.stream("GET", "msd/read", params=params) as response:
        assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''dl.img.xz"
        assert "content-length" not in response.headers  # compressed: size unknown up front
        await response.aread()

    missing = tmp_path / "missing.img"
    with pytest.raises(BadRequestError, match="MsdUnknownImageError"):
        await kvm.msd.download("nope.img", missing)
    assert not missing.exists()  # a file the call created is removed when it fails


async def test_downloading_state_and_busy_while_a_download_is_open(kvm: PiKVM) -> None:
    await add_image(kvm, "big.img", b"\xaa" * (32 * MiB))
    async with contextlib.aclosing(kvm.msd.iter_download("big.img")) as chunks:
        first = await anext(chunks)
        assert first
        state = await kvm.msd.get_state()
        assert state.busy is True and state.storage is not None
        downloading = state.storage.downloading
        assert downloading is not None
        assert (downloading.name, downloading.size) == ("big.img", 32 * MiB)
        assert 0 < (downloading.readed or 0) < 32 * MiB
        with pytest.raises(BusyError, match="MsdIsBusyError"):
            await kvm.msd.remove("big.img")
    for _ in range(200):
        state = await kvm.msd.get_state()
        if not state.busy:
            break
        await asyncio.sleep(0.01)
    assert state.busy is False and state.storage is not None
    assert state.storage.downloading is None


# ----- checks before sending --------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        "  ",
        "/",
        ".hidden",
        "dir/.hidden",
        "lost+found",
        "a/ /b",
        "a\0b",
        "tab\there",
        "x" * 256,
    ],
)
async def test_bad_image_names_are_refused_before_sending(name: str) -> None:
    async with PiKVM(NOWHERE, passwd="admin") as kvm:
        for call in (
            kvm.msd.set_params(image=name),
            kvm.msd.remove(name),
            kvm.msd.upload(name, b"x"),
            kvm.msd.download(name, io.BytesIO()),
        ):
            with pytest.raises(InvalidInputError):
                await call


async def test_bad_arguments_are_refused_before_sending(tmp_path: Path) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b"x"

    async with PiKVM(NOWHERE, passwd="admin") as kvm:
        for call in (
            kvm.msd.set_params(),
            kvm.msd.set_params(cdrom=True, rw=True),
            kvm.msd.set_params(cdrom=1),  # type: ignore[arg-type]
            kvm.msd.set_connected("yes"),  # type: ignore[arg-type]
            kvm.msd.upload("a.iso", b"x", prefix=".hidden"),
            kvm.msd.upload("a.iso", b"x", size=2),
            kvm.msd.upload("a.iso", pieces()),  # no size
            kvm.msd.upload("a.iso", io.StringIO("text")),  # type: ignore[arg-type]
            kvm.msd.upload("a.iso", tmp_path / "does-not-exist"),
            kvm.msd.upload_remote("ftp://example.com/a.iso"),
            kvm.msd.upload_remote("https://example.com/a.iso", timeout=0.05),
            kvm.msd.upload_remote("https://example.com/a.iso", image=""),
            kvm.msd.upload_remote("https://example.com/a.iso", image=".a.iso"),
            kvm.msd.download("a.iso", io.BytesIO(), compress="gzip"),  # type: ignore[arg-type]
            kvm.msd.download("a.iso", tmp_path / "no-such-dir" / "a.iso"),
        ):
            with pytest.raises(InvalidInputError):
                await call
        with pytest.raises(InvalidInputError):
            kvm.msd.iter_download("../a.iso")


# ----- remote uploads ---------------------------------------------------------------------


class Origin:
    """A small HTTP server on loopback for the emulator to download images from."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._ssl = ssl_context
        self.url = ""

    async def __aenter__(self) -> Origin:
        app = web.Application()
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/named", self._named)
        app.router.add_get("/truncated.iso", self._truncated)
        app.router.add_get("/chunked.iso", self._chunked)
        app.router.add_get("/held.iso", self._held)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        scheme = "https" if self._ssl else "http"
        self.url = f"{scheme}://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        self.release.set()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[name])

    async def _named(self, _: web.Request) -> web.StreamResponse:
        return web.Response(
            body=b"named",
            headers={"Content-Disposition": 'attachment; filename="from-header.iso"'},
        )

    async def _truncated(self, request: web.Request) -> web.StreamResponse:
        # announces 4 MiB and hangs up after 256 KiB, as the recorded origin did
        response = web.StreamResponse()
        response.content_length = 4 * MiB
        await response.prepare(request)
        await response.write(b"\0" * (256 * 1024))
        assert request.transport is not None
        request.transport.close()
        return response

    async def _chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"chunk")
        return response

    async def _held(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 2 * MiB
        await response.prepare(request)
        await response.write(b"\0" * MiB)
        await self.release.wait()
        with contextlib.suppress(ConnectionError):  # the device hung up meanwhile
            await response.write(b"\0" * MiB)
        return response


async def test_upload_remote_streams_progress_and_stores_the_image(kvm: PiKVM) -> None:
    content = os.urandom(4 * MiB)
    async with Origin() as origin:
        origin.files["slow-4m.iso"] = content
        progress = Progress()
        stored = await kvm.msd.upload_remote(
            f"{origin.url}/files/slow-4m.iso",
            image="test-remote.iso",
            remove_incomplete=True,
            progress=progress,
        )
        assert stored == MsdWriteResult(name="test-remote.iso", size=4 * MiB, written=4 * MiB)
        assert progress.calls[0] == (0, 4 * MiB)  # a record before the first byte
        assert progress.calls[-1] == (4 * MiB, 4 * MiB)
        await kvm.msd.wait_for_image("test-remote.iso")
        assert b"".join([c async for c in kvm.msd.iter_download("test-remote.iso")]) == content

        # kvmd refuses before it streams anything: an ordinary status, as recorded
        with pytest.raises(BadRequestError) as caught:
            await kvm.msd.upload_remote(
                f"{origin.url}/files/slow-4m.iso", image="test-remote.iso", remove_incomplete=True
            )
        assert kvmd_error(caught.value) == captured_error("remote_exists")

        # no image= : the name comes from Content-Disposition, else from the URL
        assert (await kvm.msd.upload_remote(f"{origin.url}/named")).name == "from-header.iso"
        stored = await kvm.msd.upload_remote(f"{origin.url}/files/slow-4m.iso", prefix="/")
        assert stored.name == "slow-4m.iso"


async def test_upload_remote_insecure_skips_the_origins_certificate_check(kvm: PiKVM) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)  # a CA the device lacks
    content = os.urandom(300 * 1024)
    async with Origin(context) as origin:
        origin.files["x"] = content
        with pytest.raises(BadRequestError) as refused:
            await kvm.msd.upload_remote(f"{origin.url}/files/x", image="secure.iso")
        stored = await kvm.msd.upload_remote(
            f"{origin.url}/files/x", image="insecure.iso", insecure=True
        )
        with pytest.raises(BadRequestError):
            await kvm.msd.upload_remote(f"{origin.url}/files/x", image="off.iso", insecure=False)
    assert refused.value.error == "ClientConnectorCertificateError"
    assert stored == MsdWriteResult(name="insecure.iso", size=len(content), written=len(content))
    await kvm.msd.wait_for_image("insecure.iso")
    assert b"".join([c async for c in kvm.msd.iter_download("insecure.iso")]) == content
    assert {"secure.iso", "off.iso"}.isdisjoint(_images(await kvm.msd.get_state()))


async def test_upload_remote_ndjson_is_kvmds(emu: Emulator, kvm: PiKVM) -> None:
    async with Origin() as origin:
        origin.files["x.iso"] = b"\0" * (256 * 1024)
        params = {"url": f"{origin.url}/files/x.iso", "image": "test-remote.iso"}
        async with kvm.stream("POST", "msd/write_remote", params=params) as response:
            assert response.headers["content-type"] == write_step("remote_ok")["content_type"]
            body = (await response.aread()).decode()
    lines = body.split("\r\n")
    assert lines[-1] == "" and len(lines) >= 3
    recorded_first = write_step("remote_ok")["body_text"].split("\r\n")[0]
    assert lines[0] == recorded_first.replace("4194304", str(256 * 1024))


async def test_upload_remote_failure_after_200_raises_stream_error(kvm: PiKVM) -> None:
    async with Origin() as origin:
        progress = Progress()
        with pytest.raises(StreamError) as caught:
            await kvm.msd.upload_remote(
                f"{origin.url}/truncated.iso",
                image="test-broken.iso",
                remove_incomplete=True,
                progress=progress,
            )
    error = caught.value
    recorded = write_step("remote_broken")["body_text"].split("\r\n")[-2]
    assert error.status_code == 200
    assert error.error == "ClientPayloadError" and f'"{error.error}"' in recorded
    assert error.error_msg is not None
    assert error.error_msg.startswith("Response payload is not completed")
    assert isinstance(error, APIError)
    assert progress.calls[0] == (0, 4 * MiB)
    for _ in range(200):
        state = await kvm.msd.get_state()
        if not state.busy and state.storage is not None and state.storage.uploading is None:
            break
        await asyncio.sleep(0.01)
    assert not state.busy
    await asyncio.sleep(0.2)  # past the storage delay: the incomplete image was removed
    assert "test-broken.iso" not in _images(await kvm.msd.get_state())


async def test_upload_remote_refusals_as_recorded(kvm: PiKVM) -> None:
    async with Origin() as origin:
        with pytest.raises(BadRequestError) as caught:
            await kvm.msd.upload_remote(f"{origin.url}/chunked.iso")
        assert kvmd_error(caught.value) == captured_error("remote_no_length")

        with pytest.raises(BadRequestError) as caught:
            await kvm.msd.upload_remote(f"{origin.url}/missing.iso")
        status, error, message = captured_error("remote_missing")
        recorded_url = write_step("remote_missing")["params"]["url"]
        assert kvmd_error(caught.value) == (
            status,
            error,
            message.replace(recorded_url, f"{origin.url}/missing.iso"),
        )

    with pytest.raises(BadRequestError) as caught:
        await kvm.msd.upload_remote(f"{origin.url}/image.iso", timeout=1)  # nobody listens now
    assert caught.value.error == captured_error("remote_unreachable")[1]
    # what the client's own checks keep from being sent: kvmd's validator messages
    for step in ("remote_bad_scheme", "remote_no_url"):
        with pytest.raises(BadRequestError) as caught:
            await kvm.request("POST", "msd/write_remote", params=write_step(step)["params"])
        assert kvmd_error(caught.value) == captured_error(step)


async def test_upload_remote_broken_connection_raises_connection_error(emu: Emulator) -> None:
    async with Origin() as origin, PiKVM(emu.url, passwd="admin") as kvm:
        started = asyncio.Event()
        upload = asyncio.create_task(
            kvm.msd.upload_remote(f"{origin.url}/held.iso", progress=lambda *_: started.set())
        )
        await asyncio.wait_for(started.wait(), 10)
        await emu.stop()  # the device goes away mid-stream
        with pytest.raises(PiKVMConnectionError):
            await upload


# ----- events -----------------------------------------------------------------------------


async def test_a_new_session_gets_the_full_msd_state(kvm: PiKVM) -> None:
    await add_image(kvm, "listed.iso")
    async with kvm.ws() as ws:
        async for event in ws.events():
            if event["event_type"] == "msd":
                break
    assert event["event"] == await kvm.request("GET", "msd")
    assert event["event"]["drive"] == result("msd_online.json")["drive"]


async def test_msd_events_on_a_websocket_session(kvm: PiKVM) -> None:
    async with kvm.ws() as ws:
        await eventually(lambda: ws.state.msd is not None)
        assert ws.state.msd is not None and ws.state.msd.online is True
        events: list[dict[str, Any]] = []

        async def collect() -> None:
            async for event in ws.events():
                if event["event_type"] == "msd":
                    events.append(event["event"])

        collector = asyncio.create_task(collect())
        try:
            await kvm.msd.upload("ev.iso", b"e" * MiB)
            await kvm.msd.wait_for_image("ev.iso")
            await kvm.msd.set_params(image="ev.iso")

            def seen() -> bool:
                msd = ws.state.msd
                return (
                    msd is not None
                    and msd.storage is not None
                    and "ev.iso" in msd.storage.images
                    and msd.storage.images["ev.iso"].complete
                    and msd.drive is not None
                    and msd.drive.image is not None
                    and not msd.busy
                )

            await eventually(seen)
        finally:
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collector
    partial = [event for event in events if "enabled" not in event]
    assert partial, events
    for event in partial:  # kvmd's diffs: only these keys, storage one level down
        assert set(event) <= {"busy", "drive", "storage"}
        assert set(event.get("storage", {})) <= {"images", "parts", "downloading", "uploading"}
    uploads = [e["storage"]["uploading"] for e in partial if "uploading" in e.get("storage", {})]
    assert uploads[0] is not None and uploads[0]["name"] == "ev.iso"
    assert uploads[-1] is None
    assert {"busy": True} in partial


# ----- the done-criterion: 256 MiB with flat memory ---------------------------------------


@pytest.mark.slow
async def test_256_mib_upload_with_flat_memory_and_identical_download(
    kvm: PiKVM, tmp_path: Path
) -> None:
    size = 256 * MiB
    source = tmp_path / "big.img"
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with source.open("wb") as file:
        for index in range(size // MiB):
            piece = block[index:] + block[:index]  # every MiB different, 1 MiB in memory
            digest.update(piece)
            file.write(piece)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        stored = await kvm.msd.upload("big.img", source)
        upload_peak = tracemalloc.get_traced_memory()[1]
        await kvm.msd.wait_for_image("big.img")
        tracemalloc.reset_peak()
        downloaded = hashlib.sha256()
        received = 0
        async for chunk in kvm.msd.iter_download("big.img"):
            downloaded.update(chunk)
            received += len(chunk)
        download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(
        f"\n256 MiB upload: peak traced memory {upload_peak / MiB:.2f} MiB;"
        f" download: {download_peak / MiB:.2f} MiB (client and emulator in one process)"
    )
    assert stored == MsdWriteResult(name="big.img", size=size, written=size)
    assert received == size
    assert downloaded.hexdigest() == digest.hexdigest()
    assert upload_peak < 16 * MiB  # flat: a few chunks in flight, nowhere near the file's size
    assert download_peak < 16 * MiB
