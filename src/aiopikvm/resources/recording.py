"""Live video to an MP4 file through PyAV (the ``video`` extra).

MJPEG frames are decoded and encoded again (H.264 with the wheel's libx264 where it has
one, else FFmpeg's own MPEG-4 Part 2); H.264 access units are remuxed as they came, the
stream's parameters read from its first keyframe. Each frame keeps its own time (the
device's ``X-Timestamp`` for MJPEG, the arrival time for H.264): the file plays at the
pace the device sent, however irregular. PyAV's work runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncGenerator
from fractions import Fraction
from typing import Any, Final

from .video import H264Frame, VideoFrame

TIME_BASE: Final = Fraction(1, 1000)
"""Frame times in the file are milliseconds."""
_ENCODERS: Final = ("libx264", "mpeg4")


def import_av() -> Any:
    """PyAV, or a ModuleNotFoundError naming the extra to install."""
    try:
        import av
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"recording video needs the 'video' extra ({error.name} is not installed):"
            " pip install 'aiopikvm[video]'",
            name=error.name,
        ) from None
    return av


class _Writer:
    """One MP4 file; every method blocks (PyAV), so each runs in a thread."""

    def __init__(self, av: Any, path: str) -> None:
        self._av = av
        self._container = av.open(path, "w", format="mp4")
        self._stream: Any = None
        self._decoder: Any = None
        self._start: float | None = None
        self._last_pts = -1
        self.frames = 0

    def _pts(self, when: float) -> int:
        if self._start is None:
            self._start = when
        # Strictly increasing: MP4 refuses two frames at one time.
        pts = max(round((when - self._start) / TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        return pts

    def add_jpeg(self, frame: VideoFrame) -> None:
        av = self._av
        if self._decoder is None:
            self._decoder = av.CodecContext.create("mjpeg", "r")
        pictures = self._decoder.decode(av.Packet(frame.data))
        for picture in pictures:
            if self._stream is None:
                self._stream = self._encoder_stream(picture.width, picture.height)
            context = self._stream.codec_context
            picture = picture.reformat(context.width, context.height, "yuv420p")
            picture.pts = self._pts(frame.timestamp)
            picture.time_base = TIME_BASE
            for packet in self._stream.encode(picture):
                self._container.mux(packet)
            self.frames += 1

    def _encoder_stream(self, width: int, height: int) -> Any:
        available = self._av.codec.codecs_available
        name = next(codec for codec in _ENCODERS if codec in available)
        stream = self._container.add_stream(name, rate=30)
        stream.width, stream.height = width - width % 2, height - height % 2  # 4:2:0
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        if name == "libx264":
            stream.codec_context.options = {"preset": "veryfast", "crf": "23"}
        return stream

    def add_h264(self, frame: H264Frame) -> None:
        av = self._av
        if self._stream is None:
            if not frame.key:
                return  # a decoder cannot start here (h264() begins with a keyframe)
            with av.open(io.BytesIO(frame.data), format="h264") as probe:
                template = probe.streams.video[0]
                if hasattr(self._container, "add_stream_from_template"):  # PyAV 14
                    self._stream = self._container.add_stream_from_template(template)
                else:
                    self._stream = self._container.add_stream(template=template)
        packet = av.Packet(frame.data)
        packet.pts = packet.dts = self._pts(frame.received)
        packet.time_base = TIME_BASE
        packet.stream = self._stream
        packet.is_keyframe = frame.key
        self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        try:
            if self._stream is not None and self._decoder is not None:
                for packet in self._stream.encode(None):  # the encoder's delayed frames
                    self._container.mux(packet)
        finally:
            self._container.close()


async def record(
    frames: AsyncGenerator[VideoFrame | H264Frame, None],
    path: str | os.PathLike[str],
    duration: float,
) -> int:
    """Write ``frames`` for ``duration`` seconds from the first one; the frames written.
    The file is made once the first frame is there: a stream that fails to start leaves
    nothing behind."""
    av = import_av()
    loop = asyncio.get_running_loop()
    writer: _Writer | None = None
    try:
        async with contextlib.aclosing(frames) as source:
            end: float | None = None
            while True:
                try:
                    async with asyncio.timeout_at(end):
                        frame = await anext(source, None)
                except TimeoutError:
                    break  # the duration is over while waiting for a frame
                if frame is None:
                    break
                if writer is None:
                    end = loop.time() + duration
                    writer = await asyncio.to_thread(_Writer, av, os.fspath(path))
                if isinstance(frame, VideoFrame):
                    await asyncio.to_thread(writer.add_jpeg, frame)
                else:
                    await asyncio.to_thread(writer.add_h264, frame)
                if end is not None and loop.time() >= end:
                    break
    finally:
        if writer is not None:
            await asyncio.to_thread(writer.close)
    return 0 if writer is None else writer.frames
