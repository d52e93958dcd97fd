"""An OS installer the simulated host runs, for scenario tests: a Debian netinst
(``"debian"``, preseed), a RHEL DVD (``"kickstart"``) or an Ubuntu live server
(``"ubuntu"``, autoinstall through cloud-init's NoCloud seed).

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

Ubuntu boots GRUB (:mod:`._grub`): ``e`` edits the highlighted entry, the arrows, Home and
End move in it, Ctrl-X or F10 boots it. A ``ds=nocloud;s=<url>`` that reached the kernel
(GRUB ends a command at a bare ``;``) makes the host fetch ``<url>user-data`` and
``<url>meta-data``; with both answered and an ``autoinstall:`` section in the user-data it
installs — after asking "Continue with autoinstall? (yes|no)" unless ``autoinstall`` is on
the kernel command line, as subiquity does. A failed fetch stops at cloud-init's warning
and the interactive installer; no seed at all is the interactive installer.

It runs on the emulator's loop; the target calls it on its writer's thread and each call
is posted to the loop. Its state is readable from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

from . import _grub as grub
from . import _installer_screens as screens
from ._installer_fetch import Fetch, fetch_url
from ._target import Target
from ._tasks import Tasks

KINDS: Final = ("debian", "kickstart", "ubuntu")
FETCH_TIMEOUT: Final = 10.0
"""Seconds for the whole fetch by default: an installer gives up on a silent server."""
_LINE_LIMIT: Final = 2048
"""Characters a boot line holds at most (Linux's x86 command-line size); more are dropped."""
_POST_TIME: Final = 0.5
_STEP_TIME: Final = 0.4
_URL_KEYS: Final = {"debian": ("url", "preseed/url"), "kickstart": ("inst.ks", "ks")}
_GRUB_KEYS: Final = frozenset(
    {"ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "Delete"}
)
_GRUB_CTRL: Final = {
    "KeyP": "ArrowUp",
    "KeyN": "ArrowDown",
    "KeyB": "ArrowLeft",
    "KeyF": "ArrowRight",
    "KeyA": "Home",
    "KeyE": "End",
}
_CTRL: Final = frozenset({"ControlLeft", "ControlRight"})


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
            raise ValueError(
                f"unknown installer {kind!r}: choose 'debian', 'kickstart' or 'ubuntu'"
            )
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
        self._selected = 0  # GRUB's highlighted entry
        self._editor: grub.Editor | None = None
        self._seed = ""  # the NoCloud seed waiting for "yes" at the confirmation
        self._command_line: str | None = None
        self._fetched: list[Fetch] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = Tasks()
        self._task: asyncio.Task[None] | None = None
        target.run(self)

    # ----- what tests read ----------------------------------------------------------

    @property
    def state(self) -> str:
        """``"off"``, ``"post"``, ``"menu"``, ``"prompt"`` (GRUB's editor on Ubuntu),
        ``"confirm"`` (Ubuntu asking whether to autoinstall), ``"installing"``,
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

    def press(self, key: str, modifiers: frozenset[str]) -> bool:
        if self.kind != "ubuntu" or self.state not in ("menu", "prompt"):
            return False
        ctrl = bool(modifiers & _CTRL)
        if (ctrl and key == "KeyX") or key == "F10":
            self._post(self._grub_boot)
        elif key in _GRUB_KEYS:
            self._post(self._grub_key, key)
        elif ctrl and key in _GRUB_CTRL:
            self._post(self._grub_key, _GRUB_CTRL[key])
        else:
            return False
        return True

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
        self._set("post", screens.post(self.kind))
        self._run(self._menu(), "menu")

    async def _menu(self) -> None:
        await asyncio.sleep(_POST_TIME / self._speed)
        self._line, self._selected, self._editor = "", 0, None
        if self._boot_timeout == 0:
            self._set("menu", self._menu_screen(None))
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._boot_timeout
        while (remaining := deadline - loop.time()) > 0:
            seconds = math.ceil(remaining)
            self._set("menu", self._menu_screen(seconds))
            await asyncio.sleep(remaining - (seconds - 1))
        self._task = None
        self._interactive()

    def _menu_screen(self, seconds: int | None) -> str:
        if self.kind == "ubuntu":
            return grub.menu(self._selected, seconds)
        return screens.menu(self.kind, seconds)

    def _interactive(self) -> None:
        self._set("interactive", screens.interactive(self.kind))

    def _key(self, text: str) -> None:
        state = self.state
        if self.kind == "ubuntu":
            self._ubuntu_key(state, text)
        elif state == "menu":
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
        self._edit_line(text)
        self._set("prompt", screens.prompt(self.kind, self._line))

    def _edit_line(self, text: str) -> None:
        """A one-line prompt's editing: Backspace deletes, what is printable is added."""
        if text == "\b":
            self._line = self._line[:-1]
        elif text.isprintable():
            self._line = (self._line + text)[:_LINE_LIMIT]

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

    # ----- Ubuntu: GRUB, then cloud-init and subiquity ----------------------------------

    def _ubuntu_key(self, state: str, text: str) -> None:
        editor = self._editor
        if state == "menu":
            self._cancel()  # any key stops GRUB's countdown
            if text == "\n":
                self._boot_entry(grub.entry(self._selected))
            elif text == "e":
                self._editor = grub.Editor(grub.entry(self._selected), _LINE_LIMIT)
                self._set("prompt", self._editor.screen())
            else:
                self._set("menu", self._menu_screen(None))
        elif state == "prompt" and editor is not None:
            if text == "\x1b":  # the edits discarded, back to the menu
                self._editor = None
                self._set("menu", self._menu_screen(None))
                return
            if text == "\b":
                editor.backspace()
            elif text == "\n":
                editor.newline()
            elif text.isprintable():
                editor.insert(text)
            self._set("prompt", editor.screen())
        elif state == "confirm":
            if text == "\n":
                answer, self._line = self._line.strip(), ""
                if answer == "yes":
                    self._run(self._progress(self._seed), "install")
                elif answer == "no":
                    self._interactive()
                else:
                    self._set("confirm", screens.confirm(self._line))
                return
            self._edit_line(text)
            self._set("confirm", screens.confirm(self._line))

    def _grub_key(self, key: str) -> None:
        state, editor = self.state, self._editor
        if state == "menu":
            self._cancel()
            if key == "ArrowUp":
                self._selected = max(0, self._selected - 1)
            elif key == "ArrowDown":
                self._selected = min(len(grub.ENTRIES) - 1, self._selected + 1)
            self._set("menu", self._menu_screen(None))
        elif state == "prompt" and editor is not None:
            if key == "Delete":
                editor.delete()
            else:
                editor.move(key)
            self._set("prompt", editor.screen())

    def _grub_boot(self) -> None:
        # Only the editor boots: Ctrl-X and F10 do nothing on GRUB's menu.
        if self.state == "prompt" and self._editor is not None:
            self._boot_entry(self._editor.lines)

    def _boot_entry(self, lines: list[str]) -> None:
        self._cancel()
        self._editor = None
        arguments = grub.kernel_arguments(lines)
        if arguments is None:
            self._set("failed", screens.grub_no_kernel())
            return
        with self._lock:
            self._command_line = " ".join(arguments)
        seed = grub.nocloud_seed(arguments)
        if seed is None:
            self._interactive()
        else:
            self._run(self._seeded(seed, "autoinstall" in arguments), "cloud-init")

    async def _seeded(self, seed: str, unattended: bool) -> None:
        self._set("installing", screens.cloud_init(seed))
        bodies = []
        for name in ("user-data", "meta-data"):
            fetch, body = await fetch_url(seed + name, self._fetch_timeout)
            with self._lock:
                self._fetched.append(fetch)
            if fetch.error is not None:
                self._set("failed", screens.cloud_init_failed(seed + name, fetch.error))
                return
            bodies.append(body)
        if b"autoinstall:" not in bodies[0]:
            self._interactive()  # a seed without an autoinstall section: subiquity asks
        elif unattended:
            await self._progress(seed)
        else:
            self._seed = seed
            self._set("confirm", screens.confirm(""))

    async def _install(self, url: str) -> None:
        """Debian's and RHEL's installers: fetch the answers, then install."""
        self._set("installing", screens.installing(self.kind, url, 0))
        fetch, _ = await fetch_url(url, self._fetch_timeout)
        with self._lock:
            self._fetched.append(fetch)
        if fetch.error is not None:
            self._set("failed", screens.failed(self.kind, url, fetch.error))
            return
        await self._progress(url)

    async def _progress(self, url: str) -> None:
        """The install steps from the answers at ``url``, then "complete"."""
        for done in range(1, len(screens.progress(self.kind)) + 1):
            await asyncio.sleep(_STEP_TIME / self._speed)
            self._set("installing", screens.installing(self.kind, url, done))
        await asyncio.sleep(_STEP_TIME / self._speed)
        self._set("complete", screens.complete(self.kind, url))
