"""Opt-in retries of reads against the emulator's fault injection: what is retried (GET on
503, refused connections, timeouts), what never is (actions, auth and TLS failures), and
the backoff itself."""

from __future__ import annotations

import logging
import random

import pytest

from aiopikvm import (
    AuthError,
    CertificateFingerprint,
    InvalidInputError,
    PiKVM,
    RetryPolicy,
    ServerError,
    TLSError,
    UnavailableError,
)
from aiopikvm.emulator import Emulator


class Sleeps:
    """An injected sleep: records the delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def policy(sleeps: Sleeps, **kwargs: object) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]


async def test_a_read_survives_two_503s(emu: Emulator) -> None:
    sleeps = Sleeps()
    emu.faults.fail("hid", 503, times=2)
    async with PiKVM(emu.url, passwd="admin", retries=policy(sleeps)) as kvm:
        assert (await kvm.hid.get_state()).online
    assert emu.faults.count("hid") == 3
    assert len(sleeps.delays) == 2


async def test_an_action_is_never_repeated(emu: Emulator) -> None:
    sleeps = Sleeps()
    emu.faults.fail("atx/click", 503, times=None)
    async with PiKVM(emu.url, passwd="admin", retries=policy(sleeps, attempts=5)) as kvm:
        with pytest.raises(UnavailableError):
            await kvm.atx.click_power()
    assert emu.faults.count("atx/click", "POST") == 1
    assert sleeps.delays == []


async def test_auth_failures_are_never_retried(emu: Emulator) -> None:
    sleeps = Sleeps()
    async with PiKVM(emu.url, passwd="wrong", retries=policy(sleeps, attempts=5)) as kvm:
        with pytest.raises(AuthError):
            await kvm.hid.get_state()
    assert emu.faults.count("hid") == 1 and sleeps.delays == []


async def test_a_refused_read_waits_for_the_device_to_come_back(emu: Emulator) -> None:
    async def device_comes_back(_: float) -> None:
        await emu.go_online()

    await emu.go_offline()
    retries = RetryPolicy(sleep=device_comes_back)
    async with PiKVM(emu.url, passwd="admin", retries=retries) as kvm:
        assert (await kvm.hid.get_state()).online
    assert emu.faults.count("hid") == 1  # the refused attempt never reached it


async def test_a_timed_out_read_is_tried_again(emu: Emulator) -> None:
    sleeps = Sleeps()
    emu.faults.delay("hid", 30, times=1)
    async with PiKVM(emu.url, passwd="admin", timeout=0.3, retries=policy(sleeps)) as kvm:
        assert (await kvm.hid.get_state()).online
    assert emu.faults.count("hid") == 2 and len(sleeps.delays) == 1


async def test_attempts_run_out_and_the_last_error_is_raised(emu: Emulator) -> None:
    sleeps = Sleeps()
    emu.faults.fail("hid", 503, times=None)
    async with PiKVM(emu.url, passwd="admin", retries=policy(sleeps, attempts=4)) as kvm:
        with pytest.raises(UnavailableError):
            await kvm.hid.get_state()
    assert emu.faults.count("hid") == 4 and len(sleeps.delays) == 3


async def test_only_the_listed_statuses_are_retried(emu: Emulator) -> None:
    sleeps = Sleeps()
    emu.faults.fail("hid", 502, times=1)
    async with PiKVM(emu.url, passwd="admin", retries=policy(sleeps)) as kvm:
        with pytest.raises(ServerError):  # nginx's 502 is not in the default list
            await kvm.hid.get_state()
    emu.faults.fail("hid", 502, times=1)
    nginx_too = policy(sleeps, statuses=(502, 503))
    async with PiKVM(emu.url, passwd="admin", retries=nginx_too) as kvm:
        assert (await kvm.hid.get_state()).online


async def test_a_tls_failure_is_not_retried() -> None:
    sleeps = Sleeps()
    async with Emulator(tls=True) as emu:
        pin = CertificateFingerprint("00" * 32)
        async with PiKVM(emu.url, verify_ssl=pin, retries=policy(sleeps)) as kvm:
            with pytest.raises(TLSError):
                await kvm.hid.get_state()
    assert sleeps.delays == []


async def test_each_retry_is_logged(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aiopikvm")
    emu.faults.fail("hid", 503, times=1)
    async with PiKVM(emu.url, passwd="admin", retries=policy(Sleeps())) as kvm:
        await kvm.hid.get_state()
    (record,) = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert "GET" in record.getMessage() and "attempt 1 of 3" in record.getMessage()


def test_backoff_grows_is_capped_and_jittered() -> None:
    exact = RetryPolicy(base_delay=0.1, max_delay=0.5, multiplier=2, jitter=0)
    assert [exact.delay(n) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    jittered = RetryPolicy(base_delay=0.1, max_delay=0.5, jitter=1, rng=random.Random(3))
    delays = [jittered.delay(4) for _ in range(50)]
    assert all(0 <= d <= 0.5 for d in delays) and len(set(delays)) == 50
    again = RetryPolicy(base_delay=0.1, max_delay=0.5, jitter=1, rng=random.Random(3))
    assert [again.delay(4) for _ in range(50)] == delays


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"statuses": (403,)},
        {"statuses": (409,)},
        {"jitter": 1.5},
        {"base_delay": 5.0, "max_delay": 1.0},
        {"multiplier": 0.5},
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
