"""A fleet in one process: many concurrent ``PiKVMWebSocket`` sessions against emulator
processes, and many ``PiKVM`` clients, with the resident memory each costs.

The emulators (``python -m aiopikvm.emulator``) run in processes of their own, so that
their memory and CPU are not the client's. Like kvmd, an emulator sends the full state to
every open session whenever a session connects: opening n sessions on one device sends
about n²/2 bursts. Each variant runs in a fresh client process (``bench._fleet``), which
measures its own ``VmRSS`` before creating anything and once everything is open and has
received all its events; the difference over the count is the figure. Sessions are opened
all at once, each with the default ``open_timeout`` (10 s): a handshake that takes longer
is counted as failed, with its error, not raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Final

from ._harness import Table, Target, median
from ._procs import Child, raise_fd_limit, run_child

NAME: Final = "sessions"
SESSIONS: Final = 1000
"""Sessions, and clients, per variant (``--sessions``)."""
EMULATORS: Final = 10
TARGET_KIB: Final = 100.0
"""Resident memory per session, and per client, in KiB."""

WS_QUIET: Final = "PiKVMWebSocket, nobody reads events()"
WS_READ: Final = "PiKVMWebSocket + a task reading events()"
HTTP: Final = "PiKVM('http://...'), created"
HTTPS: Final = "PiKVM('https://...'), created"
VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    WS_QUIET: ("ws",),
    WS_READ: ("ws", "--reader"),
    HTTP: ("clients", "--scheme", "http"),
    HTTPS: ("clients", "--scheme", "https"),
}


def child_timeout(count: int) -> float:
    """A generous guard on one client process: its own deadlines come first."""
    return 300.0 + count * 0.5


async def one_run(count: int, args: tuple[str, ...], urls: list[str]) -> dict[str, Any]:
    kind, *flags = args
    argv = [kind, "--count", str(count), *flags, *(["--urls", *urls] if kind == "ws" else [])]
    try:
        out, _ = await run_child("bench._fleet", *argv, timeout=child_timeout(count))
    except TimeoutError:
        return {"count": count, "error": f"no result within {child_timeout(count):.0f} s"}
    except RuntimeError as exc:
        return {"count": count, "error": str(exc)}
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def outcome(result: dict[str, Any]) -> str:
    """What went wrong, briefly (the whole of it is in the JSON); "ok" when nothing did."""
    if "error" in result:
        first = result["error"].strip().splitlines()[0]
        return f"failed: {first[:97] + '...' if len(first) > 100 else first}"
    problems = []
    for key, what in (("failures", "not opened"), ("settle_failures", "lost after opening")):
        for error, times in result.get(key, {}).items():
            problems.append(f"{times} {what}: {error}")
    if not problems and result.get("open_at_end", 0) < result["count"]:
        problems.append(f"{result['count'] - result['open_at_end']} closed by the device")
    return "; ".join(problems) or "ok"


async def run(repeat: int, sessions: int | None = None) -> Table:
    count = sessions or SESSIONS
    emulators = min(EMULATORS, count)
    raise_fd_limit(count + 256)  # the children inherit it
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    async with contextlib.AsyncExitStack() as stack:
        servers = await asyncio.gather(
            *(
                stack.enter_async_context(Child("aiopikvm.emulator", "--port", "0"))
                for _ in range(emulators)
            )
        )
        urls = [server.url for server in servers]
        for _ in range(repeat):
            for name, args in VARIANTS.items():
                results[name].append(await one_run(count, args, urls))

    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for name, runs in results.items():
        good = [r for r in runs if "error" not in r]

        def figure(key: str, good: list[dict[str, Any]] = good) -> float | None:
            values = [r[key] for r in good if r.get(key) is not None]
            return median(values) if values else None

        each = figure("bytes_each")
        kib = None if each is None else each / 1024
        all_open = bool(good) and all(r["opened"] == r["open_at_end"] == count for r in good)
        rows.append(
            {
                "variant": name,
                "count": count,
                "opened": min((r["opened"] for r in good), default=0),
                "still_open": min((r["open_at_end"] for r in good), default=0),
                "open_s": figure("open_s"),
                "settled_s": figure("settled_s"),
                "cpu_s": figure("cpu_s"),
                "kib_each": kib,
                "stall_s": figure("stall_s"),
                "dropped": figure("dropped"),
                "all_open": all_open,
                "outcome": " | ".join(sorted({outcome(r) for r in runs})),
                "runs": runs,
            }
        )
        kind = "session" if name in (WS_QUIET, WS_READ) else "client"
        if kind == "session":
            targets.append(Target.holds(f"{count:,} sessions all open ({name})", all_open))
        shown = None
        if kib is not None and not all_open:  # a figure, but not of what was promised
            shown = f"{kib:.0f} KiB over those that opened, but not all were open"
        targets.append(
            Target(
                f"RSS per {kind} ({name})",
                kib if shown is None else None,
                TARGET_KIB,
                at_least=False,
                fmt=".0f",
                unit=" KiB",
                shown=shown,
            )
        )
    per_emulator = -(-count // emulators)
    return Table(
        name=NAME,
        title=f"{count:,} sessions in one process against {emulators} emulator processes, "
        f"and {count:,} clients (median of {repeat} run(s), each in a fresh process)",
        columns={
            "variant": ("variant", ""),
            "opened": ("opened", ",d"),
            "still_open": ("still open", ",d"),
            "open_s": ("open s", ".1f"),
            "settled_s": ("settled s", ".1f"),
            "cpu_s": ("client CPU s", ".1f"),
            "kib_each": ("RSS KiB each", ".0f"),
            "stall_s": ("loop stall s", ".1f"),
            "dropped": ("dropped", ",.0f"),
            "outcome": ("outcome", ""),
        },
        rows=rows,
        targets=targets,
        notes=[
            "open s: until every handshake ended (or failed); settled s: until every open "
            "session also had every burst queued for it (a ping answered) and the readers "
            "had taken them; client CPU s: over the same time. For clients, open s is the "
            "time to create them.",
            f"~{per_emulator} sessions per emulator: each connect sends the full state again "
            f"to all of them ({per_emulator * (per_emulator + 1) // 2:,} bursts per emulator). "
            "'dropped': events the queues (max_queue 1024 each) let go, unread.",
            "RSS KiB each: the client process's VmRSS growth over the sessions that opened "
            "(after gc), including what Python keeps of memory freed meanwhile.",
            "loop stall s: the longest the client's event loop was away from a 0.1 s timer. "
            "Nothing is read meanwhile, pings included: kvmd (and the emulator) ping every "
            "15 s and cut a session whose pong is 7.5 s late (aiohttp's heartbeat), without "
            "a close frame (code 1006). 'still open': when the memory was measured.",
        ],
    )
