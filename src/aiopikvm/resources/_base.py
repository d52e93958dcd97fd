from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import PiKVM


class Resource:
    __slots__ = ("_kvm",)

    def __init__(self, kvm: PiKVM) -> None:
        self._kvm = kvm
