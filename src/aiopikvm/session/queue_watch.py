"""Which events of a connection say that kvmd may have thrown its HID queue away.

kvmd drops the queue (and releases every key) whenever a WebSocket session opens or closes:
``_on_ws_added`` and ``_on_ws_removed`` in kvmd/apps/kvmd/server.py call
``hid.clear_events()``. No event says so directly. What the sessions see:

- a session opening: its handler broadcasts ``hid_keymaps`` and then ``clients`` — to every
  session, and only on an opening; the stream controller, woken, broadcasts ``clients``
  too, at its own time (often first);
- a session closing: the controller's ``clients``, nothing else;
- but the controller also wakes, and broadcasts ``clients``, after ``streamer/set_params``,
  ``streamer/reset`` and the periodic snapshots, when no session came or went.

So ``clients`` is a loss only when its count changed, and an opening is one loss however
its events are spread. That holds where the count covers every session, as the recorded
kvmd 4.206 shows (a ``stream=0`` session counted). kvmd's source counts only ``stream=1``
sessions, though; there a ``stream=0`` session (a script's, kvmd-oled's) can close without
changing the count. A connection that finds the count leaving a session out — its own
``stream=0`` session, or another one opening — takes every ``clients`` for a loss from then
on.

And input is lost when the target's keyboard goes offline (a ``hid`` event with
``keyboard.online`` false): kvmd drops every report the host does not take.
"""

from __future__ import annotations

from typing import Any


class QueueWatch:
    """Reads one connection's events; :meth:`loses_queue` says which mean a possible loss.

    ``stream`` is whether this session is a viewer (``stream=1``); ``partial_count`` whether
    the device is already known to count only some sessions (learnt by an earlier
    connection: it is the device's way, so it carries over; read it back after events).
    """

    __slots__ = (
        "_bursts",
        "_count",
        "_keyboard",
        "_phase",
        "_rises",
        "_stream",
        "_trailing",
        "partial_count",
    )

    def __init__(self, *, stream: bool, partial_count: bool) -> None:
        self.partial_count = partial_count
        self._stream = stream
        self._phase = "opening"  # then "own" (its handler's `clients` next), then "open"
        self._count: int | None = None
        self._trailing = False  # the next `clients` is the one an opening's handler sends
        self._rises = 0  # count rises since the last `clients` that no burst has claimed
        self._bursts = 0  # openings' bursts whose count rise has not come
        self._keyboard: object = None  # the last `keyboard.online` seen

    def loses_queue(self, event_type: str, event: dict[str, Any]) -> bool:
        if event_type == "hid_keymaps":
            return self._burst()
        if event_type == "clients":
            return self._clients(event.get("count"))
        if event_type == "hid":
            return self._hid(event.get("keyboard"))
        return False

    def _hid(self, keyboard: object) -> bool:
        if not isinstance(keyboard, dict) or "online" not in keyboard:
            return False  # kvmd sends the whole state; anything else keeps the last one
        before, self._keyboard = self._keyboard, keyboard["online"]
        return self._keyboard is not True and before is not False and self._phase == "open"

    def _burst(self) -> bool:
        self._trailing = True
        if self._phase != "open":
            # kvmd reads this session's input only after its own burst: nothing to lose yet.
            self._phase = "own"
            return False
        if self._rises:
            self._rises -= 1  # the opening whose count rise already told
            return False
        self._bursts += 1
        return True

    def _clients(self, count: object) -> bool:
        trailing, self._trailing = self._trailing, False
        before, self._count = self._count, None
        if isinstance(count, bool) or not isinstance(count, int):
            return self._phase == "open"  # unreadable: assume the worst
        self._count = count
        if self._phase != "open":
            if self._phase == "own" and trailing:
                self._phase = "open"
            if count == 0 and not self._stream:
                self.partial_count = True  # this session is open and not counted
            return False
        if before is None:
            return True  # no count to compare with
        rise = count - before
        if rise > 0:
            claimed = min(rise, self._bursts)
            self._bursts -= claimed
            self._rises = rise - claimed  # older unclaimed rises belonged to no burst
            lost = rise > claimed
        else:
            self._rises = 0
            lost = rise < 0 or (self.partial_count and not trailing)
        if trailing and self._bursts:
            # An opening whose own `clients` shows no rise: the count leaves sessions out.
            self.partial_count = True
            self._bursts = 0
        return lost
