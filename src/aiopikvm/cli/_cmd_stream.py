"""Commands still to come (see the command line issue)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Nothing yet."""
