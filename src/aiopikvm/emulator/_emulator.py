"""The public :class:`Emulator`: the device's parts wired into one aiohttp app, which
:mod:`._listener` serves."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from os import PathLike
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self

from . import _captures
from ._atx import Atx
from ._auth import Auth
from ._capture import Capture
from ._faults import Faults
from ._gpio import Gpio, GpioScheme
from ._hid import Hid
from ._hid_api import HidApi
from ._info import Info
from ._installer import Installer
from ._listener import Listener
from ._log import Journal
from ._msd import Msd
from ._msd_api import MsdApi
from ._printer import Printer
from ._prometheus import Prometheus
from ._redfish import Redfish
from ._server import Route, build_app
from ._streamer import Streamer
from ._subsystem import State, Subsystem
from ._switch import Switch
from ._target import Target
from ._threaded import ThreadedEmulator
from ._video import Video
from ._ws import WsHub

DEFAULT_USERS: Final[Mapping[str, str]] = MappingProxyType({"admin": "admin"})


class Emulator:
    """A fake PiKVM speaking kvmd's HTTP and WebSocket API on ``host:port``.

    It is as hard to please as the device: it refuses and drops input exactly where kvmd
    does. ``port=0`` picks a free port; read :attr:`url` after :meth:`start`.
    ``users`` maps user names to passwords; with ``totp_secret`` (base32) every password
    must end with the current 6-digit code. ``hid_poll`` is how often the simulated USB
    host polls each HID endpoint, one report a poll (a key tap is two): 1 ms by default,
    firmware often 10 ms; 0 is an ideal host that takes every report at once, which none
    is. Input waits in kvmd's queues for it; a report the host does not take within 0.1 s
    (``target.stall_usb``) is lost, and so is what is still queued when a session opens
    or closes, as on kvmd. ``hid_delay`` is its old name. ``hid_led_echo=False`` is a host
    that never sends the keyboard LEDs back; ``hid_log`` gets a JSON line for every report
    the host takes (``{"dev", "ts", "hex"}``). ``atx_click_delay`` and
    ``atx_long_click_delay`` are the ATX button press times (short, to keep tests fast);
    ``host_powered`` is the simulated host's power at start. ``ws_heartbeat`` is kvmd's
    WebSocket ping interval. ``target_layout`` is the keyboard layout the target's OS reads
    keys with (a kvmd keymap name, e.g. ``"de"``). ``hid_rate_limit`` caps the reports
    per second each HID device gets to the target (a CH9329 at 9600 baud takes about 45):
    the host then polls no faster, and faster input waits in kvmd's queue. ``installer``
    (``"debian"``, ``"kickstart"`` or ``"ubuntu"``) makes the host an OS installer that
    boots to a menu on power-on or reset, reads a boot line and fetches the preseed,
    kickstart or cloud-init URL typed on it (see ``aiopikvm.emulator._installer``;
    ``emu.target.installer`` tells what it did); the menu boots its default entry after
    ``installer_boot_timeout`` seconds, and ``installer_speed`` divides the time its POST
    and install steps take; a fetch that takes longer than ``installer_fetch_timeout``
    seconds fails.
    ``screen_size`` is the host's video mode (see :meth:`set_resolution`); the video
    streamer finds its signal ``streamer_start_delay`` seconds after it starts and stops
    ``streamer_stop_delay`` seconds after the last ``stream=1`` session leaves (kvmd's
    shutdown delay, 10 s on a device). Its picture is as a device captures it: lossy JPEG
    whose noise differs frame to frame (no two snapshots alike, as on a device), with the
    console's cursor blinking at the text's end; ``clock=True`` adds a clock ticking in the
    top right corner (``HH:MM:SS`` UTC in the top row's last 8 cells of 16x24 pixels:
    ``(width - 128, 0, width, 24)``), ``screen_seed`` seeds the noise. While it runs it also
    streams: ustreamer's MJPEG at ``/streamer/stream`` and kvmd-media's H.264 at
    ``/api/media/ws`` (encoded with PyAV's libx264 when installed, the ``video`` extra;
    else a device without H.264).
    Virtual media (MSD) stores images in ``msd_dir``, or in a temporary directory removed
    on :meth:`stop`; it starts online with nothing selected. New files show in its storage
    ``msd_storage_delay`` seconds after they change (kvmd's watcher lags, too).
    ``msd_enabled=False`` is a device without MSD, ``atx_enabled=False`` one without ATX,
    ``log_enabled=False`` one whose log reader is off, ``ocr_enabled=False`` one without
    Tesseract: each answers as kvmd does then (``MsdDisabledError``, ``AtxDisabledError``,
    ``LogReaderDisabledError``, ``OcrError``).
    ``gpio`` is the GPIO channels, a scheme shaped like kvmd's ``kvmd.gpio.scheme`` config
    (``{"relay": {"mode": "output", "pulse": {"delay": 0.5}}, "led": {"mode": "input"}}``;
    see ``aiopikvm.emulator._gpio.GpioScheme``); by default the recorded device's.
    ``metrics_cache_ttl`` is how long kvmd reuses its Prometheus answer (5 s).
    ``tls=True`` serves HTTPS and WSS with a self-signed certificate made at start-up, as a
    PiKVM does (see :attr:`cert_fingerprint` and :attr:`ca_file`). :attr:`faults` injects
    failures; ``fault_seed`` seeds its random choices. :meth:`reboot` restarts the device.

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
        hid_poll: float = 0.001,
        hid_delay: float | None = None,
        hid_led_echo: bool = True,
        hid_log: str | PathLike[str] | None = None,
        atx_click_delay: float = 0.1,
        atx_long_click_delay: float = 0.3,
        host_powered: bool = True,
        atx_enabled: bool = True,
        ws_heartbeat: float = 15.0,
        screen_size: tuple[int, int] = (1920, 1080),
        streamer_start_delay: float = 0.1,
        streamer_stop_delay: float = 1.0,
        target_layout: str = "en-us",
        hid_rate_limit: float | None = None,
        msd_enabled: bool = True,
        msd_dir: str | PathLike[str] | None = None,
        msd_storage_delay: float = 0.1,
        log_enabled: bool = True,
        ocr_enabled: bool = True,
        gpio: GpioScheme | None = None,
        metrics_cache_ttl: float = 5.0,
        tls: bool = False,
        fault_seed: int | None = None,
        clock: bool = False,
        screen_seed: int | None = None,
        installer: str | None = None,
        installer_boot_timeout: float = 30.0,
        installer_speed: float = 1.0,
        installer_fetch_timeout: float = 10.0,
    ) -> None:
        self._journal = Journal(readable=log_enabled)
        self._auth = Auth(users, totp_secret, journal=self._journal)
        leds = _captures.result("hid.json")["keyboard"]["leds"]
        self.target: Target = Target(
            powered=host_powered,
            leds=(leds["caps"], leds["num"], leds["scroll"]),
            layout=target_layout,
        )
        """The simulated machine behind the HID."""
        self._installer = (
            None
            if installer is None
            else Installer(
                self.target,
                installer,
                boot_timeout=installer_boot_timeout,
                speed=installer_speed,
                fetch_timeout=installer_fetch_timeout,
            )
        )
        if hid_delay is not None and hid_poll not in (0.001, hid_delay):
            raise ValueError("hid_delay is the old name of hid_poll: give one of them")
        self._hid = Hid(
            self.target,
            poll=hid_poll if hid_delay is None else hid_delay,
            rate_limit=hid_rate_limit,
            led_echo=hid_led_echo,
            log=hid_log,
            broadcast=self._broadcast,
        )
        self._atx = Atx(
            self.target,
            enabled=atx_enabled,
            click_delay=atx_click_delay,
            long_click_delay=atx_long_click_delay,
            broadcast=self._broadcast,
            journal=self._journal,
        )
        self._printer = Printer(self._hid, journal=self._journal)
        self._info = Info()
        self._msd = Msd(
            enabled=msd_enabled,
            directory=msd_dir,
            storage_delay=msd_storage_delay,
            broadcast=self._broadcast,
        )
        self._gpio = Gpio(gpio, broadcast=self._broadcast)
        self._switch = Switch(broadcast=self._broadcast)
        self._redfish = Redfish(atx=self._atx, info=self._info, switch=self._switch, msd=self._msd)
        self._prometheus = Prometheus(
            atx=self._atx.get_state,
            gpio=self._gpio.io_state,
            info=self._info.get_field,
            cache_ttl=metrics_cache_ttl,
        )
        self.faults: Faults = Faults(lambda: self._ws.sessions, seed=fault_seed)
        """Fault injection: failing, slow and dropped requests and sessions."""
        self._ws = WsHub(
            self._hid,
            self._full_state,
            heartbeat=ws_heartbeat,
            journal=self._journal,
            faults=self.faults,
        )
        self._streamer = Streamer(
            self.target,
            screen_size=screen_size,
            ocr_enabled=ocr_enabled,
            start_delay=streamer_start_delay,
            stop_delay=streamer_stop_delay,
            stream_clients=lambda: self._ws.stream_clients,
            broadcast=self._broadcast,
            announce_clients=self._ws.announce_clients,
            capture=Capture(clock=clock, seed=screen_seed),
        )
        self._ws.add_listener(self._streamer.sessions_changed)
        self._video = Video(self._streamer, self._auth.check_request, heartbeat=ws_heartbeat)
        self._subsystems = self._wire()
        self._full_states = {
            event_type: full
            for subsystem in self._subsystems
            for event_type, full in subsystem.full_states().items()
        }
        self._listener = Listener(host, port, tls=tls)

    # ----- lifecycle ------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._listener.port

    @property
    def url(self) -> str:
        """``http://host:port`` (``https://`` with ``tls=True``); clients add ``/api/...``."""
        return self._listener.url

    async def start(self) -> None:
        if self._listener.running:
            raise RuntimeError("the emulator is already running")
        app = build_app(
            self._routes(),
            self._auth.check_request,
            on_shutdown=self._ws.close_all,
            middlewares=[self.faults.middleware],
        )
        await self._listener.open(app, self._journal.access_log_class(), self._start_parts)

    async def _start_parts(self) -> None:
        await self._hid.start()
        await self._msd.start()
        self._streamer.start()
        if self._installer is not None:
            self._installer.start()

    async def stop(self) -> None:
        runner = self._listener.detach()
        if runner is None:
            return
        try:
            self.faults.release_held()
            await self._ws.close_all()
            self._journal.close()
            self._msd.abort_transfers()
            await runner.cleanup()
        finally:
            await self._atx.stop()
            if self._installer is not None:
                await self._installer.stop()
            await self._gpio.stop()
            await self._hid.stop()
            self._streamer.stop()
            await self._msd.stop()
            self._listener.closed()

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

    def set_gpio_input(self, channel: str, state: bool) -> None:
        """Set the level a GPIO input reads (a channel of the ``gpio`` scheme); sessions get
        the change as a ``gpio`` event. Call it on the emulator's loop."""
        self._gpio.set_input(channel, state)

    def set_resolution(self, width: int, height: int) -> None:
        """Switch the host's video mode: what ``streamer.source.resolution`` reports while
        there is a signal, and the size of snapshots. Safe to call from any thread."""
        self._streamer.set_resolution(width, height)

    # ----- outages and TLS ------------------------------------------------------------

    async def go_offline(self) -> None:
        """Stop listening and cut every connection without a word (no close frames), as a
        device that lost power or its network: connections are refused until
        :meth:`go_online`. Nothing else changes."""
        if await self._listener.stop_listening():
            self.faults.release_held()
            self._listener.abort_connections()

    async def go_online(self) -> None:
        """Listen again, on the same port and with the same certificate."""
        await self._listener.listen_again()

    async def reboot(self, downtime: float = 0.0) -> None:
        """Restart the device, state kept: connections are cut, the port refuses
        connections for ``downtime`` seconds, then answers again. As when kvmd restarts,
        login sessions (cookies) are forgotten; the target, users, settings and images stay.
        Returns once the emulator listens again."""
        await self.go_offline()
        self._auth.forget_sessions()
        await asyncio.sleep(downtime)
        await self.go_online()

    @property
    def cert_fingerprint(self) -> str:
        """SHA-256 of the TLS certificate, as ``openssl x509 -fingerprint -sha256`` prints
        it (``AB:CD:...``): pin it with ``CertificateFingerprint``."""
        return self._listener.certificate().fingerprint

    @property
    def certificate_pem(self) -> bytes:
        return self._listener.certificate().certificate_pem

    @property
    def ca_file(self) -> str:
        """A PEM file that verifies the certificate (self-signed: it is its own CA)."""
        return self._listener.certificate().ca_file

    # ----- wiring ---------------------------------------------------------------------

    def _wire(self) -> list[Subsystem]:
        """Every part of the device, once: the route table and the WebSocket burst's
        full states are both made from this list."""
        hid, streamer, ws = self._hid, self._streamer, self._ws
        return [
            Subsystem(self._auth.routes()),
            Subsystem(self._info.routes(), events={"info": self._info_event}),
            Subsystem(
                HidApi(hid).routes(), [hid.publisher], {"hid_keymaps": lambda _: hid.get_keymaps()}
            ),
            Subsystem(self._printer.routes()),
            Subsystem(self._journal.routes()),
            Subsystem(self._atx.routes(), [self._atx.publisher]),
            Subsystem(MsdApi(self._msd).routes(), [self._msd.publisher]),
            Subsystem(
                streamer.routes(), [streamer.publisher], {"ocr": lambda _: streamer.ocr_state()}
            ),
            Subsystem(self._gpio.routes(), [self._gpio.publisher]),
            Subsystem(self._switch.routes(), [self._switch.publisher]),
            Subsystem(self._redfish.routes()),
            Subsystem(self._prometheus.routes()),
            Subsystem(self._video.routes()),
            Subsystem([Route("GET", "/ws", ws.handle)], events={"clients": self._clients_event}),
        ]

    def _routes(self) -> list[Route]:
        return [route for subsystem in self._subsystems for route in subsystem.routes]

    def _broadcast(self, event_type: str, event: State) -> None:
        self._ws.broadcast(event_type, event)

    def _full_state(self, event_type: str, field: str | None) -> State:
        full = self._full_states.get(event_type)
        if full is None:
            raise ValueError(f"no subsystem sends {event_type!r} events")
        return full(field)

    def _info_event(self, field: str | None) -> State:
        assert field is not None
        return {field: self._info.get_field(field)}

    def _clients_event(self, _: str | None) -> State:
        return {"count": self._ws.clients}
