"""Virtual media upload: ``kvm.msd.upload()`` streaming an image vs a naive ``httpx`` post of
the whole file read into memory. Throughput, and peak Python memory (tracemalloc).

Throughput runs and memory runs are separate: tracemalloc slows every allocation down. The
stored image is checked byte for byte after every upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import httpx

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

from ._harness import Table, median, relative, spread

NAME: Final = "msd"
SIZE: Final = 64 * 1024 * 1024
USER, PASSWD = "admin", "admin"

Uploader = Callable[[PiKVM, str, Path], Awaitable[None]]


async def ours_from_file(kvm: PiKVM, name: str, path: Path) -> None:
    await kvm.msd.upload(name, path)


async def ours_from_bytes(kvm: PiKVM, name: str, path: Path) -> None:
    await kvm.msd.upload(name, await asyncio.to_thread(path.read_bytes))


async def naive_httpx(kvm: PiKVM, name: str, path: Path) -> None:
    """What a script without this client does: read the file, post it whole."""
    content = await asyncio.to_thread(path.read_bytes)
    async with httpx.AsyncClient(timeout=None) as client:
        response = await client.post(
            f"{kvm.url}/api/msd/write",
            params={"image": name},
            content=content,
            headers={"X-KVMD-User": USER, "X-KVMD-Passwd": PASSWD},
        )
        response.raise_for_status()


VARIANTS: Final[dict[str, Uploader]] = {
    "kvm.msd.upload(path) (ours)": ours_from_file,
    "kvm.msd.upload(bytes) (ours, read first)": ours_from_bytes,
    "naive httpx post(content=bytes)": naive_httpx,
}
REFERENCE: Final = "kvm.msd.upload(path) (ours)"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


async def upload_once(
    kvm: PiKVM, storage: Path, upload: Uploader, source: Path, expected: str, *, traced: bool
) -> tuple[float, int | None, bool]:
    """Seconds, peak traced bytes (if ``traced``), and whether the stored image is intact."""
    name = "bench.img"
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        await upload(kvm, name, source)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else None
    finally:
        if traced:
            tracemalloc.stop()
    await kvm.msd.wait_for_image(name)
    intact = sha256(storage / name) == expected
    await kvm.msd.remove(name)
    return elapsed, peak, intact


async def run(repeat: int) -> Table:
    with tempfile.TemporaryDirectory(prefix="aiopikvm-bench-") as workdir:
        source = Path(workdir) / "source.img"
        source.write_bytes(os.urandom(SIZE))
        expected = sha256(source)
        storage = Path(workdir) / "msd"
        storage.mkdir()
        seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
        peaks: dict[str, int | None] = {}
        intact: dict[str, bool] = dict.fromkeys(VARIANTS, True)
        async with (
            Emulator(msd_dir=storage, msd_storage_delay=0.0) as emu,
            PiKVM(emu.url, user=USER, passwd=PASSWD, timeout=60.0) as kvm,
        ):
            for _ in range(repeat):
                for name, upload in VARIANTS.items():
                    took, _, ok = await upload_once(
                        kvm, storage, upload, source, expected, traced=False
                    )
                    seconds[name].append(took)
                    intact[name] &= ok
            for name, upload in VARIANTS.items():
                _, peaks[name], ok = await upload_once(
                    kvm, storage, upload, source, expected, traced=True
                )
                intact[name] &= ok

    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        peak = peaks[name]
        rows.append(
            {
                "variant": name,
                "mib_per_s": SIZE / 2**20 / median(seconds[name]),
                "seconds": median(seconds[name]),
                "spread": spread(seconds[name]),
                "peak_mib": peak / 2**20 if peak is not None else None,
                "intact": intact[name],
            }
        )
    relative(rows, "mib_per_s", REFERENCE, higher_is_better=True)
    base_peak = next(row["peak_mib"] for row in rows if row["variant"] == REFERENCE)
    for row in rows:
        row["peak_vs_ours"] = row["peak_mib"] / base_peak if base_peak else None
    return Table(
        name=NAME,
        title=f"MSD upload of {SIZE // 2**20} MiB over loopback "
        f"(median of {repeat} runs per variant, then one traced run each)",
        columns={
            "variant": ("variant", ""),
            "seconds": ("s", ".2f"),
            "mib_per_s": ("MiB/s", ".0f"),
            "spread": ("spread", ".0%"),
            "rel": ("speed vs ours", ".2f"),
            "peak_mib": ("peak MiB", ".1f"),
            "peak_vs_ours": ("peak x ours", ".1f"),
            "intact": ("image intact", ""),
        },
        rows=rows,
        notes=[
            "peak MiB: the largest Python heap tracemalloc saw during the upload, the "
            "emulator's side included (same process, same for every variant).",
            "The source file is in the page cache; the emulator writes to a temporary "
            "directory on the same disk.",
        ],
    )
