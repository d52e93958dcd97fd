"""MSD's storage as kvmd sees it: a real directory (a temporary one unless the user names
one) and the images and partition its last scan found. Like kvmd's inotify watcher, the
scan lags behind the files: a change shows only when the scan that follows it ran."""

from __future__ import annotations

import asyncio
import copy
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import MsdUnknownImageError
from ._msd_files import scan_files, scan_part
from ._tasks import Tasks


class MsdStorage:
    """``scanned`` is called after each scan, before anything else runs, so the drive can
    follow what the scan found."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None,
        *,
        delay: float,
        scanned: Callable[[], None],
    ) -> None:
        self._directory = None if directory is None else Path(directory)
        self._delay = delay
        self._scanned = scanned
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._root: Path | None = None
        self.images: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()
        self._tasks = Tasks()

    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("the emulator is not running")
        return self._root

    def open(self) -> None:
        if self._directory is None:
            self._tempdir = tempfile.TemporaryDirectory(
                prefix="aiopikvm-msd-", ignore_cleanup_errors=True
            )
            self._root = Path(self._tempdir.name)
        else:
            if not self._directory.is_dir():
                raise NotADirectoryError(f"msd_dir is not a directory: {self._directory}")
            self._root = self._directory
        self.images, self.parts = {}, {}

    async def close(self) -> None:
        await self._tasks.cancel_all()
        tempdir, self._tempdir = self._tempdir, None
        if tempdir is not None:
            await asyncio.to_thread(tempdir.cleanup)
        self._root = None

    async def scan(self) -> None:
        """Re-read the storage, as kvmd does when inotify reports a change."""
        root = self._root
        if root is None:
            return
        async with self._lock:
            self.images, self.parts = await asyncio.to_thread(scan_files, root)
            self._scanned()

    async def _scan_later(self) -> None:
        await asyncio.sleep(self._delay)
        await self.scan()

    def schedule_scan(self) -> None:
        """Scan once the watcher's delay has passed."""
        if self._root is None:
            return  # stopped while a transfer wound down
        self._tasks.spawn(self._scan_later(), name="emulator-msd-scan")

    async def refresh_parts(self) -> None:
        self.parts = {"": await asyncio.to_thread(scan_part, self.root)}

    def image(self, name: str) -> dict[str, Any]:
        """The drive's view of the stored image ``name``, which the scan must have seen."""
        entry = self.images.get(name)
        if entry is None or not (self.root / name).exists():
            raise MsdUnknownImageError()
        return {**copy.deepcopy(entry), "name": name, "in_storage": True}
