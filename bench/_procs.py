"""Other processes for the benchmarks that must not share the client's CPU or memory: the
servers they talk to, and fresh clients whose memory is measured alone.

A child runs ``python -m <module>`` with the same interpreter, and imports the same
``aiopikvm`` and ``bench`` as this process. A server prints one line with its URL once it
listens; everything else it prints is read by the benchmark, line by line.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import resource
import sys
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import aiopikvm

REPO: Final = Path(__file__).resolve().parent.parent
"""The directory ``bench`` is in: children run from there, so ``-m bench....`` works."""

READY_TIMEOUT: Final = 60.0
"""A child imports its libraries first: seconds on a loaded 2-core machine."""

STDERR_LINES: Final = 5
_URL: Final = re.compile(r"\b(?:https?|wss?)://\S+?(?=[\s)]|$)")


def child_env() -> dict[str, str]:
    """This environment, with ``bench`` and this process's ``aiopikvm`` first on the path."""
    paths = [str(REPO), str(Path(aiopikvm.__file__).resolve().parent.parent)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def rss_bytes() -> int:
    """This process's resident memory now (``VmRSS`` in ``/proc/self/status``, Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def raise_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files to ``needed`` (at most the hard limit); the
    limit now in force. Children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return int(soft)


class Child:
    """``python -m module *args`` as an async context manager: started on entry, its URL
    in :attr:`url` once it printed it, terminated (by its own pid) on exit.

    Its stderr is read all along (an emulator logs every session), and the last lines
    are shown in the error when it fails to start.
    """

    def __init__(self, module: str, *args: str) -> None:
        self.argv = [sys.executable, "-m", module, *args]
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(),
            cwd=REPO,
        )
        assert process.stderr is not None
        self._stderr_reader = asyncio.create_task(self._read_stderr(process.stderr))
        try:
            line = await self.readline(READY_TIMEOUT)
            found = _URL.search(line)
            if found is None:
                raise RuntimeError(f"expected a URL, got {line!r}")
            self.url = found.group(0)
        except BaseException as exc:
            await self._stop()
            if not isinstance(exc, Exception):
                raise
            why = f"no URL within {READY_TIMEOUT:.0f} s" if isinstance(exc, TimeoutError) else exc
            shown = "".join(f"\n  {line}" for line in self._stderr)
            raise RuntimeError(f"{' '.join(self.argv[1:])}: {why}{shown}") from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def readline(self, timeout: float) -> str:
        """The next line it prints; raises when it ends or says nothing for ``timeout``."""
        process = self._process
        if process is None or process.stdout is None:
            raise RuntimeError("it is not running")
        async with asyncio.timeout(timeout):
            line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"it exited (status {await process.wait()})")
        return line.decode().rstrip("\n")

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self._stderr.append(line.decode(errors="replace").rstrip())

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._stderr_reader is not None:
            await asyncio.wait([self._stderr_reader], timeout=5)
            self._stderr_reader.cancel()


async def run_child(module: str, *args: str, timeout: float) -> tuple[str, str]:
    """Run ``python -m module *args`` to its end: its stdout and stderr. A child that
    outlives ``timeout`` is killed, and that raises ``TimeoutError``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
        cwd=REPO,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        tail = "\n  ".join(err.decode(errors="replace").strip().splitlines()[-5:])
        raise RuntimeError(f"{module} {' '.join(args)} exited {process.returncode}:\n  {tail}")
    return out.decode(), err.decode()
