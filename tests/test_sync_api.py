"""aiopikvm.sync has the async API's surface: every public method, property and
subsystem has its blocking counterpart, with the same signature as Python and mypy see it."""

from __future__ import annotations

import functools
import inspect
import os
import textwrap
from pathlib import Path
from typing import Any, Final

import pytest
from mypy import api as mypy_api

import aiopikvm
import aiopikvm.sync
from aiopikvm.sync._wrap import Blocking, Entering, Iterating

SRC: Final = Path(__file__).resolve().parent.parent / "src"

RENAMED: Final = {"aclose": "close"}
"""Async names whose sync counterpart has another name."""
LEFT_OUT: Final = {
    ("PiKVM", "stream"): "its httpx.Response has only async body readers (see the docstring)",
}


def public(cls: type) -> dict[str, Any]:
    return {
        name: inspect.getattr_static(cls, name) for name in dir(cls) if not name.startswith("_")
    }


def pairs() -> list[tuple[str, type, type]]:
    """(label, async class, sync class) for the client, the session and each subsystem."""
    found = [
        ("PiKVM", aiopikvm.PiKVM, aiopikvm.sync.PiKVM),
        ("PiKVMWebSocket", aiopikvm.PiKVMWebSocket, aiopikvm.sync.PiKVMWebSocket),
    ]
    async_kvm = aiopikvm.PiKVM("http://127.0.0.1:9")
    sync_kvm = aiopikvm.sync.PiKVM("http://127.0.0.1:9")
    try:
        for name in SUBSYSTEMS:
            found.append(
                (f"kvm.{name}", type(getattr(async_kvm, name)), type(getattr(sync_kvm, name)))
            )
    finally:
        sync_kvm.close()
    return found


SUBSYSTEMS: Final = sorted(
    name
    for name, member in vars(aiopikvm.PiKVM).items()
    if isinstance(member, functools.cached_property) and not name.startswith("_")
)
"""kvm.atx, kvm.msd, ...: made on first use by the async client (each pair is checked)."""


PAIRS: Final = pairs()


def _same_parameters(left: inspect.Signature, right: inspect.Signature) -> bool:
    def shape(signature: inspect.Signature) -> list[tuple[str, Any, Any, str]]:
        return [
            (p.name, p.kind, p.default, str(p.annotation))
            for p in signature.parameters.values()
            if p.name != "self"
        ]

    return shape(left) == shape(right) and str(left.return_annotation) in (
        str(right.return_annotation),
        "None",
    )


@pytest.mark.parametrize(("label", "async_cls", "sync_cls"), PAIRS, ids=[p[0] for p in PAIRS])
def test_every_async_member_has_a_sync_counterpart(
    label: str, async_cls: type, sync_cls: type
) -> None:
    sync_members = public(sync_cls)
    missing, wrong = [], []
    for name, member in public(async_cls).items():
        if label == "PiKVM" and name in SUBSYSTEMS:
            continue  # instance attributes of the sync client; their pairs are checked
        if (label, name) in LEFT_OUT:
            assert name not in sync_members, f"{label}.{name} is listed as left out"
            continue
        counterpart = sync_members.get(RENAMED.get(name, name))
        if counterpart is None:
            missing.append(name)
        elif isinstance(member, property):
            if not isinstance(counterpart, property) or (member.fset is None) != (
                counterpart.fset is None
            ):
                wrong.append(name)
        elif name in RENAMED:
            if not callable(counterpart):
                wrong.append(name)
        elif inspect.iscoroutinefunction(member):
            if not (isinstance(counterpart, Blocking) and counterpart.wrapped is member):
                wrong.append(name)
        elif inspect.isasyncgenfunction(getattr(member, "__wrapped__", None)):
            # an @asynccontextmanager (held)
            if not (isinstance(counterpart, Entering) and counterpart.wrapped is member):
                wrong.append(name)
        elif inspect.isasyncgenfunction(member) or "Async" in str(
            inspect.signature(member).return_annotation
        ):  # an async generator, or a method giving one (msd.iter_download)
            if not (isinstance(counterpart, Iterating) and counterpart.wrapped is member):
                wrong.append(name)
        elif callable(member):  # a plain method (ws, screen_size): the same parameters
            if not _same_parameters(inspect.signature(member), inspect.signature(counterpart)):
                wrong.append(name)
        else:
            wrong.append(name)
    assert missing == [], f"{label}: no sync counterpart for {missing}"
    assert wrong == [], f"{label}: a sync counterpart of another kind for {wrong}"
    extra = set(sync_members) - {RENAMED.get(n, n) for n in public(async_cls)} - set(SUBSYSTEMS)
    assert extra == set(), f"{label}: sync members the async API does not have"


