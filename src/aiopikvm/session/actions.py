"""What a WebSocket session does on top of single keys: typing text, shortcuts, held keys,
and waiting for the live state. Mixed into :class:`~aiopikvm.PiKVMWebSocket` (see its
methods for the API) over the session's :class:`~.input.InputPath` and
:class:`~.supervisor.Supervisor`.

Pacing of :meth:`SessionActions.type_text`, from kvmd's source
(``kvmd/plugins/hid/...``): every key press or release becomes one event on the HID's
queue, a ``multiprocessing`` queue with no size limit. A separate process takes one event
at a time and hands it to the hardware: on the USB gadget (``otg``) it writes a report to
``/dev/hidgN`` and waits up to 0.1 s for the host to take it — with more events queued, a
report the host has not taken by then is skipped, fresh input first; a CH9329 serial chip
(9600 baud by default) needs about 22 ms per event for the command and its answer; the
serial/SPI microcontrollers have a round trip per event and drop the *whole* queue on an
error. And whenever any session opens or closes, kvmd drops everything still queued.
So text sent faster than the slowest link drains sits in that queue, where an unrelated
session (another browser tab, a script's next ``kvm.type_text``) or a glitch throws it away.
How typing notices that, and goes on, is in :mod:`.typist`.

By default typing follows the host's own pace, acknowledged by its keyboard-LED echoes
(:mod:`.pace`); when the host does not echo, or with a ``delay``, it keeps a fixed pace. The
fixed pace's default, ``delay=0.025`` s per HID event (40 events/s; a tap is two events, a
press or release of Shift/AltGr one), stays under the CH9329's 45 events/s, and near kvmd's
own ``hid/print?slow=1`` (20 ms per event); about 20 plain characters a second. On a USB OTG
PiKVM the host sets the pace: it takes one report per poll (every 1-10 ms; firmware often
polls every 10 ms, 100 reports a second), and kvmd skips a report not taken within 0.1 s, so
a smaller ``delay`` is safe only at a rate measured on that host. Frames are not sent before
their time (the pace is kept from a schedule, so a slow send does not make the next ones
bunch up), and a ping follows every character: no more than ``ack_every`` characters go out
before kvmd has answered for the ones before them, so that a network stall that holds frames
back and then delivers them at once delivers at most that many.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from .._checks import (
    check_callable,
    check_delay,
    check_key,
    check_names,
    check_timeout,
)
from .._typing_defaults import (
    DEFAULT_ACK_EVERY,
    DEFAULT_TYPING_DELAY,
    check_typing,
    resolve_ack,
)
from ..errors import InvalidInputError, PiKVMError
from ..protocol.keys import FINISH_EXEMPT
from ..protocol.layout import Layout
from ..protocol.typing import TypingResult, plan_typing
from .input import InputPath
from .supervisor import Supervisor

if TYPE_CHECKING:
    from ..models import DeviceState
    from .typist import Progress

SHORTCUT_DELAY: Final = 0.05
"""Seconds between the presses and releases of a shortcut: what kvmd's own
``hid/events/send_shortcut`` waits."""


class SessionActions:
    """Typing, shortcuts, held keys and state waits for a session."""

    _input: InputPath
    _run: Supervisor

    async def wait_for(
        self, predicate: Callable[[DeviceState], bool], *, timeout: float | None
    ) -> DeviceState:
        """Wait until ``predicate(ws.state)`` holds, and return that state.

        The predicate is checked now and after every event the session receives, e.g.
        ``await ws.wait_for(lambda s: s.atx is not None and s.atx.leds.power, timeout=30)``.
        Raises :class:`PiKVMTimeoutError` when ``timeout`` seconds pass first (None waits
        for ever), :class:`ConnectionClosedError` if the session ends (with ``reconnect``,
        it waits across reconnects, on the state read afresh).
        """
        check_callable(predicate, "predicate")
        check_timeout(timeout, none_ok=True, zero_ok=True)
        return await self._run.wait_for(predicate, timeout=timeout)

    # ----- typing -------------------------------------------------------------------------

    async def type_text(
        self,
        text: str,
        *,
        layout: str | Layout = "en-us",
        delay: float | None = None,
        progress: Progress | None = None,
        ack_every: int = DEFAULT_ACK_EVERY,
        ack: str = "auto",
    ) -> TypingResult:
        """Type ``text`` on a target whose keyboard layout is ``layout``, and say how it went.

        ``layout`` is the layout configured on the *target's* OS, as a kvmd keymap name
        (``"de"``, ``"fr"``, ``"en-gb"``; :data:`aiopikvm.protocol.layout.LAYOUTS`). Each
        character becomes the keys that type it there — Shift, AltGr, a dead key and its
        base — each key tapped with ``finish`` (kvmd releases it at once). ``"\\n"`` is
        Enter, ``"\\t"`` Tab. The whole text is checked first: if any character cannot be
        typed on that layout, :class:`~aiopikvm.UntypableTextError` lists each one with its
        position, and nothing is sent. There is no length limit.

        Pacing. By default (``ack="auto"``, a text of 16 characters or more) typing
        follows the host's own pace: every few characters it toggles Num Lock,
        and the host's keyboard-LED echo, which kvmd publishes, acknowledges everything
        sent before it (see :mod:`aiopikvm.session.pace`); no more than a small window of
        characters goes out unacknowledged, so kvmd's queue stays short, and the toggles
        come in pairs, so Num Lock ends as it began. Until the first echo, and for good if
        none comes within half a second (a host or firmware that does not set its LEDs),
        typing goes on at the fixed pace below, and the result's ``fallback`` says why.
        A ``delay`` is then the least time per event, and one the host was slower than is
        reported (``delay_too_short``, ``host_event_time``), not believed. ``ack="host"``
        asks the host whatever the text's length; ``ack="kvmd"`` never touches Num Lock.

        With ``ack="kvmd"``, for a shorter text, or when the host does not echo, typing is
        paced at ``delay`` seconds per HID event (a tap is two; default 0.025):
        ``delay`` is taken as the time the device needs per event, and kvmd's answers vouch
        for the characters. A ping follows each character, and no more than ``ack_every``
        characters go out before kvmd has answered for the ones before. The call returns
        once every character is known to have reached the target, with a
        :class:`~aiopikvm.TypingResult` that says what vouches for each.
        ``progress(typed, total)`` is called after each character. If Caps Lock is on (as
        the device reports it), it is switched off for the typing and back on after. Keys
        held on this session would turn the text into shortcuts, so they are refused.
        Typing owns the session's input while it runs: keys, mouse input, shortcuts and
        held keys sent from other tasks wait until it is done, so they can neither garble
        the text nor slip in unnoticed.

        When kvmd throws away the input in flight — another session opened or closed, or
        this one dropped and reconnected (``reconnect``) — typing goes on after the last
        character sent, never sending one twice, and the result's ``uncertain`` lists
        those that may not have arrived. When the connection is gone for good, it raises
        :class:`~aiopikvm.TypingInterruptedError` with that ``result``. kvmd takes input
        for a keyboard it reports offline (the host off or asleep, the cable unplugged) and
        drops it: typing then taps Shift, which types nothing, since kvmd notices a host
        that came back only once it writes to it, and raises
        :class:`~aiopikvm.KeyboardOfflineError` before any character if the keyboard stays
        offline; one going offline midway stops typing with the same error and its
        ``result``. Whatever the typing pressed is released before an exception or a
        cancellation propagates; the target may still hold a dead key then.
        """
        check_typing(layout, delay, ack_every, progress, ack)
        plan = plan_typing(text, layout)
        if self._run.finished:
            raise self._run.closed()
        async with self._input.lock:
            held = self._input.state.held_keys
            if held:
                raise InvalidInputError(
                    "keys are held on this session and would turn the text into shortcuts: "
                    + ", ".join(held)
                )
            from .typist import Typist  # on first use: a session that never types skips it

            typist = Typist(
                self._input,
                plan,
                len(text),
                delay=DEFAULT_TYPING_DELAY if delay is None else delay,
                ack_every=ack_every,
                progress=progress,
                host=resolve_ack(ack, delay, len(text)),
                floor=delay,
            )
            return await typist.run()

    # ----- shortcuts and held keys --------------------------------------------------------

    async def send_shortcut(self, *keys: str, delay: float = SHORTCUT_DELAY) -> None:
        """Press ``keys`` in order, then release them in reverse: ``send_shortcut(
        "ControlLeft", "AltLeft", "Delete")``. The last key is pressed with ``finish`` so
        it cannot auto-repeat; ``delay`` seconds pass between steps, as in kvmd's own
        shortcut endpoint. Everything pressed is released, also on exception or
        cancellation."""
        _check_keys(keys, "send_shortcut")
        check_delay(delay)
        *chord, last = keys
        async with self._input.lock:
            pressed: list[str] = []  # each key before its press: a cancelled send may land
            try:
                for key in chord:
                    pressed.append(key)
                    await self._input.key(key, True)
                    await asyncio.sleep(delay)
                if last in FINISH_EXEMPT:
                    pressed.append(last)
                    await self._input.key(last, True)
                else:
                    await self._input.key(last, True, finish=True)
                while pressed:
                    await asyncio.sleep(delay)
                    await self._input.key(pressed[-1], False)
                    pressed.pop()
            finally:
                if pressed:
                    await _shielded(self._release_keys(pressed))

    @contextlib.asynccontextmanager
    async def held(self, *keys: str) -> AsyncIterator[None]:
        """Hold ``keys`` down for the ``async with`` block: pressed in order on entry,
        released in reverse on exit — normally, by an exception or by cancellation::

            async with ws.held("ShiftLeft"):
                await ws.click(100, 200)  # a shift-click

        The keys are pressed once typing or a shortcut running on the session has ended. A
        reconnect releases them (see :class:`~aiopikvm.PiKVMWebSocket`).
        """
        _check_keys(keys, "held")
        pressed: list[str] = []
        try:
            async with self._input.lock:
                for key in keys:
                    pressed.append(key)  # before the press: a cancelled send may land
                    await self._input.key(key, True)
            yield
        finally:
            if pressed:
                await _shielded(self._release_keys(pressed))

    async def _release_keys(self, pressed: list[str]) -> None:
        # Without the lock: a clean-up runs in a task of its own, while its owner holds it.
        with contextlib.suppress(PiKVMError):
            for key in reversed(pressed):
                await self._input.key(key, False)


# ----- helpers --------------------------------------------------------------------------


async def _shielded(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run ``cleanup`` to the end even if the caller is cancelled (again) meanwhile."""
    await asyncio.shield(asyncio.ensure_future(cleanup))


def _check_keys(keys: tuple[str, ...], call: str) -> None:
    check_names(keys, "keys", call, check_key)
    if not keys:
        raise InvalidInputError(f"{call}() needs at least one key")
    if len(set(keys)) != len(keys):
        raise InvalidInputError(f"a key appears twice in keys: {', '.join(keys)}")
