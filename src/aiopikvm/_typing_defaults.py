"""Typing's defaults and argument check, below the WebSocket session that types: the
client checks ``kvm.type_text``'s arguments before it opens a session, and importing the
session for that would load it (and the models) with the client."""

from __future__ import annotations

from typing import Final

from ._checks import check_callable, check_delay, check_int, check_str, show
from .errors import InvalidInputError
from .protocol.layout import Layout

DEFAULT_TYPING_DELAY: Final = 0.025
"""Seconds per HID event while typing (see :mod:`aiopikvm.session.actions`)."""
DEFAULT_ACK_EVERY: Final = 20
"""Characters typing sends at most before kvmd has answered for the ones before them."""
ACKS: Final = ("auto", "host", "kvmd")
"""What typing may wait for (``type_text(ack=)``)."""
HOST_MIN_TEXT: Final = 16
"""With ``ack="auto"``, the shortest text typing asks the host to acknowledge: for fewer
characters two Num Lock taps and their echoes save nothing."""


def resolve_ack(ack: str, delay: float | None, length: int) -> bool:
    """Whether typing asks the host for keyboard-LED echoes (see ``type_text``)."""
    if ack == "auto":
        return length >= HOST_MIN_TEXT
    return ack == "host"


def check_typing(
    layout: object, delay: float | None, ack_every: int, progress: object, ack: object = "auto"
) -> None:
    """Refuse typing's arguments (but the text) before anything is sent."""
    if not isinstance(layout, Layout):
        from .protocol.layout import LAYOUTS  # listed on first use

        check_str(layout, "layout", printable=True, max_length=64, expected="a layout name")
        if layout not in LAYOUTS:
            raise InvalidInputError(
                f"unknown layout {show(layout)}; layout must be one of {', '.join(LAYOUTS)}"
                " (or a Layout)"
            )
    if delay is not None:
        check_delay(delay)
    if ack not in ACKS:
        raise InvalidInputError(f"ack must be one of {', '.join(ACKS)}, got {show(ack)}")
    check_int(ack_every, "ack_every", low=1)
    if progress is not None:
        check_callable(progress, "progress")
