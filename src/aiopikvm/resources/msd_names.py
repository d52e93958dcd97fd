"""kvmd's rules for an image's name in its storage (kvmd/validators/kvm.py,
``valid_msd_image_name``), checked before anything is sent."""

from __future__ import annotations

from typing import Final

from .._checks import check_str, invalid, show
from ..errors import InvalidInputError

_NAME_LIMIT: Final = 255  # kvmd cuts each part of a name to this many characters


def check_image_name(name: object, what: str = "image name") -> str:
    """kvmd's image name rules: a path relative to the storage, whose parts do not start
    with a dot and are not ``lost+found``. Names kvmd would silently change (unprintable
    characters, parts over 255 characters) are refused too, so an image is never stored,
    selected or removed under a name the caller did not give."""
    if not isinstance(name, str):
        raise invalid(what, "a str", name)
    parts = [part.strip() for part in name.strip().split("/") if part]
    if not parts:
        raise invalid(what, "a non-empty image name", name)
    for part in parts:
        if not part or part.startswith(".") or part == "lost+found" or "\0" in part:
            raise InvalidInputError(
                f"{what} {show(name)}: {show(part)} is not allowed (empty, hidden or lost+found)"
            )
        if len(part) > _NAME_LIMIT or not part.isprintable():
            raise InvalidInputError(
                f"{what} {show(name)}: each part must be printable and at most {_NAME_LIMIT} "
                "characters (kvmd would change it)"
            )
    return name


def check_prefix(prefix: object) -> None:
    if prefix is not None:
        check_str(prefix, "prefix")
        assert isinstance(prefix, str)
        if prefix.strip("/ "):
            check_image_name(prefix, "prefix")
