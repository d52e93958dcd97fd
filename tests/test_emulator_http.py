"""The emulator's HTTP surface: routing, error pages, the envelope, and ``/api/info``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopikvm.emulator import Emulator
from aiopikvm.emulator._faults import REQUEST_LOG_SIZE

from .emulator_helpers import captured_result, request, shape


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


def validator_error(message: str) -> dict[str, Any]:
    return {"ok": False, "result": {"error": "ValidatorError", "error_msg": message}}


# ----- routing ------------------------------------------------------------------------


async def test_unknown_path_is_plain_text_404(emu: Emulator) -> None:
    for path in ["/api/nope", "/nope", "/api/hid/nope", "/api"]:
        response = await request(emu, "GET", path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "404: Not Found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/info"),
        ("GET", "/api/atx/click"),
        ("HEAD", "/api/hid"),
        ("DELETE", "/api/atx"),
    ],
)
async def test_wrong_method_is_plain_text_405(emu: Emulator, method: str, path: str) -> None:
    response = await request(emu, method, path)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/plain")
    if method != "HEAD":
        assert response.text == "405: Method Not Allowed"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        # nginx strips /api before kvmd sees the path, so kvmd's redirect lacks it too
        ("/api/hid/", "/hid"),
        ("/api/info/?fields=meta", "/info?fields=meta"),
        ("/api/info/?fields=a%26b%20c", "/info?fields=a%26b%20c"),  # the query as encoded
        ("/api//hid/", "/hid"),  # nginx merges the slashes first
        ("/api/msd/", "/msd"),  # nginx's general /api location, not its /api/msd/write one
        # nginx passes /redfish on as it is, and kvmd merges slashes itself
        ("/redfish/v1/", "/redfish/v1"),
        ("/redfish//v1", "/redfish/v1"),
    ],
)
async def test_trailing_slash_redirects_as_a_device_does(
    emu: Emulator, path: str, location: str
) -> None:
    response = await request(emu, "GET", path)
    assert response.status_code == 308
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope/"),
        # nginx's own locations rewrite only their exact path: longer ones reach kvmd with
        # /api still on (configs/nginx/kvmd.ctx-server.conf), where nothing is found
        ("GET", "/api/ws/"),
        ("POST", "/api/hid/print/"),
        ("GET", "/api/msd/read/"),
        ("POST", "/api/msd/write/"),
        ("POST", "/api/msd/write_remote/"),
        ("GET", "/api/log/"),
    ],
)
async def test_trailing_slash_not_found(emu: Emulator, method: str, path: str) -> None:
    response = await request(emu, method, path)
    assert response.status_code == 404
    assert response.text == "404: Not Found"


async def test_doubled_slashes_under_api_are_merged_by_nginx(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api//hid")
    assert response.status_code == 200
    assert response.json()["result"] == captured_result("hid.json")
    response = await request(emu, "GET", "/api//info?fields=a%26b")  # the query goes along
    assert response.status_code == 400
    assert "'a&b'" in response.json()["result"]["error_msg"]


async def test_success_envelope_and_content_type(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/hid/keymaps")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"ok": True, "result": captured_result("hid_keymaps.json")}


async def test_a_crash_is_a_bare_500_and_the_emulator_survives(emu: Emulator) -> None:
    emu.faults.fail("info", 500)  # the handler crashes, as a bug in kvmd would
    response = await request(emu, "GET", "/api/info")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert "info" not in response.text  # nothing of the crash shows, the request least
    assert "Traceback" not in response.text
    assert response.text.startswith("500 Internal Server Error")
    assert (await request(emu, "GET", "/api/info")).status_code == 200


# ----- /api/info ----------------------------------------------------------------------


async def test_info_default_is_legacy(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/info")
    assert shape(response.json()["result"]) == shape(captured_result("info.json"))


async def test_info_legacy0(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/info?legacy=0")
    ours, theirs = response.json()["result"], captured_result("info_legacy0.json")
    assert shape(ours) == shape(theirs)
    assert {k: v for k, v in ours.items() if k != "uptime"} == {
        k: v for k, v in theirs.items() if k != "uptime"
    }


@pytest.mark.parametrize(
    ("fields", "name"), [("hw", "info_hw.json"), ("hw,system", "info_hw_system.json")]
)
async def test_info_hw_fields(emu: Emulator, fields: str, name: str) -> None:
    response = await request(emu, "GET", f"/api/info?fields={fields}")
    assert shape(response.json()["result"]) == shape(captured_result(name))


async def test_info_field_selection(emu: Emulator) -> None:
    response = await request(emu, "GET", "/api/info?fields=META, Node")
    assert set(response.json()["result"]) == {"meta", "node"}
    # An empty list means every field, "health" included (folded into "hw" by legacy=1).
    response = await request(emu, "GET", "/api/info?fields=")
    assert set(response.json()["result"]) == set(captured_result("info.json"))
    assert "health" in response.json()["result"]["hw"]
    response = await request(emu, "GET", "/api/info?fields=&legacy=0")
    assert set(response.json()["result"]) == set(captured_result("info_legacy0.json"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fields=system,bogus", "Failed sub-validator on one of the item of ['system', 'bogus']"),
        ("legacy=0&fields=hw", "Failed sub-validator on one of the item of ['hw']"),
        (
            "legacy=maybe",
            "The argument 'maybe' is not a valid bool"
            " (['1', 'true', 'yes'] or ['0', 'false', 'no'])",
        ),
    ],
)
async def test_info_bad_query(emu: Emulator, query: str, message: str) -> None:
    response = await request(emu, "GET", f"/api/info?{query}")
    assert (response.status_code, response.json()) == (400, validator_error(message))


async def test_info_uptime_advances(emu: Emulator) -> None:
    def total(response: Any) -> int:
        value: int = response.json()["result"]["uptime"]["total"]
        return value

    first = total(await request(emu, "GET", "/api/info?fields=uptime"))
    assert first >= captured_result("info.json")["uptime"]["total"]
    deadline = time.monotonic() + 5
    while total(await request(emu, "GET", "/api/info?fields=uptime")) == first:
        assert time.monotonic() < deadline, "uptime did not move"
        await asyncio.sleep(0.05)


# ----- the request log ----------------------------------------------------------------


async def test_the_request_log_keeps_only_the_latest(emu: Emulator) -> None:
    total = REQUEST_LOG_SIZE + 10
    lines = [f"GET /api/nope?n={number} HTTP/1.1\r\nHost: emu\r\n" for number in range(total)]
    lines[-1] += "Connection: close\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    writer.write("".join(line + "\r\n" for line in lines).encode())  # pipelined: fast
    async with asyncio.timeout(60):
        answers = await reader.read()  # until the server closes, after the last answer
    writer.close()
    assert answers.count(b"HTTP/1.1 404 Not Found") == total
    seen = emu.faults.requests
    assert len(seen) == REQUEST_LOG_SIZE
    assert (seen[0].query, seen[-1].query) == ("n=10", f"n={total - 1}")
    assert emu.faults.count("nope") == REQUEST_LOG_SIZE
