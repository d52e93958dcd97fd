"""Typing at the host's own pace: what the keyboard LEDs' echoes acknowledge. No I/O.

Why the LEDs. kvmd's answer to a ping says only that kvmd has *read* the input; its HID
queue has no bound, and its USB gadget process writes one report at a time, waiting (up to
0.1 s) for the host to take the one before (kvmd/plugins/hid/otg/device.py). The host
polls once every 1-10 ms. When a lock key toggles, the host sets the keyboard's LEDs with
an output report; kvmd reads it and publishes ``hid.keyboard.leds`` in its ``hid`` events
(kvmd/plugins/hid/otg/keyboard.py). Reports reach the host in order, so an LED change
acknowledges every report written before the toggle — from the host itself.

The key is Num Lock. Scroll Lock double taps are a common KVM switch hotkey, and Scroll
Lock is an ordinary key to some applications (spreadsheets); Caps Lock is often remapped
(to Control, Escape), macOS ignores short taps of it, and typing already owns it
(``Typist._fix_caps``). Num Lock changes only what the numeric keypad types — typing's
plans never use the keypad (tests/test_typing_ack.py checks every layout) — and the
toggles come in pairs over the text, so the host ends as it began.

Two quick changes can coalesce in kvmd's published state (its state poller reads the
current flags), so a double toggle may show as no change at all: hence one toggle per
*ask*, alternating. The LED's value alone then says how many toggles landed only up to
parity: a change from the last acknowledged value proves that *at least* the oldest ask
still open landed (it comes first), and that is all :meth:`HostPace.observe` claims; a
coalesced pair only delays acknowledgements, never fakes one.

kvmd skips a report the host has not taken within 0.1 s (with more queued) and flags the
keyboard ``online: false``: an LED change after such a window does not prove the reports
before it arrived, so the characters it would vouch for are reported uncertain instead.

The rate follows the host: at most :attr:`HostPace.window` characters go out unacknowledged
(a self-clocked window, as TCP's), so kvmd's queue stays a few tens of milliseconds of the
host's work deep, and an ask goes out every :attr:`HostPace.every` characters — about
:data:`ASK_INTERVAL` of the host's time, measured from the echoes.
"""

from __future__ import annotations

import collections
import statistics
from dataclasses import dataclass
from typing import Final

ACK_KEY: Final = "NumLock"
"""The lock key typing toggles to ask the host for an echo (see the module)."""
ECHO_TIMEOUT: Final = 0.5
"""Seconds typing waits at least for the host's first echo before it types on at the
fixed pace; the first ping's round trip, four times, when that is longer."""
ASK_TIMEOUT: Final = 1.0
"""Seconds without an echo, with asks open, before typing asks again."""
REASKS: Final = 3
"""Asks again before typing takes the host for one that stopped echoing."""
QUIET: Final = 0.25
"""After kvmd threw its queue away, seconds an echo of a toggle from before can still come
in (kvmd reads the LED report at its next loop, at most 0.1 s later, then publishes)."""
ASK_INTERVAL: Final = 0.04
"""Seconds of the host's work one acknowledgement aims to cover."""
EVERY_MIN: Final = 12
EVERY_MAX: Final = 32
"""Characters between asks: a toggle is 2 reports, so 12 plain characters (24 reports) keep
the overhead under 8 % on the slowest host, and 32 bound what a queue loss can leave
uncertain (a window is two asks' worth)."""
NUDGES: Final = (0.005, 0.01, 0.02, 0.04)
"""While an echo is awaited with nothing more to type, after these many seconds typing
sends kvmd a release of :data:`ACK_KEY`, which is up: no report (kvmd's keyboard process
makes none for a key that is not down), but kvmd's loop comes round and reads the host's
LED report at once, instead of after its 0.1 s idle wait."""
SLOWEST_EVENT: Final = 0.01
"""Seconds per HID event a host is taken to need, before its pace is measured: one report
per poll of the slowest common firmware (10 ms)."""
SLOWER: Final = 1.25
"""A ``delay`` is reported too short when the host took more than this times it per event
(and half a millisecond more: timer noise)."""


@dataclass(frozen=True, slots=True)
class Ask:
    """A toggle of :data:`ACK_KEY` sent once ``text[:pos]`` was, ``events`` HID events
    sent before it (its own two included)."""

    pos: int
    events: int
    sent_at: float


@dataclass(frozen=True, slots=True)
class Ack:
    """The host acknowledged ``text[start:end]``; ``vouched`` is False when kvmd flagged the
    keyboard offline meanwhile (reports may have been skipped: those characters are
    uncertain)."""

    start: int
    end: int
    vouched: bool


