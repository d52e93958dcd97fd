from __future__ import annotations

from typing import Any

from ._base import Model


class SwitchSummary(Model):
    active_port: int
    active_id: str = ""
    synced: bool = True


class SwitchState(Model):
    """``GET /api/switch`` and the merged ``switch`` events (the multi-port KVM switch)."""

    model: dict[str, Any] = {}
    summary: SwitchSummary | None = None
    edids: dict[str, Any] = {}
    colors: dict[str, Any] = {}
    video: dict[str, Any] = {}
    usb: dict[str, Any] = {}
    beacons: dict[str, Any] = {}
    atx: dict[str, Any] = {}
