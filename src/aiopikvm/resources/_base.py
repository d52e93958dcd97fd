from __future__ import annotations

from typing import TYPE_CHECKING

from .._exceptions import InvalidInputError

if TYPE_CHECKING:
    from .._client import PiKVM


class Resource:
    __slots__ = ("_kvm",)

    def __init__(self, kvm: PiKVM) -> None:
        self._kvm = kvm


def check_bool(value: object, what: str) -> bool:
    """``value`` if it is a bool. kvmd reads only 1/0 (true/false, yes/no) and answers
    anything else with a 400, so a truthy ``2`` or ``"no"`` is refused before sending."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be a bool, got {value!r}")
    return value
