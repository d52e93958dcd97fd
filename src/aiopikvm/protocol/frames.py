"""Encoding and decoding of ``/api/ws`` frames: pure functions, no I/O.

Client to server, input goes out either as kvmd's binary frames (first byte = operation)
or as JSON text frames. The encoders validate first, because kvmd drops bad input without
a word; the decoders read a frame the way kvmd does — clamping numbers, and returning
``None`` for anything kvmd would silently ignore — so the emulator can reuse them.

Server to client, text frames are ``{"event_type": ..., "event": {...}}`` and the binary
frame ``0xFF`` answers a binary ping.
"""

from __future__ import annotations

import json
import struct
from typing import Any, Final

from ..errors import InvalidInputError, ProtocolError
from . import json_loads

# The messages live in .inputs; imported from here too, as they always were.
from .inputs import Input as Input
from .inputs import KeyInput as KeyInput
from .inputs import MouseButtonInput as MouseButtonInput
from .inputs import MouseMoveInput as MouseMoveInput
from .inputs import MouseRelativeInput as MouseRelativeInput
from .inputs import MouseWheelInput as MouseWheelInput
from .inputs import PingInput as PingInput
from .keys import DELTA_MAX, DELTA_MIN, KEYS, MAX_KEY_NAME, MOUSE_BUTTONS, MOVE_MAX, MOVE_MIN

OP_PING: Final = 0x00
OP_KEY: Final = 0x01
OP_MOUSE_BUTTON: Final = 0x02
OP_MOUSE_MOVE: Final = 0x03
OP_MOUSE_RELATIVE: Final = 0x04
OP_MOUSE_WHEEL: Final = 0x05
OP_PONG: Final = 0xFF

PING_FRAME: Final = bytes([OP_PING])
PONG_FRAME: Final = bytes([OP_PONG])

_FLAG_STATE: Final = 0b01
_FLAG_FINISH: Final = 0b10
_FLAG_SQUASH: Final = 0b01
_FLAG_CODE_MODE: Final = 0b1000_0000


# ----- validation: what the client refuses to send --------------------------------------


def _check_int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what} must be an int, got {value!r}")
    if not low <= value <= high:
        raise InvalidInputError(f"{what} {value} is outside {low}..{high}")
    return value


def _check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be a bool, got {value!r}")
    return value


def check_key(key: object) -> str:
    if not isinstance(key, str) or key not in KEYS:
        hint = ""
        if isinstance(key, str) and len(key) == 1 and key.isalnum():
            hint = f" (keys are physical positions: did you mean {_key_for_char(key)!r}?)"
        raise InvalidInputError(f"unknown key {key!r}{hint}; key names are like 'KeyA', 'Enter'")
    return key


def _key_for_char(char: str) -> str:
    return f"Digit{char}" if char.isdigit() else f"Key{char.upper()}"


def check_button(button: object) -> str:
    if not isinstance(button, str) or button not in MOUSE_BUTTONS:
        raise InvalidInputError(
            f"unknown mouse button {button!r}; expected one of {sorted(MOUSE_BUTTONS)}"
        )
    return button


