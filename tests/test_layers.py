"""The package's layers: imports point one way (read statically from every module, so an
import inside a function or under TYPE_CHECKING counts too), modules stay small, and each
layer loads only what it needs: the emulator and its pytest plugin load no client (httpx,
pydantic, websockets' client), and the root resolves names on first use."""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final, NamedTuple

import pytest

import aiopikvm

CLIENT_MODULES = ("httpx", "pydantic", "websockets.asyncio.client")

SRC: Final = Path(__file__).resolve().parent.parent / "src"

LAYERS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    # Lowest first; each may import its own layer and those before it, never a later one.
    # A module no row names fails test_every_module_has_one_layer: place new ones here.
    ("errors", ("aiopikvm.errors", "aiopikvm.results", "aiopikvm._version")),  # stdlib only
    ("protocol", ("aiopikvm.protocol", "aiopikvm.protocol.*")),
    ("models", ("aiopikvm.models", "aiopikvm.models.*")),
    ("screen", ("aiopikvm.screen", "aiopikvm.screen.*")),  # pure: errors/protocol only
    # _checks validates input for transport/ and everything above, and uses transport.pinning
    (
        "transport",
        (
            "aiopikvm.transport",
            "aiopikvm.transport.*",
            "aiopikvm._checks",
            "aiopikvm._typing_defaults",
        ),
    ),
    ("resources", ("aiopikvm.resources", "aiopikvm.resources.*")),
    ("session", ("aiopikvm.session", "aiopikvm.session.*")),
    (
        "client",
        (
            "aiopikvm",
            "aiopikvm._client",
            "aiopikvm._client_actions",
            "aiopikvm._client_vision",
            "aiopikvm.sync*",
            "aiopikvm.fleet*",
        ),
    ),
    ("mcp", ("aiopikvm.mcp", "aiopikvm.mcp.*")),  # the MCP server, on the client; pikvm mcp
    ("scenario", ("aiopikvm.scenario", "aiopikvm.scenario.*")),  # runs steps with a client
    ("cli", ("aiopikvm.cli", "aiopikvm.cli.*", "aiopikvm.__main__")),
    # Outside the order: no layer above imports it, and it shares only these with the client.
    ("emulator", ("aiopikvm.emulator", "aiopikvm.emulator.*")),
)

EMULATOR_MAY_IMPORT: Final = (
    "aiopikvm.errors",
    "aiopikvm.results",
    "aiopikvm.protocol",
    "aiopikvm.protocol.*",
)

MAX_LINES: Final = 400
"""Over this, a module under src/ fails test_modules_stay_small (the issue's ~400)."""

OVERSIZE_FOR_NOW: Final[frozenset[str]] = frozenset(
    {
        # Being split; an entry that is no longer too long, or is gone, fails
        # test_modules_stay_small, so this list only shrinks.
    }
)


class Import(NamedTuple):
    module: str  # who imports
    line: int
    target: str  # the module it loads
    name: str  # as written, for the message


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, tuple[bool, str]]:
    """``{module: (is a package, source)}`` for every module under src/aiopikvm."""
    return {
        _module_name(path): (path.name == "__init__.py", path.read_text("utf-8"))
        for path in sorted((SRC / "aiopikvm").rglob("*.py"))
    }


