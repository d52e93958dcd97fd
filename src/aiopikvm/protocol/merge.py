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

import concurrent.futures
import json
import marshal
from typing import Any, Final

from ..errors import ProtocolError
from .sizes import MARSHAL_VERSION, copy_value, scalar_size, size, str_size, walked_copy

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

_Write = tuple[dict[str, Any], str, Any]


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
      it (``frame``), parsed again when read. It is counted at :func:`_bound` of the text,
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
                -1 if frame is None else (_PER_ASCII if frame.isascii() else _PER_CHAR) * len(frame)
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
            writes, grown = _plan_held(current, event, depth)
            size = self._sizes[event_type] + grown
            if size > self.limit and self._framed.get(event_type):
                self._tighten(event_type)  # counted at more than their size: sized now
                writes, grown = _plan_held(current, event, depth)
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
        value, size = _held(event)
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
        old = current.get(key, _MISSING)
        if (
            depth > 1
            and kind is dict
            and (
                type(old) is dict
                or type(old) is tuple
                or (type(old) is bytes and old[:1] == _MARSHAL_DICT)
            )
        ):
            return False  # merged into, not replaced
        bound = (_PER_ASCII if frame.isascii() else _PER_CHAR) * len(frame)  # _bound, in line
        if old is _MISSING:
            size = self._sizes[event_type] + bound + str_size(key)
        else:
            size = self._sizes[event_type] + bound - _held_size(old)
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
        values held as :func:`_held` holds them (sized: its count is now its size)."""
        if type(held) is bytes:
            opened = _opened(held)  # as big as it was
        else:
            opened, self._sizes[event_type] = _held_fields(_framed_value(held))
        self._raw[event_type] = opened
        return opened

    def _open_fields(self, event_type: str, current: dict[str, Any], event: dict[str, Any]) -> None:
        """The top-level fields held as frames that ``event`` merges into, made dicts."""
        framed = self._framed[event_type]
        for key, value in event.items():
            old = current.get(key)
            if type(old) is tuple and isinstance(value, dict):
                loaded = _framed_value(old)
                if isinstance(loaded, dict):
                    opened, size = _held_fields(loaded)
                else:
                    opened, size = _held(loaded)
                current[key] = opened
                self._sizes[event_type] += size - old[2]
                framed.discard(key)

    def _tighten(self, event_type: str) -> None:
        """Size the top-level fields held as frames for real: held as bytes instead."""
        current = self._raw[event_type]
        for key in self._framed.pop(event_type, ()):
            old = current.get(key)
            if type(old) is tuple:
                held, size = _held(_framed_value(old))
                current[key] = held
                self._sizes[event_type] += size - old[2]

    def value(self, event_type: str) -> Any:
        """The merged JSON value of a subsystem that had an event, made of objects of the
        caller's own."""
        return _loaded(self._raw[event_type], MERGE_DEPTH[event_type])

    @property
    def raw(self) -> dict[str, Any]:
        """Every subsystem's merged JSON value, as :meth:`value` gives it."""
        return {name: self.value(name) for name in self._raw}

    def _refusal(self, event_type: str, size: int) -> ProtocolError:
        return ProtocolError(
            f"the device's {event_type!r} event would take its state to about {size} "
            f"bytes, past the limit of {self.limit}: ignored"
        )


_Framed = tuple[str, str | None, int]
"""A value held as the text of the frame it came in: ``(text, key, counted)``, the frame's
whole event (``key`` None) or one of its top-level fields, counted at ``counted`` bytes (its
frame's :func:`_bound`). A tuple, the cheapest object to make, and never a JSON value: a
``tuple`` in the state is always one of these."""


def _framed_value(framed: _Framed) -> Any:
    """The value, parsed again (as ``parse_event`` parsed it: a null event is {})."""
    text, key, _ = framed
    event = _parse(text).get("event")
    if event is None:
        event = {}
    return event if key is None else event[key]


def _parse(text: str) -> Any:
    """``json.loads``, wherever the caller is: a frame nested nearly as deep as the reader
    could parse it is parsed again on a fresh stack when it is read from deep in one."""
    try:
        return json.loads(text)
    except RecursionError:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(json.loads, text).result()


def _bound(frame: str) -> int:
    """More than the :func:`size` of any value in ``frame``'s JSON: its marshal counts a
    JSON character as 2.5 bytes at most (``0,`` is 5), a character of a string as 4 at
    most (its UTF-8 bytes). Written in line where it counts."""
    return (_PER_ASCII if frame.isascii() else _PER_CHAR) * len(frame)


_PER_ASCII: Final = 3
_PER_CHAR: Final = 4


