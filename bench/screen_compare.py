"""The screen waits' comparison: the cost per snapshot of 1920x1080, and whether it is right.

Three snapshots from the emulator's noisy video (public client, one process): two of an
unchanged console, one after a typed character. Each variant says whether the two unchanged
ones differ (they should not: it is noise and a cursor's blink) and whether the typed
character does (it should), and what that costs per snapshot: a wait decodes each new
snapshot once and compares it with its reference.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable
from typing import Any, Final

import numpy as np
from PIL import Image

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.screen.compare import PIXEL_TOLERANCE, compare, decode

from ._harness import Table, calls_for, median, per_call_ns, relative, spread

NAME: Final = "compare"
CLOCK: Final = (1920 - 8 * 16, 0, 1920, 24)


async def _snapshots() -> tuple[bytes, bytes, bytes]:
    async with Emulator(streamer_start_delay=0) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        emu.target.write("debian login: root\nPassword:\n$ ")
        async with kvm.ws(stream=True):
            for _ in range(100):
                state = await kvm.streamer.get_state()
                if state.streamer is not None and state.streamer.source.online:
                    break
                await asyncio.sleep(0.05)
            first = await kvm.streamer.snapshot()
            await asyncio.sleep(0.5)  # the cursor's other half of the blink
            second = await kvm.streamer.snapshot()
            emu.target.write("x")
            typed = await kvm.streamer.snapshot()
    return first, second, typed


def _naive(a: bytes, b: bytes) -> bool:
    """What one writes without a downscale: any pixel over the tolerance is a change."""
    first = np.asarray(Image.open(io.BytesIO(a)).convert("L"), np.int16)
    second = np.asarray(Image.open(io.BytesIO(b)).convert("L"), np.int16)
    return bool((np.abs(first - second) > PIXEL_TOLERANCE).any())


async def run(repeat: int) -> Table:
    first, second, typed = await _snapshots()
    reference = decode(first)
    variants: dict[str, Callable[[bytes], bool]] = {
        "decode + compare (ours, per snapshot)": lambda shot: (
            compare(reference, decode(shot)).changed
        ),
        "decode + compare, ignore=[clock]": lambda shot: (
            compare(reference, decode(shot), ignore=[CLOCK]).changed
        ),
        "decode only (OpenCV, grey)": lambda shot: decode(shot) is None,
        "Pillow + NumPy, full size, no tolerance": functools.partial(_naive, first),
        "bytes != (the waits before)": lambda shot: shot != first,
    }
    right = {name: (not f(second), f(typed)) for name, f in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    calls = {
        name: max(3, calls_for(functools.partial(f, second), 0.2)) for name, f in variants.items()
    }
    for _ in range(repeat):  # interleaved: a neighbour's burst hits every variant alike
        for name, f in variants.items():
            samples[name].append(per_call_ns(functools.partial(f, second), calls[name]))
    rows: list[dict[str, Any]] = []
    for name in variants:
        noise_ok, char_ok = right[name]
        rows.append(
            {
                "variant": name,
                "ms": median(samples[name]) / 1e6,
                "spread": spread(samples[name]),
                "noise": noise_ok if "decode only" not in name else None,
                "char": char_ok if "decode only" not in name else None,
            }
        )
    relative(rows, "ms", "decode + compare (ours, per snapshot)", higher_is_better=False)
    return Table(
        name=NAME,
        title=f"Comparing 1920x1080 snapshots (median of {repeat} repeats)",
        columns={
            "variant": ("variant", ""),
            "ms": ("ms/snapshot", ".2f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "noise": ("noise is no change", ""),
            "char": ("a typed x is a change", ""),
        },
        rows=rows,
        notes=[
            "ours: decode to grey, shrink 4x by area, count pixels over 16 levels; a change"
            " is more than 64 screen pixels of area (a cursor blink is 64).",
            "The snapshots are JPEG at quality 80 of the emulator's console, with its"
            " per-frame noise and blinking cursor.",
        ],
    )