@pytest.mark.parametrize("name", ["PiKVM", "PiKVMWebSocket"])
def test_the_constructors_take_the_same_arguments(name: str) -> None:
    async_cls, sync_cls = getattr(aiopikvm, name), getattr(aiopikvm.sync, name)
    assert _same_parameters(
        inspect.signature(async_cls.__init__), inspect.signature(sync_cls.__init__)
    )


def test_a_sync_method_shows_the_async_signature_and_docs() -> None:
    with aiopikvm.sync.PiKVM("http://127.0.0.1:9") as kvm:
        upload = kvm.msd.upload
        assert list(inspect.signature(upload).parameters)[:2] == ["name", "source"]
        assert upload.__doc__ == aiopikvm.PiKVM("http://127.0.0.1:9").msd.upload.__doc__
        assert upload.__name__ == "upload"
        ws = kvm.ws()
        assert list(inspect.signature(ws.held).parameters) == ["keys"]
        assert list(inspect.signature(ws.events).parameters) == []
        assert "full-state burst" in (ws.events.__doc__ or "")


def test_the_public_names() -> None:
    assert aiopikvm.sync.__all__ == sorted(aiopikvm.sync.__all__)
    assert set(aiopikvm.sync.__all__) == {"PiKVM", "PiKVMWebSocket"}
    assert "sync" not in aiopikvm.__all__


USAGE: Final = """
    from typing import Any, assert_type

    from aiopikvm import DeviceState, TypingResult
    from aiopikvm.models import AtxState, MsdWriteResult
    from aiopikvm.sync import PiKVM, PiKVMWebSocket


    def use(kvm: PiKVM) -> None:
        assert_type(kvm.atx.get_state(), AtxState)
        assert_type(kvm.atx.power_on(wait=True), None)
        assert_type(kvm.type_text("hello", layout="de"), TypingResult)
        assert_type(kvm.msd.upload("a.img", b"..."), MsdWriteResult)
        assert_type(kvm.request("GET", "info"), Any)
        for chunk in kvm.msd.iter_download("a.img"):
            assert_type(chunk, bytes)
        for line in kvm.system.stream_log(seek=10):
            assert_type(line, str)
        with kvm.ws(stream=True) as ws:
            assert_type(ws, PiKVMWebSocket)
            assert_type(ws.ping(), float)
            assert_type(ws.state, DeviceState)
            assert_type(ws.held_keys, tuple[str, ...])
            assert_type(ws.wait_for(lambda s: s.atx is not None, timeout=5), DeviceState)
            ws.send_key("KeyA", state=True)
            for event in ws.events():
                assert_type(event, dict[str, Any])
            with ws.held("ShiftLeft") as held:
                assert_type(held, None)
        # The real signatures: each of these must be an error (an unused ignore is one too).
        kvm.atx.power_on(wait="yes")  # type: ignore[arg-type]
        kvm.atx.power_on(now=True)  # type: ignore[call-arg]
        kvm.type_text(42)  # type: ignore[arg-type]
        with kvm.ws() as ws:
            ws.send_key("KeyA", "down")  # type: ignore[arg-type]
            ws.held(1)  # type: ignore[arg-type]


    with PiKVM("https://pikvm.local", passwd="admin", timeout=5.0) as kvm:
        use(kvm)
    PiKVM("https://pikvm.local", timeout="5")  # type: ignore[arg-type]
"""


def test_mypy_strict_sees_the_real_signatures(tmp_path: Path) -> None:
    usage = tmp_path / "usage.py"
    usage.write_text(textwrap.dedent(USAGE), "utf-8")
    # The sources under test, not an installed copy; a cache next to them stays warm.
    previous = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(SRC)
    try:
        out, err, status = mypy_api.run(
            [
                "--strict",
                "--no-error-summary",
                "--cache-dir",
                str(SRC.parent / ".mypy_cache"),
                str(usage),
            ]
        )
    finally:
        if previous is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = previous
    assert (out, err, status) == ("", "", 0)
