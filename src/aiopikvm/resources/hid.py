from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from .._checks import (
    check_bool,
    check_button,
    check_choice,
    check_delta,
    check_int,
    check_key,
    check_names,
    check_number,
    check_optional_bool,
    check_position,
    check_str,
    invalid,
)
from ..errors import InvalidInputError
from ..protocol.frames import (
    KeyInput,
    MouseButtonInput,
    MouseMoveInput,
    MouseRelativeInput,
    MouseWheelInput,
    validate,
)
from ..protocol.keys import FINISH_EXEMPT
from ..transport.http import Timeout
from ..transport.params import Params
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.hid import HidKeymaps, HidState

KeyboardOutput = Literal["usb", "ps2", "disabled"]
MouseOutput = Literal["usb", "usb_win98", "usb_rel", "ps2", "disabled"]
KEYBOARD_OUTPUTS: Final[tuple[KeyboardOutput, ...]] = ("usb", "ps2", "disabled")
MOUSE_OUTPUTS: Final[tuple[MouseOutput, ...]] = ("usb", "usb_win98", "usb_rel", "ps2", "disabled")

MAX_PRINT_DELAY: Final = 5.0
"""kvmd's upper bound for ``hid/print``'s ``delay``, in seconds."""
_SLOW_DELAY: Final = 0.02
"""The delay kvmd uses for ``slow=1`` when no ``delay`` is given."""
_EVENTS_PER_CHAR: Final = 4
"""At most: one modifier released, one pressed, the key down and up."""
_SHORTCUT_DELAY: Final = 0.05
"""kvmd sleeps this long before each press and release of ``send_shortcut``."""


