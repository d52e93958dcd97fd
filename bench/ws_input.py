"""WebSocket input end to end: key taps per second through ``ws.send_key`` with binary
frames, with JSON frames, and through the HTTP endpoint ``kvm.hid.send_key``.

Every variant is timed from the first tap until the emulator has read the last one (a ping
round trip on the WebSocket; the HTTP answer itself), and then the target's screen is
checked for every tap. The emulator runs in the same process and event loop, so its own
cost is part of every figure, alike for all variants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

from ._harness import Table, median, relative, spread, timed

NAME: Final = "ws_input"
WS_TAPS: Final = 2000
HTTP_TAPS: Final = 200
"""Fewer over HTTP, which is slower, so that each variant takes well under a second."""

KEY: Final = "KeyA"
CHAR: Final = "a"
CLOSE_TIMEOUT: Final = 1.0
"""Closing, a session waits for the device's HID to type what it sent, assuming 25 ms an
event, at most ``close_timeout``: 10 s by default for 2,000 taps, though this emulator's
HID is instant. The wait is after the clock stops; a second keeps the screen check honest."""

Tapper = Callable[[PiKVM, int], Awaitable[float]]
"""Taps ``count`` times; the seconds it took, session set-up left out."""


def over_ws(binary: bool) -> Tapper:
    async def taps(kvm: PiKVM, count: int) -> float:
        async with kvm.ws(binary=binary, close_timeout=CLOSE_TIMEOUT) as ws:
            await ws.ping()  # the session is up and kvmd's connect-time clearing is done

            async def send() -> None:
                for _ in range(count):
                    await ws.send_key(KEY)
                await ws.ping()  # kvmd reads a session's frames in order

            return await timed(send)

    return taps


async def over_http(kvm: PiKVM, count: int) -> float:
    async def send() -> None:
        for _ in range(count):
            await kvm.hid.send_key(KEY)

    return await timed(send)


VARIANTS: Final[dict[str, tuple[Tapper, int]]] = {
    "ws.send_key, binary frames (ours, default)": (over_ws(binary=True), WS_TAPS),
    "ws.send_key, JSON frames (binary=False)": (over_ws(binary=False), WS_TAPS),
    "kvm.hid.send_key (HTTP POST per tap)": (over_http, HTTP_TAPS),
}
REFERENCE: Final = "ws.send_key, binary frames (ours, default)"


async def run(repeat: int) -> Table:
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    lost: dict[str, int] = dict.fromkeys(VARIANTS, 0)
    # An instant HID: this measures what each path costs the client and kvmd's front end;
    # a real HID's pace (1 ms per event at best) would only queue the taps.
    async with Emulator(hid_delay=0) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.hid.send_key(KEY)  # warm up the HTTP connection pool
        for _ in range(repeat):
            for name, (tapper, count) in VARIANTS.items():
                emu.target.clear_screen()
                rates[name].append(count / await tapper(kvm, count))
                lost[name] += count - emu.target.screen_text.count(CHAR)

    rows: list[dict[str, Any]] = [
        {
            "variant": name,
            "taps": count,
            "taps_per_s": median(rates[name]),
            "us_per_tap": 1e6 / median(rates[name]),
            "spread": spread(rates[name]),
            "all_arrived": lost[name] == 0,
            "lost": lost[name],
        }
        for name, (_, count) in VARIANTS.items()
    ]
    relative(rows, "taps_per_s", REFERENCE, higher_is_better=True)
    return Table(
        name=NAME,
        title=f"Key taps end to end over loopback (median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "taps": ("taps/run", "d"),
            "taps_per_s": ("taps/s", ",.0f"),
            "us_per_tap": ("us/tap", ".0f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs binary", ".2f"),
            "all_arrived": ("all arrived", ""),
        },
        rows=rows,
        notes=[
            "A tap is one frame (a press with finish; kvmd releases the key) or one request.",
            "Client and emulator share one process and one event loop: a real device's CPU and "
            "network change the absolute figures, not which path costs less.",
        ],
    )
