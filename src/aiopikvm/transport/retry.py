"""Opt-in retries of reads, ``PiKVM(..., retries=RetryPolicy())``, and of WebSocket
connects, ``kvm.ws(reconnect=RetryPolicy(...))``.

Only GET requests are retried: every POST on kvmd is an action (a button press, a key, a
power change) that may have happened even when its answer was lost, so doing it again
could press a button twice. A read, or a connect, is retried when the device is briefly
unavailable (503, or another 5xx listed in ``statuses``), unreachable, or too slow; never
on an authentication failure, a TLS failure or a client error.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from .._checks import check_callable, check_int, check_number, invalid
from ..errors import (
    APIError,
    InvalidInputError,
    PiKVMConnectionError,
    PiKVMError,
    PiKVMTimeoutError,
    RequestInfo,
    TLSError,
)

logger = logging.getLogger("aiopikvm")

T = TypeVar("T")

RETRIED_METHODS = frozenset({"GET"})
RECONNECT_ATTEMPTS = 12
"""Connects tried per outage by ``reconnect=True``: with the default delays, about a minute
of waiting in all, what a PiKVM takes to reboot."""
RECONNECT_STATUSES = (502, 503, 504)
"""What a rebooting PiKVM's nginx answers until kvmd is up again."""
STABLE_AFTER = 10.0
"""Seconds a reopened WebSocket must stay up before its outage counts as over."""


class RetryPolicy:
    """How reads are retried.

    ``attempts`` is the most tries in all (the first included). Before retry ``n`` (1, 2,
    ...) it waits ``min(max_delay, base_delay * multiplier ** (n - 1))``, less a random
    part of up to ``jitter`` of it (0: always the full delay; 1: anywhere from zero to it),
    so that clients that failed together do not all come back at once. ``statuses`` are
    the 5xx answers worth another try (503 by default; a rebooting PiKVM's nginx answers
    502 until kvmd is up). ``sleep`` and ``rng`` are there for tests.

    For WebSocket reconnects, ``stable_after`` is how long (seconds) a reopened connection
    must stay up for the outage to be over: one that drops sooner counts as a failed
    attempt, the backoff goes on from where it was, and the attempts run out as for any
    other failure. A device that accepts each connection and drops it at once is thus
    tried ``attempts`` times, with the backoff in between, and not in a tight loop.

    :meth:`retryable` is the classifier of errors: override it in a subclass to retry
    more or less. It never sees a cancellation, and errors it refuses end the retries.
    """

    __slots__ = (
        "attempts",
        "base_delay",
        "jitter",
        "max_delay",
        "multiplier",
        "rng",
        "sleep",
        "stable_after",
        "statuses",
    )

    def __init__(
        self,
        attempts: int = 3,
        *,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        multiplier: float = 2.0,
        jitter: float = 0.5,
        statuses: Iterable[int] = (503,),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        stable_after: float = STABLE_AFTER,
    ) -> None:
        check_int(attempts, "attempts", low=1)
        check_number(base_delay, "base_delay", low=0)
        check_number(max_delay, "max_delay", low=0)
        if base_delay > max_delay:
            raise InvalidInputError(
                f"base_delay must be <= max_delay ({max_delay!r}), got {base_delay!r}"
            )
        check_number(multiplier, "multiplier", low=1)
        check_number(jitter, "jitter", low=0, high=1)
        if isinstance(statuses, str | bytes | bytearray) or not isinstance(statuses, Iterable):
            raise invalid("statuses", "an iterable of 5xx status codes", statuses)
        check_number(stable_after, "stable_after", low=0)
        codes = frozenset(statuses)
        if not all(type(code) is int and 500 <= code <= 599 for code in codes):
            # 401/403 are never worth repeating, and a 4xx means the request itself is wrong
            raise invalid("statuses", "5xx status codes only", sorted(codes, key=repr))
        check_callable(sleep, "sleep")
        if rng is not None and not isinstance(rng, random.Random):
            raise invalid("rng", "a random.Random or None", rng)
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.multiplier = multiplier
        self.jitter = jitter
        self.statuses = codes
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stable_after = stable_after

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(attempts={self.attempts}, base_delay={self.base_delay}, "
            f"max_delay={self.max_delay}, multiplier={self.multiplier}, jitter={self.jitter}, "
            f"statuses={sorted(self.statuses)}, stable_after={self.stable_after})"
        )

    @classmethod
    def for_reconnects(cls) -> RetryPolicy:
        """The policy of ``reconnect=True``: :data:`RECONNECT_ATTEMPTS` connects per outage,
        and 502, 503 and 504 retried as well."""
        return cls(RECONNECT_ATTEMPTS, statuses=RECONNECT_STATUSES)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        try:
            full = min(self.max_delay, self.base_delay * self.multiplier ** (retry - 1))
        except OverflowError:  # a growth past any float long reached max_delay
            full = self.max_delay
        return full * (1 - self.jitter * self.rng.random())

    def retryable(self, error: PiKVMError) -> bool:
        """Whether another try may succeed where this one failed with ``error``."""
        if isinstance(error, TLSError):
            return False  # a certificate does not fix itself
        if isinstance(error, APIError):
            return error.status_code in self.statuses
        return isinstance(error, PiKVMConnectionError | PiKVMTimeoutError)

    async def run(self, method: str, request: RequestInfo, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, tried again while it fails in a retryable way, if ``method`` may be."""
        if method.upper() not in RETRIED_METHODS:
            return await call()
        return await self.retry(call)

    async def retry(self, call: Callable[[], Awaitable[T]], *, tried: int = 0) -> T:
        """``call()``, tried again while it fails in a retryable way, ``attempts`` at most;
        each retry is logged. The last error propagates.

        ``tried`` is how many attempts have failed already (a reconnect that did not stay
        up): the first call waits the backoff that comes after them, and counts on from
        there. There must be an attempt left: ``tried < attempts``.
        """
        if not 0 <= tried < self.attempts:
            raise ValueError(f"no attempt left: {tried} of {self.attempts} made")
        attempt = tried + 1
        if tried:
            await self.sleep(self.delay(tried))
        while True:
            try:
                return await call()
            except PiKVMError as error:
                if attempt >= self.attempts or not self.retryable(error):
                    raise
                wait = self.delay(attempt)
                logger.warning(
                    "%s (attempt %d of %d); retrying in %.2f s",
                    error,
                    attempt,
                    self.attempts,
                    wait,
                )
            await self.sleep(wait)
            attempt += 1
