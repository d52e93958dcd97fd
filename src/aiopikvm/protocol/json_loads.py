"""``json.loads`` for the frames a session reads, sooner: with msgspec when it is installed
(the ``fast`` extra: a third of json.loads' time for a kvmd frame), else the stdlib's C
scanner without the Python around it. Either way the result is what ``json.loads`` gives:
what msgspec refuses (NaN and the infinities, numbers past a double, lone surrogates,
control characters in strings, a BOM, junk) goes to ``json.loads`` itself, for its value or
its error. (orjson, as fast, turns an integer past 64 bits into a float without a word.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

_Scanner = Callable[[str, int], tuple[Any, int]]
# scan_once is set by JSONDecoder.__init__, and missing from its stubs.
_SCAN: Final[_Scanner] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""What ``json.loads`` runs (the C scanner), called without its Python around it."""


def _scanned(text: str) -> Any:
    """``json.loads(text)``, a microsecond sooner for a frame that is one JSON value and
    nothing else; anything else (whitespace around it, a BOM, junk) goes to ``json.loads``."""
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _chosen() -> tuple[Callable[[str], Any], str]:
    try:
        import msgspec  # here, not at import: it adds 7 ms to ``import aiopikvm``
    except ImportError:  # pragma: no cover - the fast extra is in every test environment
        return _scanned, "json"
    decode = msgspec.json.Decoder().decode

    def decoded(text: str) -> Any:
        """``json.loads(text)``, by msgspec where it agrees."""
        try:
            return decode(text)
        except (msgspec.DecodeError, ValueError, RecursionError):
            return json.loads(text)

    return decoded, f"msgspec {msgspec.__version__}"


def parser() -> str:
    """What :func:`loads` parses with: ``"msgspec <version>"`` or ``"json"``."""
    return _chosen()[1]


def _first(text: str) -> Any:
    global loads
    loads = _chosen()[0]
    return loads(text)


loads: Callable[[str], Any] = _first
"""``json.loads(text)``: the same value, or the same error. Call it as ``json_loads.loads``:
the first call puts the chosen parser in its place."""
