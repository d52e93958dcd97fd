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

import marshal
from typing import Any, Final

from ..errors import ProtocolError

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
"""The most a subsystem's merged state may hold (1 MiB), counted as :func:`_size` does:
about the size of its JSON — as much as the biggest frame a session accepts can carry,
short of a frame of nothing but tiny values (kvmd's real states are a few KB). A partial
event that would take a subsystem past it is refused whole."""

_Write = tuple[dict[str, Any], str, Any]


class MergedState:
    """The state merged from a device's events, each subsystem at most ``limit`` bytes.

    :meth:`value` gives a subsystem's merged JSON value (:attr:`raw`, all of them);
    ``changed`` names the subsystems merged into since the caller last emptied it (so that
    it validates only those, and only when the state is read).

    What an event brings is held as :mod:`marshal`'s bytes, each value that replaces one
    whole (an event of a subsystem replaced whole, a top-level field of ``info``...), and
    loaded only when the state is read: the bytes are the copy the merge needs anyway (the
    same dicts are queued for ``events()``) and its size, and most values are replaced
    before anyone reads them. Event values are JSON's, so a ``bytes`` in the state is
    always one of these.
    """

    __slots__ = ("_raw", "_sizes", "changed", "limit")

    def __init__(self, limit: int = MAX_STATE_BYTES) -> None:
        self._raw: dict[str, Any] = {}
        self.changed: set[str] = set()
        self.limit = limit
        self._sizes: dict[str, int] = {}  # each subsystem's size, kept up to date

    def merge(self, event_type: str, event: dict[str, Any]) -> bool:
        """Fold ``event`` in; ``False`` if it is not a state event. An event that would
        take its subsystem past the limit raises :class:`ProtocolError`, and changes
        nothing."""
        depth = MERGE_DEPTH.get(event_type)
        if depth is None:
            return False
        if depth and event_type == "gpio" and "model" in event:
            depth = 0  # the full form; a diff never carries the model
        raw = self._raw
        current = raw.get(event_type)
        if depth and type(current) is bytes:
            current = raw[event_type] = _opened(current)  # to be merged into
        if not depth or not isinstance(current, dict):
            value, size = _held(event)
            if size > self.limit:
                raise self._refusal(event_type, size)
            raw[event_type] = value
        else:
            writes, grown = _plan_held(current, event, depth)
            size = self._sizes[event_type] + grown
            if size > self.limit:
                raise self._refusal(event_type, size)
            for target, key, value in writes:
                target[key] = value
        self._sizes[event_type] = size
        self.changed.add(event_type)
        return True

    def value(self, event_type: str) -> Any:
        """The merged JSON value of a subsystem that had an event: loaded afresh from the
        bytes held, in dicts of its own down to the merge depth (where later events merge
        in place), so that nothing merged later changes it."""
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


def merge_event(state: dict[str, Any], event_type: str, event: dict[str, Any]) -> bool:
    """Fold ``event`` into ``state`` in place, with no size limit; ``False`` if it is not
    a state event."""
    depth = _depth(event_type, event)
    if depth is None:
        return False
    current = state.get(event_type)
    if depth == 0 or not isinstance(current, dict):
        state[event_type] = _copy(event)[0]
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
            writes.append((dst, key, _copy(value)[0]))
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
                held: Any = marshal.dumps(value, _MARSHAL_VERSION)
                size = len(held)
            except ValueError:
                held, size = _walked_copy(value)
        elif kind is str:
            held, size = value, _str_size(value)
        else:
            held, size = value, (1 if value is None or kind is bool else _scalar_size(value))
        writes.append((dst, key, held))
        # A new key adds itself too; a replaced value gives back what it held.
        if old is _MISSING:
            grown += size + _str_size(key)
        elif type(old) is bytes:
            grown += size - len(old)
        else:
            grown += size - _held_size(old)
    return writes, grown


def _apply(writes: list[_Write]) -> None:
    for target, key, value in writes:
        target[key] = value


