"""What a session knows, without any I/O: the device's state merged from the events (and
the typed models made from it), the keys and buttons held, how many times kvmd may have
thrown its queued input away, and who waits for the state to change."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..errors import ProtocolError, RequestInfo
from ..protocol.merge import MergedState

if TYPE_CHECKING:
    from ..models import DeviceState

logger = logging.getLogger("aiopikvm")

LOGGED_FIRST: Final = 3
"""Warnings of one kind logged per connection; the rest are counted, and the count logged
when the connection ends."""


@functools.cache
def _state_types() -> dict[str, Any]:
    from ..models import DeviceState  # the models load when a state is first read

    return {name: field.annotation for name, field in DeviceState.model_fields.items()}


class Tally:
    """Warnings of one kind on one connection: the first few logged, the rest counted."""

    __slots__ = ("count", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.count = 0

    def warn(self, message: str) -> None:
        self.count += 1
        if self.count < LOGGED_FIRST:
            logger.warning("%s", message)
        elif self.count == LOGGED_FIRST:
            logger.warning("%s (more %s are counted, not logged)", message, self.what)

    def summary(self, request: RequestInfo) -> None:
        if self.count > LOGGED_FIRST:
            logger.warning("%s: %d %s on this connection in all", request, self.count, self.what)


class LiveState:
    """What one connection knows of the device: its events merged, and the last valid
    model of each subsystem — validated when the state is read, and only what changed."""

    __slots__ = ("invalid", "merged", "models")

    def __init__(self) -> None:
        self.merged = MergedState()
        self.models: dict[str, Any] = {}
        self.invalid = Tally("events that left a state without kvmd's shape")

    def device_state(self) -> DeviceState:
        from ..models import DeviceState
        from ..models._base import parse

        changed = self.merged.changed
        if changed:
            types = _state_types()
            while changed:
                name = changed.pop()
                raw = self.merged.value(name)
                try:
                    self.models[name] = parse(types[name], raw, f"{name!r} state")
                except ProtocolError as exc:
                    self.invalid.warn(f"{exc}; keeping the last valid {name} state")
        return DeviceState.model_construct(**self.models)


class SessionState:
    """The session's side of things, across its connections."""

    __slots__ = (
        "_changed",
        "clears",
        "held_buttons",
        "held_keys",
        "live",
        "partial_count",
        "watchers",
    )

    def __init__(self) -> None:
        self.live = LiveState()  # the state, as the current connection knows it
        self.held_keys: dict[str, None] = {}  # insertion-ordered set
        self.held_buttons: dict[str, None] = {}
        # How many times kvmd may have dropped its queued input and released every key, as
        # far as this session can tell: a session opened or closed (see QueueWatch), or a
        # reconnect. Typing compares it to notice the input it sent being thrown away.
        self.clears = 0
        self.partial_count = False  # the device's `clients` count leaves sessions out
        self._changed: asyncio.Event | None = None
        # Called at every notify, before the waiters wake: typing reads the LEDs' echoes
        # here, so that no change between two of its reads goes unseen.
        self.watchers: list[Callable[[], None]] = []

    def notify(self) -> None:
        """After every event, and when a connection or the session ends."""
        for watcher in self.watchers:
            watcher()
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    def changed(self) -> asyncio.Event:
        """Set at the next :meth:`notify`."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed


class HidClock:
    """When the device's HID will have applied everything sent, if it takes ``event_time``
    per event (``hid_event_time``; typing states its own pace in ``typing_pace``). kvmd
    throws away what is still queued when the session closes, so closing waits for it.
    ``host_coalesces``: typing saw two LED echoes of this host coalesce (it asks one at a
    time from then on, :class:`~.pace.HostPace`'s ``single``)."""

    __slots__ = ("event_time", "host_coalesces", "idle_at", "typing_pace")

    def __init__(self, event_time: float) -> None:
        self.event_time = event_time
        self.typing_pace: float | None = None
        self.idle_at = 0.0  # time.monotonic()
        self.host_coalesces = False
