"""The streamer's ``set_params`` parameters, checked as kvmd's validators check them
(kvmd/validators/kvm.py), in kvmd's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ._errors import (
    StreamerH264NotSupported,
    StreamerQualityNotSupported,
    StreamerResolutionNotSupported,
)
from ._validators import fail, not_empty_string, valid_int


def valid_stream_quality(arg: object) -> int:
    return valid_int(arg, "stream quality", low=1, high=100)


def valid_stream_fps(arg: object) -> int:
    return valid_int(arg, "stream FPS", low=0, high=120)


def valid_stream_resolution(arg: object) -> str:
    name = "stream resolution"
    text = not_empty_string(arg, name)
    parts = text.split("x")
    if len(parts) != 2:
        fail(text, name)
    width = valid_int(parts[0], f"{name} (width)", low=1)
    height = valid_int(parts[1], f"{name} (height)", low=1)
    return f"{width}x{height}"


def valid_stream_h264_bitrate(arg: object) -> int:
    return valid_int(arg, "stream H264 bitrate", low=25, high=20000)


def valid_stream_h264_gop(arg: object) -> int:
    return valid_int(arg, "stream H264 GOP", low=0, high=60)


PARAMS: Final[tuple[tuple[str, Callable[[object], Any], type[Exception] | None], ...]] = (
    ("quality", valid_stream_quality, StreamerQualityNotSupported),
    ("desired_fps", valid_stream_fps, None),
    ("resolution", valid_stream_resolution, StreamerResolutionNotSupported),
    ("h264_bitrate", valid_stream_h264_bitrate, StreamerH264NotSupported),
    ("h264_gop", valid_stream_h264_gop, StreamerH264NotSupported),
)
"""``set_params``'s parameters in kvmd's order, with the error for a streamer without one."""