def _held(value: Any) -> tuple[Any, int]:
    """``value`` as :class:`MergedState` holds it, and its :func:`_size`: a dict or a list
    as its marshal bytes (or copied, if nested deeper than marshal goes), a scalar as is."""
    kind = type(value)
    if kind is dict or kind is list:
        try:
            data = marshal.dumps(value, _MARSHAL_VERSION)
        except ValueError:
            return _walked_copy(value)
        return data, len(data)
    if kind is str:
        return value, _str_size(value)
    return value, _scalar_size(value)


def _held_size(value: Any) -> int:
    """:func:`_size` of a value :class:`MergedState` (or :func:`merge_event`) holds."""
    kind = type(value)
    if kind is bytes:
        return len(value)
    if kind is str:
        return _str_size(value)
    if kind is dict or kind is list:
        return _size(value)
    return _scalar_size(value)


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
    if kind is dict or kind is list:
        return _walked_copy(value)[0]  # nested deeper than marshal goes: held as a copy
    return value


_MISSING: Final = object()
_MARSHAL_VERSION: Final = 2  # the last without back-references: sizes add up
_MARSHAL_DICT: Final = b"{"  # how marshal's bytes of a dict begin (no reference flag in 2)


def _str_size(text: str) -> int:
    if text.isascii():
        return len(text) + 5
    return len(text.encode("utf-8", "surrogatepass")) + 5


def _scalar_size(value: Any) -> int:
    if isinstance(value, str):
        return _str_size(value)
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, float):
        return 9
    if -(2**31) <= value < 2**31:
        return 5
    digits: int = (abs(value).bit_length() + 14) // 15  # 15-bit digits, 2 bytes each
    return 5 + 2 * digits


def _size(value: Any) -> int:
    """The size of ``value`` as :mod:`marshal` (version 2) writes it: computed in C, and,
    with no back-references in that version, the sum of its parts' sizes — which is what
    lets :class:`MergedState` keep count as events replace parts. Strings, the bulk of
    kvmd's state, count their UTF-8 bytes and 5 more (the JSON's 2 or 4), numbers 5 or 9,
    ``null`` and booleans 1."""
    try:
        return len(marshal.dumps(value, _MARSHAL_VERSION))
    except ValueError:  # nested deeper than marshal goes (2000): walked instead
        return _walked_size(value)


def _walked_size(value: Any) -> int:
    """:func:`_size` walked without recursion (see :func:`_copy`)."""
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            total += 2 + sum(_str_size(key) for key in item)
            pending += item.values()
        elif isinstance(item, list):
            total += 5
            pending += item
        else:
            total += _scalar_size(item)
    return total


def _copy(value: Any) -> tuple[Any, int]:
    """A copy of ``value`` (for the caller to be free to reuse the event dict it was
    handed: the same dicts are queued for ``events()``), and its :func:`_size`. A
    :mod:`marshal` round trip: in C, three times cheaper than a walk in Python."""
    if isinstance(value, str):
        return value, _str_size(value)
    try:
        data = marshal.dumps(value, _MARSHAL_VERSION)
    except ValueError:
        return _walked_copy(value)
    return marshal.loads(data), len(data)


def _walked_copy(value: Any) -> tuple[Any, int]:
    """:func:`_copy` without recursion, for what is nested too deep for marshal: the JSON
    decoder accepts nesting about as deep as the recursion limit, and a recursive copy
    spends more than one frame per level. The scalars are shared."""
    if not isinstance(value, dict | list):
        return value, _scalar_size(value)
    top = _empty_like(value)
    total = 0
    pending = [(value, top)]
    while pending:
        source, target = pending.pop()
        if isinstance(source, dict):
            total += 2
            items: Any = source.items()
        else:
            total += 5
            items = enumerate(source)
        for key, item in items:
            if isinstance(source, dict):
                total += _str_size(key)
            if isinstance(item, dict | list):
                copied = _empty_like(item)
                pending.append((item, copied))
                item = copied
            else:
                total += _scalar_size(item)
            target[key] = item
    return top, total


def _empty_like(container: dict[str, Any] | list[Any]) -> Any:
    return {} if isinstance(container, dict) else [None] * len(container)
