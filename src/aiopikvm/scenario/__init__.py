"""Scenarios: unattended OS installs and boot-time tasks, declared in a YAML file (or built
in Python) and run on one device: power, virtual media, screen waits, typing (Packer's
``boot_command`` too), a built-in HTTP server for the install files, and reports.

Needs the ``scenario`` extra (PyYAML) for files; see ``docs/scenarios.md``::

    from aiopikvm.scenario import load_scenario, run_scenario

    async with PiKVM(url, passwd=...) as kvm:
        result = await run_scenario(kvm, load_scenario("install.yaml"), output_dir="out")
        print(result.ok, result.failed)
"""

from __future__ import annotations

from .bootcommand import BootAction, CharToggle, Key, Text, Wait, parse_boot_command
from .http import HttpServer, Request
from .loader import ScenarioFileError, load_scenario, parse_scenario
from .report import JsonLines, html_report, junit_xml
from .results import (
    Frame,
    RunResult,
    ScenarioAssertionError,
    StepFailedError,
    StepResult,
)
from .runner import Listener, run_scenario
from .steps import (
    AssertStep,
    HttpSettings,
    HttpStep,
    KeyStep,
    MediaStep,
    PowerStep,
    Scenario,
    ScreenshotStep,
    SleepStep,
    Step,
    TypeStep,
    WaitStep,
)
from .template import render

__all__ = [
    "AssertStep",
    "BootAction",
    "CharToggle",
    "Frame",
    "HttpServer",
    "HttpSettings",
    "HttpStep",
    "JsonLines",
    "Key",
    "KeyStep",
    "Listener",
    "MediaStep",
    "PowerStep",
    "Request",
    "RunResult",
    "Scenario",
    "ScenarioAssertionError",
    "ScenarioFileError",
    "ScreenshotStep",
    "SleepStep",
    "Step",
    "StepFailedError",
    "StepResult",
    "Text",
    "TypeStep",
    "Wait",
    "WaitStep",
    "html_report",
    "junit_xml",
    "load_scenario",
    "parse_boot_command",
    "parse_scenario",
    "render",
    "run_scenario",
]
