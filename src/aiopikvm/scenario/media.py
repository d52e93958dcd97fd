"""The ``media`` step: an image in the device's storage, shown to the host as a drive.

An upload is skipped when the device holds an image of that name that is the same: the
same size (from the storage listing) and the same SHA-256 (the device's copy read back
with ``msd/read`` and hashed as it streams: kvmd keeps no hash, and reading is faster
than writing on the device's card). Anything else under that name is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from typing import TYPE_CHECKING, Final

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from .. import PiKVM

BUSY_WAIT: Final = 5.0
"""Seconds to try again while kvmd answers 409: an operation just ended holds the drive."""
IMAGE_WAIT: Final = 30.0
_POLL: Final = 0.1
_CHUNK: Final = 1 << 20


async def mount(kvm: PiKVM, file: str | None, image: str | None, *, cdrom: bool, rw: bool) -> str:
    """Upload ``file`` as ``image`` unless it is there already, and plug it in; say what
    was done."""
    name = image or os.path.basename(file or "")
    state = await kvm.msd.get_state()
    if state.drive is not None and state.drive.connected:
        await kvm.msd.set_connected(False, busy_wait=BUSY_WAIT)
    did = f"using {name} from the device"
    if file is not None:
        size = await asyncio.to_thread(_size, file)
        storage = (await kvm.msd.get_state()).storage
        listed = storage.images.get(name) if storage is not None else None
        if listed is not None and listed.complete and listed.size == size:
            local, remote = await asyncio.gather(
                asyncio.to_thread(_file_hash, file), _device_hash(kvm, name)
            )
            same = local == remote
        else:
            same = False
        if same:
            did = f"upload skipped: {name} on the device is identical (size, SHA-256)"
        else:
            if listed is not None:
                await kvm.msd.remove(name)
                await _until_unlisted(kvm, name)
            await kvm.msd.upload(name, file, remove_incomplete=True)
            await kvm.msd.wait_for_image(name, timeout=IMAGE_WAIT)
            did = f"uploaded {name} ({size} bytes)"
    await kvm.msd.set_params(image=name, cdrom=cdrom, rw=rw, busy_wait=BUSY_WAIT)
    await kvm.msd.set_connected(True, busy_wait=BUSY_WAIT)
    return f"{did}; connected as a {'CD-ROM' if cdrom else 'flash drive'}"


async def unmount(kvm: PiKVM) -> str:
    await kvm.msd.set_connected(False, busy_wait=BUSY_WAIT)
    return "disconnected"


def _size(path: str) -> int:
    if not os.path.isfile(path):
        raise InvalidInputError(f"media: no image file {path!r}")
    return os.path.getsize(path)


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def _device_hash(kvm: PiKVM, name: str) -> str:
    digest = hashlib.sha256()
    async with contextlib.aclosing(kvm.msd.iter_download(name)) as chunks:
        async for chunk in chunks:
            digest.update(chunk)
    return digest.hexdigest()


async def _until_unlisted(kvm: PiKVM, name: str) -> None:
    """kvmd refuses an upload under a name its lagging storage watcher still lists."""
    from ..errors import PiKVMTimeoutError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + IMAGE_WAIT
    while True:
        storage = (await kvm.msd.get_state()).storage
        if storage is None or name not in storage.images:
            return
        if loop.time() >= deadline:
            raise PiKVMTimeoutError(f"the device still lists {name!r} {IMAGE_WAIT} s on")
        await asyncio.sleep(_POLL)
