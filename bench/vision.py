"""Finding things on a 1920x1080 snapshot: ``find_image`` against one full-size colour
pass of OpenCV, and ``find_text`` (a local Tesseract) on a sparse and on a full screen.

The snapshots are the emulator's (its console, JPEG at kvmd's quality 80), taken through
the public client; then the pure functions of :mod:`aiopikvm.screen` are timed on them,
so no network is in the figures. No targets: the issue asks for the figures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

from aiopikvm import PiKVM, UnavailableError
from aiopikvm.emulator import Emulator
from aiopikvm.screen.match import find_image
from aiopikvm.screen.text import find_text

from ._harness import Table, median, relative, spread

NAME: Final = "vision"
SPARSE: Final = (
    "Debian GNU/Linux 12 pikvm tty1\n\npikvm login: admin\nPassword:\n"
    "Last login: Wed Dec  2 14:15:53 UTC 2026 on tty1\nadmin@pikvm:~$ systemctl status\n"
)
WORDS: Final = [
    "kernel",
    "systemd",
    "network",
    "mounted",
    "started",
    "reached",
    "target",
    "graphical",
    "login",
]
DENSE: Final = "\n".join(
    " ".join(WORDS[(row + i) % len(WORDS)] for i in range(11)) for row in range(44)
)
"""44 lines of 11 words: a console full of boot messages (~480 words)."""
BUTTON: Final = ("Continue", 1500, 900)
REFERENCE: Final = "find_image (ours)"


async def _snapshots() -> tuple[bytes, bytes, bytes, tuple[int, int, int, int]]:
    """``(sparse screen with a button, dense screen, the button's PNG, its box)``."""
    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(stream=True):
        emu.target.write(SPARSE)
        button = emu.target.show_button(*BUTTON)
        sparse = await _snapshot(kvm)
        emu.target.hide_buttons()
        emu.target.clear_screen()
        emu.target.write(DENSE)
        dense = await _snapshot(kvm)
    return sparse, dense, button.png(), button.box


async def _snapshot(kvm: PiKVM) -> bytes:
    for _ in range(100):
        try:
            return await kvm.streamer.snapshot()
        except UnavailableError:  # the streamer is starting
            await asyncio.sleep(0.1)
    raise RuntimeError("the emulator's video did not come up")


def _full_pass(shot: bytes, template: bytes) -> tuple[int, int, int, int] | None:
    """The plain way: decode both, one ``TM_CCOEFF_NORMED`` pass in colour at full size."""
    import cv2
    import numpy as np

    screen = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    needle = cv2.imdecode(np.frombuffer(template, np.uint8), cv2.IMREAD_COLOR)
    _, score, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(screen, needle, cv2.TM_CCOEFF_NORMED))
    if score < 0.95:
        return None
    return x, y, x + needle.shape[1], y + needle.shape[0]


def _decode_only(shot: bytes) -> None:
    import cv2
    import numpy as np

    cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


async def run(repeat: int) -> Table:
    sparse, dense, template, box = await _snapshots()

    def ours() -> Any:
        found = find_image(sparse, template)
        return None if found is None else found.box

    image_variants: dict[str, Callable[[], Any]] = {
        REFERENCE: ours,
        "one full-size colour pass": lambda: _full_pass(sparse, template),
        "JPEG decode alone (floor)": lambda: _decode_only(sparse),
    }
    text_variants: dict[str, Callable[[], Any]] = {
        "find_text, sparse screen (8 lines)": lambda: find_text(sparse, "status"),
        "find_text, full screen (44 lines)": lambda: find_text(dense, "graphical login"),
    }
    samples: dict[str, list[float]] = {name: [] for name in (*image_variants, *text_variants)}
    outcome: dict[str, Any] = {}
    for _ in range(repeat):  # interleaved: a neighbour's burst hits every variant alike
        for name, call in (*image_variants.items(), *text_variants.items()):
            seconds, outcome[name] = _timed(call)
            samples[name].append(seconds)
    rows: list[dict[str, Any]] = []
    for name in image_variants:
        result = outcome[name]
        right = "-" if name.startswith("JPEG") else str(result == box)
        rows.append(_row(name, samples[name], right))
    relative(rows, "ms", REFERENCE, higher_is_better=False)
    sparse_hits, dense_hits = (outcome[name] for name in text_variants)
    checks = [
        len(sparse_hits) == 1 and sparse_hits[0].box[1] >= 5 * 24,  # row 5 of the console
        len(dense_hits) == DENSE.count("graphical login"),
    ]
    for name, ok in zip(text_variants, checks, strict=True):
        rows.append(_row(name, samples[name], str(ok)))
    return Table(
        name=NAME,
        title=f"Finding things on a 1920x1080 JPEG snapshot (median of {repeat} runs)",
        columns={
            "variant": ("variant", ""),
            "ms": ("ms/call", ",.1f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "right": ("right answer", ""),
        },
        rows=rows,
        notes=[
            f"template: the emulator's {BUTTON[0]!r} button, {box[2] - box[0]}x"
            f"{box[3] - box[1]} px; every call decodes the JPEG (the floor row).",
            "find_text runs the tesseract program once per call; its time grows with the text"
            " on the screen. kvmd's own OCR would need a device round trip per region tried.",
        ],
    )


def _row(name: str, seconds: list[float], right: str) -> dict[str, Any]:
    return {
        "variant": name,
        "ms": median(seconds) * 1000,
        "spread": spread(seconds),
        "right": right,
    }
