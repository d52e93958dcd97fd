"""``Fleet``: the same call on many PiKVMs at once, with bounded concurrency.

    async with Fleet({"rack1": PiKVM(...), "rack2": PiKVM(...)}, parallel=8) as fleet:
        results = await fleet.run(lambda kvm: kvm.atx.power_on(wait=True))
        for name, result in results.items():
            print(name, "ok" if result.ok else result.error)

One device failing never stops the others: each gets a :class:`FleetResult` holding its
value or the :class:`~aiopikvm.PiKVMError` it raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Final, Generic, Self, TypeVar

from ._checks import check_callable, check_int, check_timeout, invalid
from .errors import PiKVMError, PiKVMTimeoutError

if TYPE_CHECKING:
    from ._client import PiKVM

T = TypeVar("T")

DEFAULT_PARALLEL: Final = 8
MAX_PARALLEL: Final = 1024


@dataclass(frozen=True)
class FleetResult(Generic[T]):
    """One device's outcome: ``value`` when ``ok``, else the ``error`` it raised."""

    name: str
    value: T | None = None
    error: PiKVMError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Fleet:
    """Named :class:`~aiopikvm.PiKVM` clients, acted on together with at most ``parallel``
    calls at a time. As an async context manager it closes every client at the end."""

    def __init__(self, clients: Mapping[str, PiKVM], *, parallel: int = DEFAULT_PARALLEL) -> None:
        from ._client import PiKVM

        if not isinstance(clients, Mapping):
            raise invalid("clients", "a mapping of names to PiKVM clients", clients)
        for name, client in clients.items():
            if not isinstance(name, str) or not name:
                raise invalid("clients", "keyed by non-empty str names", name)
            if not isinstance(client, PiKVM):
                raise invalid(f"clients[{name!r}]", "a PiKVM", client)
        self.parallel = check_int(parallel, "parallel", low=1, high=MAX_PARALLEL)
        self.clients: dict[str, PiKVM] = dict(clients)

    def __repr__(self) -> str:
        return f"Fleet({sorted(self.clients)!r}, parallel={self.parallel})"

    def __len__(self) -> int:
        return len(self.clients)

    def __iter__(self) -> Iterator[str]:
        return iter(self.clients)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client (see :meth:`PiKVM.aclose`)."""
        await asyncio.gather(*(client.aclose() for client in self.clients.values()))

    async def run(
        self,
        fn: Callable[[PiKVM], Awaitable[T]],
        *,
        timeout: float | None = None,
        on_result: Callable[[FleetResult[T]], None] | None = None,
    ) -> dict[str, FleetResult[T]]:
        """Call ``fn(client)`` for every client, ``parallel`` at a time, and return each
        device's :class:`FleetResult` (in the fleet's order). A :class:`PiKVMError` becomes
        that device's ``error``; ``timeout`` (seconds) bounds each device's call, and
        raises :class:`PiKVMTimeoutError` into its result. Anything else (a bug in ``fn``,
        a cancellation) propagates, in an ``ExceptionGroup`` as from ``asyncio.TaskGroup``.
        ``on_result`` is called as each device finishes."""
        check_callable(fn, "fn")
        check_timeout(timeout, none_ok=True)
        if on_result is not None:
            check_callable(on_result, "on_result")
        gate = asyncio.Semaphore(self.parallel)

        async def one(name: str, client: PiKVM) -> FleetResult[T]:
            async with gate:
                try:
                    async with asyncio.timeout(timeout):
                        result = FleetResult(name, value=await fn(client))
                except PiKVMError as exc:  # before TimeoutError: PiKVMTimeoutError is one
                    result = FleetResult[T](name, error=exc)
                except TimeoutError:  # this call's own deadline
                    error = PiKVMTimeoutError(f"{name}: no result within {timeout} s")
                    result = FleetResult[T](name, error=error)
            if on_result is not None:
                on_result(result)
            return result

        async with asyncio.TaskGroup() as group:
            tasks = {name: group.create_task(one(name, kvm)) for name, kvm in self.clients.items()}
        return {name: task.result() for name, task in tasks.items()}
