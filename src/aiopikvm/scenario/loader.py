"""Scenario files: YAML read safely, each mapping remembering its lines, so that every
mistake is reported at its line (``scenario.yaml:12: steps[3] wait: timeout: ...``).

A step is a mapping with one key naming its kind (``power``, ``wait``, ...) and the
common ``name``, ``timeout``, ``retries``; the kind's value is its arguments, or one
value for its main argument (``- power: cycle``, ``- wait: "Press ESC"``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from ..errors import InvalidInputError
from .steps import SHORTHAND, STEP_KINDS, Scenario

MAX_FILE_BYTES: Final = 1 << 20
_COMMON: Final = frozenset({"name", "timeout", "retries"})


class ScenarioFileError(InvalidInputError):
    """A scenario file that cannot be run: ``problems`` lists ``(line, message)``, each
    line 1-based (0 when the problem has no line)."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        lines = [f"{path}:{line}: {text}" if line else f"{path}: {text}" for line, text in problems]
        super().__init__("the scenario file has mistakes:\n" + "\n".join(lines))
        self.path = path
        self.problems = problems


class _Map(dict[Any, Any]):
    """A YAML mapping that knows its line and each key's."""

    line: int = 0
    key_lines: dict[Any, int]


def _loader() -> Any:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    class Loader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            plain = super().construct_mapping(node, deep=True)
            mapping = _Map(plain)
            mapping.line = node.start_mark.line + 1
            mapping.key_lines = {
                self.construct_object(key, deep=True): key.start_mark.line + 1
                for key, _ in node.value
                if isinstance(key.value, str)
            }
            return mapping

    Loader.add_constructor(
        "tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node)
    )
    return Loader


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check the scenario file at ``path``; raises :class:`ScenarioFileError`
    listing every mistake with its line."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInputError(f"cannot read the scenario {shown!r}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioFileError(shown, [(0, f"over {MAX_FILE_BYTES} bytes: not a scenario")])
    return parse_scenario(
        data.decode("utf-8", "replace"), path=shown, base_dir=str(Path(path).parent)
    )


def parse_scenario(text: str, *, path: str = "<scenario>", base_dir: str = ".") -> Scenario:
    """A :class:`Scenario` from YAML ``text`` (see :func:`load_scenario`)."""
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        document = yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 0
        raise ScenarioFileError(path, [(line, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(path, [(0, f"not valid YAML: {exc}")]) from None
    if not isinstance(document, _Map):
        raise ScenarioFileError(path, [(1, "a scenario is a mapping with steps: (a list)")])
    problems: list[tuple[int, str]] = []
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        where = document.key_lines.get("steps", document.line)
        problems.append((where, "steps: a list of steps, at least one"))
        steps = []
    normal = [_step(index, step, problems) for index, step in enumerate(steps)]
    settings = {key: value for key, value in document.items() if key != "steps"}
    settings["base_dir"] = base_dir
    try:
        Scenario.model_validate({**settings, "steps": [{"kind": "sleep", "seconds": 0}]})
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            line = document.key_lines.get(loc[0], document.line) if loc else document.line
            problems.append((line, f"{_where(loc)}: {error['msg']}"))
    if problems:
        raise ScenarioFileError(path, sorted(problems))
    return Scenario.model_validate({**settings, "steps": normal})


def _step(index: int, raw: Any, problems: list[tuple[int, str]]) -> dict[str, Any]:
    where = f"steps[{index + 1}]"
    if not isinstance(raw, _Map):
        problems.append((0, f"{where}: a step is a mapping like '- power: on'"))
        return {}
    kinds = [key for key in raw if key in STEP_KINDS]
    unknown = [key for key in raw if key not in STEP_KINDS and key not in _COMMON]
    if len(kinds) != 1:
        known = ", ".join(STEP_KINDS)
        said = f"more than one kind ({', '.join(kinds)})" if kinds else "no kind"
        extra = f"; unknown: {', '.join(map(str, unknown))}" if unknown else ""
        problems.append((raw.line, f"{where}: {said}{extra}: a step is one of {known}"))
        return {}
    kind = kinds[0]
    args = raw[kind]
    args_lines = args.key_lines if isinstance(args, _Map) else {}
    if not isinstance(args, dict):
        if kind == "power" and isinstance(args, bool):
            args = "on" if args else "off"  # YAML 1.1 reads a bare on/off as a boolean
        args = {SHORTHAND[kind]: args}
    common = {key: raw[key] for key in raw if key in _COMMON}
    step = {**args, **common, "kind": kind}
    try:
        STEP_KINDS[kind].model_validate(step)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            field = loc[0] if loc else None
            line = args_lines.get(field) or raw.key_lines.get(field) or raw.line
            shown = f"{where} {kind}" + (f": {_where(loc)}" if loc else "")
            problems.append((line, f"{shown}: {error['msg'].removeprefix('Value error, ')}"))
    return step


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)
