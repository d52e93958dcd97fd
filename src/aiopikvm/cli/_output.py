"""What a command prints: one JSON document on stdout with ``--json`` (NDJSON for streams),
human text otherwise; progress, summaries and errors go to stderr only."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


def jsonable(value: Any) -> Any:
    """Models, dataclasses, bytes and tuples as plain JSON values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if hasattr(value, "exact"):
            data["exact"] = value.exact
        return data
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    return value


class Output:
    def __init__(self, *, json_mode: bool, quiet: bool = False) -> None:
        self.json = json_mode
        self.quiet = quiet
        # Made per run: the streams are looked up now (tests swap sys.stdout).
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)

    def document(self, value: Any) -> None:
        sys.stdout.write(json.dumps(jsonable(value), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def human(self, renderable: Any) -> None:
        if renderable is None or renderable == "":
            return
        self.out.print(renderable)

    def result(self, value: Any, show: Callable[[Any], Any] | None) -> None:
        if self.json:
            self.document(value)
        else:
            self.human(show(value) if show is not None else _plain(value))

    def note(self, message: str) -> None:
        """A line for a person, on stderr."""
        if not self.quiet:
            self.err.print(message, markup=False)

    def error(self, message: str) -> None:
        self.err.print(f"pikvm: error: {message}", markup=False)

    @contextlib.contextmanager
    def progress(
        self, description: str, total: int | None, *, transfer: bool = False
    ) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on stderr; yields ``update(done, total)``."""
        if self.quiet:
            yield lambda done, total: None
            return
        columns: list[Any] = [TextColumn("{task.description}"), BarColumn()]
        if transfer:
            columns += [DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        else:
            columns += [MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=self.err, transient=False) as bar:
            task = bar.add_task(description, total=total)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update


def _plain(value: Any) -> str:
    data = jsonable(value)
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return json.dumps(data, indent=2, ensure_ascii=False)
