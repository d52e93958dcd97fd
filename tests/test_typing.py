"""Typing text, shortcuts and held keys over the WebSocket, against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest

from aiopikvm import InvalidInputError, PiKVM, UntypableTextError
from aiopikvm.emulator import Emulator

from .conftest import eventually
from .stalling_link import StallingLink

PASSWORD = "Grüße-Ä€ß@{µ}~^°²"
"""Typable on a German keyboard only with Shift, AltGr and dead keys."""


async def test_a_german_password_into_a_german_target() -> None:
    async with Emulator(target_layout="de") as emu, PiKVM(emu.url, passwd="admin") as kvm:
        result = await kvm.type_text(PASSWORD + "\n", layout="de", delay=0.005)
        assert emu.target.screen_text == PASSWORD + "\n"
        assert emu.target.held_keys == frozenset()
    total = len(PASSWORD) + 1
    assert (result.total, result.typed, result.uncertain, result.disruptions) == (
        total,
        total,
        (),
        0,
    )
    assert result.exact and result.ack == "host" and result.host_acked == ((0, total),)


@pytest.mark.parametrize("binary", [True, False])
async def test_json_and_binary_frames_type_the_same(binary: bool) -> None:
    async with Emulator(target_layout="fr") as emu, PiKVM(emu.url, passwd="admin") as kvm:
        async with kvm.ws(binary=binary) as ws:
            await ws.type_text("Où est-ce ? ê", layout="fr", delay=0.001)
        assert emu.target.screen_text == "Où est-ce ? ê"


async def test_untypable_text_raises_before_anything_is_sent(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(UntypableTextError) as caught:
            await kvm.type_text("abc€def\u00e7", layout="en-us")
        assert caught.value.characters == [(3, "€"), (7, "ç")]
        async with kvm.ws() as ws:
            await ws.send_key("KeyX", True)  # a key held on the target...
            await eventually(lambda: emu.target.held_keys == {"KeyX"})
            with pytest.raises(UntypableTextError, match="'€' at 1"):
                await ws.type_text("a€", layout="en-us")
            await ws.ping()
            # ... and not one more event: not even the "a" before the bad character
            assert emu.target.events == [("key", "KeyX", True)]
    # The ping shows kvmd read everything, not that its HID applied it: closing waits for that.
    assert emu.target.events == [("key", "KeyX", True), ("key", "KeyX", False)]
    assert emu.target.screen_text == "x"


async def test_mismatched_layouts_type_the_wrong_characters() -> None:
    # Documented behaviour: keys are positions, so the client must name the target's layout.
    async with Emulator(target_layout="de") as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text('yz@"', layout="en-us", delay=0.001)
        assert emu.target.screen_text == 'zy"Ä'
        emu.target.clear_screen()
        emu.target.set_layout("en-us")
        await kvm.type_text("Grüße", layout="de", delay=0.001)
        assert emu.target.screen_text == "Gr[-e"


async def test_default_pacing_under_a_rate_limit_loses_nothing() -> None:
    # 45 HID events a second: a CH9329 at 9600 baud. Queued input is lost when the session
    # closes, so typing faster than the device drains loses the tail of the text.
    text = "Paced, not lost!"
    async with (
        Emulator(hid_rate_limit=45) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        await kvm.type_text(text)
        assert emu.target.screen_text == text

        # delay=0 is far below what the device takes: the host's echoes pace typing anyway,
        # and the result says the delay was too short instead of believing it.
        # (Long enough for two echoes, between which the host's pace is measured.)
        emu.target.clear_screen()
        result = await kvm.type_text(text * 3, delay=0)
        assert emu.target.screen_text == text * 3
        assert result.exact and result.delay_too_short and result.host_event_time
        # Believed (kvmd's answers only), it loses the tail when the session closes.
        emu.target.clear_screen()
        await kvm.type_text(text, delay=0, ack="kvmd")
        typed = emu.target.screen_text
        assert len(typed) < len(text) and text.startswith(typed)


async def test_progress_is_reported_per_character(emu: Emulator) -> None:
    calls: list[tuple[int, int]] = []
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text(
            "Hi!\n", delay=0, progress=lambda typed, total: calls.append((typed, total))
        )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_cancelling_typing_at_every_await_point_leaves_no_key_held() -> None:
    text = "aB, cD!"  # Shift pressed and released between characters
    cancelled_at = 0
    # An instant HID: pacing would put a sleep, and so hundreds of hops, between await points.
    async with Emulator(hid_delay=0) as emu, PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.wait_for(lambda s: s.hid is not None, timeout=5)
        for hops in itertools.count():
            emu.target.clear_screen()
            task = asyncio.create_task(ws.type_text(text, delay=0, ack_every=1))
            for _ in range(hops):
                await asyncio.sleep(0)
            if task.done():
                assert (await task).exact
                break
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            cancelled_at += 1
            assert ws.held_keys == ()
            await ws.ping()
            assert emu.target.held_keys == frozenset(), hops
            assert text.startswith(emu.target.screen_text), hops  # nothing doubled
    assert emu.target.screen_text == text
    assert cancelled_at > 2 * len(text)  # every character's sends and answers were hit


async def test_cancelling_during_a_stalled_send_leaves_no_key_held() -> None:
    # A congested link: a send waits for room in the socket, with its frame on the way.
    async with (
        Emulator(hid_delay=0) as emu,  # instant: the flood below is ~46,000 events, ~50 s at 1 ms
        StallingLink(emu.url).running() as link,
        PiKVM(link.url, passwd="admin") as kvm,
        kvm.ws(binary=False) as ws,  # JSON frames fill the buffers sooner
    ):
        await ws.wait_for(lambda s: s.hid is not None, timeout=5)
        stalled = asyncio.Event()

        async def stall_after_the_first(typed: int, total: int) -> None:
            if typed == 1:
                link.stall()
                # From typing's own task: input from any other waits for typing to end.
                with contextlib.suppress(TimeoutError):
                    while True:
                        async with asyncio.timeout(0.2):  # only a full buffer makes it wait
                            await ws.send_mouse_move(0, 0)
                stalled.set()

        task = asyncio.create_task(ws.type_text("aB", delay=0, progress=stall_after_the_first))
        await stalled.wait()
        for _ in range(10):
            await asyncio.sleep(0)  # typing goes on to press Shift, and waits in that send
        task.cancel()
        link.resume()  # the undoing goes out once the link moves again
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ws.held_keys == ()
        await ws.ping(timeout=30)
        # The cut send did land, behind the flood in the HID's queue:
        await eventually(lambda: ("key", "ShiftLeft", True) in emu.target.events)
        await eventually(lambda: emu.target.held_keys == frozenset())
        assert emu.target.screen_text == "a"


async def test_an_error_mid_text_releases_what_typing_pressed(emu: Emulator) -> None:
    def progress(typed: int, total: int) -> None:
        if typed == 3:
            raise RuntimeError("stop here")

    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        with pytest.raises(RuntimeError, match="stop here"):
            await ws.type_text("ABCDEF", delay=0.001, progress=progress)
        assert ws.held_keys == ()
        await eventually(lambda: emu.target.held_keys == frozenset())
    assert emu.target.screen_text == "ABC"  # closing waited for the HID's queue to drain


async def test_caps_lock_is_switched_off_for_typing_and_back_on(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.send_key("CapsLock")
        await ws.wait_for(lambda s: s.hid is not None and s.hid.keyboard.leds.caps, timeout=5)
        await ws.type_text("Hello, World", delay=0.001)
        assert emu.target.screen_text == "Hello, World"
        assert emu.target.leds["caps"] is True


async def test_keys_held_on_the_session_are_refused(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        async with ws.held("ControlLeft"):
            with pytest.raises(InvalidInputError, match="ControlLeft"):
                await ws.type_text("c")
        await ws.ping()
    assert emu.target.screen_text == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delay": -1}, "delay"),
        ({"delay": True}, "delay"),
        ({"ack_every": 0}, "ack_every"),
        ({"layout": "xx"}, "unknown layout"),
    ],
)
async def test_bad_arguments_send_nothing(
    emu: Emulator, kwargs: dict[str, object], message: str
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(InvalidInputError, match=message):
            await kvm.type_text("a", **kwargs)  # type: ignore[arg-type]
    assert emu.target.events == []


# ----- shortcuts and held keys ----------------------------------------------------------


async def test_shortcut_presses_in_order_and_releases_in_reverse(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.send_shortcut("ControlLeft", "AltLeft", "Delete", delay=0)
        await ws.ping()
        assert ws.held_keys == ()
    assert emu.target.events == [
        ("key", "ControlLeft", True),
        ("key", "AltLeft", True),
        ("key", "Delete", True),
        ("key", "Delete", False),
        ("key", "AltLeft", False),
        ("key", "ControlLeft", False),
    ]


async def test_a_shortcut_cancelled_midway_releases_its_keys(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        task = asyncio.create_task(ws.send_shortcut("ControlLeft", "ShiftLeft", "Escape", delay=5))
        await eventually(lambda: "ControlLeft" in emu.target.held_keys)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ws.held_keys == ()
        await eventually(lambda: emu.target.held_keys == frozenset())
    assert ("key", "Escape", True) not in emu.target.events  # the session's input all arrived


async def test_bad_shortcuts_send_nothing(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        for keys in [(), ("ControlLeft", "Nope"), ("KeyA", "KeyA")]:
            with pytest.raises(InvalidInputError):
                await ws.send_shortcut(*keys)
        with pytest.raises(InvalidInputError):
            async with ws.held("ShiftLeft", "Shift"):
                pass
    assert emu.target.events == []


async def test_held_keys_are_released_on_exit_and_on_error(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        async with ws.held("ShiftLeft"):
            await ws.send_key("KeyA")
            await eventually(lambda: ("key", "KeyA", False) in emu.target.events)  # tapped...
            assert emu.target.held_keys == {"ShiftLeft"}
        await eventually(lambda: emu.target.held_keys == frozenset())  # ...and released
        with pytest.raises(RuntimeError):
            async with ws.held("ControlLeft", "AltLeft"):
                raise RuntimeError
        assert ws.held_keys == ()
        released = [("key", "AltLeft", False), ("key", "ControlLeft", False)]
        await eventually(lambda: emu.target.events[-2:] == released)
        assert emu.target.held_keys == frozenset()
    assert emu.target.screen_text == "A"


async def test_held_keys_are_released_on_cancellation(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:

        async def hold_for_ever() -> None:
            async with ws.held("MetaLeft"):
                await asyncio.Event().wait()

        task = asyncio.create_task(hold_for_ever())
        await eventually(lambda: "MetaLeft" in emu.target.held_keys)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await eventually(lambda: emu.target.held_keys == frozenset())


async def test_held_waits_for_typing_to_end(emu: Emulator) -> None:
    # Pressed midway, Control would turn the rest of the text into shortcuts.
    text = "no shortcuts here"
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        typing = asyncio.create_task(ws.type_text(text, delay=0.001))
        await eventually(lambda: len(emu.target.screen_text) >= 3)
        async with ws.held("ControlLeft"):
            assert typing.done()
            await ws.send_key("KeyC")
        await typing
        await ws.ping()
    assert emu.target.screen_text == text
    assert emu.target.events[-3:] == [
        ("key", "KeyC", True),
        ("key", "KeyC", False),
        ("key", "ControlLeft", False),
    ]
