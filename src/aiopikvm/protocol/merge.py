"""How kvmd's ``/api/ws`` events fold into one live copy of the device state.

After the first full-state burst kvmd sends partial updates, and each subsystem has its own
shape of partial (see the protocol notes). The merge depth says how far down a partial is
merged before a value replaces what was there: ``0`` replaces the whole subsystem, ``1``
replaces each top-level field that arrived, and so on. Dicts are merged only down to that
depth, so a removed entry (an MSD image, a GPIO channel) does not linger.

A partial can also *add* — a GPIO channel, an info field — so a device could grow the
state without end, one small event at a time. :class:`MergedState` holds each subsystem to
:data:`MAX_STATE_BYTES`, by keeping count of its size as events change it: the cost of an
event is that of its own content and of the values it replaces, never of the whole state.
"""

from __future__ import annotations

from typing import Any, Final

from ..errors import ProtocolError
from .held import (
    MARSHAL_DICT,
    MISSING,
    PER_ASCII,
    PER_CHAR,
    Write,
    framed_value,
    held_size,
    hold,
    hold_fields,
    load_held,
    open_held,
    plan_held,
)
from .sizes import copy_value, size, str_size

MERGE_DEPTH: Final[dict[str, int]] = {
    "atx": 0,
    "clients": 0,
    "hid": 0,
    "hid_keymaps": 0,
    "ocr": 0,
    "info": 1,  # one top-level field per event
    "streamer": 1,  # any subset of params, applied, limits, streamer, snapshot
    "switch": 1,
    "msd": 2,  # busy, drive, or storage.{images,parts,downloading,uploading}
    "gpio": 3,  # state.outputs.<channel> diffs
}
"""Subsystems whose events make up the device state, and how deep their partials go."""

MAX_STATE_BYTES: Final = 2**20
"""The most a subsystem's merged state may hold (1 MiB), counted as :func:`size` does:
about the size of its JSON — as much as the biggest frame a session accepts can carry,
short of a frame of nothing but tiny values (kvmd's real states are a few KB). A partial
event that would take a subsystem past it is refused whole."""


