"""``POST /api/hid/print``: text typed on the host through the HID queue.

What kvmd does (its ``api/hid.py`` and ``keyboard/printer.py``, read for the facts):

- the body is the text; ``limit`` (default 1024, ``0`` for none) cuts it first, silently.
  A body that does not decode (not UTF-8, or in a charset it does not know) crashes the
  handler: aiohttp's bare 500;
- ``keymap`` (default: the device's) must name one of the keymaps ``hid/keymaps`` lists,
  else 400 ``The argument '<name>' is not a valid keymap``;
- each character becomes one key, with Shift and/or AltGr, looked up in the keymap;
  typographic quotes type as ASCII ones and the en dash as ``-``. A character the keymap
  has no key for — one that needs a dead key, a control character other than newline and
  tab, the em dash — is **dropped without a word**;
- Shift and AltGr stay down across characters that need them, and are released when a
  character does not, and at the end;
- ``delay`` (0 to 5 s; ``slow=1`` without one means 0.02 s) is slept before each key
  event; the answer comes once the last event is handed to the HID, whose queue may still
  be delivering them.

The emulator's keymaps are the xkb-generated layouts of :mod:`aiopikvm.protocol.layout`,
named as kvmd names its keymaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Final

from aiohttp import web

from ..protocol.layout import ALTGR, LAYOUTS, SHIFT, Layout, load_layout
from ._errors import ValidatorError
from ._hid import Hid
from ._log import Journal
from ._server import Route, json_response, unhandled_error
from ._validators import fail, not_empty_string, valid_bool, valid_int

_DEFAULT_LIMIT: Final = 1024
_SLOW_DELAY: Final = 0.02
_MAX_DELAY: Final = 5
_SUBSTITUTES: Final = {
    "\u201a": "'",
    "\u2018": "'",
    "\u2019": "'",
    "\u201e": '"',
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
}
"""Typographic characters kvmd types as their ASCII look-alikes."""
_CONTROLS_TYPED: Final = frozenset("\n\t")


class Printer:
    def __init__(self, hid: Hid, *, journal: Journal) -> None:
        self._hid = hid
        self._journal = journal

    def routes(self) -> list[Route]:
        return [Route("POST", "/hid/print", self._h_print)]

    async def _h_print(self, request: web.Request) -> web.StreamResponse:
        # Validated in kvmd's order: the text first, so a bad keymap still reads the body.
        try:
            text = await request.text()
        except (UnicodeDecodeError, LookupError):  # kvmd does not catch these: a crash
            return unhandled_error()
        limit = valid_int(request.query.get("limit", _DEFAULT_LIMIT), "int", low=0)
        if limit > 0:
            text = text[:limit]
        keymaps = self._hid.get_keymaps()["keymaps"]
        name = self._valid_keymap(request.query.get("keymap", keymaps["default"]))
        slow = valid_bool(request.query.get("slow", False))
        delay = _valid_delay(request.query.get("delay", _SLOW_DELAY if slow else 0))
        layout = load_layout(name)
        typed = 0
        for key, state in key_events(text, layout):
            if delay > 0:
                await asyncio.sleep(delay)
            self._hid.send_key(key, state, False)
            typed += state and key not in (SHIFT, ALTGR)
        self._journal.write(
            "kvmd.apps.kvmd.api.hid",
            f"Printed {typed} of {len(text)} characters with keymap {name!r}",
        )
        return json_response()

    def _valid_keymap(self, arg: object) -> str:
        # kvmd's printable-file-name check, then the keymap must be one it has.
        name = not_empty_string(arg, "keymap")
        if "/" in name or "\0" in name or name.startswith(".") or name == "lost+found":
            fail(name, "keymap")
        name = "".join(ch if ch.isprintable() else "_" for ch in name[:255])
        if name not in self._hid.get_keymaps()["keymaps"]["available"] or name not in LAYOUTS:
            fail(name, "keymap")
        return name


def key_events(text: str, layout: Layout) -> Iterator[tuple[str, bool]]:
    """The ``(key, pressed)`` events that type ``text`` on ``layout``, kvmd's way."""
    shift = altgr = False
    for char in text:
        char = _SUBSTITUTES.get(char, char)
        if not char.isprintable() and char not in _CONTROLS_TYPED:
            continue
        strokes = layout.strokes_for(char)
        if strokes is None or len(strokes) != 1:
            continue  # kvmd's keymaps map a character to one key; they know no dead keys
        stroke = strokes[0]
        need_shift, need_altgr = SHIFT in stroke.modifiers, ALTGR in stroke.modifiers
        # Release what the next key must not have before pressing what it needs.
        if shift and not need_shift:
            yield SHIFT, False
            shift = False
        if altgr and not need_altgr:
            yield ALTGR, False
            altgr = False
        if need_shift and not shift:
            yield SHIFT, True
            shift = True
        if need_altgr and not altgr:
            yield ALTGR, True
            altgr = True
        yield stroke.key, True
        yield stroke.key, False
    if shift:
        yield SHIFT, False
    if altgr:
        yield ALTGR, False


def _valid_delay(arg: object) -> float:
    name = "keys delay"
    text = not_empty_string(arg, name)
    try:
        delay = float(text)
    except ValueError:
        fail(text, name)
    if delay < 0:
        raise ValidatorError(f"The argument '{delay}' must be {name} and greater or equial than 0")
    if delay > _MAX_DELAY:
        raise ValidatorError(
            f"The argument '{delay}' must be {name} and lesser or equal then {_MAX_DELAY}"
        )
    return delay
