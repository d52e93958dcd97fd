"""What each kind of step does on the device. Each returns a line saying what it did (or
None), and raises one of our errors when it fails; the runner times, retries and records.

The runner holds a ``stream=1`` session for the whole run, so the screen waits here take
their snapshots with ``keep_video=False`` and the video stays up between steps."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .._typing_defaults import DEFAULT_TYPING_DELAY
from ..errors import InvalidInputError, PiKVMTimeoutError, WaitTimeoutError
from ..protocol.keys import KEYS, MODIFIERS
from . import media
from .bootcommand import SPECIAL_KEYS, CharToggle, Key, Text, Wait, parse_boot_command
from .results import ScenarioAssertionError
from .steps import (
    AssertStep,
    HttpStep,
    KeyStep,
    MediaStep,
    PowerStep,
    SleepStep,
    TypeStep,
    WaitStep,
)

if TYPE_CHECKING:
    from .. import PiKVM
    from ..session.websocket import PiKVMWebSocket
    from .http import HttpServer

POLL: Final = 0.1
SETTLE_DELAY: Final = 0.01
"""Seconds per raw HID event the target is given at least (a slow USB host polls at
~100 Hz): the boot menus read keys as they come."""
ALIASES: Final = {
    "ctrl": "ControlLeft",
    "alt": "AltLeft",
    "altgr": "AltRight",
    "shift": "ShiftLeft",
    "win": "MetaLeft",
    "super": "MetaLeft",
    "meta": "MetaLeft",
    "esc": "Escape",
    "escape": "Escape",
    "space": "Space",
    "backspace": "Backspace",
    "pgup": "PageUp",
    "pgdn": "PageDown",
}
_BY_LOWER: Final = {name.lower(): name for name in KEYS}


def key_names(keys: str) -> list[str]:
    """``"ctrl+alt+del"`` -> kvmd's names; each part an alias, one of Packer's special
    keys, kvmd's own name (any case), a letter or a digit."""
    names = []
    for part in keys.split("+"):
        lower = part.strip().lower()
        name = ALIASES.get(lower) or SPECIAL_KEYS.get(lower) or _BY_LOWER.get(lower)
        if name is None and len(lower) == 1 and lower.isascii() and lower.isalnum():
            name = f"Key{lower.upper()}" if lower.isalpha() else f"Digit{lower}"
        if name is None:
            raise InvalidInputError(
                f"key {part!r} in {keys!r}: use kvmd's names (KeyA, Enter, F2), Packer's "
                "(leftCtrl, esc, f12) or ctrl, alt, shift, win, a letter or a digit, joined by +"
            )
        names.append(name)
    return names


# ----- power --------------------------------------------------------------------------


async def power(kvm: PiKVM, step: PowerStep, timeout: float) -> str:
    async def led(on: bool) -> None:
        if step.wait:
            await _until(lambda: _power_led(kvm), on, timeout, f"the power LED {_on(on)}")

    if step.action == "on":
        await kvm.atx.power_on(wait=True)
        await led(True)
    elif step.action in ("off", "off_hard"):
        await (kvm.atx.power_off if step.action == "off" else kvm.atx.power_off_hard)(wait=True)
        await led(False)
    elif step.action == "cycle":
        await kvm.atx.power_off_hard(wait=True)
        await led(False)
        await kvm.atx.power_on(wait=True)
        await led(True)
    else:
        await kvm.atx.click_reset(wait=True)
        await led(True)
    if not step.wait:
        return "pressed"
    return "the power LED is " + ("off" if step.action in ("off", "off_hard") else "on")


async def _power_led(kvm: PiKVM) -> bool:
    return (await kvm.atx.get_state()).leds.power


def _on(on: bool) -> str:
    return "on" if on else "off"


