"""The client-to-server messages of ``/api/ws`` as values; :mod:`.frames` validates,
encodes and decodes them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Input",
    "KeyInput",
    "MouseButtonInput",
    "MouseMoveInput",
    "MouseRelativeInput",
    "MouseWheelInput",
    "PingInput",
]

# Each class has a docstring: without one, dataclass() builds it from inspect.signature,
# a cost at every client import.


@dataclass(frozen=True, slots=True)
class KeyInput:
    """A key pressed (``state=True``) or released; with ``finish``, kvmd releases it at once."""

    key: str
    state: bool
    finish: bool = False


@dataclass(frozen=True, slots=True)
class MouseButtonInput:
    """A mouse button pressed (``state=True``) or released."""

    button: str
    state: bool


@dataclass(frozen=True, slots=True)
class MouseMoveInput:
    """The pointer moved to an absolute position (kvmd's -32768..32767 on each axis)."""

    x: int
    y: int


@dataclass(frozen=True, slots=True)
class MouseRelativeInput:
    """Relative pointer moves, one ``(dx, dy)`` step each."""

    deltas: tuple[tuple[int, int], ...]
    squash: bool = False


@dataclass(frozen=True, slots=True)
class MouseWheelInput:
    """Wheel scrolls, one ``(dx, dy)`` step each."""

    deltas: tuple[tuple[int, int], ...]
    squash: bool = False


@dataclass(frozen=True, slots=True)
class PingInput:
    """A ping: kvmd answers it with a pong frame."""


Input = (
    KeyInput | MouseButtonInput | MouseMoveInput | MouseRelativeInput | MouseWheelInput | PingInput
)
"""One client-to-server message."""
