"""The emulator's H.264 encoder: the screen's JPEGs through PyAV's libx264, as ustreamer's
M2M encoder turns the captured frames into kvmd-media's stream (Annex B, SPS and PPS in
band before every keyframe, constrained baseline like the ``42E01F`` kvmd announces).

PyAV is optional here: without it, or with an FFmpeg that lacks libx264, the emulator
serves no H.264 (see :mod:`._video`).
"""

from __future__ import annotations

import functools
import importlib
from fractions import Fraction
from typing import Any, Final

_FPS: Final = 20
_DEFAULT_GOP: Final = 30  # ustreamer's --h264-gop default
_DEFAULT_BITRATE: Final = 5000  # kbit/s, ustreamer's --h264-bitrate default


@functools.cache
def _av() -> Any | None:
    try:
        av = importlib.import_module("av")
    except ImportError:
        return None
    return av if "libx264" in av.codec.codecs_available else None


def encoder_available() -> bool:
    return _av() is not None


class Encoder:
    """One client's H.264 stream of one picture size; blocking, so run it in a thread."""

    def __init__(self, size: tuple[int, int], bitrate: int | None, gop: int | None) -> None:
        av = _av()
        assert av is not None, "encoder_available() said no"
        self._av = av
        self.size = size
        context = av.CodecContext.create("libx264", "w")
        context.width, context.height = size[0] - size[0] % 2, size[1] - size[1] % 2
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, _FPS)
        context.framerate = Fraction(_FPS, 1)
        context.bit_rate = (bitrate or _DEFAULT_BITRATE) * 1000
        context.gop_size = gop or _DEFAULT_GOP
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",  # one access unit out per frame in, no lookahead
            "profile": "baseline",
            "forced-idr": "1",  # a keyframe asked for is an IDR with SPS and PPS
        }
        self._context = context
        self._decoder = av.CodecContext.create("mjpeg", "r")
        self._pts = 0

    def encode(self, jpeg: bytes, keyframe: bool) -> list[tuple[bytes, bool]]:
        """The access units for one JPEG, each with its keyframe flag (the first is one)."""
        units: list[tuple[bytes, bool]] = []
        context = self._context
        for picture in self._decoder.decode(self._av.Packet(jpeg)):
            frame = picture.reformat(context.width, context.height, "yuv420p")
            frame.pts = self._pts
            self._pts += 1
            # The decoded JPEG is an I picture, which libx264 would take as a keyframe asked for.
            frame.pict_type = _picture_type(self._av, "I" if keyframe else "NONE")
            units += [(bytes(packet), bool(packet.is_keyframe)) for packet in context.encode(frame)]
        return units

    def close(self) -> None:
        self._context = self._decoder = None


def _picture_type(av: Any, name: str) -> Any:
    picture_type = getattr(av.video.frame, "PictureType", None)
    return name if picture_type is None else picture_type[name]  # a str before PyAV 13