class HostPace:
    """The asks open, what the host acknowledged, and its measured pace."""

    def __init__(self, led: bool, pos: int, events: int, now: float) -> None:
        self.samples: collections.deque[float] = collections.deque(maxlen=16)
        self.every = EVERY_MIN
        self.echoed = False  # the host has echoed at least once
        self.single = False  # at most one ask open: the host's echoes coalesce
        self.rebase(led, pos, events, now)

    def rebase(self, led: bool, pos: int, events: int, now: float) -> None:
        """Start afresh from the LED as the host shows it, with nothing open (after kvmd
        threw its queue away: the asks in it are gone)."""
        self.led = led  # the value the last acknowledged toggle left
        self.asks: collections.deque[Ask] = collections.deque()
        self.acked = pos  # text[:acked] acknowledged (or reported uncertain)
        self.acked_events = events
        self.acked_at = now
        self.echo_at: float | None = None  # when the last echo came, since the rebase
        self.offline = False  # kvmd flagged the keyboard offline since the last ack
        self.last_ask = pos
        self.toggles = 0  # toggles sent since the rebase
        self.base_led = led

    # ----- what typing sends ----------------------------------------------------------

    def due(self, pos: int) -> bool:
        """Whether an ask should go out now that ``text[:pos]`` is sent."""
        return pos - self.last_ask >= self.every

    def ask(self, pos: int, events: int, now: float) -> None:
        self.asks.append(Ask(pos, events, now))
        self.last_ask = pos
        self.toggles += 1

    @property
    def window(self) -> int:
        """Characters that may be out unacknowledged: two asks' worth, so that the next
        ask is queued before the echo of the one before comes back — the host never runs
        dry, and kvmd, busy, reads the LED report at once (an idle kvmd reads it only
        every 0.1 s). What a queue loss can leave uncertain is bounded by it."""
        return 2 * self.every + 2

    def full(self, pos: int) -> bool:
        return pos - self.acked >= self.window

    def coalesced(self, online: bool) -> bool:
        """Whether the asks open could all have landed unseen: an even number of them (so
        the LED, unchanged, stands as they would leave it), with kvmd's keyboard online
        throughout (no report skipped). The caller adds kvmd's answers and the time."""
        return bool(self.asks) and len(self.asks) % 2 == 0 and online and not self.offline

    def drain_time(self, events: int) -> float:
        """Seconds within which the host takes ``events`` queued events, generously:
        :data:`QUIET` (an echo read late by kvmd) plus the measured pace, or
        :data:`SLOWEST_EVENT`'s, with :data:`SLOWER`'s margin."""
        took = self.event_time
        per = took if took is not None else SLOWEST_EVENT
        return QUIET + max(events, 0) * per * SLOWER

    def resync(self, now: float) -> tuple[int, int]:
        """Take the asks open as landed (see the module): nothing is open, the LED stands
        as the host shows it; from now on one ask at a time. Returns the characters
        ``(start, end)`` this settles, which the host did not vouch for."""
        last = self.asks[-1]
        start = self.acked
        self.asks.clear()
        self.acked, self.acked_events, self.acked_at = last.pos, last.events, now
        self.echo_at = None  # no pace sample across the gap
        self.single = True
        return start, last.pos

    @property
    def host_led(self) -> bool:
        """The LED as the host will leave it once every toggle sent has landed."""
        return self.base_led ^ (self.toggles % 2 == 1)

    # ----- what the host shows --------------------------------------------------------

    def observe(self, led: bool, online: bool, now: float) -> Ack | None:
        """The hid state changed: an :class:`Ack` if it acknowledges an ask."""
        if not online:
            self.offline = True
        if led == self.led or not self.asks:
            return None
        ask = self.asks.popleft()  # at least the oldest open one landed (see the module)
        self.led = led
        self.echoed = True
        events = ask.events - self.acked_events
        if self.echo_at is not None and ask.sent_at < self.echo_at and events > 0:
            # Queued before the last echo came: the host worked through it without a gap.
            self.samples.append((now - self.echo_at) / events)
            self._adapt(events / max(ask.pos - self.acked, 1))
        ack = Ack(self.acked, ask.pos, vouched=not self.offline)
        self.acked, self.acked_events, self.acked_at = ask.pos, ask.events, now
        self.echo_at = now
        self.offline = not online
        return ack

    @property
    def event_time(self) -> float | None:
        """Seconds per HID event the host took, as measured (None before two echoes)."""
        return statistics.median(self.samples) if self.samples else None

    def too_fast(self, delay: float) -> bool:
        """Whether ``delay`` per event was shorter than what the host took."""
        took = self.event_time
        return took is not None and took > delay * SLOWER + 0.0005

    def _adapt(self, events_per_char: float) -> None:
        took = self.event_time
        if took:
            chars = ASK_INTERVAL / (took * events_per_char)
            self.every = int(min(max(chars, EVERY_MIN), EVERY_MAX))


def ranges_add(ranges: list[tuple[int, int]], start: int, end: int) -> None:
    """Add ``[start, end)`` to sorted, disjoint ``ranges`` (in place), merging neighbours;
    ranges come in order, so only the last can touch the new one."""
    if start >= end:
        return
    if ranges and ranges[-1][1] >= start:
        ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
    else:
        ranges.append((start, end))


def ranges_minus(ranges: list[tuple[int, int]], points: set[int]) -> list[tuple[int, int]]:
    """``ranges`` without ``points`` (an uncertain character is vouched for by nothing)."""
    out: list[tuple[int, int]] = []
    for start, end in ranges:
        cut = sorted(p for p in points if start <= p < end)
        for point in cut:
            if start < point:
                out.append((start, point))
            start = point + 1
        if start < end:
            out.append((start, end))
    return out
