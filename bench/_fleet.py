"""A fresh client process for ``sessions``: opens many sessions (or creates many clients),
measures its own memory before and after, and prints one JSON line with what it saw.

``python -m bench._fleet ws --count N [--reader] --urls URL...`` (sessions spread over
the URLs) or ``python -m bench._fleet clients --count N --scheme http|https``.

Alone in its process, so that the resident memory it measures is the sessions', and so
that what one variant freed does not make the next one look smaller.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import re
import sys
import time
from typing import Any, Final

from aiopikvm import PiKVM, PiKVMWebSocket

from ._procs import raise_fd_limit, rss_bytes

PASSWD: Final = "admin"
SETTLE_TIMEOUT: Final = 120.0
"""How long a session's first ping may take: it waits behind every burst queued for it."""
IDLE: Final = 0.2
CLOSE_TIMEOUT: Final = 30.0


def describe(error: BaseException) -> str:
    """An error without the request it names (the URL differs per emulator), so that alike
    ones are counted together."""
    message = re.sub(r"^[A-Z]+ [a-z]+://\S+: ", "", str(error))
    return f"{type(error).__name__}: {re.sub(r'(?<=127.0.0.1:)[0-9]+', 'PORT', message)}"


class StallWatch:
    """The longest time the event loop took to come back to a timer: while it is away,
    nothing is read, and kvmd's heartbeat wants a pong within 7.5 s."""

    TICK: Final = 0.1

    def __init__(self) -> None:
        self.longest = 0.0
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.longest = max(self.longest, time.perf_counter() - before - self.TICK)

    def stop(self) -> float:
        self._task.cancel()
        return self.longest


async def sessions(urls: list[str], count: int, *, reader: bool) -> dict[str, Any]:
    fd_limit = raise_fd_limit(count + 256)
    async with PiKVMWebSocket(urls[0], passwd=PASSWD) as ws:  # lazy imports, first-use caches
        await ws.ping()
    gc.collect()
    before = rss_bytes()
    watch = StallWatch()
    started, cpu_started = time.perf_counter(), time.process_time()
    fleet = [PiKVMWebSocket(urls[i % len(urls)], passwd=PASSWD) for i in range(count)]
    read = [0]
    readers: list[asyncio.Task[None]] = []

    async def consume(ws: PiKVMWebSocket) -> None:
        async for _ in ws.events():
            read[0] += 1

    async def open_one(ws: PiKVMWebSocket) -> None:
        await ws.connect()
        if reader:
            readers.append(asyncio.create_task(consume(ws)))

    results = await asyncio.gather(*(open_one(ws) for ws in fleet), return_exceptions=True)
    open_s = time.perf_counter() - started
    opened = [ws for ws, result in zip(fleet, results, strict=True) if result is None]
    failures = collections.Counter(describe(r) for r in results if isinstance(r, BaseException))
    # A session's ping is answered after every frame its emulator queued for it before:
    # once each has its answer, the bursts of every connect have all arrived.
    pings = await asyncio.gather(
        *(ws.ping(timeout=SETTLE_TIMEOUT) for ws in opened), return_exceptions=True
    )
    settle_failures = collections.Counter(
        describe(r) for r in pings if isinstance(r, BaseException)
    )
    while reader:  # until the readers have taken everything queued
        seen = read[0]
        await asyncio.sleep(IDLE)
        if read[0] == seen:
            break
    settled_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    stall_s = watch.stop()
    still_open = sum(ws.is_open for ws in fleet)
    gc.collect()
    after = rss_bytes()
    dropped = sum(ws.dropped_events for ws in opened)

    closing = time.perf_counter()
    closed = await asyncio.gather(*(ws.aclose() for ws in opened), return_exceptions=True)
    close_failures = collections.Counter(
        describe(r) for r in closed if isinstance(r, BaseException)
    )
    if readers:
        await asyncio.wait(readers, timeout=CLOSE_TIMEOUT)
    return {
        "count": count,
        "opened": len(opened),
        "open_at_end": still_open,
        "open_s": open_s,
        "settled_s": settled_s,
        "cpu_s": cpu_s,
        "close_s": time.perf_counter() - closing,
        "stall_s": stall_s,
        "rss_before": before,
        "rss_after": after,
        "bytes_each": (after - before) / len(opened) if opened else None,
        "dropped": dropped,
        "events_read": read[0] if reader else None,
        "failures": dict(failures),
        "settle_failures": dict(settle_failures),
        "close_failures": dict(close_failures),
        "fd_limit": fd_limit,
    }


def address(scheme: str, i: int) -> str:
    """A fleet's worth of distinct device addresses (nothing is sent to them)."""
    return f"{scheme}://10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


async def clients(count: int, scheme: str) -> dict[str, Any]:
    await PiKVM(address(scheme, count), passwd=PASSWD).aclose()  # first-use costs
    gc.collect()
    before = rss_bytes()
    started, cpu_started = time.perf_counter(), time.process_time()
    fleet = [PiKVM(address(scheme, i), passwd=PASSWD) for i in range(count)]
    open_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    gc.collect()
    after = rss_bytes()
    await asyncio.gather(*(kvm.aclose() for kvm in fleet))
    return {
        "count": count,
        "opened": count,
        "open_at_end": count,
        "open_s": open_s,
        "cpu_s": cpu_s,
        "rss_before": before,
        "rss_after": after,
        "bytes_each": (after - before) / count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._fleet")
    parser.add_argument("kind", choices=["ws", "clients"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--reader", action="store_true", help="a task reading events() each")
    parser.add_argument("--scheme", choices=["http", "https"], default="http")
    parser.add_argument("--urls", nargs="+", default=[], metavar="URL", help="for ws")
    args = parser.parse_args()
    result: dict[str, Any]
    try:
        if args.kind == "ws":
            result = asyncio.run(sessions(args.urls, args.count, reader=args.reader))
        else:
            result = asyncio.run(clients(args.count, args.scheme))
    except Exception as exc:  # reported as the run's outcome, not as a crash
        result = {"count": args.count, "error": describe(exc)}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
