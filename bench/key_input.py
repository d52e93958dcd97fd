"""Key input cost: client CPU time per key event through ``ws.send_key`` vs a bare
``websockets`` client sending the same binary frames, both to a sink server in another
process (``bench._servers`` sink: reads and discards, answers kvmd's ping).

The bare client sends exactly what the session sent: the frames are learnt from the sink,
which reports the distinct frames of a first, short session. Each run alternates press and
release of one key, and is timed on the client's CPU clock (``time.process_time``) from the
first event until a ping round trip shows the sink has read them all.
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect

from aiopikvm import PiKVMWebSocket

from ._harness import Table, Target, median, relative, spread
from ._procs import Child
from ._servers import captures_dir, ping_pong

NAME: Final = "input"
EVENTS: Final = 20_000
"""Key events per run (``--events``): press, release, press, ..."""
KEY: Final = "KeyA"
TARGET: Final = 0.8
"""Ours must reach this fraction of the bare client's events per CPU-second."""
CLOSE_TIMEOUT: Final = 1.0
"""A session waits on closing for the HID to type what it sent (25 ms an event, at most
close_timeout); the sink has no HID, and this is after the clock stops."""
REPORT_TIMEOUT: Final = 30.0


async def ours(url: str, count: int) -> float:
    async with PiKVMWebSocket(url, close_timeout=CLOSE_TIMEOUT) as ws:
        await ws.ping()  # the session is up
        started = time.process_time()
        for i in range(count):
            await ws.send_key(KEY, i % 2 == 0)
        await ws.ping()
        return time.process_time() - started


async def bare(url: str, count: int, frames: list[bytes], ping: bytes, pong: bytes) -> float:
    async def round_trip(conn: ClientConnection) -> None:
        await conn.send(ping)
        while await conn.recv() != pong:
            pass

    async with connect(url) as conn:
        await round_trip(conn)
        started = time.process_time()
        for i in range(count):
            await conn.send(frames[i % 2])
        await round_trip(conn)
        return time.process_time() - started


REFERENCE: Final = "ws.send_key(KEY, True/False) (ours)"
BARE: Final = "websockets send of the same frames (floor)"
VARIANTS: Final = (REFERENCE, BARE)


async def run(repeat: int, events: int | None = None) -> Table:
    count = events or EVENTS
    captures = captures_dir()
    ping, pong = ping_pong(captures)
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    reports: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    async with Child("bench._servers", "sink", "--captures", str(captures)) as sink:

        async def report() -> dict[str, Any]:
            report: dict[str, Any] = json.loads(await sink.readline(REPORT_TIMEOUT))
            return report

        await ours(sink.url, 2)  # what a press and a release are, on the wire
        learnt = await report()
        frames = [bytes.fromhex(frame) for frame in learnt["distinct"]]
        if not learnt["binary"] or len(frames) != 2:
            raise RuntimeError(f"expected two binary frames from a press and release: {learnt}")
        for _ in range(repeat):
            for name in VARIANTS:
                if name == REFERENCE:
                    cpu[name].append(await ours(sink.url, count))
                else:
                    cpu[name].append(await bare(sink.url, count, frames, ping, pong))
                reports[name].append(await report())

    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        rates = [count / seconds for seconds in cpu[name]]
        got = reports[name]
        rows.append(
            {
                "variant": name,
                "events": count,
                "events_per_cpu_s": median(rates),
                "us_per_event": 1e6 / median(rates),
                "spread": spread(rates),
                "all_arrived": all(r["frames"] == count for r in got),
                "same_frames": all(r["distinct"] == learnt["distinct"] for r in got),
                "bytes_per_event": got[-1]["bytes"] / max(got[-1]["frames"], 1),
            }
        )
    relative(rows, "events_per_cpu_s", BARE, higher_is_better=True)
    ratio = rows[0]["rel"]
    return Table(
        name=NAME,
        title=f"Key input, {count:,} events a run to a sink server in another process "
        f"(client CPU time, median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "events": ("events/run", ",d"),
            "events_per_cpu_s": ("events/CPU-s", ",.0f"),
            "us_per_event": ("CPU us/event", ".1f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs floor", ".2f"),
            "bytes_per_event": ("bytes/frame", ".0f"),
            "all_arrived": ("all arrived", ""),
            "same_frames": ("same frames", ""),
        },
        rows=rows,
        targets=[
            Target(
                "ours as a fraction of the floor's events per CPU-second", ratio, TARGET, fmt=".2f"
            )
        ],
        notes=[
            f"Frames: {' and '.join(learnt['distinct'])} (hex), what ws.send_key sent for a "
            "press and a release, as the sink received them; the floor sends these bytes.",
            "'all arrived': the sink counted every event of every run; the clock includes a "
            "ping round trip at the end, for both.",
        ],
    )
