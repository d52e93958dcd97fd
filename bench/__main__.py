"""The command line: pick benchmarks, run them, print a table each, optionally save JSON."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

from aiopikvm import __version__

from . import (
    event_merge,
    frames,
    import_time,
    ingest,
    key_input,
    msd_upload,
    screen_compare,
    sessions,
    typing_text,
    video,
    vision,
    ws_input,
)
from ._harness import Table, Target

Benchmark = Callable[..., Table | Coroutine[Any, Any, Table]]

BENCHMARKS: Final[dict[str, tuple[Benchmark, int]]] = {
    frames.NAME: (frames.run, 7),
    ws_input.NAME: (ws_input.run, 5),
    typing_text.NAME: (typing_text.run, 3),
    msd_upload.NAME: (msd_upload.run, 3),
    event_merge.NAME: (event_merge.run, 7),
    ingest.NAME: (ingest.run, 3),
    key_input.NAME: (key_input.run, 3),
    sessions.NAME: (sessions.run, 1),
    import_time.NAME: (import_time.run, 7),
    screen_compare.NAME: (screen_compare.run, 7),
    vision.NAME: (vision.run, 3),
    video.NAME: (video.run, 3),
}
"""Name -> (benchmark, default number of repeats)."""


def machine() -> dict[str, Any]:
    return {
        "aiopikvm": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def options(benchmark: Benchmark, args: argparse.Namespace) -> dict[str, Any]:
    """The command line's sizes, for the benchmarks that take them."""
    accepted = inspect.signature(benchmark).parameters
    given = {"events": args.events, "sessions": args.sessions}
    return {key: value for key, value in given.items() if key in accepted and value is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="aiopikvm's benchmarks, against the emulator on loopback. Each prints "
        "medians over repeats and ratios against the alternatives measured in the same run.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--repeat", type=int, help="repeats per variant (default: per benchmark)")
    parser.add_argument(
        "--events", type=int, metavar="N", help="events per run for ingest and input"
    )
    parser.add_argument(
        "--sessions", type=int, metavar="N", help="sessions and clients for sessions (1000)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {list(BENCHMARKS)}")
    for flag in ("repeat", "events", "sessions"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            parser.error(f"--{flag} must be at least 1")

    about = machine()
    print(
        f"aiopikvm {about['aiopikvm']}, Python {about['python']}, {about['cpus']} CPUs, "
        f"load average {'/'.join(map(str, about['load_average']))} at start.\n"
        "Medians over repeats on a shared machine: the numbers are noisy. Compare the ratios "
        "within one run, not absolute figures across runs or machines.\n"
    )
    results: dict[str, Any] = {}
    targets: list[tuple[str, Target]] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in args.names or BENCHMARKS:
        benchmark, default_repeat = BENCHMARKS[name]
        began = time.perf_counter()
        try:
            outcome = benchmark(args.repeat or default_repeat, **options(benchmark, args))
            table = asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome
        except Exception as exc:  # one broken benchmark does not cost the others' results
            took = time.perf_counter() - began
            traceback.print_exc()
            print(f"== {name}: FAILED after {took:.0f} s: {type(exc).__name__}: {exc}\n")
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "seconds": took}
            failed.append(name)
            continue
        assert isinstance(table, Table)
        took = time.perf_counter() - began
        print(table.render(), f"   ({name}: {took:.0f} s)", sep="\n", end="\n\n", flush=True)
        results[name] = {**table.as_json(), "seconds": round(took, 1)}
        targets += [(name, target) for target in table.targets]
    total = time.perf_counter() - started
    if targets:
        met = sum(target.met for _, target in targets)
        print(f"Targets: {met} of {len(targets)} met")
        for name, target in targets:
            print(f"  {name}: {target.render().removeprefix('target: ')}")
    print(
        f"Ran {len(results)} benchmark(s) in {total:.0f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    if args.json is not None:
        about["seconds"] = round(total, 1)
        args.json.write_text(json.dumps({"machine": about, "benchmarks": results}, indent=2))
        print(f"results written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
