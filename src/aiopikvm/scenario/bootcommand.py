"""Packer's ``boot_command`` strings, parsed into what to send: text, keys, waits.

The grammar is Packer's own (packer-plugin-sdk ``bootcommand/boot_command.pigeon``, a PEG),
followed here by hand, including its ordered choices:

- ``<wait>`` one second, ``<wait5>`` five, ``<wait1m30s>`` a Go duration (``ns us µs ms s
  m h``, several joined, a fraction allowed); ``wait`` itself is lower case only;
- ``<c On>``/``<cOff>`` with one character ``c`` (``<fOn>``): that character's key held or
  let go;
- a special key (below, any case), optionally ``On``/``Off`` (``<leftCtrlOn>``);
- anything else is one literal character, ``<`` and ``>`` included (``<foo>`` is five).

Special keys map to kvmd's names (:mod:`aiopikvm.protocol.keys`). Literal characters are
merged into runs of :class:`Text`, typed with the target's layout; an ``On``/``Off`` of a
character becomes the key that types it there (:class:`CharToggle`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from ..errors import InvalidInputError

KeyAction = Literal["press", "on", "off"]

SPECIAL_KEYS: Final[dict[str, str]] = {
    # In the grammar's order of trial (f10 before f1, leftAlt before left): a PEG takes
    # the first that matches and does not come back.
    "bs": "Backspace",
    "del": "Delete",
    "enter": "Enter",
    "esc": "Escape",
    "f10": "F10",
    "f11": "F11",
    "f12": "F12",
    **{f"f{n}": f"F{n}" for n in range(1, 10)},
    "return": "Enter",
    "tab": "Tab",
    "up": "ArrowUp",
    "down": "ArrowDown",
    "spacebar": "Space",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "pageup": "PageUp",
    "pagedown": "PageDown",
    "leftalt": "AltLeft",
    "leftctrl": "ControlLeft",
    "leftmeta": "MetaLeft",
    "leftshift": "ShiftLeft",
    "rightalt": "AltRight",
    "rightctrl": "ControlRight",
    "rightmeta": "MetaRight",
    "rightshift": "ShiftRight",
    "leftsuper": "MetaLeft",
    "rightsuper": "MetaRight",
    "left": "ArrowLeft",
    "right": "ArrowRight",
    "menu": "ContextMenu",
}
"""Packer's special key (lower case) -> kvmd's key name."""

_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER: Final = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
_UNIT: Final = r"(?:ns|us|µs|ms|s|m|h)"  # the grammar's order: ms before m and s
_DURATION: Final = re.compile(rf"(?:{_NUMBER}{_UNIT})+")
_INTEGER: Final = re.compile(r"0|[1-9][0-9]*")
_PART: Final = re.compile(rf"({_NUMBER})({_UNIT})")
_TOGGLE: Final = re.compile(r"(on|off)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Text:
    """Characters to type with the target's layout."""

    text: str


@dataclass(frozen=True, slots=True)
class Key:
    """A special key tapped (``press``), held (``on``) or let go (``off``); ``key`` is
    kvmd's name, ``name`` Packer's (lower case)."""

    key: str
    action: KeyAction
    name: str


@dataclass(frozen=True, slots=True)
class CharToggle:
    """The key that types ``char`` held (``on=True``) or let go."""

    char: str
    on: bool


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


BootAction = Text | Key | CharToggle | Wait


def parse_boot_command(command: str | list[str]) -> list[BootAction]:
    """The actions of a Packer ``boot_command`` (a string, or a list of strings sent one
    after the other as Packer does). Raises :class:`~aiopikvm.InvalidInputError` for a
    negative wait, which Packer refuses too."""
    if isinstance(command, list):
        if not all(isinstance(part, str) for part in command):
            raise InvalidInputError("boot_command: a string, or a list of strings")
        command = "".join(command)
    if not isinstance(command, str):
        raise InvalidInputError("boot_command: a string, or a list of strings")
    actions: list[BootAction] = []
    pos = 0
    while pos < len(command):
        found = command[pos] == "<" and _expression(command, pos + 1)
        if found:
            action, pos = found
            actions.append(action)
            continue
        char = command[pos]
        pos += 1
        if actions and isinstance(actions[-1], Text):
            actions[-1] = Text(actions[-1].text + char)
        else:
            actions.append(Text(char))
    return actions


def _expression(command: str, start: int) -> tuple[BootAction, int] | None:
    """The ``<...>`` expression whose body starts at ``start`` (after the ``<``), and
    where the next begins; None when it is no expression (then ``<`` is a literal)."""
    for parse in (_wait, _char_toggle, _special):
        found = parse(command, start)
        if found is not None:
            return found
    return None


def _wait(command: str, start: int) -> tuple[BootAction, int] | None:
    if not command.startswith("wait", start):
        return None
    pos = start + 4
    seconds = 1.0
    duration = _DURATION.match(command, pos)
    integer = _INTEGER.match(command, pos)
    if duration is not None:
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(duration.group()))
        pos = duration.end()
    elif integer is not None:
        seconds = float(integer.group())
        pos = integer.end()
    if not command.startswith(">", pos):
        return None
    if seconds < 0:
        raise InvalidInputError(
            f"boot_command: a negative wait {command[start - 1 : pos + 1]!r} (Packer refuses "
            "it too): give <wait>, <wait5> or a duration like <wait1m30s>"
        )
    return Wait(seconds), pos + 1


def _char_toggle(command: str, start: int) -> tuple[BootAction, int] | None:
    if start >= len(command):
        return None
    toggle = _TOGGLE.match(command, start + 1)
    if toggle is None or not command.startswith(">", toggle.end()):
        return None
    return CharToggle(command[start], toggle.group().lower() == "on"), toggle.end() + 1


def _special(command: str, start: int) -> tuple[BootAction, int] | None:
    lower = command.lower()
    name = next((n for n in SPECIAL_KEYS if lower.startswith(n, start)), None)
    if name is None:
        return None
    pos = start + len(name)
    action: KeyAction = "press"
    toggle = _TOGGLE.match(command, pos)
    if toggle is not None:
        action = "on" if toggle.group().lower() == "on" else "off"
        pos = toggle.end()
    if not command.startswith(">", pos):
        return None
    return Key(SPECIAL_KEYS[name], action, name), pos + 1
