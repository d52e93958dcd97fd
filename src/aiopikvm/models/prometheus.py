"""Prometheus metrics: one sample per line of the text exposition format, and its parser."""

from __future__ import annotations

import re
from typing import Final

from ..errors import ProtocolError
from ._base import Model

_METRIC_NAME: Final = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_BLANKS: Final = re.compile(r"[ \t]*")
_NUMBER: Final = re.compile(
    r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?i:inf|infinity)|(?i:nan)"
)
_TIMESTAMP: Final = re.compile(r"-?\d+")
_ESCAPES: Final = {"\\": "\\", '"': '"', "n": "\n"}


class MetricSample(Model):
    """One sample: ``name{labels} value [timestamp]``. ``value`` may be NaN or ±inf."""

    name: str
    labels: dict[str, str] = {}
    value: float
    timestamp: int | None = None
    """Milliseconds since the epoch, when the line gives one (kvmd's never do)."""


def parse_metrics(text: str) -> list[MetricSample]:
    """Every sample in a Prometheus text exposition, in order. Blank lines and comments
    (``# HELP``, ``# TYPE`` and any other) are skipped; a line that is not a sample raises
    :class:`~aiopikvm.ProtocolError` naming it."""
    samples: list[MetricSample] = []
    # The format ends lines with "\n" only: a label value may hold "\r" or any other break
    # that str.splitlines() would cut at.
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        try:
            samples.append(_sample(stripped))
        except ValueError as exc:
            raise ProtocolError(
                f"line {number} of the metrics is not a Prometheus sample ({exc}): {line!r}"
            ) from None
    return samples


def _sample(line: str) -> MetricSample:
    match = _METRIC_NAME.match(line)
    if match is None:
        raise ValueError("no metric name")
    name, pos = match.group(), _skip(line, match.end())
    labels: dict[str, str] = {}
    if line.startswith("{", pos):
        labels, pos = _labels(line, pos + 1)
    elif pos == match.end() and pos < len(line):
        raise ValueError("no space after the metric name")
    parts = line[pos:].split()
    if not 1 <= len(parts) <= 2:
        raise ValueError("expected a value and an optional timestamp")
    if not _NUMBER.fullmatch(parts[0]):
        raise ValueError(f"not a number: {parts[0]!r}")
    timestamp = None
    if len(parts) == 2:
        if not _TIMESTAMP.fullmatch(parts[1]):
            raise ValueError(f"not a timestamp: {parts[1]!r}")
        timestamp = int(parts[1])
    return MetricSample(name=name, labels=labels, value=float(parts[0]), timestamp=timestamp)


def _labels(line: str, pos: int) -> tuple[dict[str, str], int]:
    """The labels after ``{`` at ``pos``, and where the text after the ``}`` starts."""
    labels: dict[str, str] = {}
    while True:
        pos = _skip(line, pos)
        if line.startswith("}", pos):
            return labels, pos + 1
        match = _LABEL_NAME.match(line, pos)
        if match is None:
            raise ValueError("bad label name")
        label = match.group()
        if label in labels:
            raise ValueError(f"label {label!r} given twice")
        pos = _skip(line, match.end())
        if not line.startswith("=", pos):
            raise ValueError(f"no '=' after label {label!r}")
        pos = _skip(line, pos + 1)
        if not line.startswith('"', pos):
            raise ValueError(f"label {label!r} has no quoted value")
        labels[label], pos = _label_value(line, pos + 1)
        pos = _skip(line, pos)
        if line.startswith(",", pos):
            pos += 1
        elif not line.startswith("}", pos):
            raise ValueError("labels not separated by ',' or closed by '}'")


def _label_value(line: str, pos: int) -> tuple[str, int]:
    """The value after an opening quote at ``pos``, unescaped, and the position after it."""
    chars: list[str] = []
    while pos < len(line):
        char = line[pos]
        if char == '"':
            return "".join(chars), pos + 1
        if char == "\\":
            escaped = _ESCAPES.get(line[pos + 1 : pos + 2])
            if escaped is None:
                raise ValueError("bad escape in a label value")
            chars.append(escaped)
            pos += 2
        else:
            chars.append(char)
            pos += 1
    raise ValueError("unterminated label value")


def _skip(line: str, pos: int) -> int:
    match = _BLANKS.match(line, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()
