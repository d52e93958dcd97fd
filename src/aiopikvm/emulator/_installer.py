"""An OS installer the simulated host runs, for scenario tests: a Debian netinst
(``"debian"``, preseed) or a RHEL DVD (``"kickstart"``).

When the host powers on or is reset the screen clears; after a short POST the boot menu
counts down ``boot_timeout`` seconds (``0``: it waits, as syslinux's ``timeout 0``) and
then boots its default entry, the interactive installer ("Select a language"). Escape
(Debian) opens the ``boot:`` prompt, Tab (RHEL) the default entry's kernel line for
editing; what is typed echoes, Backspace deletes, Enter boots the line. A line with
``url=``/``preseed/url=`` (Debian) or ``inst.ks=``/``ks=`` (RHEL) makes the host fetch that
URL for real over HTTP, as the installer does, and install (a few progress steps, then
"Installation complete") if it answers 200, or stop at the installer's error screen if it
does not (any other status, no answer, a URL that is not http(s) — such as one typed with
the wrong keyboard layout). Debian's ``auto`` without a URL fails the same way, as d-i
looks for a preseed file it cannot find; a line without a URL boots the interactive
installer. Screens: :mod:`._installer_screens`.

It runs on the emulator's loop; the target calls it on its writer's thread and each call
is posted to the loop. Its state is readable from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from yarl import URL

from . import _installer_screens as screens
from ._target import Target
from ._tasks import Tasks

KINDS: Final = ("debian", "kickstart")
FETCH_TIMEOUT: Final = 10.0
"""Seconds for the whole fetch by default: an installer gives up on a silent server."""
FETCH_LIMIT: Final = 1 << 20
"""Bytes of an answer read at most: a preseed or kickstart file is a few kilobytes."""
_MAX_REDIRECTS: Final = 5
_LINE_LIMIT: Final = 2048
"""Characters a boot line holds at most (Linux's x86 command-line size); more are dropped."""
_POST_TIME: Final = 0.5
_STEP_TIME: Final = 0.4
_URL_KEYS: Final = {"debian": ("url", "preseed/url"), "kickstart": ("inst.ks", "ks")}


@dataclass(frozen=True, slots=True, repr=False)
class Fetch:
    """One URL the installer asked for: the HTTP ``status`` (``None`` without an answer)
    and why it failed (``error``, ``None`` on success), ``size`` the bytes read."""

    url: str
    status: int | None
    error: str | None = None
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:  # no URL credential in a repr
        return f"Fetch(url={_without_credentials(self.url)!r}, status={self.status!r})"


class Installer:
    """The installer program of a :class:`~._target.Target` (``emu.target.installer``)."""

    def __init__(
        self,
        target: Target,
        kind: str,
        *,
        boot_timeout: float = 30.0,
        speed: float = 1.0,
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown installer {kind!r}: choose 'debian' or 'kickstart'")
        if not 0 <= boot_timeout < math.inf:
            raise ValueError(f"installer_boot_timeout must be >= 0 seconds, got {boot_timeout}")
        if not 0 < speed < math.inf:
            raise ValueError(f"installer_speed must be more than 0, got {speed}")
        if not 0 < fetch_timeout < math.inf:
            raise ValueError(f"installer_fetch_timeout must be > 0 seconds, got {fetch_timeout}")
        self._fetch_timeout = fetch_timeout
        self.kind = kind
        self._target = target
        self._boot_timeout = boot_timeout
        self._speed = speed
        self._lock = threading.Lock()
        self._state = "off"
        self._line = ""
        self._command_line: str | None = None
        self._fetched: list[Fetch] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = Tasks()
        self._task: asyncio.Task[None] | None = None
        target.run(self)

    # ----- what tests read ----------------------------------------------------------

    @property
    def state(self) -> str:
        """``"off"``, ``"post"``, ``"menu"``, ``"prompt"``, ``"installing"``,
        ``"complete"``, ``"failed"`` or ``"interactive"``."""
        with self._lock:
            return self._state

    @property
    def command_line(self) -> str | None:
        """The last line booted from the prompt (on RHEL the whole kernel line), or
        ``None`` if none was."""
        with self._lock:
            return self._command_line

    @property
    def fetched(self) -> list[Fetch]:
        """Every URL fetched since the emulator started, oldest first (a copy)."""
        with self._lock:
            return list(self._fetched)

    # ----- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """On the emulator's loop: a host that is already on boots now."""
        self._loop = asyncio.get_running_loop()
        if self._target.powered:
            self._boot()

    async def stop(self) -> None:
        self._loop = None
        await self._tasks.cancel_all()

    # ----- what the target calls (any thread) -----------------------------------------

    def boot(self) -> None:
        self._post(self._boot)

    def halt(self) -> None:
        self._post(self._halt)

    def key(self, text: str) -> None:
        self._post(self._key, text)

    def _post(self, call: Callable[..., None], *args: str) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(call, *args)

    # ----- on the loop ----------------------------------------------------------------

    def _set(self, state: str, screen: str) -> None:
        with self._lock:
            self._state = state
        self._target.show(screen)

    def _run(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._cancel()
        self._task = self._tasks.spawn(work, name=f"emulator-installer-{name}")

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _halt(self) -> None:
        self._cancel()
        self._set("off", "")

    def _boot(self) -> None:
        self._target.clear_screen()
        self._set("post", screens.POST)
        self._run(self._menu(), "menu")

    async def _menu(self) -> None:
        await asyncio.sleep(_POST_TIME / self._speed)
        self._line = ""
        if self._boot_timeout == 0:
            self._set("menu", screens.menu(self.kind, None))
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._boot_timeout
        while (remaining := deadline - loop.time()) > 0:
            seconds = math.ceil(remaining)
            self._set("menu", screens.menu(self.kind, seconds))
            await asyncio.sleep(remaining - (seconds - 1))
        self._task = None
        self._interactive()

    def _interactive(self) -> None:
        self._set("interactive", screens.interactive(self.kind))

    def _key(self, text: str) -> None:
        state = self.state
        if state == "menu":
            self._menu_key(text)
        elif state == "prompt":
            self._prompt_key(text)

    def _menu_key(self, text: str) -> None:
        if text == "\n":
            self._cancel()
            self._interactive()
        elif text == ("\x1b" if self.kind == "debian" else "\t"):
            self._cancel()
            self._line = "" if self.kind == "debian" else screens.KICKSTART_KERNEL_LINE
            self._set("prompt", screens.prompt(self.kind, self._line))

    def _prompt_key(self, text: str) -> None:
        if text == "\n":
            self._boot_line(self._line)
            return
        if text == "\x1b" and self.kind == "kickstart":  # back to the menu, countdown over
            self._set("menu", screens.menu(self.kind, None))
            return
        if text == "\b":
            self._line = self._line[:-1]
        elif text.isprintable():
            self._line = (self._line + text)[:_LINE_LIMIT]
        self._set("prompt", screens.prompt(self.kind, self._line))

    def _boot_line(self, line: str) -> None:
        with self._lock:
            self._command_line = line
        words = line.split()
        kernel = words[0] if words else "install" if self.kind == "debian" else ""
        known = kernel in screens.DEBIAN_LABELS if self.kind == "debian" else kernel == "vmlinuz"
        if not known:
            self._line = ""
            self._set("prompt", screens.prompt(self.kind, "", screens.not_found(kernel)))
            return
        params = dict(word.partition("=")[::2] for word in words[1:] if "=" in word)
        url = next((params[key] for key in _URL_KEYS[self.kind] if params.get(key)), None)
        auto = kernel.startswith("auto") or "auto" in words[1:] or params.get("auto") == "true"
        if url is not None:
            self._run(self._install(url), "install")
        elif self.kind == "debian" and auto:
            self._set("failed", screens.failed(self.kind, None, "no preseed URL"))
        else:
            self._interactive()

    async def _install(self, url: str) -> None:
        self._set("installing", screens.installing(self.kind, url, 0))
        fetch = await _fetch(url, self._fetch_timeout)
        with self._lock:
            self._fetched.append(fetch)
        if fetch.error is not None:
            self._set("failed", screens.failed(self.kind, url, fetch.error))
            return
        for done in range(1, len(screens.PROGRESS) + 1):
            await asyncio.sleep(_STEP_TIME / self._speed)
            self._set("installing", screens.installing(self.kind, url, done))
        await asyncio.sleep(_STEP_TIME / self._speed)
        self._set("complete", screens.complete(self.kind, url))


async def _fetch(url: str, seconds: float) -> Fetch:
    """GET ``url`` as the installer does: http(s) only, within ``seconds``, at most
    :data:`FETCH_LIMIT` bytes; any failure is an answer, never an exception."""
    try:
        parsed = URL(url)
    except ValueError:
        return Fetch(url, None, "not a valid URL")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return Fetch(url, None, "not an http or https URL")
    timeout = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(parsed, max_redirects=_MAX_REDIRECTS) as response,
        ):
            if response.status != 200:
                return Fetch(url, response.status, f"HTTP {response.status}")
            body = bytearray()
            while len(body) <= FETCH_LIMIT:
                chunk = await response.content.read(FETCH_LIMIT + 1 - len(body))
                if not chunk:
                    break
                body += chunk
            if len(body) > FETCH_LIMIT:
                return Fetch(url, response.status, f"larger than {FETCH_LIMIT} bytes")
            return Fetch(url, response.status, None, len(body))
    except TimeoutError:
        return Fetch(url, None, f"no answer within {seconds:g} s")
    except (aiohttp.ClientError, ValueError) as exc:
        return Fetch(url, None, _reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "cannot connect: connection refused"
        return f"cannot connect: {exc.os_error.strerror or type(exc.os_error).__name__}"
    return type(exc).__name__


def _without_credentials(url: str) -> str:
    try:
        return str(URL(url).with_user(None))
    except ValueError:
        return "<not a URL>"
