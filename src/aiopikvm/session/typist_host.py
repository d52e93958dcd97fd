"""The half of :class:`~.typist.Typist` that follows the host's own pace: asking it for
keyboard-LED echoes, taking them in, and falling back to kvmd's answers when none come.
What an echo proves, and why Num Lock, is in :mod:`.pace`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from ..errors import ConnectionClosedError
from .input import Pacer
from .pace import (
    ACK_KEY,
    ASK_INTERVAL,
    ASK_TIMEOUT,
    ECHO_TIMEOUT,
    NUDGES,
    QUIET,
    REASKS,
    HostPace,
    ranges_add,
)

if TYPE_CHECKING:
    from ..models import HidState
    from .input import InputPath
    from .link import Link


class QueueLost(Exception):
    """kvmd may have thrown queued input away (a session opened or closed)."""


class HostAcking:
    """Typist's host acknowledgements (mixed into it: the attributes below are its)."""

    inp: InputPath
    total: int
    attempted: int
    answered: int
    events: int
    epoch: int
    pressed: list[str]
    uncertain: set[int]
    delay: float
    floor: float
    pacer: Pacer
    pacer_is_fixed: bool

    @property
    def all_sent(self) -> bool:
        raise NotImplementedError

    def _init_host(self, wanted: bool) -> None:
        self.host_wanted = wanted
        self.host: HostPace | None = None  # None: not asked, or fallen back
        self.measured: HostPace | None = None  # kept after a fallback, for its figures
        self.host_ranges: list[tuple[int, int]] = []
        self.fallback = ""
        self.num_at_start = False
        self.echo_deadline = 0.0
        self.reasks = 0
        self.wake = asyncio.Event()

    def _hid(self) -> HidState | None:
        return self.inp.state.live.device_state().hid

    async def _check_keyboard(self, link: Link) -> None:
        raise NotImplementedError

    async def _collect(self, link: Link, *, wait: bool) -> None:
        raise NotImplementedError

    # ----- what the host shows --------------------------------------------------------

    def _on_state(self) -> None:
        """At every event: an LED echo acknowledges what was sent before its toggle."""
        self.wake.set()
        host = self.host
        if host is None:
            return
        hid = self._hid()
        if hid is None:
            return
        ack = host.observe(hid.keyboard.leds.num, hid.keyboard.online, time.monotonic())
        if ack is None:
            return
        self.reasks = 0
        if ack.vouched:
            ranges_add(self.host_ranges, ack.start, ack.end)
        else:  # kvmd may have skipped reports meanwhile
            self.uncertain.update(range(ack.start, ack.end))

    @property
    def host_acked(self) -> int:
        """``text[:host_acked]`` is acknowledged (or uncertain) by the host since the
        last rebase; 0 when typing does not ask the host."""
        return self.host.acked if self.host is not None else 0

    # ----- asking ---------------------------------------------------------------------

    async def _host_begin(self, link: Link) -> None:
        """Once the session is established: start, or start again after a disruption."""
        if not self.host_wanted or self.fallback:
            return
        hid = self._hid()
        if hid is None:
            self._give_up("kvmd sent no keyboard state")
            return
        if self.host is None:
            self.num_at_start = hid.keyboard.leds.num
            self.host = self.measured = HostPace(
                self.num_at_start, self.attempted, self.events, time.monotonic()
            )
            self.host.single = self.inp.clock.host_coalesces
        else:
            await asyncio.sleep(QUIET)  # let echoes of toggles from before come in first
            hid = self._hid()
            led = self.host.led if hid is None else hid.keyboard.leds.num
            self.host.rebase(led, self.attempted, self.events, time.monotonic())
        if not self.host.echoed:
            self.echo_deadline = time.monotonic() + ECHO_TIMEOUT
            await self._ask()

    async def _ask(self) -> None:
        """Toggle Num Lock, with no modifier down (Shift+Num Lock is a hotkey on X11)."""
        host = self.host
        assert host is not None
        held = list(self.pressed)
        events = 2 + 2 * len(held)
        self.events += events
        host.ask(self.attempted, self.events, time.monotonic())  # before: it may land first
        inp = self.inp
        for key in reversed(held):
            await inp.key(key, False)
        await inp.key(ACK_KEY)
        for key in held:
            await inp.key(key, True)

    async def _pace(self) -> None:
        """Wait for the next frame's time; before the host's first echo, the fixed pace
        is cut short by the echo (from then on the host sets the pace)."""
        host = self.host
        if host is None or host.echoed or not self.pacer_is_fixed:
            await self.pacer.wait()
            return
        deadline = time.monotonic() + self.pacer.remaining()
        while not host.echoed and self.host is host:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self.wake.wait()

    async def _host_gate(self, link: Link) -> None:
        """Before a character: ask when due, and wait while the window is full."""
        host = self.host
        if host is None:
            return
        if not host.echoed:  # typing goes on at the fixed pace until the first echo
            if time.monotonic() >= self.echo_deadline:
                await self._fall_back(f"no keyboard-LED echo within {ECHO_TIMEOUT} s")
            return
        if self.pacer_is_fixed:
            self.pacer = Pacer(self.floor)  # the host sets the pace from here on
            self.pacer_is_fixed = False
            self.inp.clock.typing_pace = self.floor
        if host.due(self.attempted):
            while self.host is host and host.single and host.asks:
                await self._await_ack(link)  # one ask open at a time
            if self.host is not host:
                return
            # The last ask before the end's own: skipped when the toggles stand odd, so
            # that the end's ask both vouches for the tail and puts Num Lock back.
            last = self.total - self.attempted <= host.every
            if not (last and host.host_led != self.num_at_start):
                await self._ask()
        while self.host is host and host.full(self.attempted):
            await self._await_ack(link)

    async def _await_ack(self, link: Link) -> None:
        """Until the host acknowledges more, an ask times out, or typing falls back."""
        host = self.host
        assert host is not None
        acked, open_asks = host.acked, len(host.asks)
        now = time.monotonic()
        deadline = self.echo_deadline if not host.echoed else now + ASK_TIMEOUT
        nudges = [now + wait for wait in NUDGES] if self.all_sent or host.single else []
        coalesce_at = now + host.drain_time(self.events - host.acked_events)
        while self.host is host and (host.acked, len(host.asks)) == (acked, open_asks):
            if self.inp.state.clears != self.epoch:
                raise QueueLost
            if self.inp.run.link is not link:
                raise ConnectionClosedError(
                    f"{self.inp.config.request}: the connection dropped while typing waited "
                    "for the host's echo",
                    request=self.inp.config.request,
                )
            await self._collect(link, wait=False)
            self.wake.clear()
            until = min(deadline, nudges[0]) if nudges else deadline
            if host.echoed and host.coalesced(self._online()):
                until = min(until, coalesce_at)
            try:
                async with asyncio.timeout(max(until - time.monotonic(), 0.0)):
                    await self.wake.wait()
            except TimeoutError:
                if until == coalesce_at:
                    await self._collect(link, wait=False)  # answers came while it waited
                    if self._resync():
                        return
                    # kvmd has not answered for the asks yet (a slow link): look again
                    coalesce_at = time.monotonic() + ASK_INTERVAL
                elif until == deadline:
                    await self._no_echo(link)
                    return
                else:
                    nudges.pop(0)
                    self.events += 1
                    await self.inp.key(ACK_KEY, False)

    def _online(self) -> bool:
        hid = self._hid()
        return hid is not None and hid.keyboard.online

    def _resync(self) -> bool:
        """The asks open coalesced (see :mod:`.pace`), if kvmd has answered for all of
        them: take them as landed, vouched for by kvmd; ask one at a time from now."""
        host = self.host
        assert host is not None
        if not (host.coalesced(self._online()) and self.answered >= host.asks[-1].pos):
            return False
        host.resync(time.monotonic())
        self.inp.clock.host_coalesces = True  # the session's next typing starts single
        self.reasks = 0
        return True

    async def _no_echo(self, link: Link) -> None:
        host = self.host
        assert host is not None
        if not host.echoed:
            await self._fall_back(f"no keyboard-LED echo within {ECHO_TIMEOUT} s")
            return
        hid = self._hid()
        if hid is not None and not hid.keyboard.online:
            await self._check_keyboard(link)  # raises if it stays offline
        self.reasks += 1
        if self.reasks > REASKS:
            await self._fall_back(f"the host stopped echoing the keyboard LEDs ({REASKS} asks)")
            return
        await self._ask()

    async def _host_settle(self, link: Link) -> None:
        """Until the host has acknowledged everything, and Num Lock is as it began."""
        host = self.host
        if host is None:
            return
        while self.host is host and not host.echoed:
            await self._await_ack(link)
        if self.host is not host:
            return
        while self.host is host and host.single and host.asks:
            await self._await_ack(link)  # one ask open at a time
        if self.host is not host:
            return
        if host.acked < self.attempted and (not host.asks or host.last_ask < self.attempted):
            await self._ask()
        rounds = 0  # waits with everything acknowledged but asks still open
        while self.host is host and (host.acked < self.attempted or host.asks):
            if host.acked >= self.attempted:
                rounds += 1
                if rounds > REASKS:  # two echoes coalesced in kvmd's state: stop asking
                    await self._fall_back("the host's LED echoes did not settle")
                    return
            await self._await_ack(link)
        if self.host is host and host.led != self.num_at_start:
            await self._ask()  # its echo puts Num Lock back as it was
            rounds = 0
            while self.host is host and host.asks:
                rounds += 1
                if rounds > REASKS:
                    await self._fall_back("the host's LED echoes did not settle")
                    return
                await self._await_ack(link)
        if self.host is host:
            self.inp.clock.idle_at = time.monotonic()  # the host took everything
            host.base_led, host.toggles = host.led, 0  # what it shows is the truth now

    # ----- falling back ---------------------------------------------------------------

    def _give_up(self, why: str) -> None:
        self.fallback = why
        self.host = None
        if not self.pacer_is_fixed:
            self.pacer = Pacer(self.delay)
            self.pacer_is_fixed = True
            self.inp.clock.typing_pace = self.delay

    async def _fall_back(self, why: str) -> None:
        """Type on at the fixed pace, vouched for by kvmd; Num Lock put back by count."""
        host = self.host
        self._give_up(why)
        if host is not None and host.host_led != self.num_at_start:
            self.events += 2
            await self.inp.key(ACK_KEY)

    async def _restore_num(self) -> None:
        """On an exception or a cancellation: Num Lock as the toggles sent leave it."""
        host = self.host
        if host is not None and host.host_led != self.num_at_start:
            host.toggles += 1
            await self.inp.key(ACK_KEY)
