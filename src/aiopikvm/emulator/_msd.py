"""MSD (virtual media): images stored in a real directory, the drive the host sees, and
kvmd's transfers — upload, download from a URL, and reading an image back.

What it copies from kvmd's OTG MSD:

- one busy region for every operation: a second one while an upload, a download or any
  change runs gets 409 ``MsdIsBusyError``; ``GET /api/msd`` always answers;
- the drive's rules: nothing changes, uploads, reads or removes while the drive is
  connected (``MsdConnectedError``); connecting needs a selected image
  (``MsdImageNotSelected``) that still exists (``MsdUnknownImageError``); a CD-ROM is
  read-only, so ``cdrom=1`` clears ``rw`` and ``rw=1`` clears ``cdrom``;
- storage is a directory scan that lags behind the files, as kvmd's inotify watcher does:
  a new upload (or a removal) shows in ``storage.images`` only ``storage_delay`` seconds
  later, so selecting an image right after its upload can fail with
  ``MsdUnknownImageError``. ``msd/reset`` unplugs the drive the same way: the state says
  ``connected: false`` only after the next scan;
- an upload is sized by its ``Content-Length`` (chunked bodies are refused), the file is
  created at full size with a ``.__<name>.incomplete`` marker beside it, and the marker
  goes when every byte arrived (or the image goes, with ``remove_incomplete=1``);
- what kvmd does not catch fails as on kvmd (kvmd 4.197 has no error of its own for it):
  an image in a directory that does not exist, or a storage that fills up (``OSError``,
  ENOSPC), is a bare 500 from ``msd/write`` and the last NDJSON record of
  ``msd/write_remote``;
- ``msd/write_remote`` answers NDJSON: a record before the first byte, one about every
  second, one at the end; a failure after that first record is written as a last
  ``ok: false`` record and the chunked body is broken off, never finished;
- ``msd`` events: the full state first, then diffs of ``busy``, ``drive`` and
  ``storage.{images,parts,downloading,uploading}``; transfer progress about once a second.

File I/O runs in threads, so a large transfer never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import lzma
import os
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import aiohttp
from aiohttp import web
from aiohttp.multipart import parse_content_disposition

from . import _captures
from ._busy import BusyRegion
from ._errors import (
    MsdConnectedError,
    MsdDisabledError,
    MsdDisconnectedError,
    MsdImageExistsError,
    MsdImageNotSelected,
    MsdIsBusyError,
    MsdUnknownImageError,
)
from ._server import Broadcast, Handler, Route, json_response
from ._subsystem import State, StatePublisher
from ._tasks import Tasks
from ._validators import (
    valid_bool,
    valid_float,
    valid_int,
    valid_msd_compress,
    valid_msd_image_name,
    valid_url,
)
from ._ws import VERSION

logger = logging.getLogger("aiopikvm.emulator.msd")

_CHUNK: Final = 65536  # kvmd's read_chunk_size and write_chunk_size
_TICK: Final = 1.0  # kvmd reports transfer progress about once a second
_REMOTE_READ_TIMEOUT: Final = 7 * 24 * 3600.0
_USER_AGENT: Final = f"KVMD/{VERSION['major']}.{VERSION['minor']}"


def _zstd_compressor() -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        # kvmd always has it; this emulator only when the package is installed.
        raise RuntimeError("compress=zstd needs the zstandard package") from None
    return zstandard.ZstdCompressor().compressobj()


_COMPRESSORS: Final[dict[str, tuple[str, Callable[[], Any] | None]]] = {
    "": ("", None),
    "none": ("", None),
    "lzma": (".xz", lzma.LZMACompressor),
    "zstd": (".zst", _zstd_compressor),
}
"""``compress`` -> (the suffix of the download's file name, a compressor factory)."""


def _write_info(name: str, size: int, written: int) -> dict[str, Any]:
    return {"image": {"name": name, "size": size, "written": written}}


async def _stream_json(
    response: web.StreamResponse, result: dict[str, Any], ok: bool = True
) -> None:
    # kvmd's NDJSON line: json.dumps' default separators, CRLF, keys in insertion order.
    await response.write(json.dumps({"ok": ok, "result": result}).encode() + b"\r\n")


def _marker(path: Path) -> Path:
    return path.with_name(f".__{path.name}.incomplete")


class _Writer:
    """One image being written: kvmd creates it at full size, then fills it in."""

    def __init__(self, name: str, path: Path, size: int) -> None:
        self.name = name
        self.path = path
        self.size = size
        self.written = 0
        self._file: IO[bytes] | None = None

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "written": self.written}

    def _open(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("w+b")
        os.ftruncate(file.fileno(), self.size)
        return file

    async def open(self) -> None:
        self._file = await asyncio.to_thread(self._open)

    async def write(self, chunk: bytes) -> int:
        assert self._file is not None
        await asyncio.to_thread(self._file.write, chunk)
        self.written += len(chunk)
        return self.written

    async def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            await asyncio.to_thread(file.close)


class Msd:
    def __init__(
        self,
        *,
        enabled: bool,
        directory: str | os.PathLike[str] | None,
        storage_delay: float,
        broadcast: Broadcast,
    ) -> None:
        self._enabled = enabled
        self._directory = None if directory is None else Path(directory)
        self._storage_delay = storage_delay
        self.publisher = StatePublisher("msd", broadcast, self.get_state, _diff)
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._root: Path | None = None
        self._images: dict[str, dict[str, Any]] = {}
        self._parts: dict[str, dict[str, Any]] = {}
        self._drive: dict[str, Any] = self._initial_drive()
        self._plugged: str | None = None  # what the USB gadget shows the host, if anything
        # One for every operation.
        self._region = BusyRegion(MsdIsBusyError, self.publisher.publish)
        self._uploading: _Writer | None = None
        self._downloading: dict[str, Any] | None = None
        self._scan_lock = asyncio.Lock()
        self._tasks = Tasks()
        self._transfers: set[asyncio.Task[Any]] = set()

    @staticmethod
    def _initial_drive() -> dict[str, Any]:
        # kvmd starts with the gadget's own flags and nothing selected (as recorded).
        drive: dict[str, Any] = _captures.result("msd_online.json")["drive"]
        return drive

    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("the emulator is not running")
        return self._root

    async def start(self) -> None:
        if self._directory is None:
            self._tempdir = tempfile.TemporaryDirectory(
                prefix="aiopikvm-msd-", ignore_cleanup_errors=True
            )
            self._root = Path(self._tempdir.name)
        else:
            if not self._directory.is_dir():
                raise NotADirectoryError(f"msd_dir is not a directory: {self._directory}")
            self._root = self._directory
        self._images, self._parts = {}, {}
        self._drive = self._initial_drive()
        self._plugged = None
        self._region = BusyRegion(MsdIsBusyError, self.publisher.publish)
        self.publisher.forget()
        await self._scan()

    def abort_transfers(self) -> None:
        """Cut every upload and download short, as a device that goes down does (the
        server would otherwise wait for them before it stops)."""
        for task in self._transfers:
            task.cancel()

    async def stop(self) -> None:
        await self._tasks.cancel_all()
        tempdir, self._tempdir = self._tempdir, None
        if tempdir is not None:
            await asyncio.to_thread(tempdir.cleanup)
        self._root = None

    # ----- state ----------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        if not self._enabled:
            return {
                "enabled": False,
                "online": False,
                "busy": False,
                "drive": None,
                "storage": None,
            }
        return {
            "enabled": True,
            "online": True,
            "busy": self._region.busy,
            "drive": copy.deepcopy(self._drive),
            "storage": {
                "images": copy.deepcopy(self._images),
                "parts": copy.deepcopy(self._parts),
                "downloading": copy.copy(self._downloading),
                "uploading": self._uploading.state() if self._uploading else None,
            },
        }

    # ----- storage --------------------------------------------------------------------

    @staticmethod
    def _scan_files(root: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        images: dict[str, dict[str, Any]] = {}
        for path in _walk(root):
            try:
                stat = path.stat()
            except OSError:
                continue  # gone while scanning
            images[path.relative_to(root).as_posix()] = {
                "complete": not _marker(path).exists(),
                "mod_ts": stat.st_mtime,
                "removable": True,
                "size": stat.st_size,
                # As recorded: kvmd keeps its storage mounted read-only between writes.
                "writable": False,
            }
        return images, {"": _scan_part(root)}

    async def _scan(self) -> None:
        """Re-read the storage, as kvmd does when inotify reports a change."""
        root = self._root
        if not self._enabled or root is None:
            return
        async with self._scan_lock:
            self._images, self._parts = await asyncio.to_thread(self._scan_files, root)
            image = self._drive["image"]
            if self._plugged is not None:
                entry = self._images.get(self._plugged)
                if entry is not None:
                    self._drive["image"] = {**entry, "name": self._plugged, "in_storage": True}
            elif image is not None and image["name"] not in self._images:
                self._drive["image"] = None  # the selected image was removed
            if self._plugged is None:
                self._drive["connected"] = False
        self.publisher.publish()

    async def _scan_later(self) -> None:
        await asyncio.sleep(self._storage_delay)
        await self._scan()

    def _schedule_scan(self) -> None:
        if self._root is None:
            return  # stopped while a transfer wound down
        self._tasks.spawn(self._scan_later(), name="emulator-msd-scan")

    async def _refresh_parts(self) -> None:
        self._parts = {"": await asyncio.to_thread(_scan_part, self.root)}

    def _storage_image(self, name: str) -> dict[str, Any]:
        entry = self._images.get(name)
        if entry is None or not (self.root / name).exists():
            raise MsdUnknownImageError()
        return {**copy.deepcopy(entry), "name": name, "in_storage": True}

    # ----- rules ----------------------------------------------------------------------

    def _check_enabled(self) -> None:
        if not self._enabled:
            raise MsdDisabledError()

    def _check_disconnected(self) -> None:
        if self._drive["connected"] or self._plugged is not None:
            raise MsdConnectedError()

    # ----- operations -----------------------------------------------------------------

    def set_params(
        self, name: str | None = None, cdrom: bool | None = None, rw: bool | None = None
    ) -> None:
        self._check_enabled()
        with self._region:
            self._check_disconnected()
            if name is not None:
                self._drive["image"] = self._storage_image(name) if name else None
            if cdrom is not None:
                self._drive["cdrom"] = cdrom
                if cdrom:
                    rw = False
            if rw is not None:
                self._drive["rw"] = rw
                if rw:
                    self._drive["cdrom"] = False

    def set_connected(self, connected: bool) -> None:
        self._check_enabled()
        with self._region:
            if connected:
                self._check_disconnected()
                image = self._drive["image"]
                if image is None:
                    raise MsdImageNotSelected()
                if not (self.root / image["name"]).exists():
                    raise MsdUnknownImageError()
                self._plugged = image["name"]
            else:
                if not (self._drive["connected"] or self._plugged is not None):
                    raise MsdDisconnectedError()
                self._plugged = None
            self._drive["connected"] = connected

    async def remove(self, name: str) -> None:
        self._check_enabled()
        with self._region:
            self._check_disconnected()
            self._storage_image(name)
            image = self._drive["image"]
            if image is not None and image["name"] == name:
                self._drive["image"] = None
            path = self.root / name
            await asyncio.to_thread(_remove_image, path)
        self._schedule_scan()

    def reset(self) -> None:
        self._check_enabled()
        with self._region:
            # The gadget lets go of the image at once; kvmd's state follows on its next scan.
            self._plugged = None
        self._schedule_scan()

    @contextlib.asynccontextmanager
    async def writing(
        self, name: str, size: int, remove_incomplete: bool | None
    ) -> AsyncIterator[_Writer]:
        self._check_enabled()
        with self._region:
            path = self.root / name
            created = False
            complete = False
            try:
                self._check_disconnected()
                if name in self._images or path.exists():
                    raise MsdImageExistsError()
                created = True
                # kvmd writes the marker before it creates a missing directory: a prefix
                # naming a directory that does not exist fails here with a bare 500.
                await asyncio.to_thread(_set_complete, path, False)
                writer = _Writer(name, path, size)
                await writer.open()
                self._uploading = writer
                self.publisher.publish()
                self._schedule_scan()
                yield writer
                complete = writer.written >= size
            finally:
                writer_open, self._uploading = self._uploading, None
                if writer_open is not None:
                    await writer_open.close()
                if created:
                    await asyncio.to_thread(_finish_image, path, complete, bool(remove_incomplete))
                    self._schedule_scan()

    async def tick(self, last: float) -> float:
        """Report transfer progress about once a second; the time of the last report."""
        now = time.monotonic()
        if now - last < _TICK:
            return last
        if self._uploading is not None:
            await self._refresh_parts()
        self.publisher.publish()
        return now

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/msd", self._h_state),
            Route("POST", "/msd/set_params", self._h_set_params),
            Route("POST", "/msd/set_connected", self._h_set_connected),
            Route("GET", "/msd/read", self._abortable(self._h_read)),
            Route("POST", "/msd/write", self._abortable(self._h_write)),
            Route("POST", "/msd/write_remote", self._abortable(self._h_write_remote)),
            Route("POST", "/msd/remove", self._h_remove),
            Route("POST", "/msd/reset", self._h_reset),
        ]

    def _abortable(self, handler: Handler) -> Handler:
        async def transfer(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            assert task is not None
            self._transfers.add(task)
            try:
                return await handler(request)
            finally:
                self._transfers.discard(task)

        return transfer

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self.get_state())

    async def _h_set_params(self, request: web.Request) -> web.StreamResponse:
        params: dict[str, Any] = {}
        validators: tuple[tuple[str, str, Callable[[object], Any]], ...] = (
            ("image", "name", lambda arg: valid_msd_image_name(arg, allow_eject=True)),
            ("cdrom", "cdrom", valid_bool),
            ("rw", "rw", valid_bool),
        )
        for param, key, validator in validators:
            value = request.query.get(param)
            if value is not None:
                params[key] = validator(value)
        self.set_params(**params)
        return json_response()

    async def _h_set_connected(self, request: web.Request) -> web.StreamResponse:
        self.set_connected(valid_bool(request.query.get("connected")))
        return json_response()

    async def _h_remove(self, request: web.Request) -> web.StreamResponse:
        await self.remove(valid_msd_image_name(request.query.get("image")))
        return json_response()

    async def _h_reset(self, _: web.Request) -> web.StreamResponse:
        self.reset()
        return json_response()

    async def _h_read(self, request: web.Request) -> web.StreamResponse:
        name = valid_msd_image_name(request.query.get("image"))
        compress = valid_msd_compress(request.query.get("compress", ""), _COMPRESSORS)
        suffix, make_compressor = _COMPRESSORS[compress]
        self._check_enabled()
        with self._region:
            self._check_disconnected()
            self._storage_image(name)
            file, size = await asyncio.to_thread(_open_for_reading, self.root / name)
            self._downloading = {"name": name, "size": size, "readed": 0}
            try:
                self.publisher.publish()
                response = web.StreamResponse(status=200, reason="OK")
                response.content_type = "application/octet-stream"
                if make_compressor is None:
                    response.content_length = size
                quoted = urllib.parse.quote(name + suffix, safe="")
                response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted}"
                chunks = self._read_chunks(file, size)
                if make_compressor is not None:
                    chunks = _compressed(chunks, make_compressor())
                await response.prepare(request)
                try:
                    async for chunk in chunks:
                        await response.write(chunk)
                except ConnectionError:
                    pass  # the client hung up; aiohttp drops the connection
                return response
            finally:
                self._downloading = None
                await asyncio.to_thread(file.close)

    async def _read_chunks(self, file: IO[bytes], size: int) -> AsyncIterator[bytes]:
        last = 0.0
        while chunk := await asyncio.to_thread(file.read, _CHUNK):
            assert self._downloading is not None
            self._downloading["readed"] += len(chunk)
            if self._downloading["readed"] == size:
                self.publisher.publish()
            else:
                last = await self.tick(last)
            yield chunk

    async def _h_write(self, request: web.Request) -> web.StreamResponse:
        prefix = request.query.get("prefix", "") + "/"
        name = valid_msd_image_name(prefix + request.query.get("image", ""))
        size = valid_int(request.content_length, "int", low=0)
        remove_incomplete = _valid_remove_incomplete(request)
        written = 0
        async with self.writing(name, size, remove_incomplete) as writer:
            last = 0.0
            while chunk := await request.content.read(_CHUNK):
                written = await writer.write(chunk)
                last = await self.tick(last)
        return json_response(_write_info(name, size, written))

    async def _h_write_remote(self, request: web.Request) -> web.StreamResponse:
        prefix = request.query.get("prefix", "") + "/"
        url = valid_url(request.query.get("url"))
        insecure = valid_bool(request.query.get("insecure", False))
        timeout = valid_float(request.query.get("timeout", 10.0), low=0.1)
        remove_incomplete = _valid_remove_incomplete(request)

        name = ""
        size = written = 0
        response: web.StreamResponse | None = None
        try:
            async with _fetch(url, verify=not insecure, timeout=timeout) as remote:
                name = str(request.query.get("image", "")).strip() or _remote_filename(remote)
                name = valid_msd_image_name(prefix + name)
                if remote.content_length is None:
                    raise aiohttp.ClientError("No Content-Length found")
                size = valid_int(remote.content_length, "int", low=0)
                async with self.writing(name, size, remove_incomplete) as writer:
                    response = web.StreamResponse(status=200, reason="OK")
                    response.content_type = "application/x-ndjson"
                    await response.prepare(request)
                    await _stream_json(response, _write_info(name, size, written))
                    last_report = last_tick = 0.0
                    async for chunk in remote.content.iter_chunked(_CHUNK):
                        written = await writer.write(chunk)
                        if time.monotonic() - last_report >= _TICK:
                            await _stream_json(response, _write_info(name, size, written))
                            last_report = time.monotonic()
                        last_tick = await self.tick(last_tick)
                await _stream_json(response, _write_info(name, size, written))
                return response
        except Exception as error:
            if response is not None:
                await _break_stream(request, response, _write_info(name, size, written), error)
                return response
            if isinstance(error, aiohttp.ClientError):
                return json_response(
                    {"error": type(error).__name__, "error_msg": str(error)}, status=400
                )
            raise


