"""aiopikvm.sync when things go wrong: Ctrl-C in a blocking call, a KeyboardInterrupt on
the loop's side, and no secret in the traceback of a failed call."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from aiopikvm import AuthError, InvalidInputError, PiKVMError
from aiopikvm.emulator import Emulator, ThreadedEmulator
from aiopikvm.sync import PiKVM, PiKVMWebSocket

from .secret_walk import exception_texts

PASSWORD = "Zebra-Secret-Pa55"
SECRET = "KRSXG5CTMVRXEZLUKRSXG5CT"
URL_TOKEN = "Tok3n-In-The-Url"


@pytest.fixture
def temu() -> Iterator[ThreadedEmulator]:
    with Emulator.in_thread(hid_delay=0) as emulator:
        yield emulator


def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def test_ctrl_c_in_a_wait_inside_held_leaves_no_key_held(temu: ThreadedEmulator) -> None:
    main = threading.main_thread()
    if threading.current_thread() is not main:
        pytest.skip("a SIGINT reaches the main thread only")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT does not raise KeyboardInterrupt here")
    waiting = threading.Event()
    failures: list[BaseException] = []

    def press_ctrl_c() -> None:
        try:
            until(lambda: waiting.is_set() and temu.target.held_keys == {"ShiftLeft"})
        except BaseException as error:  # reported below; the wait then times out
            failures.append(error)
            return
        assert main.ident is not None
        signal.pthread_kill(main.ident, signal.SIGINT)  # what Ctrl-C in a terminal does

    def hold_and_wait(kvm: PiKVM) -> None:
        with kvm.ws() as ws, ws.held("ShiftLeft"):
            waiting.set()
            ws.wait_for(lambda state: False, timeout=30)

    with PiKVM(temu.url, user="admin", passwd="admin") as kvm:
        timer = threading.Thread(target=press_ctrl_c)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                hold_and_wait(kvm)
        finally:
            timer.join(30)
        assert failures == []
        assert temu.target.held_keys == frozenset()
        # The interrupted call was cancelled on the loop, which goes on.
        with kvm.ws() as ws:
            ws.send_key("KeyA")
            assert ws.ping() >= 0
        until(lambda: temu.target.screen_text == "a")


def test_ctrl_c_while_typing_cancels_it_and_releases_its_keys(temu: ThreadedEmulator) -> None:
    main = threading.main_thread()
    if threading.current_thread() is not main:
        pytest.skip("a SIGINT reaches the main thread only")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT does not raise KeyboardInterrupt here")
    text = "AbCdEfGh" * 50

    def press_ctrl_c() -> None:
        with contextlib.suppress(AssertionError):  # then typing ends, and the test fails
            until(lambda: len(temu.target.screen_text) >= 3)
            assert main.ident is not None
            signal.pthread_kill(main.ident, signal.SIGINT)

    with PiKVM(temu.url, user="admin", passwd="admin") as kvm:
        timer = threading.Thread(target=press_ctrl_c)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                kvm.type_text(text, delay=0.005)
        finally:
            timer.join(30)
        assert temu.target.held_keys == frozenset()  # no Shift left down
        assert 3 <= len(temu.target.screen_text) < len(text)
        assert kvm.type_text("z").typed == 1


def test_a_keyboard_interrupt_on_the_loop_side_does_not_kill_the_loop(
    temu: ThreadedEmulator,
) -> None:
    def interrupt(typed: int, total: int) -> None:
        raise KeyboardInterrupt  # e.g. a progress callback that means to stop everything

    with PiKVM(temu.url, user="admin", passwd="admin") as kvm:
        with pytest.raises(KeyboardInterrupt):
            kvm.type_text("abc", progress=interrupt)
        assert temu.target.held_keys == frozenset()
        assert kvm.type_text("d").typed == 1  # the loop thread is still there


def _assert_no_secret(error: BaseException) -> None:
    texts = list(exception_texts(error, skip_file=__file__))
    assert texts
    for text in texts:
        for secret in (PASSWORD, SECRET, URL_TOKEN):
            assert secret not in text, text


def test_a_refused_constructor_argument_shows_no_secret() -> None:
    with pytest.raises(InvalidInputError) as caught:
        PiKVM("http://127.0.0.1:9", passwd=PASSWORD, totp_secret=SECRET, timeout=-1)
    _assert_no_secret(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        PiKVMWebSocket("ws://127.0.0.1:9", passwd=PASSWORD, open_timeout=-1)
    _assert_no_secret(caught.value)


def test_a_failed_call_shows_no_secret_in_its_traceback(temu: ThreadedEmulator) -> None:
    errors: list[PiKVMError] = []
    with PiKVM(temu.url, user="admin", passwd="admin") as kvm:
        url = f"https://user:{URL_TOKEN}@example.com/os.iso"
        with pytest.raises(InvalidInputError) as refused:
            kvm.msd.upload_remote(url, timeout="soon")  # type: ignore[arg-type]
        errors.append(refused.value)
        with pytest.raises(AuthError) as denied:
            kvm.auth.login("admin", PASSWORD)
        errors.append(denied.value)
    with PiKVM(temu.url, user="admin", passwd=PASSWORD) as kvm:
        with pytest.raises(AuthError) as denied:
            kvm.atx.get_state()
        errors.append(denied.value)
        with pytest.raises(AuthError) as denied, kvm.ws():
            pass
        errors.append(denied.value)
    for error in errors:
        _assert_no_secret(error)
