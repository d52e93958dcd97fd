"""MSD storage on disk, as kvmd's OTG MSD keeps it: the image files, their
``.__<name>.incomplete`` markers, and the scan of both. Everything here blocks, so the
callers run it in threads."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def marker(path: Path) -> Path:
    return path.with_name(f".__{path.name}.incomplete")


class Writer:
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


def scan_files(root: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The images and the partition under ``root``, as ``storage`` lists them."""
    images: dict[str, dict[str, Any]] = {}
    for path in walk(root):
        try:
            stat = path.stat()
        except OSError:
            continue  # gone while scanning
        images[path.relative_to(root).as_posix()] = {
            "complete": not marker(path).exists(),
            "mod_ts": stat.st_mtime,
            "removable": True,
            "size": stat.st_size,
            # As recorded: kvmd keeps its storage mounted read-only between writes.
            "writable": False,
        }
    return images, {"": scan_part(root)}


def walk(root: Path) -> Iterator[Path]:
    """Image files under ``root`` as kvmd lists them: sorted, no dot files, no lost+found."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "lost+found":
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from walk(Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def scan_part(root: Path) -> dict[str, Any]:
    vfs = os.statvfs(root)
    return {
        "free": vfs.f_bavail * vfs.f_frsize,
        "size": vfs.f_blocks * vfs.f_frsize,
        "writable": True,
    }


def set_complete(path: Path, complete: bool) -> None:
    incomplete = marker(path)
    if complete:
        incomplete.unlink(missing_ok=True)
    else:
        incomplete.touch()


def remove_image(path: Path) -> None:
    path.unlink()
    set_complete(path, True)


def finish_image(path: Path, complete: bool, remove_incomplete: bool) -> None:
    set_complete(path, complete)
    if remove_incomplete and not complete:
        with contextlib.suppress(FileNotFoundError):
            remove_image(path)


def open_for_reading(path: Path) -> tuple[IO[bytes], int]:
    file = path.open("rb")
    return file, os.fstat(file.fileno()).st_size
