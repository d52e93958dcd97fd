from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aiopikvm.emulator import Emulator

from .emulator_helpers import eventually as eventually  # for the tests that import it here


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator
