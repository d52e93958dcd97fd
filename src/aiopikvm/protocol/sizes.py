"""The size of JSON values in the merge's unit — what :mod:`marshal` (version 2) writes —
and their copies: in C where marshal can, walked without recursion where it cannot."""

from __future__ import annotations

import marshal
from typing import Any, Final

MARSHAL_VERSION: Final = 2  # the last without back-references: sizes add up


def str_size(text: str) -> int:
    if text.isascii():
        return len(text) + 5
    return len(text.encode("utf-8", "surrogatepass")) + 5


def scalar_size(value: Any) -> int:
    if isinstance(value, str):
        return str_size(value)
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, float):
        return 9
    if -(2**31) <= value < 2**31:
        return 5
    digits: int = (abs(value).bit_length() + 14) // 15  # 15-bit digits, 2 bytes each
    return 5 + 2 * digits


def size(value: Any) -> int:
    """The size of ``value`` as :mod:`marshal` (version 2) writes it: computed in C, and,
    with no back-references in that version, the sum of its parts' sizes — which is what
    lets :class:`~.merge.MergedState` keep count as events replace parts. Strings, the bulk of
    kvmd's state, count their UTF-8 bytes and 5 more (the JSON's 2 or 4), numbers 5 or 9,
    ``null`` and booleans 1."""
    try:
        return len(marshal.dumps(value, MARSHAL_VERSION))
    except ValueError:  # nested deeper than marshal goes (2000): walked instead
        return walked_size(value)


def walked_size(value: Any) -> int:
    """:func:`size` walked without recursion (see :func:`copy_value`)."""
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            total += 2 + sum(str_size(key) for key in item)
            pending += item.values()
        elif isinstance(item, list):
            total += 5
            pending += item
        else:
            total += scalar_size(item)
    return total


def copy_value(value: Any) -> tuple[Any, int]:
    """A copy of ``value`` (for the caller to be free to reuse the event dict it was
    handed: the same dicts are queued for ``events()``), and its :func:`size`. A
    :mod:`marshal` round trip: in C, three times cheaper than a walk in Python."""
    if isinstance(value, str):
        return value, str_size(value)
    try:
        data = marshal.dumps(value, MARSHAL_VERSION)
    except ValueError:
        return walked_copy(value)
    return marshal.loads(data), len(data)


def walked_copy(value: Any) -> tuple[Any, int]:
    """:func:`copy_value` without recursion, for what is nested too deep for marshal: the JSON
    decoder accepts nesting about as deep as the recursion limit, and a recursive copy
    spends more than one frame per level. The scalars are shared."""
    if not isinstance(value, dict | list):
        return value, scalar_size(value)
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
                total += str_size(key)
            if isinstance(item, dict | list):
                copied = _empty_like(item)
                pending.append((item, copied))
                item = copied
            else:
                total += scalar_size(item)
            target[key] = item
    return top, total


def _empty_like(container: dict[str, Any] | list[Any]) -> Any:
    return {} if isinstance(container, dict) else [None] * len(container)