def check_deltas(deltas: object, what: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(deltas, tuple) or not deltas:
        raise InvalidInputError(f"{what} needs at least one (dx, dy) step")
    for step in deltas:
        if not isinstance(step, tuple) or len(step) != 2:
            raise InvalidInputError(f"{what} step {step!r} is not a (dx, dy) pair")
        _check_int(step[0], f"{what} dx", DELTA_MIN, DELTA_MAX)
        _check_int(step[1], f"{what} dy", DELTA_MIN, DELTA_MAX)
    return deltas


def validate(message: Input) -> Input:
    """Raise :class:`InvalidInputError` for anything kvmd would drop or clamp."""
    match message:
        case KeyInput(key, state, finish):
            check_key(key)
            _check_bool(state, "key state")
            _check_bool(finish, "finish")
        case MouseButtonInput(button, state):
            check_button(button)
            _check_bool(state, "button state")
        case MouseMoveInput(x, y):
            _check_int(x, "mouse x", MOVE_MIN, MOVE_MAX)
            _check_int(y, "mouse y", MOVE_MIN, MOVE_MAX)
        case MouseRelativeInput(deltas, squash):
            check_deltas(deltas, "relative move")
            _check_bool(squash, "squash")
        case MouseWheelInput(deltas, squash):
            check_deltas(deltas, "wheel")
            _check_bool(squash, "squash")
        case PingInput():
            pass
    return message


# ----- encoding ------------------------------------------------------------------------


def encode_binary(message: Input) -> bytes:
    """The binary frame for ``message`` (name mode, accepted by every kvmd since 3.228)."""
    validate(message)
    match message:
        case KeyInput(key, state, finish):
            flags = (_FLAG_STATE if state else 0) | (_FLAG_FINISH if finish else 0)
            return bytes((OP_KEY, flags)) + key.encode("ascii")
        case MouseButtonInput(button, state):
            return bytes((OP_MOUSE_BUTTON, _FLAG_STATE if state else 0)) + button.encode("ascii")
        case MouseMoveInput(x, y):
            return struct.pack(">Bhh", OP_MOUSE_MOVE, x, y)
        case MouseRelativeInput(deltas, squash):
            return _encode_deltas(OP_MOUSE_RELATIVE, deltas, squash)
        case MouseWheelInput(deltas, squash):
            return _encode_deltas(OP_MOUSE_WHEEL, deltas, squash)
        case PingInput():
            return PING_FRAME
    raise AssertionError(message)  # pragma: no cover


def _encode_deltas(op: int, deltas: tuple[tuple[int, int], ...], squash: bool) -> bytes:
    flat = [value for step in deltas for value in step]
    return struct.pack(f">BB{len(flat)}b", op, _FLAG_SQUASH if squash else 0, *flat)


def encode_json(message: Input) -> str:
    """The JSON text frame for ``message``."""
    validate(message)
    event_type: str
    event: dict[str, Any]
    match message:
        case KeyInput(key, state, finish):
            event_type, event = "key", {"key": key, "state": state, "finish": finish}
        case MouseButtonInput(button, state):
            event_type, event = "mouse_button", {"button": button, "state": state}
        case MouseMoveInput(x, y):
            event_type, event = "mouse_move", {"to": {"x": x, "y": y}}
        case MouseRelativeInput(deltas, squash):
            event_type = "mouse_relative"
            event = {"delta": [{"x": dx, "y": dy} for dx, dy in deltas], "squash": squash}
        case MouseWheelInput(deltas, squash):
            event_type = "mouse_wheel"
            event = {"delta": [{"x": dx, "y": dy} for dx, dy in deltas], "squash": squash}
        case PingInput():
            event_type, event = "ping", {}
    return encode_event(event_type, event)


def encode_event(event_type: str, event: dict[str, Any]) -> str:
    """A text frame in kvmd's shape, in either direction."""
    return json.dumps({"event_type": event_type, "event": event}, separators=(",", ":"))


# ----- decoding, the way kvmd reads input (used by the emulator) ------------------------

_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})