async def _until(read: Callable[[], object], want: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = read()
        if asyncio.iscoroutine(got):
            got = await got
        if got == want:
            return
        if time.monotonic() >= deadline:
            raise PiKVMTimeoutError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(POLL)


# ----- media, waits, asserts ------------------------------------------------------------


async def do_media(kvm: PiKVM, step: MediaStep, base: Path, render: Callable[[str], str]) -> str:
    if step.action == "unmount":
        return await media.unmount(kvm)
    file = str(base / render(step.file)) if step.file is not None else None
    image = render(step.image) if step.image is not None else None
    return await media.mount(kvm, file, image, cdrom=step.mode == "cdrom", rw=step.rw)


async def wait(
    kvm: PiKVM, step: WaitStep, timeout: float, base: Path, render: Callable[[str], str]
) -> str:
    if step.text is not None or step.regex is not None:
        shown = render(step.text if step.text is not None else step.regex or "")
        wanted = re.escape(shown) if step.text is not None else shown
        bad = [render(text) for text in step.fail_on]
        pattern = _compile(
            "|".join([f"(?:{wanted})", *(re.escape(text) for text in bad)]) if bad else wanted
        )
        if step.ocr == "local":
            box = await kvm.wait_for_text_box(
                pattern, timeout=timeout, region=step.region, keep_video=False
            )
            found = box.text
        else:
            match = await kvm.wait_for_text(
                pattern, timeout=timeout, region=step.region, keep_video=False
            )
            found = match.group()
        failed = next((text for text in bad if text in found), None)
        if failed is not None and re.search(wanted, found) is None:
            raise ScenarioAssertionError(
                f"the screen shows {failed!r} (fail_on) instead of {shown!r}", last_text=found
            )
        return f"found {found!r}"
    if step.image is not None:
        kwargs = {} if step.threshold is None else {"threshold": step.threshold}
        spot = await kvm.wait_for_image(
            str(base / render(step.image)),
            timeout=timeout,
            region=step.region,
            keep_video=False,
            **kwargs,
        )
        return f"found at {spot.box} (score {spot.score:.3f})"
    if step.stable is not None:
        await kvm.wait_for_screen_stable(
            timeout=timeout, duration=step.stable, region=step.region, keep_video=False
        )
        return f"still for {step.stable:g} s"
    await kvm.wait_for_screen_change(timeout=timeout, region=step.region, keep_video=False)
    return "the screen changed"


async def check(kvm: PiKVM, step: AssertStep, base: Path, render: Callable[[str], str]) -> str:
    if step.image is not None:
        kwargs = {} if step.threshold is None else {"threshold": step.threshold}
        spot = await kvm.find_image(
            str(base / render(step.image)), region=step.region, keep_video=False, **kwargs
        )
        if spot is None:
            raise ScenarioAssertionError(f"the image {step.image} is not on the screen")
        return f"found at {spot.box}"
    shown = render(step.text if step.text is not None else step.regex or "")
    pattern = _compile(re.escape(shown) if step.text is not None else shown)
    if step.ocr == "local":
        matches = await kvm.find_text(pattern, region=step.region, keep_video=False)
        text = " ".join(m.text for m in matches)
        if not matches:
            raise ScenarioAssertionError(f"{shown!r} is not on the screen", last_text=text)
        return f"found {matches[0].text!r}"
    text = await kvm.streamer.ocr(region=step.region)
    match = pattern.search(text)
    if match is None:
        raise ScenarioAssertionError(
            f"{shown!r} is not on the screen (it reads {text[-200:]!r})", last_text=text
        )
    return f"found {match.group()!r}"


def _compile(pattern: str) -> re.Pattern[str]:
    """A regex, as its variables made it: checked at load, but a value may break it."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidInputError(f"not a regular expression once filled in: {exc}") from None


async def served(
    server: HttpServer | None,
    step: HttpStep,
    timeout: float,
    since: float,
    render: Callable[[str], str],
) -> str:
    if server is None:
        raise InvalidInputError("an http step needs the HTTP server: give the file an http: part")
    path = render(step.path)
    deadline = time.monotonic() + timeout
    while (found := server.served(path, step.status, since)) is None:
        other = server.served(path, None, since)
        if other is not None:
            raise ScenarioAssertionError(
                f"{other.client} fetched {other.path} and got {other.status}, not {step.status}"
                + (": no such file in the http directory" if other.status == 404 else "")
            )
        if time.monotonic() >= deadline:
            seen = ", ".join(f"{r.path} {r.status}" for r in server.requests[-5:]) or "nothing"
            raise WaitTimeoutError(
                f"{path} was not served (status {step.status or 'any'}) within "
                f"{timeout:g} s; served so far: {seen}"
            )
        await asyncio.sleep(POLL)
    return f"{found.client} fetched {found.path} ({found.status}, {found.size} bytes)"


async def sleep(step: SleepStep) -> str:
    await asyncio.sleep(step.seconds)
    return f"slept {step.seconds:g} s"


# ----- the keyboard ---------------------------------------------------------------------


async def type_step(kvm: PiKVM, step: TypeStep, layout: str, render: Callable[[str], str]) -> str:
    delay = DEFAULT_TYPING_DELAY if step.delay is None else step.delay
    if step.text is not None:
        text = render(step.text)
        await kvm.type_text(text, layout=layout, delay=delay)
        return f"typed {len(text)} characters"
    command = step.boot_command or ""
    parts = command if isinstance(command, list) else [command]
    actions = parse_boot_command([render(part) for part in parts])
    for action in actions:  # all checked before anything is sent
        if isinstance(action, Text):
            from ..protocol.typing import check_typable

            check_typable(action.text, layout)
    async with kvm.ws(stream=False) as ws:
        events = 0
        for action in actions:
            if isinstance(action, Wait):
                await _settle(ws, events, delay)
                events = 0
            events += await _boot_action(ws, action, layout, delay)
        await ws.release_all()
        await _settle(ws, events + len(ws.held_keys), delay)
    return f"sent {len(actions)} boot_command actions"


async def _settle(ws: PiKVMWebSocket, events: int, delay: float) -> None:
    """Wait until ``events`` HID events sent raw have reached the target: kvmd answers a
    ping once it has read what came before, and its HID then takes up to ``delay`` per
    event; the session must not close before (kvmd drops what is still queued then). A
    second ping proves the session lived that long. (Typed text settles itself.)"""
    if events:
        await ws.ping()
        await asyncio.sleep(events * max(delay, SETTLE_DELAY))
        await ws.ping()


async def _boot_action(
    ws: PiKVMWebSocket,
    action: Text | Key | CharToggle | Wait,
    layout: str,
    delay: float,
) -> int:
    """Send one action; return how many HID events it sent raw (not yet settled)."""
    if isinstance(action, Wait):
        await asyncio.sleep(action.seconds)
    elif isinstance(action, Key):
        state = None if action.action == "press" else action.action == "on"
        await ws.send_key(action.key, state)
        return 2 if state is None else 1
    elif isinstance(action, CharToggle):
        await ws.send_key(_char_key(action.char, layout), action.on)
        return 1
    elif ws.held_keys:
        await _keys_for(ws, action.text, layout)  # a shortcut: the text's keys, raw
        return 2 * len(action.text)
    else:
        await ws.type_text(action.text, layout=layout, delay=delay)
    return 0


def _char_key(char: str, layout: str) -> str:
    from ..protocol.typing import plan_typing

    keys = [s.input.key for s in plan_typing(char, layout) if s.input.key not in MODIFIERS]
    if not keys:
        raise InvalidInputError(f"boot_command: no key types {char!r} on {layout}")
    return keys[-1]


async def _keys_for(ws: PiKVMWebSocket, text: str, layout: str) -> None:
    """``text`` typed as its keys while modifiers are held (``<leftCtrlOn>x``): kvmd's
    type_text refuses held keys, which would turn it into shortcuts — here that is the
    point."""
    for char in text:
        await ws.send_key(_char_key(char, layout))


async def key(kvm: PiKVM, step: KeyStep) -> str:
    names = key_names(step.keys)
    async with kvm.ws(stream=False) as ws:
        await ws.send_shortcut(*names)
        await _settle(ws, 2 * len(names), DEFAULT_TYPING_DELAY)
    return f"pressed {'+'.join(names)}"
