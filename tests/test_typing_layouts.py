"""Every shipped layout, end to end: text typed over a session arrives exactly.

One emulator and one session serve the whole module (the target's layout is switched per
test), so the hundreds of examples stay fast. Pacing is off here (``delay=0``,
``ack="kvmd"``: no Num Lock asks), which is
true only of an instant HID (``hid_delay=0``), which no device is: what these tests study
is the layouts, not the HID's pace, which has tests of its own.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiopikvm import PiKVM, PiKVMWebSocket
from aiopikvm.emulator import Emulator
from aiopikvm.protocol.layout import LAYOUTS, load_layout

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def typing_emu() -> AsyncIterator[Emulator]:
    async with Emulator(hid_delay=0) as emulator:  # instant: 36 layouts x 25 texts stay fast
        yield emulator


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def session(typing_emu: Emulator) -> AsyncIterator[PiKVMWebSocket]:
    async with PiKVM(typing_emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        yield ws


@pytest.mark.parametrize("name", LAYOUTS)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_typed_text_arrives_exactly(
    typing_emu: Emulator, session: PiKVMWebSocket, name: str, data: st.DataObject
) -> None:
    typable = sorted(load_layout(name).characters)
    text = data.draw(st.text(st.sampled_from(typable), min_size=1, max_size=40), label="text")
    typing_emu.target.set_layout(name)
    typing_emu.target.clear_screen()
    await session.type_text(text, layout=name, delay=0, ack="kvmd")
    assert typing_emu.target.screen_text == text
    assert typing_emu.target.held_keys == frozenset()
    assert session.held_keys == ()


async def test_more_than_kvmds_1024_characters_arrive(
    typing_emu: Emulator, session: PiKVMWebSocket
) -> None:
    # kvmd's hid/print cuts text at 1024 characters without a word; typing has no limit.
    typable = sorted(load_layout("de").characters)
    text = "".join(random.Random(1024).choice(typable) for _ in range(3000))
    typing_emu.target.set_layout("de")
    typing_emu.target.clear_screen()
    await session.type_text(text, layout="de", delay=0, ack="kvmd")
    assert typing_emu.target.screen_text == text
    assert typing_emu.target.held_keys == frozenset()
