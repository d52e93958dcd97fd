"""The package's layers load only what they need: the emulator and its pytest plugin load
no client (httpx, pydantic, websockets' client), and the root resolves names on first use."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable

import pytest

import aiopikvm

CLIENT_MODULES = ("httpx", "pydantic", "websockets.asyncio.client")


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
    assert loaded["httpx"] and loaded["pydantic"]


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in aiopikvm.__all__:
        assert getattr(aiopikvm, name) is not None
    assert set(aiopikvm.__all__) <= set(dir(aiopikvm))
    assert aiopikvm.__all__ == sorted(aiopikvm.__all__, key=lambda n: (not n.isupper(), n))
    with pytest.raises(AttributeError, match="NoSuchName"):
        aiopikvm.NoSuchName  # noqa: B018


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


def test_the_client_and_the_session_share_their_defaults() -> None:
    # The client keeps copies of the session's defaults so as not to import it.
    def defaults(call: Callable[..., object], *names: str) -> list[object]:
        parameters = inspect.signature(call).parameters
        return [parameters[name].default for name in names]

    assert defaults(aiopikvm.PiKVM.ws, "max_queue") == defaults(
        aiopikvm.PiKVMWebSocket, "max_queue"
    )
    typing = ("delay", "ack_every", "layout")
    assert defaults(aiopikvm.PiKVM.type_text, *typing) == defaults(
        aiopikvm.PiKVMWebSocket.type_text, *typing
    )
