from __future__ import annotations

from ._base import Model


class MsdImage(Model):
    """An image in storage; in ``drive.image`` it also has ``name`` and ``in_storage``."""

    name: str | None = None
    in_storage: bool | None = None
    complete: bool
    size: int
    mod_ts: float
    removable: bool = True
    writable: bool = False


class MsdPart(Model):
    size: int
    free: int
    writable: bool = True


class MsdTransfer(Model):
    """An upload or download in progress."""

    name: str | None = None
    size: int | None = None
    written: int | None = None
    readed: int | None = None  # kvmd's spelling, on downloads


class MsdStorage(Model):
    images: dict[str, MsdImage] = {}
    parts: dict[str, MsdPart] = {}
    downloading: MsdTransfer | None = None
    uploading: MsdTransfer | None = None


class MsdDrive(Model):
    image: MsdImage | None = None
    connected: bool
    cdrom: bool
    rw: bool


class MsdState(Model):
    """``GET /api/msd`` and the ``msd`` event. ``drive``/``storage`` are None while offline."""

    enabled: bool
    online: bool
    busy: bool
    drive: MsdDrive | None = None
    storage: MsdStorage | None = None
