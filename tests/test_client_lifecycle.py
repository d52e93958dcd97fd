"""A client's life: one that was closed says so clearly, and settings that could not keep
their promise (a pin on a caller's own connections) are refused up front."""

from __future__ import annotations

import io

import httpx
import pytest

from aiopikvm import CertificateFingerprint, ConnectionClosedError, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator


async def test_a_closed_client_refuses_every_call_clearly(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        assert (await kvm.hid.get_state()).online
    calls = {
        "a typed call": kvm.hid.get_state,
        "request": lambda: kvm.request("GET", "hid"),
        "a download": lambda: kvm.msd.download("x.iso", io.BytesIO()),
        "a log stream": lambda: anext(aiter(kvm.system.stream_log())),
    }
    for what, call in calls.items():
        with pytest.raises(ConnectionClosedError, match=r"client .* is closed") as caught:
            await call()
        assert "make a new PiKVM" in str(caught.value), what
    with pytest.raises(ConnectionClosedError, match="make a new PiKVM"):
        async with kvm.stream("GET", "log"):
            pass
    with pytest.raises(ConnectionClosedError, match="make a new PiKVM"):
        kvm.ws()  # before a session is even made
    with pytest.raises(ConnectionClosedError, match="make a new PiKVM"):
        async with kvm:
            pass
    await kvm.aclose()  # closing twice is fine
    assert emu.faults.count("hid") == 1


async def test_a_callers_client_closed_under_us_is_named(emu: Emulator) -> None:
    http = httpx.AsyncClient()
    async with PiKVM(emu.url, passwd="admin", http_client=http) as kvm:
        await http.aclose()
        with pytest.raises(ConnectionClosedError, match=r"http_client .* is closed"):
            await kvm.hid.get_state()


async def test_a_pin_cannot_be_combined_with_a_callers_client() -> None:
    # The pin would be checked on a probe connection of ours, and the password then sent
    # over the caller's TLS settings (here: none) to whoever answers.
    pin = CertificateFingerprint("AB" * 32)
    async with httpx.AsyncClient(verify=False) as http:
        with pytest.raises(InvalidInputError, match="cannot be enforced") as caught:
            PiKVM("https://pikvm.local", passwd="hunter2", verify_ssl=pin, http_client=http)
    assert "hunter2" not in str(caught.value)
    async with PiKVM("https://pikvm.local", verify_ssl=pin):  # without the client, it is fine
        pass
