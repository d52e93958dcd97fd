"""Typing text: ``ws.type_text`` vs kvmd's own ``hid/print`` (``kvm.hid.type_text``), with
the emulator's default HID (1 ms per event) and with a rate-limited one, and whether every
character reached the target's screen.

Each variant is timed from the call until the whole text is on the target's screen (not
until the call returns: kvmd answers ``hid/print`` while its HID queue is still typing).
The WebSocket variants open a session, type and close it, all inside the timing (opening
takes milliseconds here). kvmd throws away what is still queued when a session closes, so
a variant that outruns the HID loses the end of the text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

from ._harness import Table, median, relative, spread

NAME: Final = "typing"
TEXT: Final = 'echo "Hi, PiKVM!"\n'
"""A short shell line: lower and upper case, Shift symbols, a newline."""

HID_CONFIGS: Final[dict[str, float | None]] = {
    "1 ms/event": None,
    "45 ev/s": 45.0,
}
"""The emulator's default (1 ms per event, a keyboard polled by a 1 kHz USB host), and
``hid_rate_limit=45``: about what a CH9329 serial HID at 9600 baud takes, the slowest kvmd
backend."""

SETTLE: Final = 0.3
"""The screen is final once it has shown the text, or not changed for this long."""
POLL: Final = 0.002
GIVE_UP: Final = 15.0


@dataclass
class Outcome:
    returned: float
    """Seconds until the call returned."""
    on_screen: float
    """Seconds until the screen stopped changing (the whole text, if it all arrived)."""
    arrived: str


Typist = Callable[[PiKVM], Awaitable[None]]


def ws_typist(delay: float | None) -> Typist:
    async def type_it(kvm: PiKVM) -> None:
        async with kvm.ws() as ws:
            if delay is None:
                await ws.type_text(TEXT)
            else:
                await ws.type_text(TEXT, delay=delay)

    return type_it


async def hid_print(kvm: PiKVM) -> None:
    await kvm.hid.type_text(TEXT, keymap="en-us")


VARIANTS: Final[dict[str, Typist]] = {
    "ws.type_text (ours, default pacing)": ws_typist(None),
    "ws.type_text(delay=0.005) (5 ms/event)": ws_typist(0.005),
    "ws.type_text(delay=0) (unpaced)": ws_typist(0.0),
    "kvm.hid.type_text (kvmd hid/print)": hid_print,
}
REFERENCE: Final = "ws.type_text (ours, default pacing)"


async def measure(emu: Emulator, kvm: PiKVM, typist: Typist) -> Outcome:
    """Type, then watch the screen until it shows the text or settles short of it."""
    emu.target.clear_screen()
    started = time.perf_counter()
    await typist(kvm)
    returned = time.perf_counter() - started
    last_text, last_change = emu.target.screen_text, time.perf_counter()
    while last_text != TEXT and time.perf_counter() - last_change < SETTLE:
        if time.perf_counter() - started > GIVE_UP:
            break
        await asyncio.sleep(POLL)
        text = emu.target.screen_text
        if text != last_text:
            last_text, last_change = text, time.perf_counter()
    on_screen = max(last_change - started, returned)
    return Outcome(returned, on_screen, _arrived(last_text))


def _arrived(text: str) -> str:
    if text == TEXT:
        return "all"
    return f"{len(text)}/{len(TEXT)}" if TEXT.startswith(text) else f"wrong: {text!r}"


async def run(repeat: int) -> Table:
    rows: list[dict[str, Any]] = []
    for config, rate_limit in HID_CONFIGS.items():
        outcomes: dict[str, list[Outcome]] = {name: [] for name in VARIANTS}
        async with (
            Emulator(hid_rate_limit=rate_limit) as emu,
            PiKVM(emu.url, passwd="admin") as kvm,
        ):
            for _ in range(repeat):
                for name, typist in VARIANTS.items():
                    outcomes[name].append(await measure(emu, kvm, typist))
        config_rows = []
        for name, runs in outcomes.items():
            on_screen = [outcome.on_screen for outcome in runs]
            arrived = sorted({outcome.arrived for outcome in runs})
            complete = arrived == ["all"]
            config_rows.append(
                {
                    "variant": name,
                    "hid": config,
                    "returned_s": median([outcome.returned for outcome in runs]),
                    "on_screen_s": median(on_screen),
                    "chars_per_s": len(TEXT) / median(on_screen) if complete else None,
                    "spread": spread(on_screen),
                    "arrived": " ".join(arrived),
                }
            )
        relative(config_rows, "chars_per_s", REFERENCE, higher_is_better=True)
        rows += config_rows
    return Table(
        name=NAME,
        title=f"Typing {len(TEXT)} characters {TEXT!r} (median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "hid": ("HID", ""),
            "returned_s": ("call s", ".2f"),
            "on_screen_s": ("on screen s", ".2f"),
            "chars_per_s": ("chars/s", ".0f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "arrived": ("arrived", ""),
        },
        rows=rows,
        notes=[
            "chars/s only where every character arrived, in every run; 'arrived' lists what "
            "the runs ended with (n/m: the first n characters, the rest lost).",
            "'speed vs ours' compares with the default-paced ws.type_text under the same HID.",
            "A session opening or closing makes kvmd drop queued input: hid/print is safe "
            "here only because nothing else connects while its queue drains.",
        ],
    )
