"""What a traceback shows of a failed call — for tests that no secret is in it.

Sentry, ``pytest -l`` and rich tracebacks show every frame's locals by their ``repr``, and
the exceptions chained as cause or context; these walk the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aiopikvm.transport.auth import Credentials


def reprs(value: object, depth: int = 5, seen: set[int] | None = None) -> Iterator[str]:
    """``repr`` of ``value`` and of what it holds: mapping (headers too) and container
    items, objects' attributes and slots."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth < 0:
        return
    seen.add(id(value))
    try:
        yield repr(value)
    except Exception:  # a broken repr shows nothing
        return
    if isinstance(value, str | bytes | int | float | type(None)):
        return
    if isinstance(value, Mapping):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif isinstance(value, Credentials):
        return  # where the password is kept, to be sent: its repr shows none
    else:
        items = list(getattr(value, "__dict__", {}).values())
        slots = (name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ()))
        items += [getattr(value, name) for name in slots if hasattr(value, name)]
    for item in items:
        yield from reprs(item, depth - 1, seen)


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception chained to it, as cause or as context."""
    pending, seen = [error], set()
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        pending += [e for e in (exc.__cause__, exc.__context__) if e is not None]


def exception_texts(error: BaseException, *, skip_file: str | None = None) -> Iterator[str]:
    """The text of every exception in the chain and the reprs of every frame's locals (but
    those of ``skip_file``: a test's own locals hold the secrets it sends)."""
    for exc in chain(error):
        yield from (str(exc), *reprs(vars(exc)))
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename != skip_file:
                for name, value in tb.tb_frame.f_locals.items():
                    yield from (f"{code.co_qualname}.{name}={text}" for text in reprs(value))
            tb = tb.tb_next
