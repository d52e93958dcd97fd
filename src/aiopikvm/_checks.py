"""The argument checks of the public API: one set, used by every method before it sends.

Each check returns the value it accepted (narrowed for the type checker) or raises
:class:`InvalidInputError` naming the parameter, what it must be, and the value it got —
its repr, cut short when long; for a secret only its type. ``bool`` is never taken for a
number (``True`` is an ``int`` to Python, not a count to a user), nor a number or a string
for a ``bool`` (kvmd reads only 1/0, and ``bool("no")`` is true).
"""

from __future__ import annotations

import json
import math
import os
import ssl
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final, TypeVar

from .errors import InvalidInputError
from .protocol import totp
from .protocol.credentials import passwd_problem, user_problem
from .protocol.keys import DELTA_MAX, DELTA_MIN, KEYS, MOUSE_BUTTONS, MOVE_MAX, MOVE_MIN
from .transport.pinning import CertificateFingerprint

T = TypeVar("T")

MAX_DELAY: Final = 10.0
"""Seconds at most for the pauses the client itself makes between input events (typing,
shortcuts, drags): a longer one is a mistake, and would hold keys or buttons down."""
MAX_DRAG_STEPS: Final = 1000
"""Moves at most in one :meth:`~aiopikvm.PiKVMWebSocket.drag`."""
MAX_SCROLL: Final = 10_000
"""Wheel notches at most per axis in one :meth:`~aiopikvm.PiKVMWebSocket.scroll` (kvmd takes
127 per report: at most 79 reports)."""
MAX_QUEUE: Final = 1_000_000
"""Events a session keeps at most for :meth:`~aiopikvm.PiKVMWebSocket.events`."""
KVMD_RAW_LIMIT: Final = 16
"""Characters kvmd reads at most of a number in a query (its validators' raw limit):
a longer one is refused with "RAW limit exceed"."""
KVMD_INT_MAX: Final = 10**KVMD_RAW_LIMIT - 1
USER_MAX: Final = 128
"""Characters at most of a user name (kvmd/validators/auth.py, ``valid_user``)."""

_SHOWN: Final = 60


def show(value: object) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    size = f", {len(value)} long" if isinstance(value, str | bytes | list | tuple) else ""
    return f"{text[: _SHOWN - 10]}...{size}"


def invalid(name: str, expected: str, value: object, *, secret: bool = False) -> InvalidInputError:
    """The error for ``name=value``, which is not ``expected``; a secret shows its type only."""
    got = f"a {type(value).__name__}" if secret else show(value)
    return InvalidInputError(f"{name} must be {expected}, got {got}")


# ----- scalars ----------------------------------------------------------------------------


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "a bool (True or False)", value)
    return value


def check_optional_bool(value: object, name: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise invalid(name, "a bool or None", value)
    return value


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An ``int`` (not a ``bool``) within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, f"an int{_bounds(low, high)}", value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(name, f"an int{_bounds(low, high)}", value)
    return value


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    query: bool = False,
) -> float:
    """A finite ``int`` or ``float`` (not a ``bool``) within ``low..high`` (``low`` itself
    excluded with ``low_open``). ``query``: it goes to kvmd in a query string, whose text
    must fit :data:`KVMD_RAW_LIMIT` characters."""
    bounds = _bounds(low, high, low_open=low_open)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or (low is not None and (value <= low if low_open else value < low))
        or (high is not None and value > high)
    ):
        raise invalid(name, f"a finite number{bounds}", value)
    if query and len(str(value)) > KVMD_RAW_LIMIT:
        raise invalid(name, f"a number kvmd can read (at most {KVMD_RAW_LIMIT} characters)", value)
    return value


def check_timeout(
    value: object, name: str = "timeout", *, none_ok: bool, zero_ok: bool = False
) -> float | None:
    """Seconds to wait: a positive finite number (zero too with ``zero_ok``), or None (no
    limit) where ``none_ok``."""
    if value is None and none_ok:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        what = "a number of seconds >= 0" if zero_ok else "a number of seconds > 0"
        raise invalid(name, what + (" or None" if none_ok else ""), value)
    return value


def check_delay(value: object, name: str = "delay", *, high: float = MAX_DELAY) -> float:
    """A pause the client makes: ``0..high`` seconds."""
    return check_number(value, name, low=0, high=high)


