"""What a :class:`~aiopikvm.PiKVM` client sees on the screen: pictures (templates) and text
with its position, found in snapshots here on the client, waited for and clicked.

Mixed into :class:`~aiopikvm.PiKVM`; see its methods for the API. The pure parts are in
:mod:`aiopikvm.screen.match` (OpenCV) and :mod:`aiopikvm.screen.text` (Tesseract); they
need the ``vision`` extra. Snapshots come as in the screen waits of
:mod:`._client_actions` (a ``stream=1`` session of its own keeps the video up meanwhile,
``keep_video=False`` does without; a 503 is "no picture yet"); matching and OCR run in a
worker thread, so the event loop goes on meanwhile. A click opens a short input-only
session once the target is found, at the centre of what was found, in the snapshot's own
resolution.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

from ._checks import check_bool, check_button, check_number, check_timeout, invalid
from .errors import ImageNotFoundError, ScreenTimeoutError, TextNotFoundError, WaitTimeoutError
from .screen._images import check_region, check_score
from .screen.match import DEFAULT_THRESHOLD, ImageMatch, best_match, load_template, screen_size
from .screen.picture import picture_format, to_png, write_whole
from .screen.text import (
    TextMatch,
    check_langs,
    compile_pattern,
    find_text,
    lines_text,
    match_lines,
    read_lines,
)

if TYPE_CHECKING:
    from .screen.match import Image, ImageSource, Region
    from .session.websocket import PiKVMWebSocket
    from .transport.retry import RetryPolicy

IMAGE_INTERVAL: Final = 0.5
"""Seconds between two snapshots while waiting for a picture."""
TEXT_INTERVAL: Final = 1.0
"""Seconds between two reads while waiting for text: Tesseract takes ~0.3-1 s a screen."""
VIDEO_TIMEOUT: Final = 10.0
"""Seconds a one-shot find waits for the video to come up (ustreamer starts in a few)."""
TEXT_TIMEOUT: Final = 30.0
"""Seconds a one-shot :meth:`ClientVision.find_text` may take, the video and the read: a
screen full of text takes Tesseract several seconds on a small machine."""
MIN_READ: Final = 5.0
"""Seconds a read begun before the deadline may still take: a wait ends by its timeout,
or by one read after it, so a short timeout still reads the screen once."""
_VIDEO_RETRY: Final = 0.25


class ClientVision:
    """Image and text finding for a client."""

    if TYPE_CHECKING:
        # Provided by PiKVM and ClientActions.
        def ws(
            self,
            *,
            stream: bool | int = False,
            open_timeout: float | None = 10.0,
            close_timeout: float | None = 10.0,
            binary: bool = True,
            max_queue: int = ...,
            reconnect: bool | RetryPolicy = False,
        ) -> PiKVMWebSocket: ...

        def _video(self, keep_video: bool) -> contextlib.AbstractAsyncContextManager[None]: ...

        async def _snapshot(self) -> bytes | None: ...

    # ----- pictures ---------------------------------------------------------------------

    async def screenshot(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        format: Literal["jpeg", "png"] | None = None,
        timeout: float = VIDEO_TIMEOUT,
    ) -> bytes:
        """A picture of the host's screen: JPEG as the device made it, or PNG (``format``,
        or a ``path`` ending in ``.png``; Pillow converts it). Holds the ``stream=1``
        session the streamer needs meanwhile, and waits up to ``timeout`` seconds for the
        video to come up (:class:`~aiopikvm.ScreenTimeoutError` if it does not). With
        ``path`` the picture is written there too, whole or not at all."""
        check_timeout(timeout, none_ok=False, zero_ok=True)
        if path is not None and not isinstance(path, str | os.PathLike):
            raise invalid("path", "a file path or None", path)
        if format not in (None, "jpeg", "png"):
            raise invalid("format", '"jpeg", "png" or None', format)
        kind = picture_format(path, format)
        if kind is None:
            raise invalid("path", "a .png, .jpg or .jpeg file (or give format=)", path)
        async with self._video(True):
            picture = await self._first_snapshot(timeout)
        if kind == "png":
            picture = await asyncio.to_thread(to_png, picture)
        if path is not None:
            await asyncio.to_thread(write_whole, os.fspath(path), picture)
        return picture

    async def find_image(
        self,
        template: ImageSource,
        *,
        region: Region | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        timeout: float = VIDEO_TIMEOUT,
        keep_video: bool = True,
    ) -> ImageMatch | None:
        """Where ``template`` (a PNG/JPEG path, its bytes, or a numpy array) shows on the
        screen now: the best place scoring at least ``threshold`` (see
        :func:`aiopikvm.screen.match.find_image`), or None.

        One snapshot; ``timeout`` is how long to wait for the video to give one
        (:class:`~aiopikvm.ScreenTimeoutError` after that)."""
        needle = await self._template(template, region, threshold)
        check_timeout(timeout, none_ok=False, zero_ok=True)
        check_bool(keep_video, "keep_video")
        async with self._video(keep_video):
            shot = await self._first_snapshot(timeout)
        found = await asyncio.to_thread(best_match, shot, needle, region=region)
        return found if found is not None and found.score >= threshold else None

    async def wait_for_image(
        self,
        template: ImageSource,
        *,
        timeout: float,
        region: Region | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        interval: float = IMAGE_INTERVAL,
        keep_video: bool = True,
    ) -> ImageMatch:
        """Take a snapshot every ``interval`` seconds until ``template`` shows (scoring at
        least ``threshold``); return where. The template is read and checked first.

        After ``timeout`` seconds raises :class:`~aiopikvm.ImageNotFoundError`:
        ``best_score`` and ``best_box`` (the closest any snapshot came, and where),
        ``last_snapshot`` (``save_snapshot(path)`` writes it)."""
        found, _ = await self._wait_image(
            template, timeout, region, threshold, interval, keep_video
        )
        return found

    async def click_image(
        self,
        template: ImageSource,
        *,
        timeout: float,
        region: Region | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        button: str = "left",
        interval: float = IMAGE_INTERVAL,
        keep_video: bool = True,
    ) -> ImageMatch:
        """:meth:`wait_for_image`, then click ``button`` at the centre of what was found
        (over a short input-only session, in the snapshot's resolution); return the match."""
        check_button(button)
        found, size = await self._wait_image(
            template, timeout, region, threshold, interval, keep_video
        )
        await self._click(found.center, size, button)
        return found

    # ----- text -------------------------------------------------------------------------

    async def find_text(
        self,
        pattern: str | re.Pattern[str],
        *,
        region: Region | None = None,
        regex: bool = False,
        langs: str | Sequence[str] | None = None,
        timeout: float = TEXT_TIMEOUT,
        keep_video: bool = True,
    ) -> list[TextMatch]:
        """Where ``pattern`` shows on the screen now, read by a local Tesseract: one
        :class:`~aiopikvm.TextMatch` (text, box, confidence) per match, in reading order;
        empty when nowhere. ``pattern`` is a substring, or with ``regex=True`` a regular
        expression (a compiled one works too); a match may span the words of one line.
        ``langs``: Tesseract languages (``"eng"``, its default).

        Not the device's OCR (``kvm.wait_for_text``), which gives no positions: see
        :mod:`aiopikvm.screen.text`. ``timeout`` bounds the wait for a snapshot and the
        read (:class:`~aiopikvm.ScreenTimeoutError`, :class:`~aiopikvm.WaitTimeoutError`)."""
        compiled = compile_pattern(pattern, regex)
        check_timeout(timeout, none_ok=False, zero_ok=True)
        check_bool(keep_video, "keep_video")
        await self._check_text(region, langs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._video(keep_video):
            shot = await self._first_snapshot(timeout)
        left = max(0.1, deadline - loop.time())
        return await asyncio.to_thread(
            find_text, shot, compiled, region=region, langs=langs, timeout=left
        )

    async def wait_for_text_box(
        self,
        pattern: str | re.Pattern[str],
        *,
        timeout: float,
        region: Region | None = None,
        regex: bool = False,
        langs: str | Sequence[str] | None = None,
        interval: float = TEXT_INTERVAL,
        keep_video: bool = True,
    ) -> TextMatch:
        """Read snapshots with a local Tesseract every ``interval`` seconds until
        ``pattern`` shows (see :meth:`find_text`); return its first match, with its box.
        (:meth:`wait_for_text` reads with the device's OCR and returns the text only.)

        After ``timeout`` seconds (or the read under way then, :data:`MIN_READ` at most) raises
        :class:`~aiopikvm.TextNotFoundError` with ``last_text`` (the words last read, a line
        per line) and ``last_snapshot``."""
        found, _ = await self._wait_text(
            pattern, timeout, region, regex, langs, interval, keep_video
        )
        return found

    async def click_text(
        self,
        pattern: str | re.Pattern[str],
        *,
        timeout: float,
        region: Region | None = None,
        regex: bool = False,
        langs: str | Sequence[str] | None = None,
        button: str = "left",
        interval: float = TEXT_INTERVAL,
        keep_video: bool = True,
    ) -> TextMatch:
        """:meth:`wait_for_text_box`, then click ``button`` at the centre of the first match
        (over a short input-only session); return the match."""
        check_button(button)
        found, size = await self._wait_text(
            pattern, timeout, region, regex, langs, interval, keep_video
        )
        await self._click(found.center, size, button)
        return found

    # ----- the polling --------------------------------------------------------------------

    async def _template(
        self, template: ImageSource, region: Region | None, threshold: float
    ) -> Image:
        if region is not None:
            check_region(region)
        check_score(threshold, "threshold")
        return await asyncio.to_thread(load_template, template)

    async def _check_text(self, region: Region | None, langs: str | Sequence[str] | None) -> None:
        if region is not None:
            check_region(region)
        check_langs(langs)
        # and installed (tesseract --list-langs, once): last, after every pure check
        await asyncio.to_thread(check_langs, langs, installed=True)

    async def _first_snapshot(self, timeout: float) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            shot = await self._snapshot()
            if shot is not None:
                return shot
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ScreenTimeoutError(f"no video came up within {timeout} s")
            await asyncio.sleep(min(_VIDEO_RETRY, remaining))

    async def _wait_image(
        self,
        template: ImageSource,
        timeout: float,
        region: Region | None,
        threshold: float,
        interval: float,
        keep_video: bool,
    ) -> tuple[ImageMatch, tuple[int, int]]:
        needle = await self._template(template, region, threshold)
        _check_wait(timeout, interval, keep_video)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        best: ImageMatch | None = None
        last: bytes | None = None
        async with self._video(keep_video):
            while True:
                shot = await self._snapshot()
                if shot is not None:
                    last = shot
                    found, size = await asyncio.to_thread(_locate, shot, needle, region)
                    if found is not None and found.score >= threshold:
                        return found, size
                    if found is not None and (best is None or found.score > best.score):
                        best = found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                pause = interval if shot is not None else min(interval, _VIDEO_RETRY)
                await asyncio.sleep(min(pause, remaining))
        seen = (
            "no video came up"
            if last is None
            else (
                "the template never fitted the screen"
                if best is None
                else f"best score {best.score:.3f} at {best.box}, below {threshold}"
            )
        )
        raise ImageNotFoundError(
            f"the template did not appear on the screen within {timeout} s ({seen})",
            best_score=None if best is None else best.score,
            best_box=None if best is None else best.box,
            threshold=threshold,
            last_snapshot=last,
        )

    async def _wait_text(
        self,
        pattern: str | re.Pattern[str],
        timeout: float,
        region: Region | None,
        regex: bool,
        langs: str | Sequence[str] | None,
        interval: float,
        keep_video: bool,
    ) -> tuple[TextMatch, tuple[int, int]]:
        compiled = compile_pattern(pattern, regex)
        _check_wait(timeout, interval, keep_video)
        await self._check_text(region, langs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: bytes | None = None
        last_text = ""
        async with self._video(keep_video):
            while True:
                shot = await self._snapshot()
                if shot is not None:
                    last = shot
                    budget = max(MIN_READ, deadline - loop.time())
                    try:
                        lines = await asyncio.to_thread(
                            read_lines, shot, region=region, langs=langs, timeout=budget
                        )
                    except WaitTimeoutError:
                        lines = None  # a read cut short: what was read before stands
                    if lines is not None:
                        last_text = lines_text(lines)
                        matches = match_lines(lines, compiled)
                        if matches:
                            return matches[0], screen_size(shot)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                pause = interval if shot is not None else min(interval, _VIDEO_RETRY)
                await asyncio.sleep(min(pause, remaining))
        read = "no video came up" if last is None else f"last read: {last_text!r:.200}"
        shown = pattern if isinstance(pattern, str) else compiled.pattern  # as the caller wrote it
        raise TextNotFoundError(
            f"{shown!r} did not appear on the screen within {timeout} s ({read})",
            last_text=last_text,
            last_snapshot=last,
        )

    async def _click(self, center: tuple[int, int], size: tuple[int, int], button: str) -> None:
        async with self.ws(stream=False) as ws:
            await ws.click(center[0], center[1], button, screen_size=size)


def _locate(
    shot: bytes, needle: Image, region: Region | None
) -> tuple[ImageMatch | None, tuple[int, int]]:
    return best_match(shot, needle, region=region), screen_size(shot)


def _check_wait(timeout: float, interval: float, keep_video: bool) -> None:
    check_timeout(timeout, none_ok=False, zero_ok=True)
    check_number(interval, "interval", low=0, low_open=True)
    check_bool(keep_video, "keep_video")
