"""Argument checks that fail exactly like kvmd's validators.

Clients show kvmd's ``error_msg`` to their users and tests compare it, so the wording is
kvmd's, typos included ("greater or equial than", "lesser or equal then"). Every check
turns its argument into a string first, as kvmd does: query values are strings, but the
same checks read JSON values too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Final, NoReturn, TypeVar

from ..protocol.credentials import USER_PATTERN
from ..protocol.keys import DELTA_MAX, DELTA_MIN, KEYS, MOUSE_BUTTONS, MOVE_MAX, MOVE_MIN
from ._errors import ValidatorError

_TRUE: Final = ("1", "true", "yes")
_FALSE: Final = ("0", "false", "no")
_BOOL_NAME: Final = f"bool ({list(_TRUE)!r} or {list(_FALSE)!r})"

_LIST_DELIMITERS: Final = re.compile(r"[,\t ]+")
_PASSWD_PATTERN: Final = r"^[\x20-\x7e]*\Z$"
_TOKEN_PATTERN: Final = r"^[0-9a-f]{64}$"

KEYBOARD_OUTPUTS: Final = ("usb", "ps2", "disabled")
MOUSE_OUTPUTS: Final = ("usb", "usb_win98", "usb_rel", "ps2", "disabled")
ATX_POWER_ACTIONS: Final = ("on", "off", "off_hard", "reset_hard")
ATX_BUTTONS: Final = ("power", "power_long", "reset")


def fail(arg: object, name: str, *, hide: bool = False) -> NoReturn:
    if hide:
        shown = " "
    elif isinstance(arg, str | bytes):
        shown = f" {arg!r} "
    else:
        shown = f" '{arg}' "
    raise ValidatorError(f"The argument{shown}is not a valid {name}")


def not_none_string(arg: object, name: str, *, strip: bool = True) -> str:
    if arg is None:
        raise ValidatorError(f"None argument is not a valid {name}")
    text = str(arg)
    return text.strip() if strip else text


def not_empty_string(arg: object, name: str) -> str:
    # kvmd treats a blank value as a missing one, hence "None argument" for ``?x=``.
    if not str(arg).strip():
        arg = None
    return not_none_string(arg, name)


def string_in(arg: object, name: str, variants: Collection[str], *, lower: bool = True) -> str:
    text = not_none_string(arg, name)
    if lower:
        text = text.lower()
    if text not in variants:
        fail(text, name)
    return text


def re_match(
    arg: object, name: str, pattern: str, *, strip: bool = True, hide: bool = False
) -> str:
    text = not_none_string(arg, name, strip=strip)
    # MULTILINE as in kvmd: ``$`` may match before a newline inside the value.
    if re.match(pattern, text, flags=re.MULTILINE) is None:
        fail(text, name, hide=hide)
    return text


def valid_bool(arg: object) -> bool:
    text = not_empty_string(arg, _BOOL_NAME).lower()
    if text not in _TRUE + _FALSE:
        fail(text, _BOOL_NAME)
    return text in _TRUE


_N = TypeVar("_N", int, float)


def _in_range(number: _N, name: str, low: _N | None, high: _N | None) -> _N:
    # kvmd's own wording, typos included: clients may match on it.
    if low is not None and number < low:
        raise ValidatorError(
            f"The argument '{number}' must be {name} and greater or equial than {low}"
        )
    if high is not None and number > high:
        raise ValidatorError(
            f"The argument '{number}' must be {name} and lesser or equal then {high}"
        )
    return number


def valid_int(arg: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    text = not_empty_string(arg, name)
    try:
        number = int(text[2:], 16) if text.startswith(("0x", "0X")) else int(text)
    except ValueError:
        fail(text, name)
    return _in_range(number, name, low, high)


def valid_string_list(
    arg: object, name: str, item: Callable[[str], str] | None = None
) -> list[str]:
    items = [part for part in _LIST_DELIMITERS.split(not_none_string(arg, name)) if part]
    check = item or (lambda part: not_none_string(part, f"{name} item"))
    try:
        return [check(part) for part in items]
    except Exception:
        raise ValidatorError(f"Failed sub-validator on one of the item of {items!r}") from None


# ----- auth ---------------------------------------------------------------------------


def valid_user(arg: object) -> str:
    return re_match(arg, "username characters", USER_PATTERN.pattern)


def valid_passwd(arg: object) -> str:
    return re_match(arg, "passwd characters", _PASSWD_PATTERN, strip=False, hide=True)


def valid_expire(arg: object) -> int:
    return valid_int(arg, "expiration time", low=0)


def valid_auth_token(arg: object) -> str:
    return re_match(arg, "auth token", _TOKEN_PATTERN, hide=True)


# ----- hid ----------------------------------------------------------------------------


def valid_hid_key(arg: object) -> str:
    return string_in(arg, "Keyboard key", KEYS, lower=False)


def valid_mouse_button(arg: object) -> str:
    return string_in(arg, "Mouse button", MOUSE_BUTTONS)


def valid_mouse_move(arg: object) -> int:
    return min(max(valid_int(arg, "Mouse move"), MOVE_MIN), MOVE_MAX)


def valid_mouse_delta(arg: object) -> int:
    return min(max(valid_int(arg, "Mouse delta"), DELTA_MIN), DELTA_MAX)


def valid_keyboard_output(arg: object) -> str:
    return string_in(arg, "Keyboard output", KEYBOARD_OUTPUTS)


def valid_mouse_output(arg: object) -> str:
    return string_in(arg, "Mouse output", MOUSE_OUTPUTS)


# ----- atx, info ----------------------------------------------------------------------


def valid_atx_power_action(arg: object) -> str:
    return string_in(arg, "ATX power action", ATX_POWER_ACTIONS)


def valid_atx_button(arg: object) -> str:
    return string_in(arg, "ATX button", ATX_BUTTONS)


def valid_info_fields(arg: object, variants: Collection[str]) -> set[str]:
    def field(part: str) -> str:
        return string_in(part, "info field", variants)

    return set(valid_string_list(str(arg).strip(), "info fields list", field))


# ----- msd ----------------------------------------------------------------------------

_MSD_IMAGE_NAME: Final = "MSD image name"
_FILENAME_LIMIT: Final = 255
# The order of the two schemes is the one kvmd's message shows (it joins a set).
_URL_NAME: Final = "HTTPS|HTTP URL"
_URL_PATTERN: Final = r"(?i)^(?:https|http)://[\[\w]+\S*"


def _valid_image_name_part(arg: str) -> str:
    part = not_empty_string(arg, _MSD_IMAGE_NAME)
    if "/" in part or "\0" in part or part.startswith(".") or part == "lost+found":
        fail(part, _MSD_IMAGE_NAME)
    # kvmd does not refuse the rest: it replaces unprintable characters and cuts the name.
    return "".join(ch if ch.isprintable() else "_" for ch in part[:_FILENAME_LIMIT])


def valid_msd_image_name(arg: object, *, allow_eject: bool = False) -> str:
    """A name relative to the storage root; ``""`` (unselect) only with ``allow_eject``."""
    text = not_none_string(arg, "stripped string")
    if not text:
        if allow_eject:
            return ""
        fail(text, _MSD_IMAGE_NAME)
    parts = [part for part in text.split("/") if part]
    if not parts:
        fail(text, _MSD_IMAGE_NAME)
    return "/".join(_valid_image_name_part(part) for part in parts)


def valid_url(arg: object) -> str:
    return re_match(arg, _URL_NAME, _URL_PATTERN)


def valid_msd_compress(arg: object, variants: Collection[str]) -> str:
    return string_in(arg, "Compression mode", variants)


# ----- numbers, gpio, switch ----------------------------------------------------------

_GPIO_CHANNEL_PATTERN: Final = r"^[a-zA-Z_][a-zA-Z0-9_.-]*$"
_EDID_ID_PATTERN: Final = "(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EDID_DATA_PATTERN: Final = "(?i)^([0-9a-f]{256}|[0-9a-f]{512})$"
_SWITCH_COLOR_PATTERN: Final = "(?i)^[0-9a-f]{6}:[0-9a-f]{2}:[0-9a-f]{4}$"


def valid_float(
    arg: object, name: str = "float", *, low: float | None = None, high: float | None = None
) -> float:
    # Python's float() reads what kvmd's does: "1e3", "1_0", "nan" and "inf" included.
    text = not_empty_string(arg, name)
    try:
        number = float(text)
    except ValueError:
        fail(text, name)
    return _in_range(number, name, low, high)


def valid_not_empty_string(arg: object) -> str:
    return not_empty_string(arg, "not empty stripped string")


def valid_gpio_channel(arg: object) -> str:
    name = "GPIO channel"
    text = re_match(arg, name, _GPIO_CHANNEL_PATTERN)
    if len(text) > 255:
        fail(text, name)
    return text


def valid_switch_port_name(arg: object) -> str:
    text = not_none_string(arg, "switch port name")
    text = "".join(char if char.isprintable() else " " for char in text[:255])
    return re.sub(r"\s+", " ", text).strip()


def valid_switch_edid_id(arg: object, *, allow_default: bool) -> str:
    pattern = _EDID_ID_PATTERN + ("|^default$" if allow_default else "")
    return re_match(arg, "switch EDID ID", pattern).lower()


def valid_switch_edid_data(arg: object) -> str:
    name = "switch EDID data"
    text = re.sub(r"\s", "", not_none_string(arg, name))
    return re_match(text, name, _EDID_DATA_PATTERN).upper()


def valid_switch_color(arg: object) -> str:
    """``RRGGBB:LL:TTTT`` (colour, brightness, blink time in ms, hex) or ``default``."""
    text = re_match(arg, "switch color", _SWITCH_COLOR_PATTERN + "|^default$").upper()
    return "default" if text == "DEFAULT" else text


def valid_switch_atx_click_delay(arg: object) -> float:
    return valid_float(arg, "ATX delay", low=0, high=10)
