"""The ``pikvm_emulator`` pytest fixture (registered through the ``pytest11`` entry point).

The fixture yields a started, thread-backed emulator, so it works in sync tests and under
any async framework. Options go through a marker::

    @pytest.mark.pikvm_emulator(totp_secret="JBSWY3DPEHPK3PXP", hid_poll=0.05)
    def test_login(pikvm_emulator): ...

Nothing heavy is imported here: aiohttp is loaded only when a test uses the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._threaded import ThreadedEmulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pikvm_emulator(**kwargs): keyword arguments for the pikvm_emulator fixture's Emulator",
    )


@pytest.fixture
def pikvm_emulator(request: pytest.FixtureRequest) -> Iterator[ThreadedEmulator]:
    """A running kvmd-compatible emulator: ``.url``, ``.target``, ``.port``."""
    from . import _load

    try:
        _load("_emulator")
    except ModuleNotFoundError as error:  # the extra is not installed
        pytest.fail(str(error), pytrace=False)
    from ._emulator import Emulator

    marker = request.node.get_closest_marker("pikvm_emulator")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    with Emulator.in_thread(**kwargs) as emulator:
        yield emulator