def _valid_remove_incomplete(request: web.Request) -> bool | None:
    flag = request.query.get("remove_incomplete")
    return valid_bool(flag) if flag is not None else None


@contextlib.asynccontextmanager
async def _fetch(
    url: str, *, verify: bool, timeout: float
) -> AsyncIterator[aiohttp.ClientResponse]:
    client_timeout = aiohttp.ClientTimeout(
        connect=timeout, sock_connect=timeout, sock_read=_REMOTE_READ_TIMEOUT
    )
    async with (
        aiohttp.ClientSession(
            headers={"User-Agent": _USER_AGENT}, timeout=client_timeout, trust_env=False
        ) as session,
        session.get(url, ssl=verify) as remote,
    ):
        if remote.status != 200:
            remote.release()
            raise aiohttp.ClientResponseError(
                remote.request_info,
                remote.history,
                status=remote.status,
                message=remote.reason or "",
                headers=remote.headers,
            )
        yield remote


def _remote_filename(remote: aiohttp.ClientResponse) -> str:
    try:
        return str(parse_content_disposition(remote.headers["Content-Disposition"])[1]["filename"])
    except Exception:
        return os.path.basename(remote.url.path)


async def _break_stream(
    request: web.Request,
    response: web.StreamResponse,
    info: dict[str, Any],
    error: Exception,
) -> None:
    """kvmd's failure after HTTP 200: the progress so far, the error as a last record, then
    the connection drops without the chunked body's final chunk."""
    logger.info("msd/write_remote failed: %s: %s", type(error).__name__, error)
    with contextlib.suppress(ConnectionError):
        await _stream_json(response, info)
        await _stream_json(
            response, {"error": type(error).__name__, "error_msg": str(error)}, False
        )
    if request.transport is not None:
        request.transport.close()