class Hid(Resource):
    """The keyboard and mouse the device emulates (``/api/hid``).

    Each input call here is one HTTP request. For interactive input prefer a WebSocket
    session (:meth:`PiKVM.ws <aiopikvm.PiKVM.ws>`): one frame per event, and held keys are
    released when it ends. Everything is validated before it is sent.
    """

    async def get_state(self) -> HidState:
        from ..models.hid import HidState

        return parse(HidState, await self._http.request("GET", "hid"), "hid state")

    async def set_params(
        self,
        *,
        keyboard_output: KeyboardOutput | None = None,
        mouse_output: MouseOutput | None = None,
        jiggler: bool | None = None,
    ) -> None:
        """Switch the keyboard or mouse output, or the mouse jiggler. kvmd ignores an output
        the device does not have (see ``get_state().mouse.outputs.available``); ``usb_rel``
        makes the mouse relative."""
        if keyboard_output is not None:
            check_choice(keyboard_output, "keyboard_output", KEYBOARD_OUTPUTS)
        if mouse_output is not None:
            check_choice(mouse_output, "mouse_output", MOUSE_OUTPUTS)
        check_optional_bool(jiggler, "jiggler")
        params: Params = {
            "keyboard_output": keyboard_output,
            "mouse_output": mouse_output,
            "jiggler": jiggler,
        }
        if all(value is None for value in params.values()):
            raise InvalidInputError("set_params() needs keyboard_output, mouse_output or jiggler")
        await self._http.request("POST", "hid/set_params", params=params)

    async def set_connected(self, connected: bool) -> None:
        """Attach or detach the HID from the host (devices with a switchable HID)."""
        check_bool(connected, "connected")
        await self._http.request("POST", "hid/set_connected", params={"connected": connected})

    async def reset(self) -> None:
        """Reset the HID: everything held is released."""
        await self._http.request("POST", "hid/reset")

    async def get_keymaps(self) -> HidKeymaps:
        """The keymaps :meth:`type_text` can use, and the device's default."""
        from ..models.hid import HidKeymaps

        return parse(HidKeymaps, await self._http.request("GET", "hid/keymaps"), "hid keymaps")

    async def get_inactivity(self) -> int:
        """Seconds since kvmd last accepted keyboard or mouse input."""
        from ..models.hid import HidInactivity

        data = await self._http.request("GET", "hid/inactivity")
        return parse(HidInactivity, data, "hid inactivity").inactivity

    # ----- typing -------------------------------------------------------------------------

    async def type_text(
        self,
        text: str,
        *,
        keymap: str | None = None,
        limit: int | None = None,
        slow: bool = False,
        delay: float | None = None,
    ) -> None:
        """Type ``text`` on the host through kvmd's ``hid/print``; returns when kvmd has
        handed the last keystroke to the HID.

        kvmd turns each character into key presses with ``keymap`` (one of
        :meth:`get_keymaps`; default: the device's). That keymap must match the layout the
        host's OS uses. **Characters the keymap cannot type are dropped without a word** by
        kvmd (so are control characters other than newline and tab); nothing in the answer
        says so.

        kvmd cuts the text at 1024 characters unless told otherwise: this method always
        has it type the whole text. ``limit`` is your own cap: a longer text raises
        :class:`InvalidInputError` instead of being cut. ``delay`` (0 to 5 s) is the pause
        kvmd makes before each key event; ``slow=True`` without a ``delay`` means 0.02 s.
        The request's timeout is stretched to cover that typing time.
        """
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        if limit is not None:
            check_int(limit, "limit", low=0)
        if keymap is not None:
            _check_keymap(keymap)
        check_bool(slow, "slow")
        if delay is not None:
            check_number(delay, "delay", low=0, high=MAX_PRINT_DELAY, query=True)
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("text holds characters that UTF-8 cannot carry") from None
        if limit and len(text) > limit:
            raise InvalidInputError(
                f"text is {len(text)} characters, over limit={limit}; nothing was typed"
            )
        pause = delay if delay is not None else (_SLOW_DELAY if slow else 0.0)
        params: Params = {
            "limit": 0,  # kvmd's "no limit": its default would cut at 1024 characters
            "keymap": keymap,
            "slow": slow or None,
            "delay": delay,
        }
        await self._http.request(
            "POST",
            "hid/print",
            params=params,
            content=body,
            headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=self._stretched((_EVENTS_PER_CHAR * len(text) + 2) * pause),
        )

    # ----- events -------------------------------------------------------------------------

    async def send_key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """Press (``state=True``), release (``False``) or tap (``None``) a key.

        ``key`` is a physical key named like ``KeyboardEvent.code`` (``"KeyA"``,
        ``"Enter"``). ``finish=True`` on a press asks kvmd to release it right after,
        except modifiers and PrintScreen. A tap of those is sent as a press and a release
        (two requests): kvmd's own tap would leave them held.
        """
        check_key(key)
        check_optional_bool(state, "state")
        check_bool(finish, "finish")
        validate(KeyInput(key, True if state is None else state, finish))
        if state is not None:
            params: Params = {"key": key, "state": state, "finish": finish}
            await self._http.request("POST", "hid/events/send_key", params=params)
        elif key in FINISH_EXEMPT:
            await self._http.request(
                "POST", "hid/events/send_key", params={"key": key, "state": True}
            )
            await self._http.request(
                "POST", "hid/events/send_key", params={"key": key, "state": False}
            )
        else:
            await self._http.request("POST", "hid/events/send_key", params={"key": key})

    async def send_shortcut(self, *keys: str) -> None:
        """Press ``keys`` in order, then release them in reverse (``"ControlLeft", "AltLeft",
        "Delete"``); kvmd pauses 50 ms before each step and answers when done."""
        check_names(keys, "keys", "send_shortcut", check_key)
        if not keys:
            raise InvalidInputError("send_shortcut() needs at least one key")
        await self._http.request(
            "POST",
            "hid/events/send_shortcut",
            params={"keys": list(keys)},
            timeout=self._stretched(2 * len(keys) * _SHORTCUT_DELAY),
        )

    async def send_mouse_button(self, button: str, state: bool | None = None) -> None:
        """Press (``True``), release (``False``) or click (``None``) ``left``, ``right``,
        ``middle``, ``up`` or ``down`` (the side buttons)."""
        check_button(button)
        check_optional_bool(state, "state")
        validate(MouseButtonInput(button, True if state is None else state))
        await self._http.request(
            "POST", "hid/events/send_mouse_button", params={"button": button, "state": state}
        )

    async def send_mouse_move(self, x: int, y: int) -> None:
        """Move the absolute pointer: -32768..32767 on each axis, (0, 0) is the centre."""
        check_position(x, "x")
        check_position(y, "y")
        validate(MouseMoveInput(x, y))
        await self._http.request(
            "POST", "hid/events/send_mouse_move", params={"to_x": x, "to_y": y}
        )

    async def send_mouse_relative(self, dx: int, dy: int) -> None:
        """Move a relative mouse by -127..127 on each axis (ignored while it is absolute)."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        validate(MouseRelativeInput(((dx, dy),)))
        await self._http.request(
            "POST", "hid/events/send_mouse_relative", params={"delta_x": dx, "delta_y": dy}
        )

    async def send_mouse_wheel(self, dx: int, dy: int) -> None:
        """Scroll by -127..127 steps on each axis."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        validate(MouseWheelInput(((dx, dy),)))
        await self._http.request(
            "POST", "hid/events/send_mouse_wheel", params={"delta_x": dx, "delta_y": dy}
        )

    def _stretched(self, busy: float) -> Timeout:
        """The client's timeout (the call's total deadline), with ``busy`` seconds more."""
        base = self._http.timeout
        if base is None or busy <= 0:
            return "default"
        return base + busy


def _check_keymap(name: object) -> str:
    # What kvmd's file-name check lets through; whether the device has it is its call.
    text = check_str(name, "keymap", empty_ok=False, printable=True, expected="a keymap name")
    if not text.strip() or "/" in text or text.startswith("."):
        raise invalid("keymap", "a keymap name (a file name in kvmd's keymaps)", name)
    return text
