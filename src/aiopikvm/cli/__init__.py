"""``pikvm``: the command line (the ``cli`` extra: Typer, Rich, platformdirs).

``main(argv)`` runs one command and returns its exit code (:class:`ExitCode`). Nothing of
this package is imported by ``import aiopikvm``; Typer and Rich load only when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._exit import ExitCode

__all__ = ["ExitCode", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pikvm`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code. As the
    console script's entry point it exits with that code."""
    from ._main import run

    return run(argv)
