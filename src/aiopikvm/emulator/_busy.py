"""The one place the emulator decides a 409: a region only one operation is in at a time.

As kvmd's ``aiotools.AioExclusiveRegion`` (kvmd/aiotools.py): :meth:`BusyRegion.enter`
refuses with the subsystem's ``IsBusyError`` while the region is taken, and both
:meth:`~BusyRegion.enter` and :meth:`~BusyRegion.exit` tell the subsystem, if it asked, so
its ``busy`` flag reaches the WebSocket sessions. kvmd's regions are per subsystem (MSD),
per group of buttons (ATX, kvmd/plugins/atx/gpio.py) or per channel (GPIO,
kvmd/apps/kvmd/ugpio.py); each owner here makes its own the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from ._errors import IsBusyError


class BusyRegion:
    """Taken by :meth:`enter` (or ``with``), released by :meth:`exit`; ``error`` makes the
    409 a second :meth:`enter` raises, ``notify`` runs after every change of :attr:`busy`."""

    __slots__ = ("_busy", "_error", "_notify")

    def __init__(
        self, error: Callable[[], IsBusyError], notify: Callable[[], None] | None = None
    ) -> None:
        self._error = error
        self._notify = notify
        self._busy = False

    @property
    def busy(self) -> bool:
        return self._busy

    def enter(self) -> None:
        if self._busy:
            raise self._error()
        self._busy = True
        if self._notify is not None:
            try:
                self._notify()
            except BaseException:
                self._busy = False  # not entered, so the caller does not exit it
                raise

    def exit(self) -> None:
        self._busy = False
        if self._notify is not None:
            self._notify()

    def __enter__(self) -> None:
        self.enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.exit()
