"""Pictures in, as arrays: reading PNG/JPEG files, bytes and arrays with bounds checked
before anything is decoded, regions, and the ``vision`` extra's lazy import."""

from __future__ import annotations

import math
import os
import struct
from typing import TYPE_CHECKING, Any, Final

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from .match import Image, ImageSource, Region

MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
"""The largest picture file or buffer read (a 4K PNG screenshot is ~10-25 MiB)."""
MAX_PIXELS: Final = 7680 * 4320
"""The most pixels a picture may declare (8K), checked in its header before decoding, so a
small file that inflates to gigabytes is refused."""
_PNG: Final = b"\x89PNG\r\n\x1a\n"
_JPEG: Final = b"\xff\xd8"


def modules() -> tuple[Any, Any]:
    """``(cv2, numpy)``, or a ModuleNotFoundError naming the extra to install."""
    try:
        import cv2
        import numpy
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"finding images and text on the screen needs the 'vision' extra ({error.name}"
            " is not installed): pip install 'aiopikvm[vision]'",
            name=error.name,
        ) from None
    return cv2, numpy


def load_image(source: ImageSource, name: str) -> Image:
    """``source`` as an array: a path or bytes of a PNG or JPEG, or an 8-bit array."""
    cv2, np = modules()
    if isinstance(source, np.ndarray):
        return _checked_array(np, source, name)
    if isinstance(source, str | os.PathLike):
        data = _read_file(source, name)
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > MAX_IMAGE_BYTES:
            raise InvalidInputError(f"{name} is {len(data)} bytes, over {MAX_IMAGE_BYTES}")
    else:
        raise InvalidInputError(
            f"{name} must be a PNG or JPEG file's path, its bytes or a numpy array,"
            f" got {type(source).__name__}"
        )
    width, height = declared_size(data, name)
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise InvalidInputError(f"{name} declares {width}x{height} pixels (at most {MAX_PIXELS})")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidInputError(f"{name} could not be decoded (a damaged PNG or JPEG)")
    decoded: Image = image
    return decoded


def _read_file(path: str | os.PathLike[str], name: str) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_IMAGE_BYTES + 1)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise InvalidInputError(f"{name} {_show(path)} cannot be read: {reason}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInputError(f"{name} {_show(path)} is over {MAX_IMAGE_BYTES} bytes")
    return data


def _show(path: str | os.PathLike[str]) -> str:
    text = repr(os.fspath(path))
    return text if len(text) <= 100 else f"{text[:90]}...({len(text)} long)"


def declared_size(data: bytes, name: str) -> tuple[int, int]:
    """``(width, height)`` from a PNG's IHDR or a JPEG's first SOF marker."""
    if data.startswith(_PNG) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(_JPEG):
        at = 2
        while at + 4 <= len(data):
            if data[at] != 0xFF:
                break
            marker = data[at + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                at += 2
                continue
            (length,) = struct.unpack(">H", data[at + 2 : at + 4])
            # SOF0-15, except DHT (C4), JPG (C8) and DAC (CC)
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if at + 9 > len(data):
                    break
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return int(width), int(height)
            at += 2 + length
    raise InvalidInputError(
        f"{name} is neither a PNG nor a JPEG picture ({len(data)} bytes: {data[:12]!r})"
    )


def _checked_array(np: Any, array: Any, name: str) -> Image:
    if array.dtype != np.uint8:
        raise InvalidInputError(f"{name} must be an 8-bit (uint8) array, got {array.dtype}")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise InvalidInputError(
            f"{name} must be H x W, H x W x 3 (BGR) or H x W x 4 (BGRA), got {array.shape}"
        )
    if array.shape[0] < 1 or array.shape[1] < 1 or array.size > MAX_PIXELS * 4:
        raise InvalidInputError(f"{name} has an unusable shape {array.shape}")
    checked: Image = array
    return checked


def as_bgr(image: Image) -> Image:
    """Three 8-bit channels, as matching in colour needs."""
    cv2, np = modules()
    if image.ndim == 2 or image.shape[2] == 1:
        converted: Image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
        return converted
    if image.shape[2] == 4:
        converted = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        return converted
    contiguous: Image = np.ascontiguousarray(image)
    return contiguous


def check_region(region: object) -> Region:
    """``(left, top, right, bottom)`` of non-negative ints with an area."""
    if not isinstance(region, tuple | list) or len(region) != 4:
        raise InvalidInputError(f"region must be (left, top, right, bottom), got {region!r:.80}")
    for value in region:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInputError(
                f"region must be four non-negative int pixels, got {region!r:.80}"
            )
    left, top, right, bottom = region
    if right <= left or bottom <= top:
        raise InvalidInputError(
            f"region {tuple(region)!r} has no area: right must exceed left, bottom top"
        )
    return left, top, right, bottom


def crop(image: Image, region: Region | None) -> tuple[int, int, Image]:
    """``(left, top, part)``: the region of ``image``, clamped to it (the whole when None)."""
    if region is None:
        return 0, 0, image
    left, top, right, bottom = check_region(region)
    height, width = image.shape[:2]
    left, top = min(left, width), min(top, height)
    return left, top, image[top : min(bottom, height), left : min(right, width)]


def check_score(value: object, name: str) -> float:
    """A threshold of correlation or confidence: a number in 0..1."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidInputError(f"{name} must be a number from 0 to 1, got {value!r:.80}")
    return float(value)
