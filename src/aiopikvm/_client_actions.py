"""What a :class:`~aiopikvm.PiKVM` client does across subsystems: type text over a short
WebSocket session, and wait for the screen (OCR text, a change, a still picture).

Mixed into :class:`~aiopikvm.PiKVM`; see its methods for the API.

The screen waits poll the device: ``streamer/snapshot?ocr=1`` for text, snapshots for the
picture. kvmd runs the video streamer only while some ``stream=1`` session watches, and
answers a snapshot with 503 until the streamer has a picture; so while a wait runs it holds
a ``stream=1`` WebSocket session of its own (``keep_video=False`` does without), and a 503
counts as "nothing on the screen yet". Opening and closing that session makes kvmd drop HID
input still queued from other sessions, as every session does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Final

from ._checks import (
    check_bool,
    check_langs,
    check_number,
    check_region,
    check_timeout,
    invalid,
)
from ._typing_defaults import DEFAULT_ACK_EVERY, check_typing
from .errors import (
    InvalidInputError,
    ProtocolError,
    ScreenTimeoutError,
    TextNotFoundError,
    UnavailableError,
)
from .results import ScreenDiff
from .screen import compare
from .screen.compare import DEFAULT_TOLERANCE, Box

if TYPE_CHECKING:
    from .protocol.layout import Layout
    from .protocol.typing import TypingResult
    from .resources.streamer import Streamer
    from .screen.compare import Image as Picture
    from .session.typist import Progress
    from .session.websocket import PiKVMWebSocket
    from .transport.retry import RetryPolicy

OCR_INTERVAL: Final = 1.0
"""Seconds between two OCR reads: Tesseract on the device takes about that for a screen."""
SNAPSHOT_INTERVAL: Final = 0.5
VIDEO_RETRY: Final = 0.25
"""Seconds between tries while the video is not up yet (503): it comes within a few."""
STABLE_DURATION: Final = 2.0


class ClientActions:
    """Typing and screen waits for a client."""

    if TYPE_CHECKING:
        # Provided by PiKVM.
        @property
        def streamer(self) -> Streamer: ...

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

    async def type_text(
        self,
        text: str,
        *,
        layout: str | Layout = "en-us",
        delay: float | None = None,
        progress: Progress | None = None,
        ack_every: int = DEFAULT_ACK_EVERY,
        reconnect: bool | RetryPolicy = False,
        ack: str = "auto",
    ) -> TypingResult:
        """Type ``text`` on the target over a short input-only (``stream=0``) WebSocket
        session: see :meth:`PiKVMWebSocket.type_text`, which takes the same arguments and
        returns the same :class:`~aiopikvm.TypingResult`. With ``reconnect``, the session
        reconnects when it drops, and the typing goes on (see ``kvm.ws(reconnect=)``).

        The text is checked before the session opens (an untypable character raises
        :class:`~aiopikvm.UntypableTextError` and nothing happens). Not to be confused with
        ``kvm.hid.type_text``, kvmd's ``hid/print``, which drops what its keymap cannot
        type and stops at 1024 characters by default. Opening a session makes kvmd drop
        input still queued from other sessions: type from one place at a time.
        """
        from .protocol.typing import check_typable  # its tables load when first needed

        check_typing(layout, delay, ack_every, progress, ack)
        check_typable(text, layout)
        async with self.ws(stream=False, reconnect=reconnect) as ws:
            return await ws.type_text(
                text, layout=layout, delay=delay, progress=progress, ack_every=ack_every, ack=ack
            )

    # ----- waiting for the screen ---------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _video(self, keep_video: bool) -> AsyncIterator[None]:
        if not keep_video:
            yield
            return
        async with self.ws(stream=True):
            yield

    async def _snapshot(self) -> bytes | None:
        try:
            return await self.streamer.snapshot()
        except UnavailableError:
            return None  # no video yet

    async def wait_for_text(
        self,
        pattern: str | re.Pattern[str],
        *,
        timeout: float,
        region: tuple[int, int, int, int] | None = None,
        langs: str | Sequence[str] | None = None,
        interval: float = OCR_INTERVAL,
        keep_video: bool = True,
    ) -> re.Match[str]:
        """Read the screen with the device's OCR every ``interval`` seconds until
        ``pattern`` — a substring, or a compiled regular expression — shows up; return the
        match (``match.string`` is the whole text read).

        ``region`` is ``(left, top, right, bottom)`` in screen pixels, ``langs`` Tesseract
        languages (see ``kvm.streamer.ocr``). After ``timeout`` seconds raises
        :class:`~aiopikvm.TextNotFoundError` with ``last_text`` (the last OCR text) and
        ``last_snapshot`` (a JPEG of the screen when it gave up; ``save_snapshot(path)``
        writes it). The video is kept running meanwhile (see the module notes).
        """
        regex = _regex(pattern)
        check_timeout(timeout, none_ok=False, zero_ok=True)
        _check_interval(interval)
        check_bool(keep_video, "keep_video")
        if region is not None:
            check_region(region)
        if langs is not None:
            check_langs(langs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_text: str | None = None
        async with self._video(keep_video):
            while True:
                try:
                    text = await self.streamer.ocr(langs=langs, region=region)
                except UnavailableError:
                    video = False
                else:
                    video = True
                    last_text = text
                    match = regex.search(text)
                    if match is not None:
                        return match
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(_pause(interval, video), remaining))
            snapshot = await self._last_snapshot()
        read = "no video came up" if last_text is None else f"last read: {last_text!r}"
        raise TextNotFoundError(
            f"{_shown(pattern)!r} did not appear on the screen within {timeout} s ({read})",
            last_text=last_text or "",
            last_snapshot=snapshot,
        )

    async def _last_snapshot(self) -> bytes | None:
        try:
            # With no signal this is the streamer's "no signal" picture: worth seeing too.
            return await self.streamer.snapshot(allow_offline=True)
        except UnavailableError:
            return None

    async def wait_for_screen_change(
        self,
        *,
        timeout: float,
        since: bytes | None = None,
        interval: float = SNAPSHOT_INTERVAL,
        keep_video: bool = True,
        tolerance: float = DEFAULT_TOLERANCE,
        region: Box | None = None,
        ignore: Sequence[Box] = (),
    ) -> bytes:
        """Take a snapshot every ``interval`` seconds until the screen differs from
        ``since`` (a snapshot you took before, e.g. before a click), or from the first
        snapshot taken here; return the new snapshot (JPEG).

        "Differs" is measured, as a capture's noise makes every snapshot new (see
        :mod:`aiopikvm.screen.compare`, which needs the ``vision`` extra): more than
        ``tolerance`` screen pixels of area changed beyond the noise — by default more than
        a text cursor's blink, less than a typed character. ``region`` ``(left, top,
        right, bottom)`` compares only that part of the screen, ``ignore`` leaves boxes
        out (a clock, an animation); both in screen pixels, checked before anything is
        sent (a region wholly outside the picture is refused at the first snapshot).
        Raises :class:`~aiopikvm.ScreenTimeoutError` (``last_snapshot``, and ``diff``: the
        largest difference seen) after ``timeout`` seconds.
        """
        check_timeout(timeout, none_ok=False, zero_ok=True)
        _check_interval(interval)
        check_bool(keep_video, "keep_video")
        if since is not None and not isinstance(since, bytes):
            raise invalid("since", "a snapshot (bytes) or None", since)
        measure = _Measure(tolerance, region, ignore)
        baseline = None if since is None else measure.decode_given(since)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: bytes | None = None
        largest: ScreenDiff | None = None
        async with self._video(keep_video):
            while True:
                shot = await self._snapshot()
                if shot is not None:
                    last = shot
                    picture = await measure.decode(shot)
                    if baseline is None:
                        baseline = picture
                    else:
                        diff = await measure.compare(baseline, picture)
                        if diff.changed:
                            return shot
                        if largest is None or diff.changed_area > largest.changed_area:
                            largest = diff
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(_pause(interval, shot is not None), remaining))
        raise ScreenTimeoutError(
            f"the screen did not change within {timeout} s"
            + (f" ({_said(largest)})" if last is not None else " (no video came up)"),
            last_snapshot=last,
            diff=largest,
        )

    async def wait_for_screen_stable(
        self,
        *,
        timeout: float,
        duration: float = STABLE_DURATION,
        interval: float = SNAPSHOT_INTERVAL,
        keep_video: bool = True,
        tolerance: float = DEFAULT_TOLERANCE,
        region: Box | None = None,
        ignore: Sequence[Box] = (),
    ) -> bytes:
        """Take a snapshot every ``interval`` seconds until the screen has stayed the same
        for ``duration`` seconds (e.g. a boot has settled); return that snapshot (JPEG).

        "The same" is measured as in :meth:`wait_for_screen_change`, with the same
        ``tolerance``, ``region`` and ``ignore``, against the first snapshot of the still
        spell: a blinking cursor and the capture's noise do not break it, a ticking clock
        does (``ignore`` its box). Raises :class:`~aiopikvm.ScreenTimeoutError`
        (``last_snapshot``, and ``diff``: the last difference that broke the stillness)
        after ``timeout`` seconds.
        """
        check_timeout(timeout, none_ok=False, zero_ok=True)
        _check_interval(interval)
        check_bool(keep_video, "keep_video")
        check_number(duration, "duration", low=0)
        measure = _Measure(tolerance, region, ignore)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: bytes | None = None
        reference: Picture | None = None
        broke: ScreenDiff | None = None
        still_since: float | None = None
        async with self._video(keep_video):
            while True:
                shot = await self._snapshot()
                now = loop.time()
                if shot is None:
                    reference = still_since = None  # the video went away: start over
                else:
                    last = shot
                    picture = await measure.decode(shot)
                    if reference is None or still_since is None:
                        reference, still_since = picture, now
                    else:
                        diff = await measure.compare(reference, picture)
                        if diff.changed:
                            reference, still_since, broke = picture, now, diff
                    if now - still_since >= duration:
                        return shot
                remaining = deadline - now
                if remaining <= 0:
                    break
                await asyncio.sleep(min(_pause(interval, shot is not None), remaining))
        raise ScreenTimeoutError(
            f"the screen did not stay still for {duration} s within {timeout} s"
            + (f" (last change: {_said(broke)})" if last is not None else " (no video came up)"),
            last_snapshot=last,
            diff=broke,
        )


class _Measure:
    """The comparison a screen wait makes, its arguments checked (and the ``vision``
    extra found) before anything is sent; decoding and comparing run in a thread."""

    def __init__(self, tolerance: object, region: object, ignore: object) -> None:
        self.tolerance = compare.check_tolerance(tolerance)
        self.region = None if region is None else compare.check_box(region, "region")
        self.ignore = compare.check_ignore(ignore)
        compare.require()

    def decode_given(self, data: bytes) -> Picture:
        try:
            return compare.decode(data)
        except ProtocolError:
            raise invalid(
                "since", "a snapshot (JPEG bytes) of kvm.streamer.snapshot()", data
            ) from None

    async def decode(self, data: bytes) -> Picture:
        return await asyncio.to_thread(compare.decode, data)

    async def compare(self, before: Picture, after: Picture) -> ScreenDiff:
        return await asyncio.to_thread(
            compare.compare,
            before,
            after,
            tolerance=self.tolerance,
            region=self.region,
            ignore=self.ignore,
        )


def _said(diff: ScreenDiff | None) -> str:
    if diff is None:
        return "no difference measured"
    return (
        f"{diff.changed_area} px of area changed ({diff.changed_share:.4%} of that compared),"
        f" max delta {diff.max_delta}; tolerance {diff.tolerance:g} px"
    )


def _regex(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise InvalidInputError("pattern must be a str regular expression, not bytes")
        return pattern
    if not isinstance(pattern, str) or not pattern:
        raise invalid("pattern", "a non-empty str or a compiled regular expression", pattern)
    return re.compile(re.escape(pattern))


def _shown(pattern: str | re.Pattern[str]) -> str:
    """The pattern as the caller wrote it (a plain text is not shown regex-escaped)."""
    return pattern if isinstance(pattern, str) else pattern.pattern


def _pause(interval: float, video: bool) -> float:
    return interval if video else min(interval, VIDEO_RETRY)


def _check_interval(interval: float) -> None:
    check_number(interval, "interval", low=0, low_open=True)
