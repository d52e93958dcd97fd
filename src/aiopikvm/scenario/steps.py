"""What a scenario is made of: its steps and settings, as pydantic models.

The same models back the YAML file (:func:`aiopikvm.scenario.load_scenario`) and the Python
API (build a :class:`Scenario` of steps in code). Every step has ``name`` (shown in the
reports; the step's kind and argument by default), ``timeout`` (seconds; each kind has
its default) and ``retries`` (tries again after a failure, waiting 1, 2, 4 .. 10 s
between tries). Strings in a step's arguments may hold ``{{ .Var }}`` placeholders,
filled in when the step runs (see :mod:`aiopikvm.scenario.template`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_Region = tuple[int, int, int, int]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    timeout: Annotated[float, Field(gt=0, le=86400)] | None = None
    retries: Annotated[int, Field(ge=0, le=100)] = 0

    def label(self) -> str:
        """What the reports call it."""
        return self.name or self.describe()

    def describe(self) -> str:
        return str(getattr(self, "kind", "step"))

    @property
    def default_timeout(self) -> float:
        return 30.0


class PowerStep(_Step):
    """The host's power: ``on``/``off`` (a press, the OS shuts down), ``off_hard`` (a long
    press), ``reset`` (the reset button) or ``cycle`` (off hard, then on); waits until the
    power LED says so (``wait: false`` does not)."""

    kind: Literal["power"] = "power"
    action: Literal["on", "off", "off_hard", "reset", "cycle"]
    wait: bool = True

    def describe(self) -> str:
        return f"power {self.action}"


class MediaStep(_Step):
    """Virtual media: ``mount`` uploads ``file`` as ``image`` (its file name by default)
    unless the device has an identical image already (same size and SHA-256), then shows
    it to the host as a CD-ROM or a flash drive (``mode``); ``unmount`` unplugs it."""

    kind: Literal["media"] = "media"
    action: Literal["mount", "unmount"] = "mount"
    file: str | None = None
    image: str | None = None
    mode: Literal["cdrom", "flash"] = "cdrom"
    rw: bool = False

    @model_validator(mode="after")
    def _needs_image(self) -> Self:
        if self.action == "mount" and self.file is None and self.image is None:
            raise ValueError("mount needs file (a local image) or image (one on the device)")
        if self.rw and self.mode == "cdrom":
            raise ValueError("a CD-ROM is read-only: rw needs mode: flash")
        return self

    def describe(self) -> str:
        what = self.image or self.file or ""
        return f"media {self.action} {what}".rstrip()

    @property
    def default_timeout(self) -> float:
        return 3600.0 if self.action == "mount" else 30.0


class _OnScreen(_Step):
    """What a wait or an assert looks for on the screen, and how it reads it."""

    text: str | None = None
    regex: str | None = None
    image: str | None = None
    ocr: Literal["device", "local"] = "device"
    region: _Region | None = None
    threshold: Annotated[float, Field(gt=0, le=1)] | None = None

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return _check_regex(value)


class WaitStep(_OnScreen):
    """Wait until the screen shows ``text`` (a substring) or ``regex``, an ``image`` (a
    template file), has stayed ``stable`` for that many seconds, or ``change``\\s. Text is
    read by the device's OCR, or by a local Tesseract with ``ocr: local``. ``fail_on``
    lists texts (substrings) that end the wait at once as a failure: an installer's
    error screen, rather than the whole timeout."""

    kind: Literal["wait"] = "wait"
    fail_on: list[str] = []
    stable: Annotated[float, Field(gt=0)] | None = None
    change: bool = False

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        given = [self.text, self.regex, self.image, self.stable, self.change or None]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of text, regex, image, stable, change")
        if self.fail_on and self.text is None and self.regex is None:
            raise ValueError("fail_on goes with text or regex")
        return self

    def describe(self) -> str:
        if self.text is not None or self.regex is not None:
            return f"wait for {self.text or self.regex!r}"
        if self.image is not None:
            return f"wait for image {self.image}"
        return f"wait {self.stable} s stable" if self.stable else "wait for a change"


class TypeStep(_Step):
    """Type ``text`` with the target's layout, or a Packer ``boot_command`` (a string or
    a list of strings; see :mod:`aiopikvm.scenario.bootcommand`). ``layout`` is the
    target's (the scenario's by default)."""

    kind: Literal["type"] = "type"
    text: str | None = None
    boot_command: str | list[str] | None = None
    layout: str | None = None
    delay: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        if (self.text is None) == (self.boot_command is None):
            raise ValueError("give exactly one of text, boot_command")
        return self

    def describe(self) -> str:
        shown = self.text if self.text is not None else self.boot_command
        if isinstance(shown, list):
            shown = "".join(shown)
        return f"type {str(shown)[:40]!r}"


class KeyStep(_Step):
    """Press keys together and let go: ``ctrl+alt+del``, ``f12``, ``Enter``, kvmd's names
    or Packer's (``leftCtrl``)."""

    kind: Literal["key"] = "key"
    keys: str

    def describe(self) -> str:
        return f"key {self.keys}"


