"""Typing a plan over a session that may drop, or have its input thrown away, midway.

What can be known. kvmd answers a ping once it has *read* the frames before it; the HID
then applies them from its queue, and whenever a session opens or closes (ours dropping,
or anyone else's) kvmd throws that queue away and releases every key. Nothing on the wire
says a key has reached the target. So typing keeps a bound instead:

- after each character, a ping goes out (not waited for); its answer, at time ``t``,
  proves that everything before it was read by ``t``;
- the HID is taken to apply input at least as fast as typing's ``delay`` paces it, so
  what was read by ``t`` has been applied by ``U = max(t, U_before) + events * delay``;
- a later ping *sent* after ``U`` and answered with no queue loss seen meanwhile (no
  session opening or closing before its answer, as :mod:`.queue_watch` reads the
  events: events and answers come in order) proves that the session was alive, and the
  queue intact, until everything up to the earlier character was applied. Those
  characters are *settled*.

On a drop or a queue loss, the characters sent but not settled are *uncertain*: each may
or may not have arrived. Typing never sends one of them again (it might arrive twice), and
goes on from the next character once the session is back: the modifiers the plan holds
are released explicitly and pressed again, Caps Lock is put back as typing needs it. The
window is a few characters: a round trip and the time the HID takes for one character.

When the host echoes the keyboard LEDs, it vouches itself (:mod:`.typist_host`,
:mod:`.pace`): an echo of a Num Lock toggle proves that everything sent before the toggle
reached it, so the uncertain window after a disruption starts at the last echo, if that is
later than what the bound above settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from ..errors import (
    ConnectionClosedError,
    KeyboardOfflineError,
    PiKVMError,
    PiKVMTimeoutError,
    TypingInterruptedError,
)
from ..protocol.keys import MODIFIERS
from ..protocol.typing import TypingResult, TypingStep
from .input import InputPath, Pacer
from .link import Link, send_ping
from .pace import ranges_minus
from .typist_bound import Mark, PingBound
from .typist_host import HostAcking, QueueLost

ANSWER_TIMEOUT: Final = 10.0
"""Seconds typing waits for kvmd to answer a ping before it takes the link for dead."""
STATE_WAIT: Final = 1.0
"""How long typing waits for the session's first ``hid`` event (to read Caps Lock), and for
an offline keyboard to be reported online once kvmd has written to it."""
PROBE_KEY: Final = "ShiftLeft"
"""Tapped alone it types nothing: what typing sends to make kvmd check an offline keyboard."""

if TYPE_CHECKING:
    from ..models import HidState

Progress = Callable[[int, int], object]
"""``progress(typed, total)``: characters typed so far, of the text's length (a coroutine
function is awaited)."""


class Typist(HostAcking):
    """Types one plan through a session's :class:`~.input.InputPath` (and its supervisor,
    ``inp.run``, for the connection); :meth:`run` returns the :class:`TypingResult`.

    ``type_text`` holds the session's input lock meanwhile, so typing's own keys go out
    without it (``inp.key``), also from the task that undoes a cancelled typing."""

    def __init__(
        self,
        inp: InputPath,
        plan: Sequence[TypingStep],
        total: int,
        *,
        delay: float,
        ack_every: int,
        progress: Progress | None,
        host: bool = False,
        floor: float | None = None,
    ) -> None:
        self.inp = inp
        self.supervisor = inp.run
        self.request = inp.config.request
        self.plan = plan
        self.total = total
        self.delay = delay
        self.ack_every = ack_every
        self.progress = progress
        self.pacer = Pacer(delay)
        self.pacer_is_fixed = True  # at ``delay``; else at ``floor``, the host's pace
        self.floor = 0.0 if floor is None else floor  # the caller's delay, if any (0 too)
        self.explicit_delay = floor is not None
        self.answered = 0  # text[:answered] is in kvmd's hands (a ping after it answered)
        self.step = 0  # the next step of the plan to send
        self.attempted = 0  # text[:attempted] has had a key sent (or being sent)
        self.settled = 0  # text[:settled] arrived, or is in `uncertain`
        self.uncertain: set[int] = set()
        self.disruptions = 0
        self.pressed: list[str] = []  # modifiers down, as sent
        self.needed: list[str] = []  # modifiers the plan holds where typing goes on
        self.caps_at_start: bool | None = None
        self.caps_off = False  # typing switched Caps Lock off and owes it back
        self.epoch = 0  # the session's count of queue losses that typing has accounted for
        # Characters whose first key is a dead key: after one is lost midway, the host may
        # still wait to combine the dead key with whatever comes next.
        self.dead_keys = {
            s.char for s in plan if s.typed == s.char and s.input.key not in MODIFIERS
        }
        self.bound = PingBound(delay, 0)
        self.events = 0  # HID events sent since the bound began
        self._init_host(host)

    def result(self) -> TypingResult:
        measured = self.measured
        uncertain = self.uncertain
        return TypingResult(
            total=self.total,
            typed=self.attempted,
            uncertain=tuple(sorted(uncertain)),
            disruptions=self.disruptions,
            ack="host" if self.host is not None else "kvmd",
            host_acked=tuple(
                ranges_minus(self.host_ranges, uncertain) if uncertain else self.host_ranges
            ),
            fallback=self.fallback,
            host_event_time=None if measured is None else measured.event_time,
            delay_too_short=(
                measured is not None and self.explicit_delay and measured.too_fast(self.floor)
            ),
        )

    async def run(self) -> TypingResult:
        run, clock = self.supervisor, self.inp.clock
        clock.typing_pace = self.delay  # typing states the HID's pace
        self.inp.state.watchers.append(self._on_state)
        try:
            while True:
                link: Link | None = None
                try:
                    link = await run.until_open()
                    await self._establish(link)
                    await self._type(link)
                    await self._settle(link)
                    return self.result()
                except QueueLost:
                    self._account()
                except ConnectionClosedError as error:
                    self._account()
                    if link is not None:
                        await link.ended()  # see how the connection ends
                    if run.finished:
                        final = run.close_error or error  # a failed reconnect says why
                        raise self._interrupted(final) from final
                    # else the session reconnects, and _until_open waits for it
        finally:
            self.inp.state.watchers.remove(self._on_state)
            self.bound.drop()
            host = self.host
            if self.pressed or self.caps_off or (host and host.host_led != self.num_at_start):
                await asyncio.shield(asyncio.ensure_future(self._undo()))
            clock.typing_pace = None

    def _interrupted(self, error: ConnectionClosedError) -> TypingInterruptedError:
        result = self.result()
        return TypingInterruptedError(
            f"typing stopped after {result.typed} of {result.total} characters, "
            f"{len(result.uncertain)} of them uncertain (see .result): {error.message}",
            result=result,
            code=error.code,
            reason=error.reason,
            request=error.request,
        )

    # ----- the bookkeeping of a disruption ------------------------------------------------

    def _account(self) -> None:
        """What was sent and not settled is uncertain; typing goes on after it."""
        self.disruptions += 1
        lost = range(max(self.settled, self.host_acked), self.attempted)
        self.uncertain.update(lost)
        if self.attempted < self.total and not self.dead_keys.isdisjoint(lost):
            self.uncertain.add(self.attempted)  # it may combine with a dead key left over
        self.settled = self.attempted
        self.bound.drop()
        # Skip the rest of a character cut in two, keeping track of the modifiers.
        held = list(self.pressed)
        while self.step < len(self.plan) and self.plan[self.step].char < self.attempted:
            key = self.plan[self.step].input
            if key.key in MODIFIERS:
                if key.state and key.key not in held:
                    held.append(key.key)
                elif not key.state and key.key in held:
                    held.remove(key.key)
            self.step += 1
        self.needed = held

    # ----- the phases ---------------------------------------------------------------------

    async def _establish(self, link: Link) -> None:
        """Put the target as the plan expects it, and learn the state of kvmd's queue."""
        inp, state = self.inp, self.inp.state
        await self._check_keyboard(link)
        while True:
            epoch = state.clears
            sent = 0
            for key in reversed(self.pressed):
                if key in state.held_keys:  # a reconnect has released them already
                    await inp.key(key, False)
                    sent += 1
            self.pressed = []
            for key in self.needed:
                self.pressed.append(key)
                await inp.key(key, True)
                sent += 1
            if await self._answer(link, await send_ping(inp.config, link)) == epoch:
                break
        self.epoch = epoch
        sent += await self._fix_caps()
        self.pacer.sent(sent)
        self.bound = PingBound(self.delay, sent)
        self.events = 0
        self.answered = self.attempted
        await self._host_begin(link)

    async def _hid_state(self) -> HidState | None:
        if self._hid() is None:
            with contextlib.suppress(PiKVMTimeoutError):
                await self.supervisor.wait_for(lambda s: s.hid is not None, timeout=STATE_WAIT)
        return self._hid()

    async def _check_keyboard(self, link: Link) -> None:
        """Refuse to type into a keyboard kvmd reports offline: it drops what the host does
        not take. kvmd marks the keyboard online again only once it has written a report to
        it (kvmd/plugins/hid/otg/device.py), so a host back on reads offline until then:
        a Shift tap, which types nothing, makes it check."""
        inp = self.inp
        hid = await self._hid_state()
        if hid is None or hid.keyboard.online:
            return
        self.pressed.append(PROBE_KEY)  # before the tap: a cancelled send may land
        await inp.key(PROBE_KEY)
        self.pressed.remove(PROBE_KEY)
        self.pacer.sent(2)
        await self._answer(link, await send_ping(inp.config, link))
        wait = max(inp.clock.idle_at - time.monotonic(), 0.0) + STATE_WAIT
        try:
            await self.supervisor.wait_for(
                lambda s: s.hid is None or s.hid.keyboard.online, timeout=wait
            )
        except PiKVMTimeoutError:
            result = self.result()
            if result.typed:
                what = (
                    f"went offline after {result.typed} of {result.total} characters, "
                    f"{len(result.uncertain)} of them uncertain (see .result)"
                )
            else:
                what = "is offline; nothing was typed"
            raise KeyboardOfflineError(
                f"{self.request}: kvmd says the target's keyboard {what}: the host is off or "
                "asleep, or its USB cable is unplugged",
                result=result,
                request=self.request,
            ) from None

    async def _fix_caps(self) -> int:
        """Caps Lock off while typing, back as it was after; the HID events sent."""
        if self.caps_at_start is None:
            hid = await self._hid_state()
            self.caps_at_start = hid is not None and hid.keyboard.leds.caps
            caps = self.caps_at_start
        else:
            hid = self._hid()
            caps = hid is not None and hid.keyboard.leds.caps
        wanted = self.caps_at_start if self.step >= len(self.plan) else False
        if caps == wanted:
            return 0
        self.caps_off = not wanted  # before the tap, which a cancellation may not stop
        await self.inp.key("CapsLock")
        return 2

    async def _type(self, link: Link) -> None:
        inp, plan = self.inp, self.plan
        while self.step < len(plan):
            step = plan[self.step]
            key = step.input
            is_modifier = key.key in MODIFIERS
            starts_char = not is_modifier and step.char >= self.attempted
            await self._pace()
            pacer = self.pacer  # the host's pace, once it echoes
            if starts_char:  # bound what is in flight
                await self._host_gate(link)
                await self._collect(link, wait=self._behind())
            if inp.state.clears != self.epoch:
                raise QueueLost
            if starts_char:
                self.attempted = step.char + 1  # from here on it may reach the target
            if is_modifier and key.state and key.key not in self.pressed:
                self.pressed.append(key.key)  # before the press: a cancelled send may land
            await inp.key(key.key, key.state, finish=key.finish)
            if is_modifier and not key.state and key.key in self.pressed:
                self.pressed.remove(key.key)
            self.step += 1
            self.events += step.hid_events
            pacer.sent(step.hid_events)
            if step.typed == step.char + 1:  # the character's last key
                await self._mark(link)
                if self.progress is not None:
                    result = self.progress(self.attempted, self.total)
                    if inspect.isawaitable(result):
                        await result
        if self.caps_off:
            await self.pacer.wait()
            self.caps_off = False
            await inp.key("CapsLock")
            self.events += 2
            self.pacer.sent(2)

    @property
    def all_sent(self) -> bool:
        """Whether the whole plan has gone out (kvmd's queue may run dry)."""
        return self.step >= len(self.plan)

    def _behind(self) -> bool:
        """Whether ``ack_every`` characters are out that kvmd has not answered for (with
        fixed pacing: that have not settled)."""
        if self.host is not None and self.host.echoed:
            return self.attempted - self.answered >= self.ack_every
        return self.attempted - self.settled >= self.ack_every

    async def _settle(self, link: Link) -> None:
        """Wait until every character sent is known to have arrived."""
        await self.pacer.wait()
        await self._mark(link)
        await self._host_settle(link)
        if self.host is not None:
            self.settled = self.attempted  # the host acknowledged each, or it is uncertain
            await self._collect(link, wait=False)
        while self.settled < self.attempted:
            if not self.bound.marks:
                # Everything is answered: one more ping, once the HID has had its time.
                if wait := self.bound.wait():
                    await asyncio.sleep(wait)
                await self._mark(link)
            await self._collect(link, wait=True)

    # ----- pings and what their answers prove ---------------------------------------------

    async def _mark(self, link: Link) -> None:
        sent_at = time.monotonic()  # no later than the ping leaves
        answer = await send_ping(self.inp.config, link)
        self.bound.marks.append(Mark(self.attempted, self.events, sent_at, answer))

    async def _collect(self, link: Link, *, wait: bool) -> None:
        """Take in the answers that came (waiting for the oldest one if ``wait``)."""
        marks = self.bound.marks
        while marks:
            mark = marks[0]
            if not mark.answer.done():
                if not wait:
                    return
                await self._answer(link, mark.answer)
                wait = False
            marks.popleft()
            if mark.answer.result() != self.epoch:
                raise QueueLost
            self.answered = max(self.answered, mark.pos)
            self.settled = max(self.settled, self.bound.answered(mark))

    async def _answer(self, link: Link, answer: asyncio.Future[int]) -> int:
        """The answer to a ping; a device silent for too long is a dead link."""
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT):
                return await answer  # cancelled on a timeout: its answer still matches it
        except TimeoutError:
            link.abort()
            raise ConnectionClosedError(
                f"{self.request}: no answer to a ping within {ANSWER_TIMEOUT} s; the link was cut",
                request=self.request,
            ) from None

    async def _undo(self) -> None:
        inp = self.inp
        with contextlib.suppress(PiKVMError):
            for key in reversed(self.pressed):
                if key in inp.state.held_keys:
                    await inp.key(key, False)
            self.pressed = []
            if self.caps_off:
                self.caps_off = False
                await inp.key("CapsLock")
            await self._restore_num()
