from __future__ import annotations

from typing import Any

from ._base import Model


class Resolution(Model):
    width: int
    height: int


class StreamerSource(Model):
    """What the capture hardware sees: ``online`` is false while there is no signal."""

    resolution: Resolution
    online: bool
    desired_fps: int = 0
    captured_fps: int = 0


class StreamerEncoder(Model):
    type: str = ""
    quality: int = 0


class StreamerH264(Model):
    bitrate: int = 0
    gop: int = 0
    online: bool = False
    fps: int = 0


class StreamerStream(Model):
    """The MJPEG stream's own viewers (not WebSocket sessions)."""

    queued_fps: int = 0
    clients: int = 0
    clients_stat: dict[str, Any] = {}


class StreamerProcess(Model):
    """The running ustreamer's own report: None while the streamer is stopped."""

    instance_id: str = ""
    encoder: StreamerEncoder = StreamerEncoder()
    h264: StreamerH264 | None = None
    sinks: dict[str, Any] = {}
    source: StreamerSource
    stream: StreamerStream = StreamerStream()


class Limit(Model):
    min: int
    max: int


class StreamerLimits(Model):
    """Ranges for :meth:`Streamer.set_params`; kvmd silently drops a value outside them."""

    desired_fps: Limit | None = None
    h264_bitrate: Limit | None = None
    h264_gop: Limit | None = None
    available_resolutions: list[str] | None = None


class StreamerParams(Model):
    """Streamer parameters; one the device does not support is None."""

    desired_fps: int | None = None
    quality: int | None = None
    resolution: str | None = None
    h264_bitrate: int | None = None
    h264_gop: int | None = None


class StreamerFeatures(Model):
    quality: bool = False
    resolution: bool = False
    h264: bool = False


class SavedSnapshot(Model):
    """The snapshot kept by ``snapshot(save=True)``."""

    online: bool
    width: int
    height: int


class StreamerSnapshot(Model):
    saved: SavedSnapshot | None = None


class StreamerState(Model):
    """``GET /api/streamer`` and the merged ``streamer`` events. ``params`` is what was
    asked for, ``applied`` what the running streamer uses; ``streamer`` is None while the
    streamer is stopped (no ``stream=1`` session is open)."""

    features: StreamerFeatures = StreamerFeatures()
    limits: StreamerLimits = StreamerLimits()
    params: StreamerParams = StreamerParams()
    applied: StreamerParams = StreamerParams()
    streamer: StreamerProcess | None = None
    snapshot: StreamerSnapshot = StreamerSnapshot()


class OcrLangs(Model):
    default: list[str]
    available: list[str]


class OcrState(Model):
    """The ``ocr`` event (``GET /api/streamer/ocr`` wraps it in ``{"ocr": ...}``)."""

    enabled: bool
    langs: OcrLangs
