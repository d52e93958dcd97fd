"""Done: an agent connected to ``pikvm mcp`` over stdio logs into the emulated host using
only the tools — it waits for the login prompt, types the user name and the password, and
waits for the shell — with the host's layout from the device's profile; and one server
driving two profiles, each with its own layout."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from aiopikvm.emulator import Emulator, LoginPrompt, ThreadedEmulator

from .cli_helpers import threaded
from .mcp_helpers import call, data_of, image_of, mcp_session, text_of

PASSWORD = "Pässwort-42"  # typable on a German keyboard only as the layout says


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    yield from threaded(target_layout="de")


async def test_an_agent_logs_into_the_host(emu: ThreadedEmulator, tmp_path: Path) -> None:
    login = LoginPrompt(emu.target, {"agent": PASSWORD}, host="lab")
    login.start()
    config = tmp_path / "config.toml"
    config.write_text(f'[devices.lab]\nurl = "{emu.url}"\nlayout = "de"\n', "utf-8")
    audit = tmp_path / "audit.jsonl"
    flags = ("--audit-log", str(audit))
    async with mcp_session(emu, *flags, config=config, device="lab") as session:
        assert data_of(await call(session, "list_devices")) == {
            "devices": [{"name": "lab", "layout": "de"}]
        }
        seen = await call(session, "wait_for_text", text="login:", timeout=10)
        assert data_of(seen)["found"] == "login:"
        assert image_of(await call(session, "screenshot"))

        data_of(await call(session, "type_text", text="agent", enter=True))
        assert data_of(await call(session, "wait_for_text", text="Password:"))["found"]
        typed = data_of(await call(session, "type_text", text=PASSWORD, enter=True))
        assert typed["exact"] and typed["layout"] == "de"

        shell = data_of(await call(session, "wait_for_text", text=r"agent@lab:~\$", regex=True))
        assert shell["found"] == "agent@lab:~$"
        data_of(await call(session, "type_text", text="whoami", enter=True))
        answer = data_of(await call(session, "wait_for_text", text=r"\nagent\n", regex=True))
        assert answer["found"] == "\nagent\n"

        missing = await call(session, "wait_for_text", text="root@lab", timeout=1.5)
        assert missing.is_error and "did not appear" in text_of(missing)
        assert image_of(missing)  # a wait that gives up shows the screen
    assert login.user == "agent"
    assert PASSWORD not in emu.target.screen_text  # the password was not echoed
    log = audit.read_text("utf-8")
    assert PASSWORD not in log
    tools = [json.loads(line)["tool"] for line in log.splitlines()]
    assert tools.count("type_text") == 3
    assert re.search(r"agent@lab:~\$ $", emu.target.screen_text)


async def test_one_server_drives_several_profiles(tmp_path: Path) -> None:
    with Emulator.in_thread() as first, Emulator.in_thread(target_layout="de") as second:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[devices.a]\nurl = "{first.url}"\n\n[devices.b]\nurl = "{second.url}"\n'
            'layout = "de"\n',
            "utf-8",
        )
        async with mcp_session(first, config=config, device="a,b") as session:
            assert data_of(await call(session, "list_devices")) == {
                "devices": [{"name": "a", "layout": "en-us"}, {"name": "b", "layout": "de"}]
            }
            data_of(await call(session, "type_text", text="für b", device="b"))
            data_of(await call(session, "type_text", text="for a"))  # the first: a
            unknown = await call(session, "screenshot", device="c")
            assert unknown.is_error and "no device 'c'" in text_of(unknown)
        assert first.target.screen_text == "for a"
        assert second.target.screen_text == "für b"