def _imports(module: str, is_package: bool, source: str, known: set[str]) -> Iterator[Import]:
    """Every import of ours in ``source``, wherever it is (ast.walk reaches function bodies
    and ``if TYPE_CHECKING:`` blocks); relative ones resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.partition(".")[0] == "aiopikvm":
                    yield Import(module, node.lineno, alias.name, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.partition(".")[0] != "aiopikvm":
                continue
            for alias in node.names:
                # ``from . import _x`` imports the module _x; ``from .m import n``, m.
                full = f"{target}.{alias.name}"
                yield Import(module, node.lineno, full if full in known else target, full)


def _layers_of(module: str) -> list[str]:
    return [
        layer
        for layer, patterns in LAYERS
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns)
    ]


def _layer(module: str) -> str:
    layers = _layers_of(module)
    return layers[0] if len(layers) == 1 else "?"  # test_every_module_has_one_layer says why


def _allowed(importer: str, target: str) -> bool:
    layer, target_layer = _layer(importer), _layer(target)
    if layer == "emulator":
        allowed = (*EMULATOR_MAY_IMPORT, "aiopikvm.emulator", "aiopikvm.emulator.*")
        return any(fnmatch.fnmatchcase(target, pattern) for pattern in allowed)
    order = [name for name, _ in LAYERS if name != "emulator"]
    if layer not in order or target_layer not in order:
        return False
    return order.index(target_layer) <= order.index(layer)


def _violations(sources: dict[str, tuple[bool, str]]) -> dict[Import, str]:
    """Every import of a module that is not ours, or that its layer may not import, with
    ``module:line imports name`` and why."""
    known = set(sources)
    found = {}
    for module, (is_package, source) in sources.items():
        for imp in _imports(module, is_package, source, known):
            where = f"{module}:{imp.line} imports {imp.name}"
            if imp.target not in known:
                found[imp] = f"{where}: no such module of ours"
            elif not _allowed(module, imp.target):
                found[imp] = f"{where} ({_layer(module)} -> {_layer(imp.target)})"
    return found


def test_every_module_has_one_layer() -> None:
    wrong = [
        f"{module}: {layers or 'in none'}"
        for module in _sources()
        if len(layers := _layers_of(module)) != 1
    ]
    assert not wrong, "place each in one row of LAYERS:\n" + "\n".join(wrong)


def test_imports_point_down() -> None:
    violations = _violations(_sources())
    assert not violations, "imports against the layers:\n" + "\n".join(violations.values())


def test_the_check_sees_every_kind_of_import() -> None:
    """Wrong imports at the top, inside a function, under TYPE_CHECKING, relative and
    absolute, are all reported, each with its line; right ones are not."""
    sources = {
        "aiopikvm": (True, "from ._client import PiKVM\n"),
        "aiopikvm._client": (False, "from .resources import atx\nfrom . import errors\n"),
        "aiopikvm.errors": (
            False,
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from .protocol.typing import TypingResult\n",
        ),
        "aiopikvm.protocol": (True, ""),
        "aiopikvm.protocol.typing": (False, "from ..errors import InvalidInputError\n"),
        "aiopikvm.models": (True, "def f():\n    import aiopikvm.transport.http\n"),
        "aiopikvm.transport": (True, ""),
        "aiopikvm.transport.http": (False, "from .. import _client\n"),
        "aiopikvm.resources": (True, ""),
        "aiopikvm.resources.atx": (False, "from ..transport.http import Http\n"),
        "aiopikvm.emulator": (True, "from . import _x\n"),
        "aiopikvm.emulator._x": (
            False,
            "from ..protocol import typing\nfrom ..errors import E\n\n\n"
            "def f():\n    from ..models import Info\n    from .._nothing import y\n"
            "    import aiopikvm.protocol.nothing\n",
        ),
    }
    assert list(_violations(sources).values()) == [
        "aiopikvm.errors:3 imports aiopikvm.protocol.typing.TypingResult (errors -> protocol)",
        "aiopikvm.models:2 imports aiopikvm.transport.http (models -> transport)",
        "aiopikvm.transport.http:1 imports aiopikvm._client (transport -> client)",
        "aiopikvm.emulator._x:6 imports aiopikvm.models.Info (emulator -> models)",
        "aiopikvm.emulator._x:7 imports aiopikvm._nothing.y: no such module of ours",
        "aiopikvm.emulator._x:8 imports aiopikvm.protocol.nothing: no such module of ours",
    ]


def test_errors_import_only_the_standard_library() -> None:
    outside = []
    for module, (_, source) in _sources().items():
        if _layer(module) != "errors":
            continue
        for node in ast.walk(ast.parse(source)):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "__future__":
                    outside.append(f"{module}:{node.lineno} imports {name}")
    assert outside == []


def test_modules_stay_small() -> None:
    lengths = {
        path.relative_to(SRC).as_posix(): len(path.read_text("utf-8").splitlines())
        for path in (SRC / "aiopikvm").rglob("*.py")
    }
    too_long = {path: n for path, n in lengths.items() if n > MAX_LINES}
    over = [f"{path}: {n} lines" for path, n in too_long.items() if path not in OVERSIZE_FOR_NOW]
    assert not over, f"over {MAX_LINES} lines, split by what the parts do:\n" + "\n".join(over)
    assert OVERSIZE_FOR_NOW - set(too_long) == set(), "split: remove from OVERSIZE_FOR_NOW"


def _loaded(statement: str) -> dict[str, bool]:
    """Which of the client's heavy modules ``statement`` loads, in a fresh interpreter."""
    script = (
        f"{statement}\nimport json, sys\n"
        f"print(json.dumps({{m: m in sys.modules for m in {CLIENT_MODULES!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_the_emulator_and_its_pytest_plugin_load_no_client() -> None:
    statement = "import aiopikvm.emulator, aiopikvm.emulator.pytest_plugin"
    assert _loaded(statement) == dict.fromkeys(CLIENT_MODULES, False)


def test_the_errors_load_no_client() -> None:
    statement = "import aiopikvm.errors; from aiopikvm import InvalidInputError, KEYS"
    assert _loaded(statement) == dict.fromkeys(CLIENT_MODULES, False)


def test_the_client_still_imports_from_the_root() -> None:
    loaded = _loaded("from aiopikvm import PiKVM, PiKVMWebSocket")
    assert loaded["httpx"] and not loaded["pydantic"]  # the models load with a first state


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in aiopikvm.__all__:
        assert getattr(aiopikvm, name) is not None
    assert set(aiopikvm.__all__) <= set(dir(aiopikvm))
    assert aiopikvm.__all__ == sorted(aiopikvm.__all__, key=lambda n: (not n.isupper(), n))
    with pytest.raises(AttributeError, match="NoSuchName"):
        aiopikvm.NoSuchName  # noqa: B018


SCREEN_MAY_IMPORT: Final = (
    "aiopikvm.errors",
    "aiopikvm.results",
    "aiopikvm.protocol",
    "aiopikvm.protocol.*",
    "aiopikvm.screen",
    "aiopikvm.screen.*",
)


def test_the_screen_functions_are_pure() -> None:
    """aiopikvm.screen works on pictures only: of ours it may use errors, results and
    protocol, and the client loads OpenCV and NumPy only when a screen wait runs."""
    sources = _sources()
    known = set(sources)
    wrong = [
        f"{imp.module}:{imp.line} imports {imp.name}"
        for module, (is_package, source) in sources.items()
        if _layer(module) == "screen"
        for imp in _imports(module, is_package, source, known)
        if not any(fnmatch.fnmatchcase(imp.target, pattern) for pattern in SCREEN_MAY_IMPORT)
    ]
    assert wrong == []
    script = (
        "from aiopikvm import PiKVM\nimport sys\n"
        "print('cv2' in sys.modules, 'numpy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "False"]


def test_the_models_load_on_first_use() -> None:
    loaded = _loaded("import aiopikvm.models; from aiopikvm.models import MetricSample")
    assert loaded["pydantic"]  # a model was used
    assert not _loaded("import aiopikvm.models")["pydantic"]


def test_every_model_resolves_and_is_listed() -> None:
    import aiopikvm.models as models

    for name in models.__all__:
        assert getattr(models, name).__name__ == name
    assert set(models.__all__) <= set(dir(models))
    assert models.__all__ == sorted(models.__all__)
    with pytest.raises(AttributeError, match="NoSuchModel"):
        models.NoSuchModel  # noqa: B018


def test_the_http_client_loads_no_websocket_session() -> None:
    loaded = _loaded("from aiopikvm import PiKVM; PiKVM('http://127.0.0.1:9').hid")
    assert loaded == {"httpx": True, "pydantic": False, "websockets.asyncio.client": False}
