"""The built-in HTTP server an installer fetches its files from (a kickstart, a preseed,
cloud-init's ``user-data``): one directory, served read-only, text files templated.

It is the standard library's ``ThreadingHTTPServer`` on a thread of its own, not aiohttp:
the ``cli`` extra does not carry aiohttp, a few small files for one installer need no
event loop, and a thread keeps answering while the runner's loop waits on the device.

Bounded against whatever reaches it: GET and HEAD only (anything else is 501), paths
resolved inside the directory (``..``, absolute paths and symlinks out of it are 404),
at most :data:`MAX_CLIENTS` connections at once, a :data:`SOCKET_TIMEOUT` on each, and a
request log of at most :data:`MAX_LOG` entries. Files up to :data:`MAX_TEMPLATE_BYTES`
that are UTF-8 are templated (``{{ .HTTPIP }}``...); others are sent as they are.
"""

from __future__ import annotations

import collections
import http.server
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import InvalidInputError
from .template import render

MAX_CLIENTS: Final = 16
SOCKET_TIMEOUT: Final = 10.0
MAX_LOG: Final = 1000
MAX_TEMPLATE_BYTES: Final = 1 << 20
MAX_CHECKED: Final = 1000
_CHUNK: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class Request:
    """One request the server answered."""

    time: float
    method: str
    path: str
    status: int
    client: str
    size: int


class HttpServer:
    """Serves ``directory`` on ``ip:port`` (port 0: a free one) while started::

        with HttpServer("http", ip="192.168.1.10") as server:
            server.url  # http://192.168.1.10:40123

    ``variables`` fill the served files' placeholders, with ``HTTPIP`` and ``HTTPPort``
    added; :attr:`requests` is the log. ``on_request(request)`` is called with each one,
    on the server's thread."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        ip: str = "127.0.0.1",
        port: int = 0,
        variables: Mapping[str, str] | None = None,
        on_request: Callable[[Request], None] | None = None,
    ) -> None:
        root = Path(directory)
        if not root.is_dir():
            raise InvalidInputError(f"http directory {os.fspath(directory)!r} is no directory")
        self._root = root.resolve()
        self._ip, self._port = ip, port
        self._variables = dict(variables or {})
        self._log: collections.deque[Request] = collections.deque(maxlen=MAX_LOG)
        self._on_request = on_request
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- running --------------------------------------------------------------------

    def start(self) -> None:
        try:
            server = _Server((self._ip, self._port), _handler(self))
        except OSError as exc:
            raise InvalidInputError(
                f"the HTTP server cannot listen on {self._ip}:{self._port}: {exc.strerror} "
                "(give another --http-ip or --http-port)"
            ) from None
        server.slots = self._slots
        self._server = server
        self._port = server.server_address[1]
        self._variables |= {"HTTPIP": self._ip, "HTTPPort": str(self._port)}
        try:
            self._check_templates()
        except InvalidInputError:
            server.server_close()
            self._server = None
            raise
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=SOCKET_TIMEOUT)
            self._thread = None

    def __enter__(self) -> HttpServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def ip(self) -> str:
        return self._ip

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._ip}]" if ":" in self._ip else self._ip
        return f"http://{host}:{self._port}"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    def served(self, path: str, status: int | None = 200, since: float = 0.0) -> Request | None:
        """The first request for ``path`` answered with ``status`` (any, if None) at or
        after ``since`` (a ``time.time()``), or None."""
        wanted = "/" + path.lstrip("/")
        for request in self.requests:
            fits = status is None or request.status == status
            if request.path == wanted and request.time >= since and fits:
                return request
        return None

    def _check_templates(self) -> None:
        """Every templated file renders (an unknown variable is found before the run,
        not as a 500 the installer gets): the first :data:`MAX_CHECKED` files."""
        for count, path in enumerate(p for p in self._root.rglob("*") if p.is_file()):
            if count >= MAX_CHECKED:
                return
            self._body(path)

    # ----- what a handler asks ----------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)
        if self._on_request is not None:
            self._on_request(request)

    def _resolve(self, raw_path: str) -> Path | None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(raw_path).path)
        if "\x00" in path:
            return None
        found = (self._root / path.lstrip("/")).resolve()
        if not found.is_relative_to(self._root) or not found.is_file():
            return None
        return found

    def _body(self, path: Path) -> bytes | None:
        """The templated content of a small text file, or None to send it as it is."""
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            return None
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        shown = path.relative_to(self._root).as_posix()
        return render(text, self._variables, where=f"http file {shown}").encode("utf-8")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    slots: threading.BoundedSemaphore

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # over MAX_CLIENTS: dropped, not queued
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def _handler(owner: HttpServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "aiopikvm-scenario"
        timeout = SOCKET_TIMEOUT

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            path = owner._resolve(self.path)
            status, size = 404, 0
            try:
                if path is None:
                    self.send_error(404, "Not found")
                    return
                try:
                    content = owner._body(path)
                except InvalidInputError as exc:
                    status = 500
                    self.send_error(500, str(exc))
                    return
                size = len(content) if content is not None else path.stat().st_size
                status = 200
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                if body:
                    self._send(path, content)
            finally:
                client = self.client_address[0] if self.client_address else "?"
                shown = self._shown()
                owner._record(Request(time.time(), self.command, shown, status, client, size))

        def _send(self, path: Path, content: bytes | None) -> None:
            if content is not None:
                self.wfile.write(content)
                return
            with path.open("rb") as file:
                while chunk := file.read(_CHUNK):
                    self.wfile.write(chunk)

        def _shown(self) -> str:
            return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)[:200]

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the runner shows the log as its own

    return Handler


def route_ip(host: str, port: int = 80) -> str:
    """The local address this machine reaches ``host`` from (a UDP connect sends nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
    except OSError as exc:
        raise InvalidInputError(
            f"no route to {host} to serve the install files from: give --http-ip ({exc})"
        ) from None
