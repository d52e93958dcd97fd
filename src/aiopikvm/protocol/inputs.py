"""The client-to-server messages of ``/api/ws`` as values; :mod:`.frames` validates,
encodes and decodes them.

Each is an immutable value, compared, hashed and shown by its fields, as a frozen slotted
dataclass would be. They are written out instead: building six dataclasses took ~2 ms of
every client import (issue 9), writing them out ~0.03 ms.
"""

from __future__ import annotations

import operator
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar

__all__ = [
    "Input",
    "KeyInput",
    "MouseButtonInput",
    "MouseMoveInput",
    "MouseRelativeInput",
    "MouseWheelInput",
    "PingInput",
]


_set = object.__setattr__  # past the __setattr__ that refuses, as a frozen dataclass does


class _Value:
    __slots__: tuple[str, ...] = ()
    __match_args__: tuple[str, ...] = ()

    _get: ClassVar[Any] = None  # the fields' values as a tuple, for two fields or more

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if len(cls.__slots__) > 1:  # C speed; an attrgetter is no method: not bound
            cls._get = operator.attrgetter(*cls.__slots__)

    def _values(self) -> tuple[Any, ...]:
        if self._get is not None:
            values: tuple[Any, ...] = self._get(self)
            return values
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[_Value], tuple[Any, ...]]:
        return type(self), self._values()  # copy and pickle through __init__


class KeyInput(_Value):
    """A key pressed (``state=True``) or released; with ``finish``, kvmd releases it at once."""

    __slots__ = __match_args__ = ("key", "state", "finish")
    key: str
    state: bool
    finish: bool

    def __init__(self, key: str, state: bool, finish: bool = False) -> None:
        _set(self, "key", key)
        _set(self, "state", state)
        _set(self, "finish", finish)


class MouseButtonInput(_Value):
    """A mouse button pressed (``state=True``) or released."""

    __slots__ = __match_args__ = ("button", "state")
    button: str
    state: bool

    def __init__(self, button: str, state: bool) -> None:
        _set(self, "button", button)
        _set(self, "state", state)


class MouseMoveInput(_Value):
    """The pointer moved to an absolute position (kvmd's -32768..32767 on each axis)."""

    __slots__ = __match_args__ = ("x", "y")
    x: int
    y: int

    def __init__(self, x: int, y: int) -> None:
        _set(self, "x", x)
        _set(self, "y", y)


class MouseRelativeInput(_Value):
    """Relative pointer moves, one ``(dx, dy)`` step each."""

    __slots__ = __match_args__ = ("deltas", "squash")
    deltas: tuple[tuple[int, int], ...]
    squash: bool

    def __init__(self, deltas: tuple[tuple[int, int], ...], squash: bool = False) -> None:
        _set(self, "deltas", deltas)
        _set(self, "squash", squash)


class MouseWheelInput(_Value):
    """Wheel scrolls, one ``(dx, dy)`` step each."""

    __slots__ = __match_args__ = ("deltas", "squash")
    deltas: tuple[tuple[int, int], ...]
    squash: bool

    def __init__(self, deltas: tuple[tuple[int, int], ...], squash: bool = False) -> None:
        _set(self, "deltas", deltas)
        _set(self, "squash", squash)


class PingInput(_Value):
    """A ping: kvmd answers it with a pong frame."""

    __slots__ = ()


Input = (
    KeyInput | MouseButtonInput | MouseMoveInput | MouseRelativeInput | MouseWheelInput | PingInput
)
"""One client-to-server message."""