class MergedState:
    """The state merged from a device's events, each subsystem at most ``limit`` bytes.

    :meth:`value` gives a subsystem's merged JSON value (:attr:`raw`, all of them);
    ``changed`` names the subsystems merged into since the caller last emptied it (so that
    it validates only those, and only when the state is read).

    Most of what events bring is replaced before anyone reads it, so it is held as cheaply
    as it can be, and made into objects when the state is read (each read gets objects of
    its own: nothing merged later, and nothing the event's receiver does to the event,
    changes it):

    - a value that replaces a subsystem, or one of its top-level fields, whole — what
      kvmd's events mostly do — as the text of the frame it came in, when the caller gives
      it (``frame``), parsed again when read. It is counted at :func:`~.held.bound` of the text,
      more than its size: when that would pass the limit, the values so held are sized
      for real first (:meth:`_tighten`), so that an event is refused only when its real
      size is past the limit, as if every value had been sized;
    - any other dict or list, as its :mod:`marshal` bytes: the copy the merge needs, and its
      size. Event values are JSON's, so a ``bytes`` in the state is always one of these;
    - scalars, as they are.
    """

    __slots__ = ("_framed", "_raw", "_sizes", "changed", "limit")

    def __init__(self, limit: int = MAX_STATE_BYTES) -> None:
        self._raw: dict[str, Any] = {}
        self.changed: set[str] = set()
        self.limit = limit
        self._sizes: dict[str, int] = {}  # each subsystem's size (or more), kept up to date
        self._framed: dict[str, set[str]] = {}  # the top-level fields held as frames

    def merge(self, event_type: str, event: dict[str, Any], frame: str | None = None) -> bool:
        """Fold ``event`` in; ``False`` if it is not a state event. An event that would
        take its subsystem past the limit raises :class:`ProtocolError`, and changes
        nothing. ``frame``: the text ``event`` was parsed from, if the caller has it."""
        depth = MERGE_DEPTH.get(event_type)
        if depth is None:
            return False
        if depth and event_type == "gpio" and "model" in event:
            depth = 0  # the full form; a diff never carries the model
        raw = self._raw
        current = raw.get(event_type)
        if depth and current is not None and type(current) is not dict:
            current = self._open(event_type, current)  # to be merged into
        if not depth or not isinstance(current, dict):
            bound = (
                -1 if frame is None else (PER_ASCII if frame.isascii() else PER_CHAR) * len(frame)
            )
            if 0 <= bound <= self.limit:  # held as its frame (the common case, in line)
                raw[event_type] = (frame, None, bound)
                self._sizes[event_type] = bound
                if event_type in self._framed:
                    del self._framed[event_type]
            else:
                self._replace(event_type, event)
        elif not (
            frame is not None
            and len(event) == 1
            and self._frame_field(current, event, frame, depth, event_type)
        ):
            if depth > 1 and event_type in self._framed:
                self._open_fields(event_type, current, event)
            writes, grown = plan_held(current, event, depth)
            size = self._sizes[event_type] + grown
            if size > self.limit and self._framed.get(event_type):
                self._tighten(event_type)  # counted at more than their size: sized now
                writes, grown = plan_held(current, event, depth)
                size = self._sizes[event_type] + grown
            if size > self.limit:
                raise self._refusal(event_type, size)
            for target, key, value in writes:
                target[key] = value
            self._sizes[event_type] = size
        self.changed.add(event_type)
        return True

    def _replace(self, event_type: str, event: dict[str, Any]) -> None:
        """Replace a subsystem whole with ``event``, sized."""
        value, size = hold(event)
        if size > self.limit:
            raise self._refusal(event_type, size)
        self._raw[event_type] = value
        self._sizes[event_type] = size
        self._framed.pop(event_type, None)

    def _frame_field(
        self,
        current: dict[str, Any],
        event: dict[str, Any],
        frame: str,
        depth: int,
        event_type: str,
    ) -> bool:
        """Hold the one field of ``event`` as its frame, if it replaces a field whole and
        fits counted so; ``False`` to merge it the other way."""
        [(key, value)] = event.items()
        kind = type(value)
        if kind is not dict and kind is not list:
            return False  # a scalar is held as it is
        old = current.get(key, MISSING)
        if (
            depth > 1
            and kind is dict
            and (
                type(old) is dict
                or type(old) is tuple
                or (type(old) is bytes and old[:1] == MARSHAL_DICT)
            )
        ):
            return False  # merged into, not replaced
        bound = (PER_ASCII if frame.isascii() else PER_CHAR) * len(frame)  # held.bound, in line
        if old is MISSING:
            size = self._sizes[event_type] + bound + str_size(key)
        else:
            size = self._sizes[event_type] + bound - held_size(old)
        if size > self.limit:
            return False  # sized for real, the other way
        current[key] = (frame, key, bound)
        self._sizes[event_type] = size
        framed = self._framed.get(event_type)
        if framed is None:
            framed = self._framed[event_type] = set()
        framed.add(key)
        return True

    def _open(self, event_type: str, held: Any) -> dict[str, Any]:
        """A subsystem held whole (bytes, or its frame) made a dict to merge into, its
        values held as :func:`hold` holds them (sized: its count is now its size)."""
        if type(held) is bytes:
            opened = open_held(held)  # as big as it was
        else:
            opened, self._sizes[event_type] = hold_fields(framed_value(held))
        self._raw[event_type] = opened
        return opened

    def _open_fields(self, event_type: str, current: dict[str, Any], event: dict[str, Any]) -> None:
        """The top-level fields held as frames that ``event`` merges into, made dicts."""
        framed = self._framed[event_type]
        for key, value in event.items():
            old = current.get(key)
            if type(old) is tuple and isinstance(value, dict):
                loaded = framed_value(old)
                if isinstance(loaded, dict):
                    opened, size = hold_fields(loaded)
                else:
                    opened, size = hold(loaded)
                current[key] = opened
                self._sizes[event_type] += size - old[2]
                framed.discard(key)

    def _tighten(self, event_type: str) -> None:
        """Size the top-level fields held as frames for real: held as bytes instead."""
        current = self._raw[event_type]
        for key in self._framed.pop(event_type, ()):
            old = current.get(key)
            if type(old) is tuple:
                held, size = hold(framed_value(old))
                current[key] = held
                self._sizes[event_type] += size - old[2]

    def value(self, event_type: str) -> Any:
        """The merged JSON value of a subsystem that had an event, made of objects of the
        caller's own."""
        return load_held(self._raw[event_type], MERGE_DEPTH[event_type])

    @property
    def raw(self) -> dict[str, Any]:
        """Every subsystem's merged JSON value, as :meth:`value` gives it."""
        return {name: self.value(name) for name in self._raw}

    def _refusal(self, event_type: str, size: int) -> ProtocolError:
        return ProtocolError(
            f"the device's {event_type!r} event would take its state to about {size} "
            f"bytes, past the limit of {self.limit}: ignored"
        )


def merge_event(state: dict[str, Any], event_type: str, event: dict[str, Any]) -> bool:
    """Fold ``event`` into ``state`` in place, with no size limit; ``False`` if it is not
    a state event."""
    depth = _depth(event_type, event)
    if depth is None:
        return False
    current = state.get(event_type)
    if depth == 0 or not isinstance(current, dict):
        state[event_type] = copy_value(event)[0]
    else:
        _apply(_plan(current, event, depth))
    return True


def _depth(event_type: str, event: dict[str, Any]) -> int | None:
    depth = MERGE_DEPTH.get(event_type)
    if event_type == "gpio" and "model" in event:
        depth = 0  # the full form; a diff never carries the model
    return depth


def _plan(dst: dict[str, Any], src: dict[str, Any], depth: int) -> list[Write]:
    """The writes that merge ``src`` into ``dst``, for :func:`merge_event`: copies of the
    values. Recursion is as deep as ``depth`` only."""
    writes: list[Write] = []
    for key, value in src.items():
        old = dst.get(key)
        if depth > 1 and isinstance(value, dict) and isinstance(old, dict):
            writes += _plan(old, value, depth - 1)
        else:
            writes.append((dst, key, copy_value(value)[0]))
    return writes


def _apply(writes: list[Write]) -> None:
    for target, key, value in writes:
        target[key] = value


_size = size  # the name tests/ measure states with: the unit of MAX_STATE_BYTES
