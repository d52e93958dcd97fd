"""How :class:`~.merge.MergedState` holds the values events bring: as cheaply as it can,
made into objects only when the state is read (see its docstring), each held value's size
known so that the state's count stays its size.

Held values are of four kinds, told apart by their type: ``bytes`` (a dict or a list, as
its :mod:`marshal` bytes), a :data:`Framed` tuple (a value as the text of its frame), a
dict merged into (its values held too), and scalars as they are (and copies of what
marshal cannot nest).
"""

from __future__ import annotations

import concurrent.futures
import marshal
from typing import Any, Final

from . import json_loads
from .sizes import MARSHAL_VERSION, scalar_size, size, str_size, walked_copy

Write = tuple[dict[str, Any], str, Any]
"""One write of a merge, ``target[key] = value``: planned first, so a refused event changes
nothing."""

Framed = tuple[str, str | None, int]
"""A value held as the text of the frame it came in: ``(text, key, counted)``, the frame's
whole event (``key`` None) or one of its top-level fields, counted at ``counted`` bytes (its
frame's :func:`bound`). A tuple, the cheapest object to make, and never a JSON value: a
``tuple`` in the state is always one of these."""


def framed_value(framed: Framed) -> Any:
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
        return json_loads.loads(text)
    except RecursionError:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(json_loads.loads, text).result()


def bound(frame: str) -> int:
    """More than the :func:`size` of any value in ``frame``'s JSON: its marshal counts a
    JSON character as 2.5 bytes at most (``0,`` is 5), a character of a string as 4 at
    most (its UTF-8 bytes). Written in line where it counts."""
    return (PER_ASCII if frame.isascii() else PER_CHAR) * len(frame)


PER_ASCII: Final = 3
PER_CHAR: Final = 4


def hold_fields(value: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A dict of ``value``'s fields, each as :func:`hold` holds it, and its size."""
    size = 2
    fields = {}
    for key, item in value.items():
        fields[key], item_size = hold(item)
        size += str_size(key) + item_size
    return fields, size


def plan_held(dst: dict[str, Any], src: dict[str, Any], depth: int) -> tuple[list[Write], int]:
    """The writes that merge ``src`` into ``dst``, each value as :func:`hold` makes it,
    and how much they grow it (not applied yet: a refused event must change nothing).
    Recursion is as deep as ``depth`` only. :func:`hold` and :func:`held_size` written
    out: this runs for every partial event."""
    writes: list[Write] = []
    grown = 0
    for key, value in src.items():
        old = dst.get(key, MISSING)
        kind = type(value)
        if kind is dict or kind is list:
            if depth > 1 and kind is dict:
                if type(old) is bytes and old[:1] == MARSHAL_DICT:  # to be merged into
                    old = dst[key] = open_held(old)
                if isinstance(old, dict):
                    more, size = plan_held(old, value, depth - 1)
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
        if old is MISSING:
            grown += size + str_size(key)
        elif old is None or old is True or old is False:
            grown += size - 1
        elif type(old) is bytes:
            grown += size - len(old)
        else:
            grown += size - held_size(old)
    return writes, grown


def hold(value: Any) -> tuple[Any, int]:
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


def held_size(value: Any) -> int:
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
        return value[2]  # type: ignore[no-any-return]  # a Framed
    return scalar_size(value)


def _walked_held_size(value: dict[str, Any]) -> int:
    """:func:`held_size` of a dict, walked without recursion (see :func:`walked_copy`)."""
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


def open_held(data: bytes) -> dict[str, Any]:
    """A dict held as marshal bytes, loaded to be merged into: its values held again, so
    that what the state holds stays bytes, scalars and the dicts merged into (and the
    copies of what marshal cannot nest). Its size is what it was."""
    return {key: hold(item)[0] for key, item in marshal.loads(data).items()}


def load_held(value: Any, depth: int) -> Any:
    """A held value, loaded into objects of the caller's own: new dicts down to ``depth``,
    the bytes below them loaded."""
    kind = type(value)
    if kind is bytes:
        return marshal.loads(value)
    if kind is dict and depth:
        return {key: load_held(item, depth - 1) for key, item in value.items()}
    if kind is tuple:
        return framed_value(value)
    if kind is dict or kind is list:
        return walked_copy(value)[0]  # nested deeper than marshal goes: held as a copy
    return value


MISSING: Final = object()
MARSHAL_DICT: Final = b"{"  # how marshal's bytes of a dict begin (no reference flag in 2)
