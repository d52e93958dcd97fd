"""A screenshot as a file: its format from the file's name, a PNG made from the device's
JPEG (Pillow), and the file written whole or not at all."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import Final

SUFFIXES: Final = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}


def picture_format(path: str | os.PathLike[str] | None, kind: str | None) -> str | None:
    """``"jpeg"`` or ``"png"``: ``kind`` if given, else by ``path``'s extension (None: an
    extension that is neither)."""
    if kind is not None:
        return kind
    if path is None:
        return "jpeg"
    return SUFFIXES.get(os.path.splitext(os.fspath(path))[1].lower())


def to_png(jpeg: bytes) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        raise ModuleNotFoundError(
            "a PNG screenshot needs Pillow: pip install Pillow (a .jpg is the device's own "
            "picture)",
            name="PIL",
        ) from None
    with Image.open(io.BytesIO(jpeg)) as picture:
        converted = io.BytesIO()
        picture.save(converted, format="PNG")
    return converted.getvalue()


def write_whole(path: str, data: bytes) -> None:
    """Write under a temporary name in the same folder, then rename into place."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".aiopikvm-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        mask = os.umask(0)  # the only way to read it; set back at once
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # as open() would have made it
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
