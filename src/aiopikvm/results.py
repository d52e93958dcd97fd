"""What calls report when they are done: a typing's :class:`TypingResult`, a screen
comparison's :class:`ScreenDiff`. Standard library only, as :mod:`aiopikvm.errors`, whose
exceptions carry them (``.result``, ``.diff``), so the protocol layer and the pure screen
functions can build them without the client."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ScreenDiff", "TypingResult"]


@dataclass(frozen=True, slots=True)
class TypingResult:
    """What ``type_text`` did with a text of ``total`` characters.

    The first ``typed`` were sent (all of them, unless typing was interrupted: then
    ``text[typed:]`` was not). ``uncertain`` holds the positions (indexes into the text) of
    those that may not have reached the target as sent: the ones in flight when the
    connection dropped, or when another session's opening or closing made kvmd drop its
    queue and release the keys. Such a character may be missing, or — when kvmd released
    Shift or AltGr under it — typed without that modifier; after a dead key, the character
    that follows may combine with it. Every other character of the first ``typed``
    reached the target, exactly once. ``disruptions`` counts the drops and queue losses
    typing went through.

    :meth:`vouched_by` a character: the host (in a ``host_acked`` range ``[start, end)``,
    by a keyboard-LED echo: :mod:`aiopikvm.session.pace`), kvmd's answer, or nothing.
    ``ack`` is what typing waited for (``"host"``, ``"kvmd"``); ``fallback`` why it went
    on with kvmd's answers after asking the host (``""``: it did not); ``host_event_time``
    the seconds per event the host took; ``delay_too_short``: a ``delay`` was below it."""

    total: int
    typed: int
    uncertain: tuple[int, ...] = ()
    disruptions: int = 0
    ack: str = "kvmd"
    host_acked: tuple[tuple[int, int], ...] = ()
    fallback: str = ""
    host_event_time: float | None = None
    delay_too_short: bool = False

    @property
    def exact(self) -> bool:
        """Whether the whole text reached the target, each character vouched for."""
        return self.typed == self.total and not self.uncertain

    @property
    def host_vouched(self) -> int:
        """How many characters the host itself acknowledged."""
        return sum(end - start for start, end in self.host_acked)

    def vouched_by(self, index: int) -> str:
        """``"host"``, ``"kvmd"`` or ``"none"``: what vouches for ``text[index]``."""
        if index in self.uncertain or not 0 <= index < self.typed:
            return "none"
        if any(start <= index < end for start, end in self.host_acked):
            return "host"
        return "kvmd"


@dataclass(frozen=True, slots=True)
class ScreenDiff:
    """How much two pictures of the screen differ, as :mod:`aiopikvm.screen.compare`
    measures it (defined here, with the standard library only, for
    :class:`ScreenTimeoutError`).

    The pictures are compared after the downscale that damps a capture's noise, inside
    ``region``, outside ``ignore`` boxes. ``changed_area`` is how many screen pixels of area
    changed by more than the per-pixel tolerance, ``changed_share`` the same as a share
    (0-1) of the area compared; ``max_delta`` the largest difference seen (0-255);
    ``tolerance`` the area over which the pictures count as different (:attr:`changed`).
    """

    changed_area: int
    changed_share: float
    max_delta: int
    tolerance: float

    @property
    def changed(self) -> bool:
        """Whether more than ``tolerance`` screen pixels of area changed."""
        return self.changed_area > self.tolerance
