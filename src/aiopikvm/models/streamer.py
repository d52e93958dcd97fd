from __future__ import annotations

from typing import Any

from ._base import Model


class Resolution(Model):
    width: int
    height: int


class StreamerSource(Model):
    resolution: Resolution
    online: bool
    desired_fps: int = 0
    captured_fps: int = 0


class StreamerProcess(Model):
    """The running ustreamer's own report: None while the streamer is stopped."""

    instance_id: str = ""
    encoder: dict[str, Any] = {}
    h264: dict[str, Any] = {}
    sinks: dict[str, Any] = {}
    source: StreamerSource
    stream: dict[str, Any] = {}


class Limit(Model):
    min: int
    max: int


class StreamerSnapshot(Model):
    saved: Any = None


class StreamerState(Model):
    """``GET /api/streamer`` and the merged ``streamer`` events."""

    features: dict[str, bool] = {}
    limits: dict[str, Limit] = {}
    params: dict[str, Any] = {}
    applied: dict[str, Any] = {}
    streamer: StreamerProcess | None = None
    snapshot: StreamerSnapshot = StreamerSnapshot()


class OcrLangs(Model):
    default: list[str]
    available: list[str]


class OcrState(Model):
    """The ``ocr`` event (``GET /api/streamer/ocr`` wraps it in ``{"ocr": ...}``)."""

    enabled: bool
    langs: OcrLangs
