"""What every benchmark shares: repeated timing, medians, and the result table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """(max - min) / median: how much the repeats disagreed, as a fraction."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def per_call_ns(call: Callable[[], object], number: int) -> float:
    """Nanoseconds per call of ``call`` over ``number`` calls (loop overhead included)."""
    started = time.perf_counter_ns()
    for _ in range(number):
        call()
    return (time.perf_counter_ns() - started) / number


def calls_for(call: Callable[[], object], min_time: float) -> int:
    """How many calls of ``call`` take at least ``min_time`` seconds (doubling from one)."""
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            call()
        if time.perf_counter() - started >= min_time:
            return number
        number *= 2


async def timed(action: Callable[[], Awaitable[None]]) -> float:
    """Seconds ``action`` took."""
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


@dataclass
class Table:
    """One benchmark's results: a title, one row per variant, and what to keep in mind.

    ``columns`` maps a row key to its heading and format; rows may carry more keys than
    are shown (they all go to ``--json``).
    """

    name: str
    title: str
    columns: dict[str, tuple[str, str]]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def render(self) -> str:
        headings = [heading for heading, _ in self.columns.values()]
        cells = [
            [_cell(row.get(key), fmt) for key, (_, fmt) in self.columns.items()]
            for row in self.rows
        ]
        widths = [
            max([len(heading), *(len(line[i]) for line in cells)])
            for i, heading in enumerate(headings)
        ]

        def line(values: list[str]) -> str:
            first = values[0].ljust(widths[0])
            rest = (value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True))
            return "  ".join([first, *rest]).rstrip()

        out = [f"== {self.title}", line(headings), line(["-" * width for width in widths])]
        out += [line(values) for values in cells]
        out += [f"   {target.render()}" for target in self.targets]
        out += [f"   {note}" for note in self.notes]
        return "\n".join(out)

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rows": self.rows,
            "notes": self.notes,
            "targets": [target.as_json() for target in self.targets],
        }


@dataclass(frozen=True)
class Target:
    """A figure the project has promised, and whether this run shows it.

    ``value`` None means the run could not produce the figure (it failed before); that
    is reported, and counts as not met. ``ratio`` is value / limit oriented like the
    tables' ratios: above 1 is better, and at least 1 is met.
    """

    what: str
    value: float | None
    limit: float
    at_least: bool = True
    """True: the value must be >= the limit (a rate); False: <= it (a cost)."""
    fmt: str = ",.0f"
    unit: str = ""
    shown: str | None = None
    """How to print the value, when not ``format(value, fmt)`` (e.g. "no")."""

    @classmethod
    def holds(cls, what: str, ok: bool | None) -> Target:
        """A yes/no promise; None: could not be checked."""
        shown = "not checked" if ok is None else ("yes" if ok else "no")
        return cls(what, None if ok is None else float(ok), 1.0, fmt="", shown=shown)

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.fmt == "":
            return None
        if self.at_least:
            return self.value / self.limit if self.limit else None
        return self.limit / self.value if self.value else float("inf")

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def render(self) -> str:
        verdict = "met" if self.met else "NOT met"
        if self.fmt == "":  # a yes/no promise
            return f"target: {self.what}: {self.shown} -> {verdict}"
        shown = self.shown or (
            "not measured" if self.value is None else f"{self.value:{self.fmt}}{self.unit}"
        )
        sign = ">=" if self.at_least else "<="
        ratio = "" if self.ratio is None else f", {self.ratio:.2f}x the target"
        return (
            f"target: {self.what} {sign} {self.limit:{self.fmt}}{self.unit}: "
            f"{shown}{ratio} -> {verdict}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "value": self.value,
            "limit": self.limit,
            "at_least": self.at_least,
            "ratio": self.ratio,
            "met": self.met,
        }


def _cell(value: object, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, str) or not fmt:
        return str(value)
    return format(value, fmt)


def relative(rows: list[Row], key: str, reference: str, *, higher_is_better: bool) -> None:
    """Add ``rel``: each row's ``key`` as a multiple of the reference row's, oriented so that
    above 1 always means better than the reference (faster, or smaller)."""
    base = next(row[key] for row in rows if row["variant"] == reference)
    for row in rows:
        value = row[key]
        if not value or not base:
            row["rel"] = None
        else:
            row["rel"] = value / base if higher_is_better else base / value
