"""A screenshot as a file: its format from the file's name, a PNG made from the device's
JPEG (Pillow), and the file written whole or not at all."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO, Final

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


@contextlib.contextmanager
def whole_file(path: str, *, prefix: str = ".aiopikvm-") -> Iterator[BinaryIO]:
    """A binary file to write to ``path``: written under a temporary name in the same
    folder and renamed into place only when the block succeeds, so a failure or Ctrl-C
    leaves nothing half-written (raises ``OSError`` when the folder takes no file)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=prefix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        mask = os.umask(0)  # the only way to read it; set back at once
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp's 0600: as open() would have made it
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_whole(path: str, data: bytes) -> None:
    """``data`` to ``path``, whole or not at all (see :func:`whole_file`)."""
    with whole_file(path) as file:
        file.write(data)
