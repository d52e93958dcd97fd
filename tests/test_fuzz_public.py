"""Hostile values into every parameter of the public API, against a running emulator.

Every public method of :class:`PiKVM`, of its resources and of :class:`PiKVMWebSocket`
(and the constructors, :class:`RetryPolicy` and :class:`CertificateFingerprint`) is found
with ``inspect``; each needs an entry in :data:`SURFACE`, a valid call and the hostile
values that are valid for each parameter. Then each parameter in turn gets each value of
:data:`HOSTILE`, the others staying valid, and:

- only aiopikvm's own exceptions may escape (:class:`PiKVMError`), never a ``TypeError``
  or an ``UnboundLocalError`` from inside the library;
- a value not listed as valid must raise :class:`InvalidInputError` naming the parameter
  and showing the value (a secret: only its type), *and nothing may have reached the
  device*: no HTTP request or WebSocket handshake (``emu.faults.requests``), no frame on
  the session (the emulator's count of frames received, read after a ping round trip);
- a valid value may go through, or be refused by us or by the device.

The failures are collected and shown together, so one run says everything that is wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import math
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest

from aiopikvm import (
    CertificateFingerprint,
    Fleet,
    InvalidInputError,
    OcrUnavailableError,
    PiKVM,
    PiKVMError,
    PiKVMWebSocket,
    RetryPolicy,
)
from aiopikvm.emulator import Emulator

from .test_screen_text import REQUIRE_ENV

HOSTILE: Final[dict[str, object]] = {
    "None": None,
    "True": True,
    "-1": -1,
    "2**63": 2**63,
    "nan": math.nan,
    "inf": math.inf,
    "1e300": 1e300,
    "-0.0": -0.0,
    "'10'": "10",
    "''": "",
    "NUL": "\x00",
    "a NUL b": "a\x00b",
    "a LF b": "a\nb",
    "long": "k" * 5000,
    "b'x'": b"x",
    "[]": [],
    "['x']": ["x"],
    "{}": {},
    "object()": object(),
}
"""Labelled, since ``True == 1``, ``-0.0 == 0`` and ``nan != nan``."""

MAX_DELAY: Final = 10.0
MAX_DRAG_STEPS: Final = 1000
MAX_SCROLL: Final = 10_000
"""The documented maximums of a pause, a drag's moves and a scroll's notches."""
SECRETS: Final = frozenset({"passwd", "totp_secret"})
GUARD: Final = 10.0
"""Seconds one call may take before it counts as a hang (a regression, not a timing test)."""

NAMES: Final = {"'10'", "long"}
"""Strings that are fine as free text or as a name kvmd may not know (it answers for it)."""
TEXT: Final = {"'10'", "''", "long"}
CONTROL: Final = {"NUL", "a NUL b", "a LF b"}
UUID: Final = "0b5e3ad7-5a2e-4e5b-9c63-1c3d8e2f4a10"
EDID: Final = "00ffffffffffff00" + "00" * 120


@dataclass(frozen=True)
class Case:
    """A valid call (``args``; ``varargs`` for a ``*keys`` parameter) and, per parameter,
    the labels of :data:`HOSTILE` that are valid there. A parameter whose default is None
    takes None; one annotated ``bool...`` takes True. ``skip``: valid values that would
    only make the call long (a wait of 1e300 s)."""

    args: dict[str, Any] = field(default_factory=dict)
    varargs: tuple[Any, ...] = ()
    ok: dict[str, set[str]] = field(default_factory=dict)
    skip: dict[str, set[str]] = field(default_factory=dict)


WAIT = {"keep_video": False, "timeout": 0.05, "interval": 0.05}
LONG_WAIT = {"timeout": {"2**63", "1e300"}}
SCREEN_OK: Final = {"tolerance": {"-0.0"}, "ignore": {"[]"}}
TIMEOUTS: Final = {"2**63", "1e300"}
BUSY_WAIT: Final = {"-0.0"} | TIMEOUTS
"""A bound on retries while kvmd is busy: zero tries once; a huge one waits out any upload."""
"""Valid, if long, as a timeout: a finite number of seconds."""
REQUEST_OK: Final = {
    "method": {"'10'"},
    "path": TEXT,
    "params": {"{}"},
    "content": TEXT | {"NUL", "a NUL b", "a LF b", "b'x'"},
    "data": {"{}"},
    "json": TEXT
    | {"True", "-1", "2**63", "1e300", "-0.0", "NUL", "a NUL b", "a LF b", "[]", "['x']", "{}"},
    "headers": {"{}"},
    "timeout": {"None"} | TIMEOUTS,
}
SESSION_OK: Final = {
    "open_timeout": {"None"} | TIMEOUTS,
    "close_timeout": {"None"} | TIMEOUTS,
}
LOGIN_OK: Final = {
    "passwd": {"'10'", "''"},
    "totp_secret": {"long"},
    "verify_ssl": NAMES | {"True", "a LF b"},  # a CA file's path, unused over http
}
POINT = {"screen_size": (100, 100)}
NEEDLE: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d494844520000000200000002080000000057dd52f8"
    "0000000e49444154081d6364f8cff89f1100060a02029d3e81550000000049454e44ae426082"
)
"""A 2x2 PNG, black and white: a template that can be matched."""
LOOK = {"keep_video": False, "timeout": 0.05}
IMAGE_OK: Final = {"threshold": {"-0.0"}, "timeout": {"-0.0"}, "interval": TIMEOUTS}
TEXT_OK: Final = {
    "pattern": {"'10'", "NUL", "a NUL b", "a LF b"},
    "timeout": {"-0.0"},
    "interval": TIMEOUTS,
}
TYPING_OK: Final = {"text": TEXT | {"a LF b"}, "delay": {"-0.0"}, "ack_every": {"2**63"}}

SURFACE: Final[dict[tuple[str, str], Case]] = {
    # ----- constructors ---------------------------------------------------------------
    ("PiKVM", "__init__"): Case(
        {"url": "<emu>", "passwd": "admin"}, ok={**LOGIN_OK, "timeout": {"None"} | TIMEOUTS}
    ),
    ("PiKVMWebSocket", "__init__"): Case(
        {"url": "<emu>", "passwd": "admin"}, ok={**LOGIN_OK, **SESSION_OK}
    ),
    ("Fleet", "__init__"): Case({"clients": {}}, ok={"clients": {"{}"}}),
    ("RetryPolicy", "__init__"): Case(
        ok={
            "attempts": {"2**63"},
            "base_delay": {"-0.0"},
            "max_delay": {"2**63", "1e300"},
            "multiplier": {"2**63", "1e300"},
            "jitter": {"-0.0"},
            "statuses": {"[]", "{}"},
            "stable_after": {"-0.0"} | TIMEOUTS,
        }
    ),
    ("CertificateFingerprint", "__init__"): Case({"fingerprint": "ab" * 32}),
    # ----- the client -----------------------------------------------------------------
    ("kvm", "request"): Case({"method": "GET", "path": "hid"}, ok=REQUEST_OK),
    ("kvm", "stream"): Case({"method": "GET", "path": "hid"}, ok=REQUEST_OK),
    ("kvm", "type_text"): Case({"text": "a", "delay": 0}, ok=TYPING_OK),
    ("kvm", "wait_for_text"): Case(
        {"pattern": "x", **WAIT},
        ok={
            "pattern": {"'10'", "long", "NUL", "a NUL b", "a LF b"},
            "langs": {"'10'", "['x']"},
            "timeout": {"-0.0"},
            "interval": TIMEOUTS,
        },
        skip=LONG_WAIT,
    ),
    ("kvm", "wait_for_screen_change"): Case(
        WAIT, ok={"timeout": {"-0.0"}, "interval": TIMEOUTS, **SCREEN_OK}, skip=LONG_WAIT
    ),
    ("kvm", "wait_for_screen_stable"): Case(
        WAIT,
        ok={
            "duration": {"-0.0"} | TIMEOUTS,
            "timeout": {"-0.0"},
            "interval": TIMEOUTS,
            **SCREEN_OK,
        },
        skip=LONG_WAIT,
    ),
    ("kvm", "screenshot"): Case({"timeout": 0.05}, ok={"timeout": {"-0.0"}}, skip=LONG_WAIT),
    ("kvm", "find_image"): Case({"template": NEEDLE, **LOOK}, ok=IMAGE_OK, skip=LONG_WAIT),
    ("kvm", "wait_for_image"): Case({"template": NEEDLE, **WAIT}, ok=IMAGE_OK, skip=LONG_WAIT),
    ("kvm", "click_image"): Case({"template": NEEDLE, **WAIT}, ok=IMAGE_OK, skip=LONG_WAIT),
    ("kvm", "find_text"): Case({"pattern": "x", **LOOK}, ok=TEXT_OK, skip=LONG_WAIT),
    ("kvm", "wait_for_text_box"): Case({"pattern": "x", **WAIT}, ok=TEXT_OK, skip=LONG_WAIT),
    ("kvm", "click_text"): Case({"pattern": "x", **WAIT}, ok=TEXT_OK, skip=LONG_WAIT),
    ("kvm", "ws"): Case(ok=SESSION_OK),
    # ----- resources ------------------------------------------------------------------
    **{("atx", name): Case() for name in ("power_on", "power_off", "power_off_hard")},
    **{("atx", name): Case() for name in ("reset_hard", "click_power", "click_power_long")},
    ("atx", "click_reset"): Case(),
    ("auth", "login"): Case(ok={"passwd": {"'10'", "''"}}),
    ("gpio", "switch"): Case({"channel": "__v3_usb_breaker__", "state": False}),
    ("gpio", "pulse"): Case({"channel": "__v3_usb_breaker__"}, ok={"delay": {"-0.0", "1e300"}}),
    ("hid", "set_params"): Case({"jiggler": False}),
    ("hid", "set_connected"): Case({"connected": True}),
    ("hid", "type_text"): Case(
        {"text": "a"},
        # kvmd drops what it cannot type, control characters included (documented)
        ok={"text": TEXT | CONTROL, "keymap": NAMES, "limit": {"2**63"}, "delay": {"-0.0"}},
    ),
    ("hid", "send_key"): Case({"key": "KeyA"}),
    ("hid", "send_mouse_button"): Case({"button": "left"}),
    ("hid", "send_mouse_move"): Case({"x": 0, "y": 0}, ok={"x": {"-1"}, "y": {"-1"}}),
    ("hid", "send_mouse_relative"): Case({"dx": 0, "dy": 0}, ok={"dx": {"-1"}, "dy": {"-1"}}),
    ("hid", "send_mouse_wheel"): Case({"dx": 0, "dy": 0}, ok={"dx": {"-1"}, "dy": {"-1"}}),
    ("hid", "send_shortcut"): Case(varargs=("KeyA",)),
    ("msd", "set_params"): Case(
        {"rw": False}, ok={"image": {"None", "'10'"}, "busy_wait": BUSY_WAIT}
    ),
    ("msd", "set_connected"): Case({"connected": False}, ok={"busy_wait": BUSY_WAIT}),
    ("msd", "remove"): Case({"image": "fuzz.img"}, ok={"image": {"'10'"}}),
    ("msd", "wait_for_image"): Case(
        {"name": "fuzz.img", "timeout": 0.05},
        ok={"name": {"'10'"}, "timeout": {"-0.0"}},
        skip=LONG_WAIT,
    ),
    ("msd", "upload"): Case(
        {"name": "fuzz.img", "source": b"x"},
        ok={"name": {"'10'"}, "source": {"b'x'", "'10'", "''", "long"}, "prefix": {"'10'", "''"}},
    ),
    ("msd", "upload_remote"): Case(
        {"url": "http://127.0.0.1:9/fuzz.img"},
        ok={"image": {"'10'"}, "prefix": {"'10'", "''"}, "timeout": {"1e300"}},
    ),
    ("msd", "iter_download"): Case({"name": "fuzz.img"}, ok={"name": {"'10'"}}),
    ("msd", "download"): Case(
        {"name": "fuzz.img", "dest": "<bytesio>"}, ok={"name": {"'10'"}, "dest": {"'10'", "a LF b"}}
    ),
    ("redfish", "get_system"): Case(),
    ("redfish", "patch_system"): Case(ok={"changes": {"{}"}}),
    ("redfish", "reset_system"): Case({"reset_type": "On"}),
    ("redfish", "get_manager"): Case(),
    ("redfish", "insert_media"): Case({"image": "fuzz.img"}, ok={"image": {"'10'"}}),
    ("streamer", "set_params"): Case({"quality": 80}),
    ("streamer", "snapshot"): Case({"preview": True}),
    ("streamer", "ocr"): Case(ok={"langs": {"'10'", "['x']"}}),
    ("streamer", "mjpeg"): Case(ok={"idle_timeout": {"None"} | TIMEOUTS}),
    # Without a stream=1 session kvmd-media sends no frame: only the idle timeout ends it.
    ("streamer", "h264"): Case(
        {"idle_timeout": 0.05},
        ok={"idle_timeout": {"None"} | TIMEOUTS},
        skip={"idle_timeout": {"None"} | TIMEOUTS},
    ),
    ("streamer", "record"): Case(
        {"path": "<tmp>/fuzz.mp4", "duration": 0.1},
        ok={
            "path": {"'10'", "long", "a LF b"},
            "duration": TIMEOUTS,
            "idle_timeout": {"None"} | TIMEOUTS,
        },
    ),
    ("switch", "set_active"): Case({"port": 0}, ok={"port": {"'10'", "-0.0"}}),
    ("switch", "set_beacon"): Case({"state": False, "port": 0}, ok={"port": {"'10'", "-0.0"}}),
    ("switch", "set_port_params"): Case(
        {"port": 0},
        ok={
            "port": {"'10'", "-0.0"},
            "name": {"'10'", "''"},
            "atx_click_power_delay": {"-0.0"},
            "atx_click_power_long_delay": {"-0.0"},
            "atx_click_reset_delay": {"-0.0"},
        },
    ),
    ("switch", "set_colors"): Case({"active": "default"}),
    ("switch", "reset"): Case({"unit": 0}),
    ("switch", "create_edid"): Case({"name": "fuzz", "data": EDID}, ok={"name": NAMES}),
    ("switch", "change_edid"): Case({"edid_id": UUID}, ok={"name": {"'10'", "''"}}),
    ("switch", "remove_edid"): Case({"edid_id": UUID}),
    ("switch", "atx_power"): Case({"port": 0, "action": "on"}, ok={"port": {"'10'", "-0.0"}}),
    ("switch", "atx_click"): Case({"port": 0, "button": "power"}, ok={"port": {"'10'", "-0.0"}}),
    ("system", "get_info"): Case(varargs=("system",)),
    ("system", "get_log"): Case(),
    ("system", "stream_log"): Case(ok={"idle_timeout": TIMEOUTS}),
    # ----- the session ----------------------------------------------------------------
    ("ws", "send_key"): Case({"key": "KeyA"}),
    ("ws", "send_mouse_button"): Case({"button": "left"}),
    ("ws", "send_mouse_move"): Case({"x": 0, "y": 0}, ok={"x": {"-1"}, "y": {"-1"}}),
    ("ws", "send_mouse_relative"): Case({"dx": 0, "dy": 0}, ok={"dx": {"-1"}, "dy": {"-1"}}),
    ("ws", "send_mouse_wheel"): Case({"dx": 0, "dy": 0}, ok={"dx": {"-1"}, "dy": {"-1"}}),
    ("ws", "send_shortcut"): Case({"delay": 0}, varargs=("KeyA",), ok={"delay": {"-0.0"}}),
    ("ws", "held"): Case(varargs=("KeyA",)),
    ("ws", "type_text"): Case({"text": "a", "delay": 0}, ok=TYPING_OK),
    ("ws", "wait_for"): Case(
        {"predicate": "<true>", "timeout": 0.05}, ok={"timeout": {"None", "-0.0"} | TIMEOUTS}
    ),
    ("ws", "wait_for_screen_size"): Case(
        {"timeout": 0.05}, ok={"timeout": {"-0.0"}}, skip={"timeout": {"None"} | TIMEOUTS}
    ),
    ("ws", "ping"): Case(ok={"timeout": {"None"} | TIMEOUTS}),
    ("ws", "move_to"): Case({"x": 1, "y": 1, **POINT}, ok={"x": {"-0.0"}, "y": {"-0.0"}}),
    ("ws", "click"): Case({"x": 1, "y": 1, **POINT}, ok={"x": {"-0.0"}, "y": {"-0.0"}}),
    ("ws", "drag"): Case(
        {"start": (0, 0), "end": (9, 9), "steps": 2, "delay": 0, **POINT},
        ok={"delay": {"-0.0"}},
    ),
    ("ws", "scroll"): Case({"dy": 1, **POINT}, ok={"dx": {"-1"}, "dy": {"-1"}}),
}

RESOURCES: Final = (
    "atx",
    "auth",
    "gpio",
    "hid",
    "msd",
    "prometheus",
    "redfish",
    "streamer",
    "switch",
    "system",
)
CONSTRUCTORS: Final[dict[str, Callable[..., Any]]] = {
    "Fleet": Fleet,
    "PiKVM": PiKVM,
    "PiKVMWebSocket": PiKVMWebSocket,
    "RetryPolicy": RetryPolicy,
    "CertificateFingerprint": CertificateFingerprint,
}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    """The public methods of ``cls`` that take an argument, with their signatures."""
    found: dict[str, inspect.Signature] = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or not callable(member) or isinstance(member, type):
            continue
        if isinstance(inspect.getattr_static(cls, name), classmethod | staticmethod):
            continue  # alternative constructors (RetryPolicy.for_reconnects, ...)
        signature = inspect.signature(member)
        if any(name != "self" for name in signature.parameters):
            found[name] = signature
    return found


def surface() -> dict[tuple[str, str], inspect.Signature]:
    found = {
        (name, "__init__"): inspect.signature(cls.__init__) for name, cls in CONSTRUCTORS.items()
    }
    kvm = PiKVM("http://127.0.0.1:9")
    classes: dict[str, type] = {"kvm": PiKVM, "ws": PiKVMWebSocket}
    classes.update({name: type(getattr(kvm, name)) for name in RESOURCES})
    for owner, cls in classes.items():
        for name, signature in public_methods(cls).items():
            found[(owner, name)] = signature
    return found


def accepted(case: Case, param: inspect.Parameter) -> set[str]:
    labels = set(case.ok.get(param.name, set()))
    if param.default is None:
        labels.add("None")
    if str(param.annotation).startswith("bool"):
        labels.add("True")
    return labels


class Probe:
    """One emulator, one client and one session for every call; what reached the device."""

    def __init__(self, emu: Emulator, kvm: PiKVM, tmp: Path) -> None:
        self.emu = emu
        self.kvm = kvm
        self.tmp = tmp
        self.ws: PiKVMWebSocket | None = None
        self.failures: list[str] = []

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self.ws is not None:
                await self.ws.aclose()

    async def open_session(self) -> PiKVMWebSocket:
        if self.ws is None or not self.ws.is_open:
            if self.ws is not None:
                await self.ws.aclose()
            self.ws = self.kvm.ws()
            await self.ws.connect()
        return self.ws

    def frames(self) -> int:
        # The emulator has no public count of the frames a session sent it.
        return sum(session.received for session in self.emu._ws.sessions)

    def value(self, raw: Any) -> Any:
        if raw == "<emu>":
            return self.emu.url
        if raw == "<bytesio>":
            return io.BytesIO()
        if raw == "<true>":
            return lambda state: True
        if isinstance(raw, str) and raw.startswith("<tmp>"):
            return str(self.tmp) + raw[len("<tmp>") :]
        return raw

    async def call(
        self, owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if owner in CONSTRUCTORS:
            made = CONSTRUCTORS[owner](*args, **kwargs)
            if isinstance(made, PiKVM):
                async with made:
                    await made.auth.check()  # what is wrong shows by the first request
            elif isinstance(made, PiKVMWebSocket):
                async with made:
                    pass
            return
        target: Any
        if owner == "kvm":
            target = self.kvm
        elif owner == "ws":
            target = await self.open_session()
        else:
            target = getattr(self.kvm, owner)
        result = getattr(target, name)(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        elif hasattr(result, "__aenter__"):
            async with result:
                pass
        elif hasattr(result, "__anext__"):
            async with contextlib.aclosing(result) as items:
                await anext(items, None)

    async def run(self, owner: str, name: str, case: Case, param: str, label: str) -> None:
        signature = SURFACE_SIGNATURES[(owner, name)]
        spec = signature.parameters[param]
        kwargs = {key: self.value(value) for key, value in case.args.items()}
        args = tuple(self.value(value) for value in case.varargs)
        hostile = HOSTILE[label]
        if spec.kind is inspect.Parameter.VAR_POSITIONAL:
            args = (hostile,)
        else:
            kwargs[param] = hostile
        where = f"{owner}.{name}({param}={label})"
        if owner == "ws":
            await self.open_session()
        requests, frames = len(self.emu.faults.requests), self.frames()
        error: BaseException | None = None
        try:
            async with asyncio.timeout(GUARD):
                await self.call(owner, name, args, kwargs)
        except Exception as exc:
            error = exc
        if owner == "ws" and self.ws is not None and self.ws.is_open:
            with contextlib.suppress(PiKVMError):
                await self.ws.release_all()
                await self.ws.ping()  # the frames sent before it have been read
        valid = label in accepted(case, spec)
        if error is not None and not isinstance(error, PiKVMError):
            self.failures.append(f"{where}: {type(error).__name__}: {error}"[:300])
        elif valid:
            return
        elif error is None:
            self.failures.append(f"{where}: accepted")
        elif not isinstance(error, InvalidInputError) and not no_ocr(error):
            self.failures.append(f"{where}: sent, then {type(error).__name__}: {error}"[:300])
        else:
            if isinstance(error, InvalidInputError):
                self.check_refusal(where, param, hostile, error)
            sent = len(self.emu.faults.requests) - requests
            framed = self.frames() - frames - (1 if owner == "ws" else 0)
            if sent or framed > 0:
                self.failures.append(
                    f"{where}: refused after sending ({sent} requests, {framed} frames)"
                )

    def check_refusal(
        self, where: str, param: str, value: object, error: InvalidInputError
    ) -> None:
        message = str(error)
        if param.rstrip("s") not in message.lower():
            self.failures.append(f"{where}: the message does not name {param}: {message!r}")
        if param in SECRETS:
            if isinstance(value, str) and value and repr(value) in message:
                self.failures.append(f"{where}: the message shows the secret: {message!r}")
        elif not shown(value, message):
            self.failures.append(f"{where}: the message does not show the value: {message!r}")
        if len(message) > 600:
            self.failures.append(f"{where}: a message of {len(message)} characters")


def no_ocr(error: BaseException) -> bool:
    """Whether ``error`` says what this machine lacks: a language name is checked against
    those Tesseract has, and with no tesseract program there are none to check against."""
    return (
        isinstance(error, OcrUnavailableError)
        and shutil.which("tesseract") is None
        and not os.environ.get(REQUIRE_ENV)
    )


def shown(value: object, message: str) -> bool:
    """Whether ``message`` shows ``value``: its repr (or the start of it), its type, or —
    for text refused for some characters — those characters."""
    if repr(value)[:12] in message or type(value).__name__ in message:
        return True
    return isinstance(value, str) and any(
        repr(char)[1:-1] in message for char in value if not char.isprintable()
    )


SURFACE_SIGNATURES: Final = surface()


def test_every_public_method_has_a_case() -> None:
    assert sorted(SURFACE_SIGNATURES.keys() - SURFACE.keys()) == []
    assert sorted(SURFACE.keys() - SURFACE_SIGNATURES.keys()) == []


@pytest.fixture
async def fuzz_emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    async with Emulator(
        hid_delay=0,
        atx_click_delay=0.01,
        atx_long_click_delay=0.01,
        streamer_start_delay=0.01,
        streamer_stop_delay=0.01,
        msd_storage_delay=0.01,
    ) as emulator:
        yield emulator


@pytest.mark.parametrize("owner", ["constructors", "client", "resources", "session"])
async def test_hostile_values_raise_our_errors_and_send_nothing(
    fuzz_emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: str
) -> None:
    groups = {
        "constructors": set(CONSTRUCTORS),
        "client": {"kvm"},
        "resources": set(RESOURCES),
        "session": {"ws"},
    }
    monkeypatch.chdir(tmp_path)  # a str is a path to upload() and download(): keep them here
    async with PiKVM(fuzz_emu.url, passwd="admin") as kvm:
        probe = Probe(fuzz_emu, kvm, tmp_path)
        async with probe.session():
            for (who, name), case in SURFACE.items():
                if who not in groups[owner]:
                    continue
                for param in SURFACE_SIGNATURES[(who, name)].parameters:
                    if param == "self":
                        continue
                    for label in HOSTILE:
                        if label in case.skip.get(param, set()):
                            continue
                        await probe.run(who, name, case, param, label)
    shown = [failure[:300] for failure in probe.failures]
    assert shown == [], f"{len(shown)} failures:\n" + "\n".join(shown)


# ----- what the fuzz cannot say on its own ------------------------------------------------


async def test_counts_that_become_frames_are_bounded(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        size = (100, 100)
        with pytest.raises(InvalidInputError, match=r"dy must be an int in -10000\.\.10000"):
            await ws.scroll(dy=MAX_SCROLL + 1)
        with pytest.raises(InvalidInputError, match=r"steps must be an int in 1\.\.1000"):
            await ws.drag((0, 0), (9, 9), steps=MAX_DRAG_STEPS + 1, screen_size=size)
        too_long = r"delay must be a finite number in 0\.\.10,"
        for call in (
            ws.type_text("a", delay=MAX_DELAY + 0.5),
            ws.send_shortcut("KeyA", delay=math.inf),
            ws.drag((0, 0), (9, 9), delay=MAX_DELAY * 2, screen_size=size),
        ):
            with pytest.raises(InvalidInputError, match=too_long):
                await call
        assert emu.target.events == []
        await ws.scroll(dy=-MAX_SCROLL)  # the most there is: one report per 127 notches
    wheel = [event for event in emu.target.events if event[0] == "mouse_wheel"]
    assert len(wheel) == math.ceil(MAX_SCROLL / 127) == 79
    assert sum(event[2] for event in wheel) == MAX_SCROLL


async def test_a_list_where_separate_keys_go_gets_a_hint() -> None:
    async with PiKVM("http://127.0.0.1:9") as kvm:  # nothing listens: nothing may be sent
        with pytest.raises(InvalidInputError, match=r"pass send_shortcut\(\*keys\)"):
            await kvm.hid.send_shortcut(["ControlLeft", "KeyC"])  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=r"pass get_info\(\*fields\)"):
            await kvm.system.get_info(["system"])  # type: ignore[arg-type]


@pytest.mark.parametrize("param", ["passwd", "totp_secret"])
def test_a_secret_of_the_wrong_type_is_not_shown(param: str) -> None:
    with pytest.raises(InvalidInputError, match=f"{param}.*int") as refused:
        PiKVM("http://127.0.0.1:9", **{param: 987654})
    assert "987654" not in str(refused.value)


def test_the_backoff_never_overflows() -> None:
    policy = RetryPolicy(attempts=1000, max_delay=30, multiplier=10, jitter=0)
    assert policy.delay(400) == 30  # 10 ** 399 is past any float
