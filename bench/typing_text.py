"""Typing text: ``ws.type_text`` vs kvmd's own ``hid/print`` (``kvm.hid.type_text``), with
the emulator's default HID (1 ms per event) and with a rate-limited one, and whether every
character reached the target's screen.

Each variant is timed from the call until the whole text is on the target's screen (not
until the call returns: kvmd answers ``hid/print`` while its HID queue is still typing).
The WebSocket variants open a session, type and close it, all inside the timing (opening
takes milliseconds here). kvmd throws away what is still queued when a session closes, so
a variant that outruns the HID loses the end of the text.

Then the host's own pace: on an emulated USB host polling every 1, 4 and 10 ms (one report
per poll, kvmd's skip rule), and on one that does not echo the keyboard LEDs, today's
default pacing (``ack="kvmd"``) against host-acknowledged typing (the default) and
``delay=0.001``. Each host types a text it takes about a second for at its report limit
(one report per poll: a plain character is two), so the figures are not the session's
opening and closing; default pacing types a shorter one (its pace is the same everywhere).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

from ._harness import Table, Target, median, relative, spread

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


def ws_typist(delay: float | None, **options: Any) -> Typist:
    async def type_it(kvm: PiKVM) -> None:
        async with kvm.ws() as ws:
            if delay is None:
                await ws.type_text(TEXT, **options)
            else:
                await ws.type_text(TEXT, delay=delay)

    return type_it


async def hid_print(kvm: PiKVM) -> None:
    await kvm.hid.type_text(TEXT, keymap="en-us")


VARIANTS: Final[dict[str, Typist]] = {
    "ws.type_text (ours, default: host-acknowledged)": ws_typist(None),
    "ws.type_text(ack='kvmd') (fixed default pacing)": ws_typist(None, ack="kvmd"),
    "ws.type_text(delay=0.005) (5 ms/event)": ws_typist(0.005),
    "ws.type_text(delay=0) (unpaced)": ws_typist(0.0),
    "kvm.hid.type_text (kvmd hid/print)": hid_print,
}
REFERENCE: Final = "ws.type_text(ack='kvmd') (fixed default pacing)"


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


ACK_HOSTS: Final[dict[str, tuple[float, bool]]] = {
    "1 ms poll": (0.001, True),
    "4 ms poll": (0.004, True),
    "10 ms poll": (0.01, True),
    "10 ms, no echo": (0.01, False),
}
"""Host -> (poll interval, whether it echoes the LEDs)."""
ACK_UNIT: Final = "the quick brown fox jumps over the lazy dog "
"""Plain characters only: two reports each, so a host's limit is one per two polls."""
SLOW_TEXT: Final = ACK_UNIT[:30]
ACK_VARIANTS: Final[dict[str, dict[str, Any]]] = {
    "default pacing (ack=kvmd)": {"ack": "kvmd"},
    "host-acknowledged (default)": {},
    "delay=0.001 (ack=kvmd)": {"delay": 0.001, "ack": "kvmd"},
    "delay=0.001 (default: checked by the host)": {"delay": 0.001},
}
ACK_REFERENCE: Final = "default pacing (ack=kvmd)"
TARGET_SHARE: Final = 0.8
"""Host-acknowledged typing: at least this share of the host's report limit."""


@dataclass
class Typed:
    seconds: float
    lost: int
    result: Any


async def type_on(emu: Emulator, kvm: PiKVM, text: str, options: dict[str, Any]) -> Typed:
    """Type ``text``; seconds until it is all on the screen, characters lost."""
    emu.target.clear_screen()
    started = time.perf_counter()
    result = await kvm.type_text(text, **options)
    last_text, last_change = emu.target.screen_text, time.perf_counter()
    while last_text != text and time.perf_counter() - last_change < SETTLE:
        await asyncio.sleep(POLL)
        if emu.target.screen_text != last_text:
            last_text, last_change = emu.target.screen_text, time.perf_counter()
    seconds = max(last_change, started) - started
    return Typed(seconds, _lost(text, last_text), result)


