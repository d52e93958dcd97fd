from __future__ import annotations

import functools
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from ..errors import ProtocolError

T = TypeVar("T")


class Model(BaseModel):
    """Pure data, and tolerant: fields a newer kvmd adds are kept, not rejected."""

    # defer_build: a model is built on first use, not at import (~50 ms for them all)
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


@functools.cache
def _adapter(type_: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(type_)


def _cached_adapter(type_: object) -> pydantic.TypeAdapter[Any]:
    return _adapter(type_)


def parse(type_: type[T], data: Any, what: str) -> T:
    """``data`` as ``type_``; a payload that does not fit raises :class:`ProtocolError`."""
    try:
        result: T = _cached_adapter(type_).validate_python(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "top level"
        raise ProtocolError(
            f"the device's {what} does not have kvmd's shape: {first['msg']} at {location}"
            f" ({exc.error_count()} problem(s))"
        ) from None
    return result
