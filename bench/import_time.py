"""Import time: ``import aiopikvm`` vs importing the libraries it is built on, each in a
fresh interpreter, and which libraries ``import aiopikvm.emulator`` loads.

Each run is ``python -c`` timing its one import statement (``time.perf_counter`` around it:
the interpreter's own start-up is not in the figure, and is shown apart), then reporting
which of the libraries are in ``sys.modules``. Variants take turns; a first run of each is
thrown away: it writes the bytecode cache.

Every module is read from that cache, as from an installed package (pip compiles a wheel's
modules when it installs it). The children cache bytecode in a directory of their own
(``PYTHONPYCACHEPREFIX``), for our modules and the libraries alike, and may write it even
where the environment says not to (``PYTHONDONTWRITEBYTECODE``): otherwise the libraries in
site-packages would load compiled while every module of a source checkout was compiled
again on each import, about 40 ms more on our side of the ratio.

httpx imports its command line (click, rich, pygments) whenever those are installed, as
they are with ``aiopikvm[cli]``: ~35 ms more on both sides, which would shrink the ratio.
The children block it (``sys.modules["httpx._main"] = None``: httpx's own fallback when
they are missing), so both sides are what a plain ``pip install aiopikvm`` imports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any, Final

from ._harness import Table, Target, median, relative, spread
from ._procs import REPO, child_env

NAME: Final = "import"
TARGET: Final = 1.2
"""``import aiopikvm`` may take at most this multiple of its dependencies' import."""
LIBRARIES: Final = ("httpx", "websockets", "pydantic", "aiohttp", "click")
PROBE: Final = """\
import sys, time
sys.modules["httpx._main"] = None  # httpx's command line: see the module docstring
started, cpu = time.perf_counter(), time.process_time()
import {modules}
took, cpu = time.perf_counter() - started, time.process_time() - cpu
import json
print(json.dumps({{"s": took, "cpu_s": cpu, "modules": len(sys.modules), "loaded": {{name: name in \
sys.modules for name in {libraries!r}}}}}))
"""

USED: Final = "httpx, websockets.asyncio.client, pydantic"
REFERENCE: Final = "import aiopikvm + PiKVM, PiKVMWebSocket (ours)"
HTTP_ONLY: Final = "import aiopikvm + PiKVM (HTTP only)"
DEPENDENCIES: Final = "import httpx, websockets, pydantic"
EMULATOR: Final = "import aiopikvm.emulator"
VARIANTS: Final[dict[str, str]] = {
    # The root resolves names lazily (PEP 562): what a user pays is in the names' import.
    REFERENCE: "aiopikvm\nfrom aiopikvm import PiKVM, PiKVMWebSocket",
    # A script that only makes HTTP calls: the WebSocket session loads with the first ws().
    HTTP_ONLY: "aiopikvm\nfrom aiopikvm import PiKVM",
    DEPENDENCIES: "httpx, websockets, pydantic",
    f"import {USED}": USED,
    EMULATOR: "aiopikvm.emulator",
    "python -c pass (start-up, for scale)": "",
}


def cached_env(cache: str) -> dict[str, str]:
    """The children's environment: bytecode cached in ``cache``, for every module."""
    env = {**child_env(), "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(
    modules: str, env: dict[str, str], *, importtime: bool = False
) -> tuple[dict[str, Any], float, str]:
    """One fresh interpreter: its report, its whole wall time, and its stderr."""
    code = PROBE.format(modules=modules, libraries=LIBRARIES) if modules else "pass"
    argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=True)
    wall = time.perf_counter() - started
    nothing: dict[str, Any] = {"s": None, "cpu_s": None, "modules": None, "loaded": {}}
    report = json.loads(done.stdout) if modules else nothing
    return report, wall, done.stderr


def own_modules(env: dict[str, str]) -> str:
    """The slowest of aiopikvm's own modules to import (self time, ``-X importtime``)."""
    _, _, stderr = probe(VARIANTS[REFERENCE], env, importtime=True)
    own: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)", line)
        if found and found.group(3).startswith("aiopikvm"):
            own.append((int(found.group(1)), found.group(3)))
    total = sum(us for us, _ in own) / 1000
    top = ", ".join(f"{name} {us / 1000:.0f}" for us, name in sorted(own, reverse=True)[:4])
    return f"aiopikvm's own {len(own)} modules: {total:.0f} ms of self time (ms: {top})"


def run(repeat: int) -> Table:
    with tempfile.TemporaryDirectory(prefix="aiopikvm-bench-pycache-") as cache:
        return _run(repeat, cached_env(cache))


def _run(repeat: int, env: dict[str, str]) -> Table:
    for modules in VARIANTS.values():
        probe(modules, env)  # bytecode caches written, files in the page cache
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    reports: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        for name, modules in VARIANTS.items():
            report, wall, _ = probe(modules, env)
            if modules:
                cpu[name].append(report["cpu_s"])
                seconds[name].append(report["s"])
            walls[name].append(wall)
            reports[name] = report

    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        loaded = reports[name]["loaded"]
        rows.append(
            {
                "variant": name,
                "import_ms": median(cpu[name]) * 1000 if VARIANTS[name] else None,
                "import_wall_ms": median(seconds[name]) * 1000 if VARIANTS[name] else None,
                "process_ms": median(walls[name]) * 1000,
                "spread": spread(cpu[name]) if VARIANTS[name] else spread(walls[name]),
                "modules": reports[name]["modules"],
                "loads": ", ".join(lib for lib in LIBRARIES if loaded.get(lib)) or "-",
                **{f"loads_{lib}": loaded.get(lib) for lib in LIBRARIES},
            }
        )
    relative(rows, "import_ms", REFERENCE, higher_is_better=False)
    by_name = {row["variant"]: row for row in rows}
    ours_ms, deps_ms = by_name[REFERENCE]["import_ms"], by_name[DEPENDENCIES]["import_ms"]
    emulator = by_name[EMULATOR]
    return Table(
        name=NAME,
        title=f"Import time in a fresh interpreter (median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "import_ms": ("import CPU ms", ".0f"),
            "import_wall_ms": ("import wall ms", ".0f"),
            "process_ms": ("whole process ms", ".0f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "modules": ("modules", ""),
            "loads": ("loads of " + "/".join(LIBRARIES), ""),
        },
        rows=rows,
        targets=[
            Target(
                "import aiopikvm, as a multiple of import httpx, websockets, pydantic",
                ours_ms / deps_ms,
                TARGET,
                at_least=False,
                fmt=".2f",
            ),
            Target.holds(
                "import aiopikvm.emulator loads neither httpx nor pydantic",
                not (emulator["loads_httpx"] or emulator["loads_pydantic"]),
            ),
        ],
        notes=[
            "import CPU/wall ms: the import statement alone (the ratio and the target use CPU "
            "time, which other load on the machine disturbs less); whole process: python -c "
            "from start to exit. 'modules': sys.modules afterwards (the interpreter's too).",
            "import websockets loads its submodules lazily: the third row adds the client "
            "aiopikvm uses, for what the dependencies cost it; the target is the second.",
            "Bytecode comes from a cache written by a first run, for every module (as pip "
            "leaves an installed package), even if PYTHONDONTWRITEBYTECODE is set"
            + (" (it is here)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
            + "; httpx's command line (click, rich) is kept out, as on a plain install.",
            own_modules(env),
        ],
    )