async def _compressed(chunks: AsyncIterator[bytes], compressor: Any) -> AsyncIterator[bytes]:
    buffer = b""
    try:
        async for chunk in chunks:
            buffer += await asyncio.to_thread(compressor.compress, chunk)
            if len(buffer) >= _CHUNK:
                yield buffer
                buffer = b""
    finally:
        buffer += await asyncio.to_thread(compressor.flush)
    if buffer:
        yield buffer


# ----- file helpers (run in threads) ----------------------------------------------------


def _walk(root: Path) -> Iterator[Path]:
    """Image files under ``root`` as kvmd lists them: sorted, no dot files, no lost+found."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "lost+found":
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def _scan_part(root: Path) -> dict[str, Any]:
    vfs = os.statvfs(root)
    return {
        "free": vfs.f_bavail * vfs.f_frsize,
        "size": vfs.f_blocks * vfs.f_frsize,
        "writable": True,
    }


def _set_complete(path: Path, complete: bool) -> None:
    marker = _marker(path)
    if complete:
        marker.unlink(missing_ok=True)
    else:
        marker.touch()


def _remove_image(path: Path) -> None:
    path.unlink()
    _set_complete(path, True)


def _finish_image(path: Path, complete: bool, remove_incomplete: bool) -> None:
    _set_complete(path, complete)
    if remove_incomplete and not complete:
        with contextlib.suppress(FileNotFoundError):
            _remove_image(path)


def _open_for_reading(path: Path) -> tuple[IO[bytes], int]:
    file = path.open("rb")
    return file, os.fstat(file.fileno()).st_size


def _diff(sent: State | None, new: State) -> State | None:
    """What changed since the last event, the way kvmd diffs its MSD state: everything
    when it went on- or offline, else the changed keys, storage ones one level down."""
    if sent is None or sent["online"] != new["online"]:
        return new
    diff: State = {key: new[key] for key in ("busy", "drive") if sent[key] != new[key]}
    sent_storage, new_storage = sent["storage"] or {}, new["storage"] or {}
    for key in ("images", "parts", "downloading", "uploading"):
        if sent_storage.get(key) != new_storage.get(key):
            diff.setdefault("storage", {})[key] = new_storage.get(key)
    return diff or None
