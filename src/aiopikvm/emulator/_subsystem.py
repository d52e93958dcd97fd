"""What each part of the device gives the emulator: its routes, and the WebSocket events it
sends, each as a full state for a session's burst and as changes after it.

kvmd sends every new session the full state of each subsystem, then only what changed
(its ``get_state()`` and ``trigger_state()`` pairs); :class:`StatePublisher` is that
bookkeeping, once, for every subsystem here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._server import Broadcast, Route

State = dict[str, Any]
FullState = Callable[[str | None], State]
"""``(info field or None)`` -> the event a session's burst sends for that event type."""
Diff = Callable[[State | None, State], State | None]
"""``(state last sent or None, state now)`` -> the event to send, or ``None`` for none."""


def whole_on_change(sent: State | None, new: State) -> State | None:
    """The whole state, whenever anything in it changed (kvmd's ATX and HID)."""
    return None if new == sent else new


def changed_keys(sent: State | None, new: State) -> State | None:
    """The top-level keys that changed (kvmd's switch)."""
    sent = sent or {}
    diff = {key: value for key, value in new.items() if sent.get(key) != value}
    return diff or None


class StatePublisher:
    """One subsystem's ``event_type`` events: :meth:`full` for a session's burst, then
    :meth:`publish` sends what ``diff`` finds changed since the last state sent."""

    def __init__(
        self,
        event_type: str,
        broadcast: Broadcast,
        state: Callable[[], State],
        diff: Diff = whole_on_change,
    ) -> None:
        self.event_type = event_type
        self._broadcast = broadcast
        self._state = state
        self._diff = diff
        self._sent: State | None = None

    @property
    def sent(self) -> State:
        """The state as the sessions know it (empty before anything was sent)."""
        return self._sent or {}

    def full(self, _field: str | None = None) -> State:
        state = self._state()
        self._sent = copy.deepcopy(state)
        return state

    def publish(self) -> None:
        new = self._state()
        event = self._diff(self._sent, new)
        if event:
            self._sent = copy.deepcopy(new)
            self._broadcast(self.event_type, event)

    def send(self, changes: State) -> None:
        """Send ``changes`` as they are, for a subsystem that works out its own diff."""
        self._sent = {**self.sent, **copy.deepcopy(changes)}
        self._broadcast(self.event_type, changes)

    def forget(self) -> None:
        """Nothing sent yet: the next :meth:`publish` compares against nothing."""
        self._sent = None


@dataclass(frozen=True, slots=True)
class Subsystem:
    """One part of the device, as the emulator wires it: its HTTP routes, the events it
    publishes, and other events of a burst by type (e.g. ``hid_keymaps``, ``info``)."""

    routes: Sequence[Route]
    publishers: Sequence[StatePublisher] = ()
    events: Mapping[str, FullState] = field(default_factory=dict)

    def full_states(self) -> dict[str, FullState]:
        return {**{p.event_type: p.full for p in self.publishers}, **self.events}
