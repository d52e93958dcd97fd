"""kvmd's query conventions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

ParamValue: TypeAlias = str | int | float | bool | list[str] | tuple[str, ...] | None
Params: TypeAlias = Mapping[str, ParamValue]


def encode_params(params: Params | None) -> dict[str, str]:
    """kvmd's query conventions: booleans as 1/0, lists comma-joined into one value
    (a repeated key reaches kvmd as its first value only), ``None`` left out. A ``str``
    is kept as it is, so a :class:`~aiopikvm.transport.redaction.Secret` stays one."""
    if not params:
        return {}
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "1" if value else "0"
        elif isinstance(value, list | tuple):
            encoded[key] = ",".join(value)
        elif isinstance(value, str):
            encoded[key] = value
        else:
            encoded[key] = str(value)
    return encoded