def _held_fields(value: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A dict of ``value``'s fields, each as :func:`_held` holds it, and its size."""
    size = 2
    fields = {}
    for key, item in value.items():
        fields[key], item_size = _held(item)
        size += str_size(key) + item_size
    return fields, size


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


def _plan(dst: dict[str, Any], src: dict[str, Any], depth: int) -> list[_Write]:
    """The writes that merge ``src`` into ``dst``, for :func:`merge_event`: copies of the
    values. Recursion is as deep as ``depth`` only."""
    writes: list[_Write] = []
    for key, value in src.items():
        old = dst.get(key)
        if depth > 1 and isinstance(value, dict) and isinstance(old, dict):
            writes += _plan(old, value, depth - 1)
        else:
            writes.append((dst, key, copy_value(value)[0]))
    return writes


def _plan_held(dst: dict[str, Any], src: dict[str, Any], depth: int) -> tuple[list[_Write], int]:
    """The writes that merge ``src`` into ``dst``, each value as :func:`_held` makes it,
    and how much they grow it (not applied yet: a refused event must change nothing).
    Recursion is as deep as ``depth`` only. :func:`_held` and :func:`_held_size` written
    out: this runs for every partial event."""
    writes: list[_Write] = []
    grown = 0
    for key, value in src.items():
        old = dst.get(key, _MISSING)
        kind = type(value)
        if kind is dict or kind is list:
            if depth > 1 and kind is dict:
                if type(old) is bytes and old[:1] == _MARSHAL_DICT:  # to be merged into
                    old = dst[key] = _opened(old)
                if isinstance(old, dict):
                    more, size = _plan_held(old, value, depth - 1)
                    writes += more
                    grown += size
                    continue
            try:
                held: Any = marshal.dumps(value, MARSHAL_VERSION)
                size = len(held)
            except ValueError:
                held, size = walked_copy(value)
        elif kind is str:
            held, size = value, str_size(value)
        else:
            held, size = value, (1 if value is None or kind is bool else scalar_size(value))
        writes.append((dst, key, held))
        # A new key adds itself too; a replaced value gives back what it held.
        if old is _MISSING:
            grown += size + str_size(key)
        elif old is None or old is True or old is False:
            grown += size - 1
        elif type(old) is bytes:
            grown += size - len(old)
        else:
            grown += size - _held_size(old)
    return writes, grown


def _apply(writes: list[_Write]) -> None:
    for target, key, value in writes:
        target[key] = value


def _held(value: Any) -> tuple[Any, int]:
    """``value`` as :class:`MergedState` holds it, and its :func:`size`: a dict or a list
    as its marshal bytes (or copied, if nested deeper than marshal goes), a scalar as is."""
    kind = type(value)
    if kind is dict or kind is list:
        try:
            data = marshal.dumps(value, MARSHAL_VERSION)
        except ValueError:
            return walked_copy(value)
        return data, len(data)
    if kind is str:
        return value, str_size(value)
    return value, scalar_size(value)


def _held_size(value: Any) -> int:
    """:func:`size` of a value :class:`MergedState` (or :func:`merge_event`) holds."""
    kind = type(value)
    if kind is bytes:
        return len(value)
    if kind is str:
        return str_size(value)
    if kind is dict:
        return _walked_held_size(value)  # merged into: what it holds is held too
    if kind is list:
        return size(value)  # never merged into: plain (copied), or it would be bytes
    if kind is tuple:
        return value[2]  # type: ignore[no-any-return]  # a _Framed
    return scalar_size(value)


def _walked_held_size(value: dict[str, Any]) -> int:
    """:func:`_held_size` of a dict, walked without recursion (see :func:`walked_copy`)."""
    total = 0
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            total += 2 + sum(str_size(key) for key in item)
            pending += item.values()
        elif kind is list:
            total += 5
            pending += item
        elif kind is bytes:
            total += len(item)
        elif kind is tuple:
            total += item[2]
        else:
            total += scalar_size(item)
    return total


def _opened(data: bytes) -> dict[str, Any]:
    """A dict held as marshal bytes, loaded to be merged into: its values held again, so
    that what the state holds stays bytes, scalars and the dicts merged into (and the
    copies of what marshal cannot nest). Its size is what it was."""
    return {key: _held(item)[0] for key, item in marshal.loads(data).items()}


def _loaded(value: Any, depth: int) -> Any:
    """A held value, loaded into objects of the caller's own: new dicts down to ``depth``,
    the bytes below them loaded."""
    kind = type(value)
    if kind is bytes:
        return marshal.loads(value)
    if kind is dict and depth:
        return {key: _loaded(item, depth - 1) for key, item in value.items()}
    if kind is tuple:
        return _framed_value(value)
    if kind is dict or kind is list:
        return walked_copy(value)[0]  # nested deeper than marshal goes: held as a copy
    return value


_MISSING: Final = object()
_MARSHAL_DICT: Final = b"{"  # how marshal's bytes of a dict begin (no reference flag in 2)


_size = size  # the name tests/ measure states with: the unit of MAX_STATE_BYTES
