"""The public :class:`Emulator`, and :class:`ThreadedEmulator` for code without a loop."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self

from aiohttp import web

from . import _captures
from ._atx import Atx
from ._auth import Auth
from ._hid import Hid
from ._info import Info
from ._passive import PassiveState
from ._server import Route, build_app
from ._target import Target
from ._ws import WsHub

DEFAULT_USERS: Final[Mapping[str, str]] = MappingProxyType({"admin": "admin"})
_SHUTDOWN_TIMEOUT: Final = 1.0
_THREAD_START_TIMEOUT: Final = 30.0


class Emulator:
    """A fake PiKVM speaking kvmd's HTTP and WebSocket API on ``host:port``.

    It is as hard to please as the device: it refuses and drops input exactly where kvmd
    does. ``port=0`` picks a free port; read :attr:`url` after :meth:`start`.
    ``users`` maps user names to passwords; with ``totp_secret`` (base32) every password
    must end with the current 6-digit code. ``hid_delay`` is how long the simulated HID
    takes per event, which makes its queue observable. ``atx_click_delay`` and
    ``atx_long_click_delay`` are the ATX button press times (short, to keep tests fast);
    ``host_powered`` is the simulated host's power at start. ``ws_heartbeat`` is kvmd's
    WebSocket ping interval.

    ::

        async with Emulator() as emu:
            ...  # talk to emu.url; look at emu.target
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] = DEFAULT_USERS,
        totp_secret: str | None = None,
        hid_delay: float = 0.0,
        atx_click_delay: float = 0.1,
        atx_long_click_delay: float = 0.3,
        host_powered: bool = True,
        ws_heartbeat: float = 15.0,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._auth = Auth(users, totp_secret)
        leds = _captures.result("hid.json")["keyboard"]["leds"]
        self.target: Target = Target(
            powered=host_powered, leds=(leds["caps"], leds["num"], leds["scroll"])
        )
        """The simulated machine behind the HID."""
        self._hid = Hid(self.target, delay=hid_delay, broadcast=self._broadcast)
        self._atx = Atx(
            self.target,
            click_delay=atx_click_delay,
            long_click_delay=atx_long_click_delay,
            broadcast=self._broadcast,
        )
        self._info = Info()
        self._passive = PassiveState()
        self._ws = WsHub(self._hid, self._bundle_event, heartbeat=ws_heartbeat)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ----- lifecycle ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``; clients add ``/api/...``."""
        return f"http://{_url_host(self._host)}:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = build_app(self._routes(), self._auth.check_request, on_shutdown=self._ws.close_all)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
            await self._hid.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            await self._ws.close_all()
            await runner.cleanup()
        finally:
            await self._atx.stop()
            await self._hid.stop()
            self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @classmethod
    def in_thread(cls, **kwargs: Any) -> ThreadedEmulator:
        """An emulator on its own event loop in a daemon thread, for sync code::

        with Emulator.in_thread() as emu:
            requests.get(emu.url + "/api/info", auth=("admin", "admin"))
        """
        return ThreadedEmulator(cls(**kwargs))

    # ----- wiring ---------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            *self._auth.routes(),
            *self._info.routes(),
            *self._hid.routes(),
            *self._atx.routes(),
            Route("GET", "/ws", self._ws.handle),
        ]

    def _broadcast(self, event_type: str, event: dict[str, Any]) -> None:
        self._ws.broadcast(event_type, event)

    def _bundle_event(self, event_type: str, field: str | None) -> dict[str, Any]:
        if event_type == "clients":
            return {"count": self._ws.clients}
        if event_type == "atx":
            return self._atx.full_state()
        if event_type == "hid":
            return self._hid.full_state()
        if event_type == "hid_keymaps":
            return self._hid.get_keymaps()
        if event_type == "info":
            assert field is not None
            return {field: self._info.get_field(field)}
        return self._passive.get(event_type, streaming=self._ws.stream_clients > 0)


class ThreadedEmulator:
    """An :class:`Emulator` running on its own loop in a daemon thread.

    Use it as a context manager (or :meth:`start` / :meth:`stop`). :attr:`url`,
    :attr:`port` and :attr:`target` are safe to read from the caller's thread.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def target(self) -> Target:
        return self.emulator.target

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already running")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="pikvm-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(_THREAD_START_TIMEOUT):
            raise RuntimeError("the emulator did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            # The loop may already be gone if the thread died; nothing left to stop then.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the starting thread
            self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with self.emulator:
            self._ready.set()
            await self._stopping.wait()


def _url_host(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host
