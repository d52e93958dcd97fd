"""Where the :class:`~._emulator.Emulator` listens: its aiohttp runner and site on
``host:port``, HTTPS with a self-signed certificate when asked, and its outages (the site
stopped and every connection cut, then the same port taken again)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ._tls import ServerCertificate

_SHUTDOWN_TIMEOUT: Final = 1.0


class Listener:
    """The emulator's server socket: running from :meth:`open` until :meth:`detach`."""

    def __init__(self, host: str, port: int, *, tls: bool) -> None:
        self._host = host
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._site: web.TCPSite | None = None
        self._certificate = ServerCertificate(host) if tls else None
        self._server_ssl = self._certificate.server_context() if self._certificate else None

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        scheme = "https" if self._certificate else "http"
        return f"{scheme}://{_url_host(self._host)}:{self.port}"

    def certificate(self) -> ServerCertificate:
        if self._certificate is None:
            raise RuntimeError("the emulator serves plain HTTP; make it with tls=True")
        return self._certificate

    async def open(
        self,
        app: web.Application,
        access_log_class: type[AbstractAccessLogger],
        started: Callable[[], Awaitable[None]],
    ) -> None:
        """Serve ``app``, then await ``started`` (the device's parts starting); if either
        fails, nothing is left listening. Running only once both are done."""
        runner = web.AppRunner(
            app,
            access_log=logging.getLogger("aiohttp.access"),  # unused: the class writes the journal
            access_log_class=access_log_class,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self._host, self._requested_port, ssl_context=self._server_ssl
            )
            await site.start()
            await started()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._site = site
        self._port = int(runner.addresses[0][1])

    def detach(self) -> web.AppRunner | None:
        """The runner, for the caller to clean up, and no longer running (``None``: it
        was not); :attr:`port` stays readable until :meth:`closed`."""
        runner, self._runner = self._runner, None
        return runner

    def closed(self) -> None:
        self._port = None
        self._site = None

    async def stop_listening(self) -> bool:
        """Stop the site (``False``: it was stopped already); connections stay open."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        site, self._site = self._site, None
        if site is None:
            return False
        await site.stop()
        return True

    def abort_connections(self) -> None:
        """Cut every connection without a word (no close frames)."""
        assert self._runner is not None
        for connection in self._runner.server.connections if self._runner.server else ():
            if connection.transport is not None:
                connection.transport.abort()

    async def listen_again(self) -> None:
        """Listen again, on the same port and with the same certificate."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        if self._site is None:
            site = web.TCPSite(self._runner, self._host, self.port, ssl_context=self._server_ssl)
            await site.start()
            self._site = site


def _url_host(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host
