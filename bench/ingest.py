"""Event ingest: how many kvmd events a session takes in per CPU-second of the client —
parsed, merged into the state, queued for ``events()`` — against what the transport alone
and ``json.loads`` alone cost on the same frames.

The frames come from another process (``bench._servers`` replay: the captured full-state
burst, then the captured updates over and over, as fast as the socket takes them), so
only the client's work is on the client's CPU clock (``time.process_time``), from the open
connection to the last event read. A task reads ``events()`` and, every
:data:`STATE_EVERY` events, ``ws.state``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from websockets.asyncio.client import connect

from aiopikvm import PiKVMWebSocket
from aiopikvm.protocol import json_loads

from ._harness import Table, Target, median, relative, spread
from ._procs import Child
from ._servers import BURST, captures_dir, replay_frames, update_cycle

NAME: Final = "ingest"
UPDATES: Final = 40_000
"""Updates per run after the burst (``--events``): under half a second of the client."""
STATE_EVERY: Final = 1000
TARGET: Final = 100_000.0
"""Events per CPU-second through parse + merge + a readable ``ws.state``."""
CLOSE_TIMEOUT: Final = 5.0


@dataclass
class Run:
    events: int
    cpu_s: float
    dropped: int | None = None
    state_reads: int | None = None
    state_ok: bool | None = None


async def ours(url: str, expected: int, reference: dict[str, Any] | None) -> tuple[Run, Any]:
    """A session read to its ``expected``-th event: the run, and the final state."""
    async with PiKVMWebSocket(url, close_timeout=CLOSE_TIMEOUT) as ws:
        # Nothing has been read yet: the session's reader starts at the first await.
        started = time.process_time()
        seen = reads = 0
        readable = True
        async for _ in ws.events():
            seen += 1
            if seen % STATE_EVERY == 0:
                reads += 1
                readable = readable and ws.state.streamer is not None
            # Dropped events (a full queue) were merged all the same; the newest stay.
            if seen + ws.dropped_events >= expected:
                break
        cpu_s = time.process_time() - started
        final = ws.state.model_dump()
        same = reference is None or final == reference
        return Run(expected, cpu_s, ws.dropped_events, reads, readable and same), final


async def bare_websockets(url: str, expected: int, *, parse: bool) -> Run:
    async with connect(url) as conn:
        started = time.process_time()
        seen = 0
        async for message in conn:
            if parse:
                json.loads(message)
            seen += 1
            if seen == expected:
                break
        return Run(expected, time.process_time() - started)


def bare_json(frames: list[str]) -> Run:
    started = time.process_time()
    for frame in frames:
        json.loads(frame)
    return Run(len(frames), time.process_time() - started)


REFERENCE: Final = "PiKVMWebSocket: events() + ws.state (ours)"
WITH_JSON: Final = "websockets recv + json.loads (no merge)"
TRANSPORT: Final = "websockets recv only (transport floor)"
PARSE: Final = "json.loads of the same frames (parse floor)"
VARIANTS: Final = (REFERENCE, WITH_JSON, TRANSPORT, PARSE)


async def run(repeat: int, events: int | None = None) -> Table:
    updates = events or UPDATES
    captures = captures_dir()
    capture = (captures / "ws_events.jsonl").read_text()
    frames = replay_frames(capture, updates)
    expected = len(frames)
    cycle = len(update_cycle(capture))
    runs: dict[str, list[Run]] = {name: [] for name in VARIANTS}
    async with Child("bench._servers", "replay", "--captures", str(captures)) as server:
        # The state after the burst and one cycle is the state after any number of cycles.
        _, reference = await ours(f"{server.url}/{cycle}", BURST + cycle, None)
        url = f"{server.url}/{updates}"
        for _ in range(repeat):
            for name in VARIANTS:
                if name == REFERENCE:
                    runs[name].append((await ours(url, expected, reference))[0])
                elif name == PARSE:
                    runs[name].append(bare_json(frames))
                else:
                    runs[name].append(await bare_websockets(url, expected, parse=name == WITH_JSON))

    rows: list[dict[str, Any]] = []
    for name, samples in runs.items():
        rates = [sample.events / sample.cpu_s for sample in samples]
        last = samples[-1]
        rows.append(
            {
                "variant": name,
                "events": last.events,
                "events_per_cpu_s": median(rates),
                "us_per_event": 1e6 / median(rates),
                "spread": spread(rates),
                "dropped": None if last.dropped is None else max(s.dropped or 0 for s in samples),
                "state_reads": last.state_reads,
                "state_ok": None if last.state_ok is None else all(s.state_ok for s in samples),
            }
        )
    relative(rows, "events_per_cpu_s", REFERENCE, higher_is_better=True)
    by_name = {row["variant"]: row for row in rows}
    ours_us = by_name[REFERENCE]["us_per_event"]
    return Table(
        name=NAME,
        title=f"Event ingest, {expected:,} frames from a replay server in another process "
        f"(client CPU time, median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "events": ("events/run", ",d"),
            "events_per_cpu_s": ("events/CPU-s", ",.0f"),
            "us_per_event": ("CPU us/event", ".1f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "dropped": ("dropped", ",d"),
            "state_reads": ("state reads", "d"),
            "state_ok": ("state ok", ""),
        },
        rows=rows,
        targets=[
            Target(
                "events per CPU-second through parse + merge + ws.state",
                by_name[REFERENCE]["events_per_cpu_s"],
                TARGET,
            )
        ],
        notes=[
            f"Frames: the captured burst ({BURST}), then {len(frames) - BURST:,} updates: the "
            f"capture's info and streamer partials and its gpio/atx/msd/hid events, {cycle} "
            "a cycle. 'speed vs ours' > 1: that much less CPU per event than ours.",
            f"Ours: {ours_us:.1f} us/event, of which the transport "
            f"{by_name[TRANSPORT]['us_per_event']:.1f} and json.loads "
            f"{by_name[PARSE]['us_per_event']:.1f}; the rest is merge, models and queueing. "
            f"Ours parses with {json_loads.parser()} (json without the fast extra).",
            f"'state reads': ws.state read every {STATE_EVERY:,} events taken from events(); "
            "'state ok': always readable, and the final state equals the one after a single "
            "cycle. 'dropped': events the session's queue (max_queue, 1024) let go because "
            "the reader fell behind; they were merged all the same.",
        ],
    )
