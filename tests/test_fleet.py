"""``Fleet``: one call on many devices at once, bounded, with a result per device."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from aiopikvm import (
    ConnectionClosedError,
    Fleet,
    FleetResult,
    InvalidInputError,
    PiKVM,
    PiKVMConnectionError,
    PiKVMTimeoutError,
)
from aiopikvm.emulator import Emulator


async def test_each_device_gets_its_result_and_one_down_stops_none() -> None:
    async with contextlib.AsyncExitStack() as stack:
        emus = [await stack.enter_async_context(Emulator(host_powered=False)) for _ in range(3)]
        clients = {f"pi{n}": PiKVM(emu.url, passwd="admin") for n, emu in enumerate(emus)}
        clients["gone"] = PiKVM("http://127.0.0.1:9", passwd="admin")
        finished: list[str] = []
        async with Fleet(clients, parallel=2) as fleet:

            async def power_on(kvm: PiKVM) -> bool:
                await kvm.atx.power_on(wait=True)
                return (await kvm.atx.get_state()).leds.power

            results = await fleet.run(power_on, on_result=lambda r: finished.append(r.name))
        assert list(results) == ["pi0", "pi1", "pi2", "gone"]  # the fleet's order
        assert sorted(finished) == sorted(results)
        assert all(results[f"pi{n}"] == FleetResult(f"pi{n}", value=True) for n in range(3))
        assert not results["gone"].ok
        assert isinstance(results["gone"].error, PiKVMConnectionError)
        assert all(emu.target.powered for emu in emus)
    with pytest.raises(ConnectionClosedError):  # the fleet closed its clients
        await clients["pi0"].atx.get_state()


async def test_at_most_parallel_calls_run_at_once_and_each_has_a_deadline() -> None:
    async with Emulator() as emu:
        clients = {f"c{n}": PiKVM(emu.url, passwd="admin") for n in range(6)}
        running = peak = 0

        async def slow(kvm: PiKVM) -> str:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                await kvm.atx.get_state()
                await asyncio.sleep(0.05)
                return "done"
            finally:
                running -= 1

        async with Fleet(clients, parallel=2) as fleet:
            results = await fleet.run(slow)
            assert peak == 2 and all(r.value == "done" for r in results.values())

            async def stuck(kvm: PiKVM) -> None:
                await asyncio.sleep(30)

            late = await fleet.run(stuck, timeout=0.05)
        assert all(isinstance(r.error, PiKVMTimeoutError) for r in late.values())
        assert "c0: no result within 0.05 s" in str(late["c0"].error)


async def test_a_bug_in_the_call_is_not_swallowed() -> None:
    async with Emulator() as emu, Fleet({"a": PiKVM(emu.url, passwd="admin")}) as fleet:

        async def buggy(kvm: PiKVM) -> None:
            raise ZeroDivisionError

        with pytest.raises(ExceptionGroup) as raised:
            await fleet.run(buggy)
        assert raised.group_contains(ZeroDivisionError)


def test_a_fleet_refuses_what_is_not_a_mapping_of_clients() -> None:
    with pytest.raises(InvalidInputError, match="clients"):
        Fleet([PiKVM("http://127.0.0.1:9")])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"clients\['x'\]"):
        Fleet({"x": "http://127.0.0.1:9"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError, match="parallel"):
        Fleet({}, parallel=0)
