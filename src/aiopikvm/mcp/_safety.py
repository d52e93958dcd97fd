"""What keeps an agent from doing harm: refusals with a reason it can act on, the rate limit
on input, the confirmations that power and media changes need, and the detection of a human
who took over the device (another session open on it, or input this server did not send)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

FOREIGN_SLACK: Final = 2.0
"""Seconds by which input kvmd saw may follow our own before it counts as someone else's:
kvmd reports ``hid/inactivity`` in whole seconds, and our last input needs a moment to
reach its HID."""


class Refused(Exception):
    """A tool call the safety model does not let through; the message says what would."""


@dataclass(frozen=True)
class Safety:
    """The server's settings, from ``pikvm mcp``'s flags."""

    read_only: bool = False
    allow_power: bool = False
    allow_media: bool = False
    human_idle: float = 120.0
    """Seconds without input from a human after which the agent may go on without force."""
    rate: float = 5.0
    """Input calls per second, on average."""
    burst: int = 20
    """Input calls at once before the rate applies."""


def need_confirm(tool: str, confirm: bool, what: str) -> None:
    if confirm is not True:
        raise Refused(
            f"{tool} would {what}: call it again with confirm: true once you are sure "
            "(check power_status / media_list first)"
        )


def need_flag(allowed: bool, flag: str, tool: str) -> None:
    if not allowed:
        raise Refused(
            f"{tool} is disabled on this server: a person must restart it with {flag} "
            "to allow it (ask them; there is nothing the agent can do about it)"
        )


class RateLimit:
    """A token bucket: ``burst`` calls at once, then ``rate`` a second."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._at = float(burst), clock()

    def take(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self.rate
            raise Refused(
                f"input rate limit: at most {self.rate:g} input calls a second "
                f"(bursts of {self.burst}); try again in {wait:.1f} s"
            )
        self._tokens -= 1


class Takeover:
    """Whether a human is using the device, from what kvmd tells: its ``clients`` count
    (sessions open on it; this server holds one) and ``hid/inactivity`` (seconds since any
    input), against the time of this server's own last input.

    A human counts as present from when a second session appears or input arrives that was
    not ours, and stays so until they have been idle for ``idle`` seconds."""

    def __init__(self, idle: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self._clock = clock
        self._ours: float | None = None  # when this server last sent input
        self._seen: float | None = None  # when a human was last noticed
        self._others = False

    def sent(self) -> None:
        """This server has just sent input."""
        self._ours = self._clock()

    def observe(self, sessions: int, inactivity: float) -> str | None:
        """Update from kvmd's ``sessions`` count and ``inactivity``; the reason to stop, or
        None when the agent may go on."""
        now = self._clock()
        others = sessions - 1
        if others > 0 and not self._others:
            self._seen = now  # a session just opened: someone is there now
        self._others = others > 0
        last_input = now - inactivity
        if self._ours is None or last_input > self._ours + FOREIGN_SLACK:
            self._seen = last_input if self._seen is None else max(self._seen, last_input)
        if self._seen is None:
            return None
        idle = now - self._seen
        if idle >= self.idle:
            return None
        if others > 0:
            why = f"{others} other session{'s' if others > 1 else ''} open on the device"
        else:
            why = "input this server did not send"
        return (
            f"a human may be using the device ({why}; last activity {idle:.0f} s ago): input "
            f"stops until they have been idle for {self.idle:g} s. Ask them, or call again "
            "with force: true if you are sure you may take over"
        )
