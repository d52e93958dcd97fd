"""What the screen, MSD and stream commands share: running on the one device the flags name
when a command prints as it goes (a stream, bytes on stdout), the video a snapshot needs,
a spinner on stderr, and files written whole or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..screen.picture import whole_file
from ._connect import client, targets
from ._exit import CliError
from ._output import Output
from ._run import Action, options

if TYPE_CHECKING:
    from .. import PiKVM

T = TypeVar("T")

VIDEO_RETRY = 0.25
"""Seconds between tries while the streamer has no picture yet (503)."""


def one_device(ctx: click.Context, action: Action) -> Any:
    """Run ``action(kvm)`` on the one device the flags name; print nothing of its own."""
    opts = options(ctx)
    found = targets(opts)
    if opts.is_fleet or len(found) != 1:
        raise CliError("this command works on one device at a time: give one --device or --url")

    async def run() -> Any:
        async with client(opts, found[0]) as kvm:
            return await action(kvm)

    return asyncio.run(run())


@contextlib.asynccontextmanager
async def video(kvm: PiKVM) -> AsyncIterator[None]:
    """A ``stream=1`` session for the block: kvmd runs the streamer only while one is open."""
    async with kvm.ws(stream=True):
        yield


async def until_video(read: Callable[[], Awaitable[T]], timeout: float) -> T:
    """``read()`` until the streamer has a picture (it answers 503 before), within
    ``timeout`` seconds."""
    from ..errors import UnavailableError, WaitTimeoutError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await read()
        except UnavailableError:
            if loop.time() >= deadline:
                raise WaitTimeoutError(
                    f"no video came up within {timeout} s (the streamer answered 503): is "
                    "the host on and sending a picture? (--video-timeout waits longer)"
                ) from None
        await asyncio.sleep(VIDEO_RETRY)


@contextlib.contextmanager
def spinner(out: Output, text: str) -> Iterator[None]:
    """A spinner on stderr while the block runs (none with --quiet)."""
    if out.quiet:
        yield
        return
    with out.err.status(text):
        yield


@contextlib.contextmanager
def file_or_stdout(path: str) -> Iterator[Any]:
    """A binary file to write: ``-`` is stdout; a file is written under a temporary name
    and renamed into place only when the block succeeds, so a failure or Ctrl-C leaves no
    half-written file behind."""
    if path == "-":
        stdout = sys.stdout.buffer
        yield stdout
        stdout.flush()
        return
    with contextlib.ExitStack() as stack:
        try:
            file = stack.enter_context(whole_file(path, prefix=".pikvm-"))
        except OSError as exc:
            raise CliError(f"cannot write {path!r}: {exc.strerror}") from None
        yield file
