"""One event loop in a daemon thread, and blocking calls into it from any other thread.

Every sync client owns one :class:`LoopThread`; the async client and its sessions live on
it, and only code running there touches them. A blocking call hands a coroutine to the
loop and waits for its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final, Generic, TypeVar

from ..errors import ConnectionClosedError, InvalidInputError

T = TypeVar("T")

CLEANUP_TIMEOUT: Final = 30.0
"""Seconds a Ctrl-C waits for the interrupted call to clean up (release keys, close a
stream) before it is re-raised; a second Ctrl-C stops that wait."""
_START_TIMEOUT: Final = 30.0
_STOP_TIMEOUT: Final = 30.0
_ALIVE_CHECK: Final = 1.0
"""Seconds between checks, while a call waits, that the loop thread is still alive."""


class _Outcome(Generic[T]):
    """What a coroutine on the loop ended with: returned, not raised, out of the Task."""

    __slots__ = ("error", "value")

    def __init__(self, value: T | None, error: BaseException | None) -> None:
        self.value = value
        self.error = error


async def _guard(coro: Coroutine[Any, Any, T]) -> _Outcome[T]:
    # A KeyboardInterrupt or SystemExit leaving a Task escapes run_forever and kills the
    # loop thread (Task.__step re-raises them): every exception is returned instead, and
    # the caller raises it. Only a cancellation asked for by the caller ends the Task.
    try:
        return _Outcome(await coro, None)
    except asyncio.CancelledError as error:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        return _Outcome(None, error)
    except BaseException as error:
        return _Outcome(None, error)


class LoopThread:
    """An asyncio loop in a daemon thread, started on first use (thread-safe)."""

    def __init__(self, name: str = "aiopikvm-sync") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._stopped = False
        self._finished = False  # stopped, and its thread has ended
        self._background: set[asyncio.Task[Any]] = set()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._stopped:
                raise _closed()
            if self._loop is not None:
                return self._loop
            ready = threading.Event()
            thread = threading.Thread(target=self._main, args=(ready,), name=self._name)
            thread.daemon = True  # a client never closed must not keep the process alive
            self._thread = thread  # before the wait: a Ctrl-C may end it, not the start
            thread.start()
            if not ready.wait(_START_TIMEOUT) or self._loop is None:
                raise RuntimeError("the client's event loop thread did not start")
            return self._loop

    def _main(self, ready: threading.Event) -> None:
        async def serve() -> None:
            self._stopping = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            ready.set()
            await self._stopping.wait()

        # asyncio.run cleans up at the end: it cancels what is left, closes the async
        # generators and shuts the default executor down.
        asyncio.run(serve())

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def in_loop(self) -> bool:
        """Whether the caller is the loop's own thread (a callback, a finalizer)."""
        thread = self._thread
        return thread is not None and thread.ident == threading.get_ident()

    def run(self, coro: Coroutine[Any, Any, T], *, cancel: bool = True) -> T:
        """Run ``coro`` on the loop and return its result, or raise its exception (the same
        object: its type, traceback and cause, with the caller's frames on top).

        A Ctrl-C (or any exception) in the waiting thread cancels the coroutine (not with
        ``cancel=False``: a clean-up is let run), waits at most :data:`CLEANUP_TIMEOUT` for
        it to finish, and is re-raised."""
        if self.in_loop():
            coro.close()
            raise InvalidInputError(
                "a blocking aiopikvm.sync call was made on the client's own event loop thread "
                "(from a progress callback?), where it would wait for itself forever: call it "
                "from another thread, or use the async API there"
            )
        try:
            loop = self._start()
        except BaseException:
            coro.close()
            raise
        done = threading.Event()
        tasks: list[asyncio.Task[_Outcome[T]]] = []
        pending = [coro]
        del coro

        def begin() -> None:
            task = loop.create_task(_guard(pending.pop()))
            task.add_done_callback(lambda _: done.set())
            tasks.append(task)

        try:
            loop.call_soon_threadsafe(begin)
        except RuntimeError:  # the loop has closed
            pending.pop().close()
            raise _closed() from None
        try:
            while not done.wait(_ALIVE_CHECK):
                if not self._alive():  # the loop died: nobody will ever answer
                    raise _closed()
        except ConnectionClosedError:
            raise
        except BaseException:
            # Ctrl-C here: cancel the call (begin has run by then: callbacks keep their
            # order) and let it clean up, within bounds, before the caller sees the error.
            with contextlib.suppress(BaseException):
                if cancel:
                    loop.call_soon_threadsafe(lambda: tasks[0].cancel())
                done.wait(CLEANUP_TIMEOUT)
            raise
        task = tasks[0]
        if task.cancelled():
            raise _closed()
        outcome = task.result()
        del task
        error = outcome.error
        if error is not None:
            del outcome
            try:
                raise error
            finally:
                del error  # no reference cycle through this frame
        return outcome.value  # type: ignore[return-value]  # set when error is None

    def call(self, func: Callable[[], T]) -> T:
        """Call ``func`` on the loop (at once when already there, or when the loop has
        ended: nothing else touches its objects then) and return its result."""
        if self._finished or self.in_loop():
            return func()

        async def call() -> T:
            return func()

        return self.run(call())

    def stop(self) -> None:
        """Stop the loop and, but from the loop's own thread, wait for it to finish. Later
        blocking calls raise ConnectionClosedError. Safe to call more than once, from any
        thread."""
        with self._lock:
            self._stopped = True
            loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is None or stopping is None or thread is None:
            self._finished = True
            return
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(stopping.set)
        if thread.ident != threading.get_ident():
            thread.join(_STOP_TIMEOUT)
            self._finished = not thread.is_alive()

    def schedule(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` on the loop without waiting for it (for a finalizer)."""

        def begin() -> None:
            task = asyncio.get_running_loop().create_task(_guard(coro))
            self._background.add(task)  # the loop keeps only a weak reference
            task.add_done_callback(self._background.discard)

        loop = self._loop
        try:
            if loop is None or self._stopped:
                raise RuntimeError("no loop")
            loop.call_soon_threadsafe(begin)
        except RuntimeError:
            coro.close()


def _closed() -> ConnectionClosedError:
    return ConnectionClosedError(
        "the sync client is closed (its event loop has stopped): make a new one"
    )