def kvmd_bool(value: object) -> bool:
    """kvmd's ``valid_bool``: 1/true/yes or 0/false/no, any case; ``ValueError`` otherwise."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def kvmd_clamped(value: object, low: int, high: int) -> int:
    """kvmd's number validators for HID values: an integer written in any base Python reads
    (so ``True``, ``1.5`` and ``1e3`` are refused, ``" 0x10 "`` is 16), clamped into range."""
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        number = int(text, 0)
    return min(max(number, low), high)


def _kvmd_key(name: object) -> str | None:
    key = str(name).strip()
    return key if key in KEYS else None


def _kvmd_button(name: object) -> str | None:
    button = str(name).strip().lower()
    return button if button in MOUSE_BUTTONS else None


def decode_binary(data: bytes) -> Input | None:
    """Read a client's binary frame as kvmd does; ``None`` where kvmd ignores it.

    Code-mode frames (bit 7) are decoded as ``None`` too: the emulator does not know
    evdev codes, and an unknown code makes kvmd drop the session — see the emulator.
    """
    if not data:
        return None
    op, body = data[0], data[1:]
    try:
        if op == OP_PING:
            return PingInput()
        if op in (OP_KEY, OP_MOUSE_BUTTON):
            flags = body[0]
            if flags & _FLAG_CODE_MODE:
                return None
            name = body[1 : 1 + MAX_KEY_NAME].decode("ascii")
            if op == OP_KEY:
                key = _kvmd_key(name)
                if key is None:
                    return None
                return KeyInput(key, bool(flags & _FLAG_STATE), bool(flags & _FLAG_FINISH))
            button = _kvmd_button(name)
            if button is None:
                return None
            return MouseButtonInput(button, bool(flags & _FLAG_STATE))
        if op == OP_MOUSE_MOVE:
            x, y = struct.unpack(">hh", body)
            return MouseMoveInput(x, y)
        if op in (OP_MOUSE_RELATIVE, OP_MOUSE_WHEEL):
            squash = bool(body[0] & _FLAG_SQUASH)
            pairs = body[1:]
            if len(pairs) % 2:
                return None
            values = struct.unpack(f">{len(pairs)}b", pairs)
            deltas = tuple(
                (max(values[i], DELTA_MIN), max(values[i + 1], DELTA_MIN))
                for i in range(0, len(values), 2)
            )
            cls = MouseRelativeInput if op == OP_MOUSE_RELATIVE else MouseWheelInput
            return cls(deltas, squash)
    except (IndexError, UnicodeDecodeError, struct.error):
        return None
    return None


def decode_json_input(event_type: str, event: Any) -> Input | None:
    """Read a client's JSON event as kvmd does; ``None`` where kvmd ignores it."""
    try:
        if event_type == "ping":
            return PingInput()
        if event_type == "key":
            key = _kvmd_key(event["key"])
            if key is None:
                return None
            return KeyInput(key, kvmd_bool(event["state"]), kvmd_bool(event.get("finish", False)))
        if event_type == "mouse_button":
            button = _kvmd_button(event["button"])
            if button is None:
                return None
            return MouseButtonInput(button, kvmd_bool(event["state"]))
        if event_type == "mouse_move":
            to = event["to"]
            return MouseMoveInput(
                kvmd_clamped(to["x"], MOVE_MIN, MOVE_MAX), kvmd_clamped(to["y"], MOVE_MIN, MOVE_MAX)
            )
        if event_type in ("mouse_relative", "mouse_wheel"):
            raw = event["delta"]
            steps = raw if isinstance(raw, list) else [raw]
            deltas = tuple(
                (
                    kvmd_clamped(step["x"], DELTA_MIN, DELTA_MAX),
                    kvmd_clamped(step["y"], DELTA_MIN, DELTA_MAX),
                )
                for step in steps
            )
            squash = kvmd_bool(event.get("squash", False))
            cls = MouseRelativeInput if event_type == "mouse_relative" else MouseWheelInput
            return cls(deltas, squash)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        # RecursionError: str() of a value nested too deep; kvmd ignores any failure here
        return None
    return None


# ----- server messages, as the client reads them ----------------------------------------

LEGACY_EVENT_NAMES: Final = {
    "atx_state": "atx",
    "gpio_state": "gpio",
    "hid_state": "hid",
    "hid_keymaps_state": "hid_keymaps",
    "info_state": "info",
    "msd_state": "msd",
    "streamer_state": "streamer",
    "streamer_ocr_state": "ocr",
    "switch_state": "switch",
}
"""kvmd before 4.36 named its events ``*_state``; the client reads both."""


def parse_event(text: str) -> tuple[str, dict[str, Any]]:
    """``(event_type, event)`` from a server text frame, legacy names translated."""
    try:
        message = json_loads.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep to decode
        raise ProtocolError(f"WebSocket text frame is not JSON: {text[:100]!r}") from exc
    if type(message) is dict:  # kvmd's shape, checked at once (JSON makes exact types)
        name, body = message.get("event_type"), message.get("event")
        if type(name) is str and type(body) is dict:
            return LEGACY_EVENT_NAMES.get(name, name), body
    if not isinstance(message, dict) or not isinstance(message.get("event_type"), str):
        raise ProtocolError(f"WebSocket frame has no event_type: {text[:100]!r}")
    event = message.get("event")
    if event is None:
        event = {}
    if not isinstance(event, dict):
        raise ProtocolError(f"WebSocket event is not an object: {text[:100]!r}")
    event_type: str = message["event_type"]
    return LEGACY_EVENT_NAMES.get(event_type, event_type), event
