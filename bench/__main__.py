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
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

from aiopikvm import __version__

from . import event_merge, frames, msd_upload, typing_text, ws_input
from ._harness import Table

Benchmark = Callable[[int], Table | Coroutine[Any, Any, Table]]

BENCHMARKS: Final[dict[str, tuple[Benchmark, int]]] = {
    frames.NAME: (frames.run, 7),
    ws_input.NAME: (ws_input.run, 5),
    typing_text.NAME: (typing_text.run, 3),
    msd_upload.NAME: (msd_upload.run, 3),
    event_merge.NAME: (event_merge.run, 7),
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
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {list(BENCHMARKS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    about = machine()
    print(
        f"aiopikvm {about['aiopikvm']}, Python {about['python']}, {about['cpus']} CPUs, "
        f"load average {'/'.join(map(str, about['load_average']))} at start.\n"
        "Medians over repeats on a shared machine: the numbers are noisy. Compare the ratios "
        "within one run, not absolute figures across runs or machines.\n"
    )
    results: dict[str, Any] = {}
    for name in args.names or BENCHMARKS:
        benchmark, default_repeat = BENCHMARKS[name]
        outcome = benchmark(args.repeat or default_repeat)
        table = asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome
        assert isinstance(table, Table)
        print(table.render(), end="\n\n", flush=True)
        results[name] = table.as_json()
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": about, "benchmarks": results}, indent=2))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