def _lost(text: str, screen: str) -> int:
    """Characters of ``text`` not on ``screen`` (as a subsequence, in order)."""
    found = 0
    for char in screen:
        if found < len(text) and text[found] == char:
            found += 1
    return len(text) - found


async def run_acked(repeat: int) -> tuple[list[dict[str, Any]], list[Target]]:
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for host, (poll, echo) in ACK_HOSTS.items():
        limit = 1 / (2 * poll)  # characters a second at one report per poll
        # The host that does not echo gets the default pacing: a text twice its length.
        text = (ACK_UNIT * 20)[: max(int(limit), 80)] if echo else SLOW_TEXT * 2
        host_rows = []
        async with (
            Emulator(hid_poll=poll, hid_led_echo=echo) as emu,
            PiKVM(emu.url, passwd="admin") as kvm,
        ):
            for name, options in ACK_VARIANTS.items():
                slow = name == ACK_REFERENCE  # the same pace everywhere: a shorter text
                typed = SLOW_TEXT if slow else text
                runs = [
                    await type_on(emu, kvm, typed, options)
                    for _ in range(1 if slow or not echo else repeat)  # fixed paces: once
                ]
                length = len(typed)
                seconds = median([typed.seconds for typed in runs])
                lost = sum(typed.lost for typed in runs)
                last = runs[-1].result
                host_rows.append(
                    {
                        "variant": name,
                        "hid": host,
                        "on_screen_s": seconds,
                        "chars_per_s": None if lost else length / seconds,
                        "of_limit": None if lost else length / seconds / limit,
                        "lost": lost,
                        "uncertain": sum(len(typed.result.uncertain) for typed in runs),
                        "vouched": "host" if last.host_vouched == last.typed else last.ack,
                        "arrived": f"{length} chars x{len(runs)}",
                        "fallback": last.fallback,
                    }
                )
                if name == "host-acknowledged (default)":
                    rate = length / seconds
                    if echo:
                        targets.append(
                            Target(
                                f"host-acknowledged chars/s at {host} (80 % of {limit:.0f})",
                                rate,
                                TARGET_SHARE * limit,
                            )
                        )
                    else:
                        reference = next(r for r in host_rows if r["variant"] == ACK_REFERENCE)
                        targets.append(
                            Target(
                                f"chars/s on a host that does not echo, vs default pacing "
                                f"({reference['chars_per_s']:.1f})",
                                rate,
                                0.95 * reference["chars_per_s"],
                                fmt=".1f",
                            )
                        )
                    targets.append(
                        Target(f"characters lost, host-acknowledged, {host}", lost, 0, False)
                    )
        relative(host_rows, "chars_per_s", ACK_REFERENCE, higher_is_better=True)
        rows += host_rows
    return rows, targets


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
    acked_rows, targets = await run_acked(repeat)
    rows += acked_rows
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
            "of_limit": ("of host limit", ".0%"),
            "lost": ("lost", "d"),
            "uncertain": ("uncertain", "d"),
            "vouched": ("vouched by", ""),
        },
        rows=rows,
        targets=targets,
        notes=[
            "chars/s only where every character arrived, in every run; 'arrived' lists what "
            "the runs ended with (n/m: the first n characters, the rest lost).",
            "'speed vs ours' compares with ws.type_text at the fixed default pacing "
            "(ack='kvmd', the default before host acknowledgements) under the same HID.",
            "A session opening or closing makes kvmd drop queued input: hid/print is safe "
            "here only because nothing else connects while its queue drains.",
            "Host rows: 'of host limit' is chars/s over one report per poll (two a plain "
            "character); 'lost' counts characters missing from the screen over all runs, "
            "'uncertain' those the results reported in doubt; 'vouched by' what vouched "
            "for them (host: keyboard-LED echoes; kvmd: its answers to pings); "
            "'speed vs ours' there compares with default pacing on the same host.",
            "On the host that does not echo, host-acknowledged typing falls back to the "
            "default pacing after 0.5 s without an echo (the result's 'fallback' says so).",
        ],
    )
