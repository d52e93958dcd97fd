"""Live video: frames per second and the client's CPU per frame of ``kvm.streamer.mjpeg()``
against the emulator in another process, next to reading the same stream with plain httpx.

The emulator (``python -m aiopikvm.emulator``, 1920x1080) serves ``/streamer/stream`` as
ustreamer does: a frame at the streamer's 20 fps while the picture changes, identical ones
dropped. So that the picture changes, a ``stream=1`` session of the client (which kvmd
needs for any video anyway) taps a key every :data:`TAP_EVERY` seconds; its small cost is
in every variant alike. Each variant reads the stream for :data:`SECONDS` seconds; the
client's CPU is ``time.process_time()`` over that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
from PIL import Image

from aiopikvm import PiKVM, PiKVMWebSocket

from ._harness import Table, median, relative, spread
from ._procs import Child

NAME: Final = "video"
SECONDS: Final = 5.0
TAP_EVERY: Final = 0.05
BOUNDARY: Final = b"--boundarydonotcross"
ADMIN: Final = {"X-KVMD-User": "admin", "X-KVMD-Passwd": "admin"}


@dataclass
class Run:
    frames: int
    seconds: float
    cpu_s: float
    last: bytes


async def ours(kvm: PiKVM) -> Run:
    frames, last = 0, b""
    started, cpu = time.monotonic(), time.process_time()
    async with contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
        async for frame in stream:
            frames, last = frames + 1, frame.data
            if time.monotonic() - started >= SECONDS:
                break
    return Run(frames, time.monotonic() - started, time.process_time() - cpu, last)


async def plain_httpx(client: httpx.AsyncClient, url: str, *, parse: bool) -> Run:
    """What one would write by hand: find each part's Content-Length, cut the JPEG out
    (no bounds, no deadline per frame); or (``parse=False``) only count the boundaries."""
    frames, last = 0, b""
    started, cpu = time.monotonic(), time.process_time()
    async with client.stream("GET", f"{url}/streamer/stream", headers=ADMIN) as response:
        buffer = b""
        async for chunk in response.aiter_bytes():
            if not parse:
                frames += chunk.count(BOUNDARY)
            else:
                buffer += chunk
                while (end := buffer.find(b"\r\n\r\n")) >= 0:
                    headers = buffer[:end].decode("latin-1").split("\r\n")
                    length = next(
                        int(line.split(":")[1]) for line in headers if line.startswith("Content-L")
                    )
                    if len(buffer) < end + 4 + length:
                        break
                    last = buffer[end + 4 : end + 4 + length]
                    buffer = buffer[end + 4 + length + 2 + len(BOUNDARY) + 2 :]
                    frames += 1
            if time.monotonic() - started >= SECONDS:
                break
    return Run(frames, time.monotonic() - started, time.process_time() - cpu, last)


@contextlib.asynccontextmanager
async def moving_screen(kvm: PiKVM) -> Any:
    """A ``stream=1`` session that keeps the host's console changing."""
    async with kvm.ws(stream=True) as ws:
        await kvm.streamer.snapshot(allow_offline=True)  # ustreamer is up
        task = asyncio.create_task(_tap(ws))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _tap(ws: PiKVMWebSocket) -> None:
    while True:
        await ws.send_key("KeyA")
        await asyncio.sleep(TAP_EVERY)


def _jpeg_size(data: bytes) -> str:
    if not data:
        return "-"
    with Image.open(io.BytesIO(data)) as image:
        return f"{image.format} {image.size[0]}x{image.size[1]}"


REFERENCE: Final = "kvm.streamer.mjpeg() (ours)"
HTTPX: Final = "httpx stream + hand-written Content-Length cut"
FLOOR: Final = "httpx stream, boundaries counted (transport floor)"
VARIANTS: Final = (REFERENCE, HTTPX, FLOOR)


async def run(repeat: int) -> Table:
    runs: dict[str, list[Run]] = {name: [] for name in VARIANTS}
    async with (
        Child("aiopikvm.emulator", "--port", "0") as server,
        PiKVM(server.url, passwd="admin") as kvm,
        httpx.AsyncClient(timeout=10) as client,  # made once, like ours: not in the timing
        moving_screen(kvm),
    ):
        for _ in range(repeat):
            for name in VARIANTS:
                if name == REFERENCE:
                    runs[name].append(await ours(kvm))
                else:
                    runs[name].append(await plain_httpx(client, server.url, parse=name == HTTPX))
    rows: list[dict[str, Any]] = []
    for name, samples in runs.items():
        fps = [sample.frames / sample.seconds for sample in samples]
        cpu = [1e6 * sample.cpu_s / max(sample.frames, 1) for sample in samples]
        rows.append(
            {
                "variant": name,
                "frames": samples[-1].frames,
                "fps": median(fps),
                "cpu_us": median(cpu),
                "spread": spread(cpu),
                "jpeg": _jpeg_size(samples[-1].last) if name != FLOOR else "(not cut)",
            }
        )
    relative(rows, "cpu_us", REFERENCE, higher_is_better=False)
    return Table(
        name=NAME,
        title=f"MJPEG from the emulator in another process, {SECONDS:g} s per run "
        f"(median of {repeat} runs per variant)",
        columns={
            "variant": ("variant", ""),
            "frames": ("frames/run", ",d"),
            "fps": ("frames/s", ".1f"),
            "cpu_us": ("client CPU us/frame", ",.0f"),
            "spread": ("spread", ".0%"),
            "rel": ("CPU vs ours", ".2f"),
            "jpeg": ("last frame", ""),
        },
        rows=rows,
        notes=[
            "frames/s is the emulator's pace (20 fps while the picture changes, drop-same-"
            "frames otherwise), alike for every variant; the CPU is the client's alone. "
            "'CPU vs ours' > 1: that much less CPU per frame than ours.",
            "Ours also bounds each part's headers and size, gives each frame a deadline, "
            "checks it is a JPEG and parses its timestamp; the hand-written cut does none.",
        ],
    )