# ----- text -------------------------------------------------------------------------------


def check_str(
    value: object,
    name: str,
    *,
    empty_ok: bool = True,
    printable: bool = False,
    max_length: int | None = None,
    expected: str = "a str",
) -> str:
    """A ``str``; never with NUL. ``printable``: no control characters either (what goes
    into a URL path, a header or a name kvmd would change)."""
    if not isinstance(value, str):
        raise invalid(name, expected, value)
    if not value and not empty_ok:
        raise invalid(name, f"a non-empty {expected.removeprefix('a ')}", value)
    if "\0" in value or (printable and not value.isprintable()):
        raise invalid(name, f"{expected} without control characters", value)
    if max_length is not None and len(value) > max_length:
        raise invalid(name, f"{expected} of at most {max_length} characters", value)
    return value


def check_choice(value: object, name: str, choices: Collection[T]) -> T:
    """One of ``choices`` (compared by equality and type, so ``True`` is not ``1``)."""
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return choice
    listed = ", ".join(repr(choice) for choice in choices)
    raise invalid(name, f"one of {listed}", value)


def check_path(value: object, name: str) -> str | os.PathLike[str]:
    """A file system path: a non-empty ``str`` or ``os.PathLike`` without NUL."""
    if isinstance(value, os.PathLike):
        text = os.fspath(value)
    elif isinstance(value, str):
        text = value
    else:
        raise invalid(name, "a path", value)
    if not isinstance(text, str) or not text or "\0" in text:
        raise invalid(name, "a non-empty path without NUL", value)
    return value


# ----- input ----------------------------------------------------------------------------


def check_key(key: object, name: str = "key") -> str:
    """A physical key's name as kvmd knows it (:data:`aiopikvm.KEYS`)."""
    if isinstance(key, str) and key in KEYS:
        return key
    hint = ""
    if isinstance(key, str) and len(key) == 1 and key.isalnum():
        guess = f"Digit{key}" if key.isdigit() else f"Key{key.upper()}"
        hint = f" (keys are physical positions: did you mean {guess!r}?)"
    raise InvalidInputError(
        f"unknown {name} {show(key)}{hint}; key names are like 'KeyA', 'Enter' (see KEYS)"
    )


def check_button(button: object, name: str = "button") -> str:
    if isinstance(button, str) and button in MOUSE_BUTTONS:
        return button
    raise InvalidInputError(
        f"unknown mouse {name} {show(button)}; expected one of {', '.join(sorted(MOUSE_BUTTONS))}"
    )


def check_position(value: object, name: str) -> int:
    """An absolute pointer coordinate."""
    return check_int(value, name, low=MOVE_MIN, high=MOVE_MAX)


def check_delta(value: object, name: str) -> int:
    """One report's relative move or wheel steps."""
    return check_int(value, name, low=DELTA_MIN, high=DELTA_MAX)


def check_langs(langs: object, name: str = "langs") -> list[str]:
    """OCR language names: one, or a list (kvmd splits the list on commas and blanks)."""
    names = check_str_list(langs, name, lambda item: _lang(item, name))
    if not names:
        raise invalid(name, "at least one language name (None for the device's default)", langs)
    return names


def _lang(item: object, name: str) -> str:
    text = check_str(
        item, name, empty_ok=False, printable=True, max_length=64, expected="a language name"
    )
    if any(char in text for char in ", "):
        raise invalid(name, "language names without commas or blanks", item)
    return text


def check_region(region: object, name: str = "region") -> dict[str, int]:
    """An OCR region ``(left, top, right, bottom)`` in pixels, as kvmd's query parameters."""
    if not isinstance(region, tuple | list) or len(region) != 4:
        raise invalid(name, "(left, top, right, bottom)", region)
    left, top, right, bottom = (
        check_int(value, f"{name} {side}", low=0, high=KVMD_INT_MAX)
        for side, value in zip(("left", "top", "right", "bottom"), region, strict=True)
    )
    # kvmd reads the whole screen, without a word, when the region has no area.
    if left >= right or top >= bottom:
        raise invalid(name, "a region with left < right and top < bottom", region)
    return {"ocr_left": left, "ocr_top": top, "ocr_right": right, "ocr_bottom": bottom}


