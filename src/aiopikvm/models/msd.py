from __future__ import annotations

from ._base import Model


class MsdImage(Model):
    """An image in storage; in ``drive.image`` it also has ``name`` and ``in_storage``.

    ``complete`` is false while an upload runs and after one that stopped short (kvmd keeps
    such an image unless the upload asked for ``remove_incomplete``)."""

    name: str | None = None
    in_storage: bool | None = None
    complete: bool
    size: int
    mod_ts: float
    removable: bool = True
    writable: bool = False


class MsdPart(Model):
    """A storage partition; ``""`` is the main one."""

    size: int
    free: int
    writable: bool = True


class MsdTransfer(Model):
    """An upload (``written``) or download (``readed``, kvmd's spelling) in progress."""

    name: str | None = None
    size: int | None = None
    written: int | None = None
    readed: int | None = None


class MsdStorage(Model):
    images: dict[str, MsdImage] = {}
    parts: dict[str, MsdPart] = {}
    downloading: MsdTransfer | None = None
    uploading: MsdTransfer | None = None


class MsdDrive(Model):
    """The drive the host sees: the selected ``image`` (None if none), whether it is
    ``connected`` to the host, and how: as a CD-ROM (``cdrom``) or a flash drive, read-only
    or read-write (``rw``; never with ``cdrom``)."""

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


class MsdWriteResult(Model):
    """What an upload wrote: ``{"image": {...}}`` of ``msd/write`` and of each
    ``msd/write_remote`` progress record. ``name`` is the image's name on the device
    (with the upload's ``prefix``), ``size`` the announced size, ``written`` the bytes
    stored so far."""

    name: str
    size: int
    written: int

    @property
    def complete(self) -> bool:
        return self.written >= self.size
