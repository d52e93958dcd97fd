"""aiopikvm.sync from plain (non-async) code, against the emulator in its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aiopikvm import ConnectionClosedError, InvalidInputError, TypingResult, UntypableTextError
from aiopikvm.emulator import Emulator, ThreadedEmulator
from aiopikvm.models import AtxState
from aiopikvm.sync import PiKVM, PiKVMWebSocket


@pytest.fixture
def temu(tmp_path: Path) -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(
        hid_delay=0,
        atx_click_delay=0.01,
        atx_long_click_delay=0.01,
        msd_dir=tmp_path,
        msd_storage_delay=0.01,
    ) as emulator:
        yield emulator


@pytest.fixture
def kvm(temu: ThreadedEmulator) -> Iterator[PiKVM]:
    with PiKVM(temu.url, user="admin", passwd="admin") as client:
        yield client


def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (the emulator applies HID input on its own thread)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def test_power_on_and_off(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    temu.target.set_powered(False)
    assert isinstance(kvm.atx.get_state(), AtxState)
    assert kvm.atx.get_state().leds.power is False
    kvm.atx.power_on(wait=True)
    assert temu.target.powered
    assert kvm.atx.get_state().leds.power is True
    kvm.atx.power_off_hard(wait=True)
    assert not temu.target.powered


def test_msd_upload_list_and_download(kvm: PiKVM) -> None:
    data = bytes(range(256)) * 16
    sent: list[tuple[int, int]] = []
    result = kvm.msd.upload(
        "tiny.img", data, progress=lambda done, total: sent.append((done, total))
    )
    assert result.name == "tiny.img"
    assert result.size == len(data)
    assert sent[-1] == (len(data), len(data))
    image = kvm.msd.wait_for_image("tiny.img")
    assert image.size == len(data)
    storage = kvm.msd.get_state().storage
    assert storage is not None and "tiny.img" in storage.images
    # An async generator there, a generator here.
    assert b"".join(kvm.msd.iter_download("tiny.img")) == data
    kvm.msd.remove("tiny.img")

    def gone() -> bool:
        storage = kvm.msd.get_state().storage
        return storage is not None and "tiny.img" not in storage.images

    until(gone)


def test_type_text_reaches_the_target(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    result = kvm.type_text("Hello, World!\n")
    assert result == TypingResult(total=14, typed=14, uncertain=(), disruptions=0)
    assert temu.target.screen_text == "Hello, World!\n"
    with pytest.raises(UntypableTextError):  # the async API's error, raised here
        kvm.type_text("\u2603")


def test_session_keys_events_and_state(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    with kvm.ws() as ws:
        assert isinstance(ws, PiKVMWebSocket)
        assert ws.is_open
        event_types = []
        for event in ws.events():
            event_types.append(event["event_type"])
            if event["event_type"] == "atx":
                break  # closes the async generator on the loop
        assert event_types[0] == "loop"
        state = ws.wait_for(lambda s: s.atx is not None, timeout=10)
        assert state.atx is not None
        assert ws.state.atx == state.atx
        ws.send_key("KeyA")
        ws.send_key("ShiftLeft", True)
        assert ws.held_keys == ("ShiftLeft",)
        ws.send_key("KeyB")
        ws.send_key("ShiftLeft", False)
        assert not ws.held_keys
        with ws.held("ShiftLeft"):
            assert ws.held_keys == ("ShiftLeft",)
            until(lambda: temu.target.held_keys == {"ShiftLeft"})
            ws.send_key("KeyC")
        assert not ws.held_keys
        assert ws.ping() >= 0
        ws.hid_event_time = 0.001
        assert ws.hid_event_time == 0.001
        # A second iteration after the break goes on with the next events.
        assert next(iter(ws.events()))["event_type"]
    assert not ws.is_open
    until(lambda: temu.target.screen_text == "aBC")
    assert temu.target.held_keys == frozenset()


def test_held_keys_are_released_when_the_block_raises(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    def hold_and_fail() -> None:
        with kvm.ws() as ws, ws.held("ControlLeft", "AltLeft"):
            until(lambda: temu.target.held_keys == {"ControlLeft", "AltLeft"})
            ws.send_key("ShiftRight", True)  # held by the session itself: released at its end
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        hold_and_fail()
    assert temu.target.held_keys == frozenset()


def test_a_standalone_session_has_a_loop_of_its_own(temu: ThreadedEmulator) -> None:
    url = temu.url.replace("http://", "ws://")
    with PiKVMWebSocket(url, user="admin", passwd="admin") as ws:
        ws.send_key("KeyQ")
        assert ws.ping() >= 0
    until(lambda: temu.target.screen_text == "q")
    with pytest.raises(ConnectionClosedError):
        ws.send_key("KeyQ")


def test_one_client_for_many_calls(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    # What asyncio.run per call cannot do: the second would find the pool's loop closed.
    for _ in range(30):
        assert kvm.atx.get_state().enabled
        system = kvm.system.get_info().system
        assert system is not None and system.kvmd.version
    assert kvm.type_text("a").typed == 1
    assert kvm.type_text("b").typed == 1
    for _ in range(3):
        with kvm.ws() as ws:
            ws.send_key("KeyC")
    until(lambda: temu.target.screen_text == "abccc")
    assert kvm.request("GET", "atx")["enabled"] is True


def test_two_threads_share_one_client(kvm: PiKVM, temu: ThreadedEmulator) -> None:
    start = threading.Barrier(2)

    def read() -> int:
        start.wait(10)
        for _ in range(40):
            assert kvm.atx.get_state().enabled
            assert kvm.hid.get_state().keyboard is not None
        return threading.get_ident()

    def press() -> int:
        with kvm.ws() as ws:
            start.wait(10)
            for _ in range(20):
                ws.send_key("KeyX")
                assert ws.held_keys == ()
            ws.ping()
        return threading.get_ident()

    with ThreadPoolExecutor(2) as pool:
        readers = pool.submit(read)
        pressers = pool.submit(press)
        assert readers.result(60) != pressers.result(60)
    until(lambda: temu.target.screen_text == "x" * 20)


def test_close_closes_the_sessions_still_open(temu: ThreadedEmulator) -> None:
    kvm = PiKVM(temu.url, user="admin", passwd="admin")
    ws = kvm.ws()
    ws.connect()
    ws.send_key("AltLeft", True)
    until(lambda: temu.target.held_keys == {"AltLeft"})
    kvm.close()
    assert not ws.is_open
    assert ws.held_keys == ()
    assert temu.target.held_keys == frozenset()
    with pytest.raises(ConnectionClosedError):
        kvm.atx.get_state()
    with pytest.raises(ConnectionClosedError):
        ws.send_key("KeyA")
    kvm.close()  # again: nothing happens


def test_stream_log_is_a_generator(kvm: PiKVM) -> None:
    lines = kvm.system.stream_log()
    first = next(lines)
    assert isinstance(first, str)
    lines.close()  # the async generator is closed on the loop: the connection too
    assert kvm.atx.get_state().enabled


def test_bad_input_raises_our_errors_before_anything_is_sent(kvm: PiKVM) -> None:
    with pytest.raises(InvalidInputError, match="key"):
        kvm.hid.send_key("NoSuchKey")
    with kvm.ws() as ws:
        with pytest.raises(InvalidInputError):
            ws.send_key("NoSuchKey")
        with pytest.raises(InvalidInputError), ws.held():
            pass
        assert ws.is_open


def test_a_blocking_call_from_the_loop_thread_is_refused(kvm: PiKVM) -> None:
    # The predicate runs on the client's loop: a blocking call there would wait for itself.
    with kvm.ws() as ws, pytest.raises(InvalidInputError, match="own event loop thread"):
        ws.wait_for(lambda state: kvm.atx.get_state().enabled, timeout=10)
    assert kvm.atx.get_state().enabled  # and the client goes on