# ----- credentials ---------------------------------------------------------------------


def check_user(user: object, name: str = "user") -> str:
    """A user name kvmd accepts."""
    if not isinstance(user, str):
        problem: str | None = "not a str"
    elif len(user) > USER_MAX:
        problem = f"at most {USER_MAX} characters"
    else:
        problem = user_problem(user)
    if problem:
        raise InvalidInputError(f"{name} must be a kvmd user name ({problem}), got {show(user)}")
    assert isinstance(user, str)
    return user


def check_passwd(passwd: object, name: str = "passwd") -> str:
    """A password kvmd accepts; the error never shows it."""
    problem = passwd_problem(passwd) if isinstance(passwd, str) else "not a str"
    if problem:
        kind = type(passwd).__name__
        raise InvalidInputError(f"{name} is not a password kvmd accepts ({problem}): a {kind}")
    assert isinstance(passwd, str)
    return passwd


def check_totp_secret(secret: object, name: str = "totp_secret") -> str:
    """A base32 TOTP secret; the error never shows it."""
    if not isinstance(secret, str) or not secret.strip():
        kind = type(secret).__name__
        raise InvalidInputError(f"{name} must be a non-empty base32 str, got a {kind}")
    try:
        totp.decode_secret(secret)
    except InvalidInputError:
        raise InvalidInputError(
            f"{name} must be base32, as authenticator apps show it: got a str that is not"
        ) from None
    return secret


def check_verify_ssl(value: object) -> None:
    """What ``verify_ssl`` may be, checked even where the URL's scheme makes no use of it."""
    if isinstance(value, bool | ssl.SSLContext | CertificateFingerprint):
        return
    if isinstance(value, str | os.PathLike):
        check_path(value, "verify_ssl")
        return
    raise invalid(
        "verify_ssl", "a bool, a CA file path, an SSLContext or a CertificateFingerprint", value
    )


# ----- collections and callables ----------------------------------------------------------


def check_names(
    values: tuple[object, ...], name: str, call: str, check: Callable[[object], str]
) -> tuple[str, ...]:
    """The ``*values`` of a varargs parameter, each passed through ``check``. A single list
    or tuple is refused with a hint: it was meant to be unpacked."""
    if len(values) == 1 and isinstance(values[0], list | tuple | set | frozenset):
        raise InvalidInputError(
            f"{name} are separate arguments: pass {call}(*{name}), not one "
            f"{type(values[0]).__name__} ({show(values[0])})"
        )
    return tuple(check(value) for value in values)


def check_str_list(value: object, name: str, check: Callable[[object], str]) -> list[str]:
    """One ``str`` or an iterable of them (not a mapping, not bytes), each through ``check``."""
    if isinstance(value, str):
        return [check(value)]
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise invalid(name, "a str or a list of str", value)
    return [check(item) for item in value]


def check_mapping(
    value: object, name: str, *, keys: type = str, values: Any = None
) -> Mapping[Any, Any]:
    """A ``Mapping`` whose keys are ``keys`` (and values ``values``, when given)."""
    if not isinstance(value, Mapping):
        raise invalid(name, "a mapping (a dict)", value)
    for key, item in value.items():
        if not isinstance(key, keys) or (values is not None and not isinstance(item, values)):
            expected = keys.__name__ + (f" -> {values.__name__}" if values is not None else "")
            raise invalid(name, f"a mapping of {expected}", value)
    return value


def check_json(value: object, name: str) -> None:
    """A body that JSON can carry (NaN and infinity cannot)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise invalid(name, f"a JSON-serialisable value ({exc})", value) from None


def check_callable(value: object, name: str) -> Callable[..., Any]:
    if not callable(value):
        raise invalid(name, "a callable", value)
    return value


# ----- helpers ----------------------------------------------------------------------------


def _bounds(low: float | None, high: float | None, *, low_open: bool = False) -> str:
    if low is not None and high is not None:
        if low_open:
            return f" > {_number(low)} and <= {_number(high)}"
        return f" in {_number(low)}..{_number(high)}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_number(low)}"
    if high is not None:
        return f" <= {_number(high)}"
    return ""


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
