"""Snapshots as kvmd's ``/api/streamer/snapshot`` serves them: the frame with ustreamer's
headers, and the answer to a request for it (JPEG, preview or OCR text)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from ._errors import OcrError
from ._screen import Screen, recognize, thumbnail
from ._streamer_params import valid_stream_quality
from ._validators import string_in, valid_bool, valid_int, valid_string_list

_PREVIEW_SHRINK: Final = 5
"""kvmd's preview with no size given is a fifth of the snapshot's width and height."""
_OCR_SIDES: Final = ("left", "top", "right", "bottom")
_CACHE_HEADERS: Final = (
    ("Access-Control-Allow-Origin", "*"),
    ("Cache-Control", "no-store, no-cache, must-revalidate, pre-check=0, post-check=0, max-age=0"),
    ("Expires", "Mon, 3 Jan 2000 12:34:56 GMT"),
    ("Pragma", "no-cache"),
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One snapshot as kvmd holds it: the JPEG, what it shows, ustreamer's headers."""

    online: bool
    screen: Screen
    data: bytes
    headers: tuple[tuple[str, str], ...]

    def summary(self) -> dict[str, Any]:
        return {"online": self.online, "width": self.screen.width, "height": self.screen.height}


def ustreamer_headers(online: bool, width: int, height: int) -> tuple[tuple[str, str], ...]:
    headers = [
        *_CACHE_HEADERS,
        ("X-Timestamp", f"{time.time():.06f}"),
        ("X-UStreamer-Height", str(height)),
        ("X-UStreamer-Online", "true" if online else "false"),
        ("X-UStreamer-Width", str(width)),
    ]
    return tuple(sorted(headers))


async def snapshot_response(
    frame: Frame, query: Mapping[str, str], *, ocr_langs: Collection[str], ocr_enabled: bool
) -> web.Response:
    """The answer to ``GET /api/streamer/snapshot`` for ``frame``, as its query asks."""
    headers = dict(frame.headers)
    if valid_bool(query.get("ocr", False)):
        # Checked like kvmd's, against the language files on the device (there even
        # without Tesseract); the console reads the same in every language.
        valid_string_list(
            str(query.get("ocr_langs", "")).strip(),
            "OCR langs list",
            lambda lang: string_in(lang, "OCR lang", ocr_langs),
        )
        region = [valid_int(query.get(f"ocr_{side}", -1), "int") for side in _OCR_SIDES]
        if not ocr_enabled:
            raise OcrError("Tesseract is not available")
        text = recognize(frame.screen, *region)
        return web.Response(text=text, headers=headers, content_type="text/plain")
    data = frame.data
    if valid_bool(query.get("preview", False)):
        data = await _preview(
            frame,
            valid_int(query.get("preview_max_width", 0), "int", low=0),
            valid_int(query.get("preview_max_height", 0), "int", low=0),
            valid_stream_quality(query.get("preview_quality", 80)),
        )
    return web.Response(body=data, headers=headers, content_type="image/jpeg")


async def _preview(frame: Frame, max_width: int, max_height: int, quality: int) -> bytes:
    width, height = frame.screen.width, frame.screen.height
    if max_width == 0 and max_height == 0:
        max_width, max_height = width // _PREVIEW_SHRINK, height // _PREVIEW_SHRINK
    else:
        max_width = min(max_width or width, width)
        max_height = min(max_height or height, height)
    if (max_width, max_height) == (width, height):
        return frame.data
    return await asyncio.to_thread(thumbnail, frame.data, max_width, max_height, quality)