class ScreenshotStep(_Step):
    """A picture of the screen, into the output directory and the report."""

    kind: Literal["screenshot"] = "screenshot"
    file: str | None = None

    def describe(self) -> str:
        return "screenshot" + (f" {self.file}" if self.file else "")


class SleepStep(_Step):
    kind: Literal["sleep"] = "sleep"
    seconds: Annotated[float, Field(ge=0, le=86400)]

    def describe(self) -> str:
        return f"sleep {self.seconds:g} s"

    @property
    def default_timeout(self) -> float:
        return self.seconds + 30.0


class AssertStep(_OnScreen):
    """The screen shows ``text``/``regex`` or ``image`` now (one read, no waiting)."""

    kind: Literal["assert"] = "assert"

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        if sum(v is not None for v in (self.text, self.regex, self.image)) != 1:
            raise ValueError("give exactly one of text, regex, image")
        return self

    def describe(self) -> str:
        return f"assert {self.text or self.regex or self.image!r}"


class HttpStep(_Step):
    """Wait until the built-in HTTP server has served ``path`` (``/ks.cfg``): the installer
    fetched its file. ``status`` (200 by default) is the answer it must have had: one
    with another status for that path fails the step at once."""

    kind: Literal["http"] = "http"
    path: str
    status: int | None = 200

    def describe(self) -> str:
        return f"http {self.path}"


Step = Annotated[
    PowerStep
    | MediaStep
    | WaitStep
    | TypeStep
    | KeyStep
    | ScreenshotStep
    | SleepStep
    | AssertStep
    | HttpStep,
    Field(discriminator="kind"),
]
STEP_KINDS: dict[str, type[_Step]] = {
    model.model_fields["kind"].default: model
    for model in (
        PowerStep,
        MediaStep,
        WaitStep,
        TypeStep,
        KeyStep,
        ScreenshotStep,
        SleepStep,
        AssertStep,
        HttpStep,
    )
}
SHORTHAND: dict[str, str] = {
    # ``- power: cycle`` is ``- power: {action: cycle}``
    "power": "action",
    "media": "file",
    "wait": "text",
    "type": "text",
    "key": "keys",
    "screenshot": "file",
    "sleep": "seconds",
    "assert": "text",
    "http": "path",
}


class HttpSettings(BaseModel):
    """The built-in HTTP server: ``directory`` (relative to the scenario file) is served;
    ``ip``/``port`` where (by default the local address that routes to the device, and a
    free port)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: str | None = None
    ip: str | None = None
    port: Annotated[int, Field(ge=0, le=65535)] = 0


class Scenario(BaseModel):
    """A scenario: ``steps`` run in order on one device; the first that fails ends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "scenario"
    description: str | None = None
    layout: str = "en-us"
    """The keyboard layout the target's OS reads keys with (a kvmd keymap name)."""
    vars: dict[str, str] = {}
    http: HttpSettings | None = None
    steps: list[Step] = Field(min_length=1)
    base_dir: str = "."
    """Where relative paths (images, templates, the HTTP directory) are found: the file's
    directory when loaded from one."""

    @model_validator(mode="before")
    @classmethod
    def _vars_as_text(cls, data: Any) -> Any:
        # YAML gives 8080 as an int: a variable is text.
        if isinstance(data, dict) and isinstance(data.get("vars"), dict):
            data = {**data, "vars": {str(k): _text(v) for k, v in data["vars"].items()}}
        return data


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return value


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value
