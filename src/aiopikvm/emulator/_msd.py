"""MSD (virtual media): images stored in a real directory, the drive the host sees, and
kvmd's transfers — upload, download from a URL, and reading an image back. This module is
the drive and its rules; the directory is :mod:`._msd_storage`'s, the HTTP side
:mod:`._msd_api`'s and :mod:`._msd_transfer`'s.

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
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

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
from ._msd_files import Writer, finish_image, open_for_reading, remove_image, set_complete
from ._msd_storage import MsdStorage
from ._msd_transfer import CHUNK, TICK
from ._server import Broadcast
from ._subsystem import State, StatePublisher

logger = logging.getLogger("aiopikvm.emulator.msd")


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
        self.publisher = StatePublisher("msd", broadcast, self.get_state, _diff)
        self._storage = MsdStorage(directory, delay=storage_delay, scanned=self._scanned)
        self._drive: dict[str, Any] = self._initial_drive()
        self._plugged: str | None = None  # what the USB gadget shows the host, if anything
        # One for every operation.
        self._region = BusyRegion(MsdIsBusyError, self.publisher.publish)
        self._uploading: Writer | None = None
        self._downloading: dict[str, Any] | None = None
        self._transfers: set[asyncio.Task[Any]] = set()

    @staticmethod
    def _initial_drive() -> dict[str, Any]:
        # kvmd starts with the gadget's own flags and nothing selected (as recorded).
        drive: dict[str, Any] = _captures.result("msd_online.json")["drive"]
        return drive

    async def start(self) -> None:
        self._storage.open()
        self._drive = self._initial_drive()
        self._plugged = None
        self._region = BusyRegion(MsdIsBusyError, self.publisher.publish)
        self.publisher.forget()
        if self._enabled:
            await self._storage.scan()

    def abort_transfers(self) -> None:
        """Cut every upload and download short, as a device that goes down does (the
        server would otherwise wait for them before it stops)."""
        for task in self._transfers:
            task.cancel()

    @contextlib.contextmanager
    def transfer(self) -> Iterator[None]:
        """Count the running request among the transfers :meth:`abort_transfers` cuts."""
        task = asyncio.current_task()
        assert task is not None
        self._transfers.add(task)
        try:
            yield
        finally:
            self._transfers.discard(task)

    async def stop(self) -> None:
        await self._storage.close()

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
                "images": copy.deepcopy(self._storage.images),
                "parts": copy.deepcopy(self._storage.parts),
                "downloading": copy.copy(self._downloading),
                "uploading": self._uploading.state() if self._uploading else None,
            },
        }

    def _scanned(self) -> None:
        """The drive after a scan: kvmd drops a selected image that is gone, and says the
        drive is disconnected only once the gadget let go of it."""
        images = self._storage.images
        image = self._drive["image"]
        if self._plugged is not None:
            entry = images.get(self._plugged)
            if entry is not None:
                self._drive["image"] = {**entry, "name": self._plugged, "in_storage": True}
        elif image is not None and image["name"] not in images:
            self._drive["image"] = None  # the selected image was removed
        if self._plugged is None:
            self._drive["connected"] = False
        self.publisher.publish()

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
                self._drive["image"] = self._storage.image(name) if name else None
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
                if not (self._storage.root / image["name"]).exists():
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
            self._storage.image(name)
            image = self._drive["image"]
            if image is not None and image["name"] == name:
                self._drive["image"] = None
            path = self._storage.root / name
            await asyncio.to_thread(remove_image, path)
        self._storage.schedule_scan()

    def reset(self) -> None:
        self._check_enabled()
        with self._region:
            # The gadget lets go of the image at once; kvmd's state follows on its next scan.
            self._plugged = None
        self._storage.schedule_scan()

    @contextlib.asynccontextmanager
    async def writing(
        self, name: str, size: int, remove_incomplete: bool | None
    ) -> AsyncIterator[Writer]:
        self._check_enabled()
        with self._region:
            path = self._storage.root / name
            created = False
            complete = False
            try:
                self._check_disconnected()
                if name in self._storage.images or path.exists():
                    raise MsdImageExistsError()
                created = True
                # kvmd writes the marker before it creates a missing directory: a prefix
                # naming a directory that does not exist fails here with a bare 500.
                await asyncio.to_thread(set_complete, path, False)
                writer = Writer(name, path, size)
                await writer.open()
                self._uploading = writer
                self.publisher.publish()
                self._storage.schedule_scan()
                yield writer
                complete = writer.written >= size
            finally:
                writer_open, self._uploading = self._uploading, None
                if writer_open is not None:
                    await writer_open.close()
                if created:
                    await asyncio.to_thread(finish_image, path, complete, bool(remove_incomplete))
                    self._storage.schedule_scan()

    @contextlib.asynccontextmanager
    async def reading(self, name: str) -> AsyncIterator[tuple[int, AsyncIterator[bytes]]]:
        """The image's size and its chunks, the download reported while they are read."""
        self._check_enabled()
        with self._region:
            self._check_disconnected()
            self._storage.image(name)
            file, size = await asyncio.to_thread(open_for_reading, self._storage.root / name)
            self._downloading = {"name": name, "size": size, "readed": 0}
            try:
                self.publisher.publish()
                yield size, self._read_chunks(file, size)
            finally:
                self._downloading = None
                await asyncio.to_thread(file.close)

    async def _read_chunks(self, file: IO[bytes], size: int) -> AsyncIterator[bytes]:
        last = 0.0
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            assert self._downloading is not None
            self._downloading["readed"] += len(chunk)
            if self._downloading["readed"] == size:
                self.publisher.publish()
            else:
                last = await self.tick(last)
            yield chunk

    async def tick(self, last: float) -> float:
        """Report transfer progress about once a second; the time of the last report."""
        now = time.monotonic()
        if now - last < TICK:
            return last
        if self._uploading is not None:
            await self._storage.refresh_parts()
        self.publisher.publish()
        return now


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
