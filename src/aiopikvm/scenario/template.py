"""Packer-style ``{{ .Name }}`` placeholders in step arguments and served files.

Only that one form of Go's template language is understood — a variable by name, spaces
allowed inside the braces — because it is all a boot command or a kickstart needs
(``{{ .HTTPIP }}``, ``{{ .HTTPPort }}``, ``{{ .Name }}``, user variables); no template
engine is pulled in. Any other ``{{ ... }}`` is refused with the place it is at, so a
typo never reaches the target as literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from ..errors import InvalidInputError

_PLACEHOLDER: Final = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VARIABLE: Final = re.compile(r"\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*")
VAR_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render(text: str, variables: Mapping[str, str], *, where: str = "text") -> str:
    """``text`` with each ``{{ .Name }}`` replaced by ``variables["Name"]``.

    Raises :class:`~aiopikvm.InvalidInputError` naming ``where`` for an unknown variable
    or a placeholder of another form."""

    def replace(match: re.Match[str]) -> str:
        inner = _VARIABLE.fullmatch(match.group(1))
        if inner is None:
            raise InvalidInputError(
                f"{where}: {match.group()!r} is not a placeholder this runner knows: only "
                "the {{ .Name }} form of Packer's templates is supported"
            )
        name = inner.group(1)
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise InvalidInputError(
                f"{where}: no variable {name!r} for {match.group()!r} (known: {known}); "
                f"give it with --var {name}=VALUE or in the file's vars:"
            )
        return variables[name]

    return _PLACEHOLDER.sub(replace, text)


def parse_var(text: str) -> tuple[str, str]:
    """``"name=value"`` (a ``--var``) -> ``("name", "value")``."""
    name, sep, value = text.partition("=")
    if not sep or VAR_NAME.fullmatch(name) is None:
        raise InvalidInputError(
            f"--var {text!r}: give NAME=VALUE, NAME letters, digits and _ (not first a digit)"
        )
    return name, value
