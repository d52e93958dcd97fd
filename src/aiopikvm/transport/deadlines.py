"""Deadlines: a call's total one, and an upload's, which starts once its body is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from ..errors import PiKVMError, PiKVMTimeoutError, RequestInfo

T = TypeVar("T")


async def within(
    seconds: float | None,
    info: RequestInfo,
    message: str,
    call: Callable[[asyncio.Timeout], Awaitable[T]],
) -> T:
    """``call(scope)`` within a total deadline; its expiry is :class:`PiKVMTimeoutError`."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await call(scope)
    except TimeoutError as exc:
        if isinstance(exc, PiKVMError) or not scope.expired():
            raise
    raise PiKVMTimeoutError(f"{info}: {message}", request=info)  # no httpx __context__


async def deadline_after(
    chunks: AsyncIterable[bytes], scope: asyncio.Timeout, seconds: float | None
) -> AsyncIterator[bytes]:
    """An upload's body, which starts the answer's deadline once it is all sent: the
    upload itself takes as long as it takes, as long as each write moves."""
    async for chunk in chunks:
        yield chunk
    if seconds is not None:
        scope.reschedule(asyncio.get_running_loop().time() + seconds)
