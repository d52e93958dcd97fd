""":class:`ThreadedEmulator`: an :class:`~aiopikvm.emulator.Emulator` on its own loop in a
daemon thread, for code without an event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._target import Target

_THREAD_START_TIMEOUT: Final = 30.0


class ThreadedEmulator:
    """An :class:`Emulator` running on its own loop in a daemon thread.

    Use it as a context manager (or :meth:`start` / :meth:`stop`). :attr:`url`,
    :attr:`port` and :attr:`target` are safe to read from the caller's thread.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def target(self) -> Target:
        return self.emulator.target

    def set_resolution(self, width: int, height: int) -> None:
        """See :meth:`Emulator.set_resolution`."""
        self.emulator.set_resolution(width, height)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already running")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="pikvm-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(_THREAD_START_TIMEOUT):
            raise RuntimeError("the emulator did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            # The loop may already be gone if the thread died; nothing left to stop then.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the starting thread
            self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with self.emulator:
            self._ready.set()
            await self._stopping.wait()
