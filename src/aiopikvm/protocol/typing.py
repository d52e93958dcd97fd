"""Text to key input for a target keyboard layout: the pure half of typing, no I/O.

:func:`plan_typing` turns text into the key input a PiKVM session sends so that a target
using ``layout`` shows exactly that text: for each character the strokes of
:meth:`Layout.strokes_for <aiopikvm.protocol.layout.Layout.strokes_for>` (a dead key, then
its base, where a character needs one), each key tapped with kvmd's ``finish`` flag (kvmd
releases it at once, so a stalled network cannot make the target auto-repeat it), and the
modifiers (Shift, AltGr) pressed before and released after. A modifier the next character
needs as well stays down in between, as a typist's would; every modifier is released at
the end of the plan.

:func:`check_typable` refuses text with any character the layout cannot type, naming each
one and its position, before anything is planned or sent.

:class:`TypingResult` is what typing reports: how far it got, and which characters may not
have reached the target.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInputError, UntypableTextError
from ..results import TypingResult
from .frames import KeyInput
from .keys import FINISH_EXEMPT
from .layout import Layout, load_layout

__all__ = ["TypingResult", "TypingStep", "check_typable", "plan_typing", "resolve_layout"]

_SHOWN_MAX = 20
"""How many untypable characters an error message spells out (all are in the error)."""


@dataclass(frozen=True, slots=True)
class TypingStep:
    """One frame of a typing plan, and how far through the text it gets.

    ``typed`` is the number of characters of the text complete once this step is sent;
    ``char`` the index of the character the step belongs to (the text's length for the
    releases that end the plan).
    """

    input: KeyInput
    typed: int
    char: int

    @property
    def hid_events(self) -> int:
        """How many events kvmd queues for the HID: a tap with ``finish`` is two (the
        press, and the release kvmd adds), anything else one."""
        key = self.input
        return 2 if key.state and key.finish and key.key not in FINISH_EXEMPT else 1


def resolve_layout(layout: str | Layout) -> Layout:
    """A shipped layout by name (``"de"``), or a :class:`Layout` as it is."""
    if isinstance(layout, Layout):
        return layout
    if not isinstance(layout, str):
        raise InvalidInputError(f"layout must be a layout name or a Layout, got {layout!r}")
    try:
        return load_layout(layout)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def check_typable(text: str, layout: str | Layout) -> Layout:
    """Raise :class:`UntypableTextError` listing every character of ``text`` (with its
    position) that ``layout`` cannot type; returns the layout."""
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
    resolved = resolve_layout(layout)
    bad = resolved.untypable(text)
    if bad:
        shown = ", ".join(f"{char!r} at {pos}" for pos, char in bad[:_SHOWN_MAX])
        more = f" and {len(bad) - _SHOWN_MAX} more" if len(bad) > _SHOWN_MAX else ""
        raise UntypableTextError(
            f"the {resolved.name!r} layout cannot type {len(bad)} character(s) of the text: "
            f"{shown}{more}; nothing was typed",
            characters=bad,
            layout=resolved.name,
        )
    return resolved


def plan_typing(text: str, layout: str | Layout) -> list[TypingStep]:
    """The key input that types ``text`` on a target using ``layout``.

    Raises :class:`UntypableTextError` first if any character cannot be typed. The plan
    leaves no key down: modifiers are released by the last steps, keys by kvmd (``finish``).
    """
    resolved = check_typable(text, layout)
    steps: list[TypingStep] = []
    held: list[str] = []  # modifiers down, in the order pressed
    for index, char in enumerate(text):
        strokes = resolved.strokes_for(char)
        assert strokes is not None  # checked above
        for stroke in strokes:
            wanted = stroke.modifiers
            for modifier in reversed(held):
                if modifier not in wanted:
                    held.remove(modifier)
                    steps.append(TypingStep(KeyInput(modifier, False), index, index))
            for modifier in wanted:
                if modifier not in held:
                    held.append(modifier)
                    steps.append(TypingStep(KeyInput(modifier, True), index, index))
            steps.append(TypingStep(KeyInput(stroke.key, True, finish=True), index, index))
        # The character is complete once its last stroke is sent.
        last = steps[-1]
        steps[-1] = TypingStep(last.input, index + 1, index)
    for modifier in reversed(held):
        steps.append(TypingStep(KeyInput(modifier, False), len(text), len(text)))
    return steps
