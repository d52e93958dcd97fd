"""Scenario files (each mistake named with its line), the same scenario built in Python,
and the built-in HTTP server, over real HTTP on loopback."""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import pytest

from aiopikvm.errors import InvalidInputError
from aiopikvm.scenario import (
    HttpServer,
    PowerStep,
    Scenario,
    ScenarioFileError,
    TypeStep,
    WaitStep,
    load_scenario,
    parse_scenario,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"

BAD = """\
name: broken
layout: en-us
vars: {ks: ks.cfg}
steps:
  - power: sideways
  - wait:
      text: hello
      timeout: soon
  - type: {text: a, boot_command: "<esc>"}
  - frobnicate: 1
  - wait: {text: a, regex: b}
  - http: /ks.cfg
    retries: -1
  - wait:
      regex: "("
"""


def test_each_mistake_is_named_with_its_line() -> None:
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(BAD, path="bad.yaml")
    problems = caught.value.problems
    lines = [line for line, _ in problems]
    assert lines == [5, 8, 9, 10, 11, 13, 15], problems
    text = str(caught.value)
    assert "bad.yaml:5: steps[1] power: action: Input should be 'on'" in text
    assert "bad.yaml:8: steps[2] wait: timeout: Input should be a valid number" in text
    assert "bad.yaml:9: steps[3] type: give exactly one of text, boot_command" in text
    assert "bad.yaml:10: steps[4]: no kind; unknown: frobnicate" in text
    assert "bad.yaml:13: steps[6] http: retries: Input should be greater than or equal to 0" in text
    assert "bad.yaml:15: steps[7] wait: regex: not a regular expression" in text
    assert isinstance(caught.value, InvalidInputError)


def test_yaml_and_top_level_mistakes_have_lines() -> None:
    with pytest.raises(ScenarioFileError, match=r"x.yaml:3: not valid YAML"):
        parse_scenario('steps:\n  - power: on\n  - wait: "a" b: c\n', path="x.yaml")
    with pytest.raises(ScenarioFileError, match=r"x.yaml:2: steps: a list of steps"):
        parse_scenario("name: a\nsteps: []\n", path="x.yaml")
    with pytest.raises(ScenarioFileError, match=r"x.yaml:2: layoutt: Extra inputs"):
        parse_scenario("name: a\nlayoutt: de\nsteps:\n  - sleep: 1\n", path="x.yaml")
    with pytest.raises(ScenarioFileError, match=r"x.yaml:1: a scenario is a mapping"):
        parse_scenario("- power: on\n", path="x.yaml")


def test_shorthands_and_yaml_booleans() -> None:
    scenario = parse_scenario(
        "steps:\n  - power: on\n  - power: off\n  - wait: Press ESC\n  - sleep: 2\n"
        "  - key: ctrl+alt+del\n  - http: /ks.cfg\n    timeout: 5\n"
        "vars: {port: 8080, debug: true}\n"
    )
    kinds = [(step.kind, step.label()) for step in scenario.steps]
    assert kinds == [
        ("power", "power on"),
        ("power", "power off"),
        ("wait", "wait for 'Press ESC'"),
        ("sleep", "sleep 2 s"),
        ("key", "key ctrl+alt+del"),
        ("http", "http /ks.cfg"),
    ]
    assert scenario.steps[5].timeout == 5
    assert scenario.vars == {"port": "8080", "debug": "true"}


def test_the_examples_load_and_the_python_api_builds_the_same() -> None:
    for name in ("debian-preseed.yaml", "kickstart.yaml"):
        scenario = load_scenario(EXAMPLES / name)
        assert scenario.http is not None and scenario.http.directory
        assert (EXAMPLES / scenario.http.directory).is_dir()
    built = Scenario(
        name="kickstart",
        steps=[
            PowerStep(action="cycle"),
            WaitStep(text="Press Tab", timeout=10),
            TypeStep(boot_command="<tab> inst.ks=http://{{ .HTTPIP }}/ks.cfg<enter>"),
        ],
    )
    assert [step.kind for step in built.steps] == ["power", "wait", "type"]
    assert Scenario.model_validate(built.model_dump()) == built
    with pytest.raises(ValueError, match="exactly one of text, regex"):
        WaitStep(text="a", image="b.png")


# ----- the HTTP server ------------------------------------------------------------------


def _get(server: HttpServer, path: str, method: str = "GET") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(server.ip, server.port, timeout=5)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_http_server_templates_bounds_and_logs(tmp_path: Path) -> None:
    root = tmp_path / "http"
    (root / "sub").mkdir(parents=True)
    (root / "ks.cfg").write_text("url --url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ {{ .host }}\n")
    (root / "sub" / "blob.bin").write_bytes(b"\xff\x00{{ .nope }}")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    started = time.time()
    with HttpServer(root, variables={"host": "h1"}) as server:
        status, body = _get(server, "/ks.cfg")
        assert status == 200
        assert body == f"url --url=http://127.0.0.1:{server.port}/ h1\n".encode()
        assert _get(server, "/sub/blob.bin") == (200, b"\xff\x00{{ .nope }}")  # not text
        assert _get(server, "/ks.cfg", "HEAD") == (200, b"")
        for escape in ("/../secret.txt", "/%2e%2e/secret.txt", "/link", "/sub", "/nope"):
            assert _get(server, escape)[0] == 404, escape
        assert _get(server, "/ks.cfg", "POST")[0] == 501
        log = server.requests
        assert [(r.method, r.path, r.status) for r in log[:3]] == [
            ("GET", "/ks.cfg", 200),
            ("GET", "/sub/blob.bin", 200),
            ("HEAD", "/ks.cfg", 200),
        ]
        assert log[0].client == "127.0.0.1" and log[0].time >= started
        assert server.served("ks.cfg") is log[0] or server.served("ks.cfg") == log[0]
        assert server.served("/nope", status=None) is not None
        assert server.served("/nope") is None  # it was answered 404, not 200


def test_http_server_refuses_a_file_with_an_unknown_variable(tmp_path: Path) -> None:
    (tmp_path / "preseed.cfg").write_text("d-i netcfg/get_hostname string {{ .hostname }}\n")
    server = HttpServer(tmp_path)
    with pytest.raises(InvalidInputError, match=r"http file preseed.cfg: no variable 'hostname'"):
        server.start()
    with pytest.raises(InvalidInputError, match="is no directory"):
        HttpServer(tmp_path / "missing")
