from __future__ import annotations

from typing import Any

from ._base import Model


class KvmdVersion(Model):
    version: str


class StreamerApp(Model):
    app: str = ""
    version: str = ""
    features: dict[str, bool] = {}


class Kernel(Model):
    system: str = ""
    release: str = ""
    version: str = ""
    machine: str = ""


class Platform(Model):
    type: str = ""
    base: str = ""
    serial: str = ""
    model: str = ""
    video: str = ""
    board: str = ""


class SystemInfo(Model):
    kvmd: KvmdVersion
    streamer: StreamerApp | None = None
    kernel: Kernel | None = None
    platform: Platform | None = None  # here with legacy=0, under hw with legacy=1


class UptimeParts(Model):
    days: int
    hours: int
    minutes: int
    seconds: int


class Uptime(Model):
    total: int
    parts: UptimeParts | None = None


class FlagPair(Model):
    now: bool
    past: bool


class Throttling(Model):
    raw_flags: int = 0
    parsed_flags: dict[str, FlagPair] = {}
    ignore_past: bool = False


class MemInfo(Model):
    percent: float
    total: int
    available: int


class Health(Model):
    temp: dict[str, float] = {}
    cpu: dict[str, float] = {}
    mem: MemInfo | None = None
    throttling: Throttling | None = None


class Hardware(Model):
    """``hw``, present with ``legacy=1`` (the default)."""

    platform: Platform | None = None
    health: Health | None = None


class Extra(Model):
    name: str = ""
    description: str = ""
    icon: str = ""
    path: str = ""
    daemon: str = ""
    place: int = 0
    enabled: bool = False
    started: bool = False
    port: int | None = None


class Fan(Model):
    monitored: bool
    state: dict[str, Any] | None = None


class AuthInfo(Model):
    enabled: bool


class NodeInfo(Model):
    host: str = ""


class Info(Model):
    """``GET /api/info``, and the fields the ``info`` events carry one at a time.

    The ``legacy=0`` shape (what :meth:`~aiopikvm.resources.system.System.get_info` asks for
    by default) has ``health`` at the top and ``platform`` under ``system``; kvmd's default
    ``legacy=1`` folds both into ``hw`` instead. ``meta`` is the device's free-form
    ``meta.yaml``. A field is None when it was not asked for.
    """

    system: SystemInfo | None = None
    auth: AuthInfo | None = None
    meta: dict[str, Any] | None = None
    extras: dict[str, Extra] | None = None
    health: Health | None = None
    hw: Hardware | None = None
    uptime: Uptime | None = None
    node: NodeInfo | None = None
    fan: Fan | None = None
