"""The profiles file: ``[devices.NAME]`` tables and ``[groups]`` of device names, in TOML.

It lives in platformdirs' user config dir (``pikvm`` ... ``config.toml``) unless ``--config``
or ``PIKVM_CONFIG`` names another. It is written whole, atomically, with mode 0600: it may
hold a ``passwd`` (prefer ``passwd_command`` or the keyring).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ._exit import CliError, ExitCode

MAX_CONFIG_BYTES: Final = 1 << 20
NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
FIELDS: Final = (
    "url",
    "user",
    "pin",
    "insecure",
    "passwd_command",
    "passwd",
    "totp_secret",
    "timeout",
    "layout",  # the host's keyboard layout, for pikvm mcp's type_text
)
SECRET_FIELDS: Final = frozenset({"passwd", "totp_secret"})


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("pikvm", appauthor=False)) / "config.toml"


def config_path(explicit: str | None) -> Path:
    chosen = explicit or os.environ.get("PIKVM_CONFIG")
    return Path(chosen).expanduser() if chosen else default_path()


def check_name(name: str, what: str = "device") -> str:
    if not NAME.fullmatch(name):
        raise CliError(f"bad {what} name {name!r}: use letters, digits, '_', '.', '-'")
    return name


@dataclass
class Config:
    path: Path
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            with path.open("rb") as file:
                raw = file.read(MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise CliError(f"cannot read the config file {path}: {exc.strerror}") from None
        if len(raw) > MAX_CONFIG_BYTES:
            raise CliError(f"the config file {path} is over {MAX_CONFIG_BYTES} bytes")
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CliError(f"the config file {path} is not valid TOML: {exc}") from None
        devices, groups = data.get("devices", {}), data.get("groups", {})
        if not isinstance(devices, dict) or not all(isinstance(v, dict) for v in devices.values()):
            raise CliError(f"{path}: [devices.NAME] must be tables")
        if not isinstance(groups, dict) or not all(
            isinstance(v, list) and all(isinstance(n, str) for n in v) for v in groups.values()
        ):
            raise CliError(f'{path}: [groups] must map names to lists of devices: a = ["x"]')
        for name, profile in devices.items():
            unknown = set(profile) - set(FIELDS)
            if unknown:
                raise CliError(f"{path}: device {name!r} has unknown keys {sorted(unknown)}")
        return cls(path, devices, groups)

    def profile(self, name: str) -> dict[str, Any]:
        try:
            return self.devices[name]
        except KeyError:
            known = ", ".join(sorted(self.devices)) or "none yet: pikvm config add NAME --url URL"
            raise CliError(
                f"no device {name!r} in {self.path} (known: {known})", ExitCode.USAGE
            ) from None

    def group(self, name: str) -> list[str]:
        try:
            return self.groups[name]
        except KeyError:
            known = ", ".join(sorted(self.groups)) or "none"
            raise CliError(f"no group {name!r} in {self.path} (known: {known})") from None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: never readable by others, even for a moment.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(self.dumps())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)

    def dumps(self) -> str:
        lines = ["# pikvm profiles (pikvm config add|list|show|remove)", ""]
        for name in sorted(self.devices):
            lines.append(f"[devices.{_key(name)}]")
            for key, value in self.devices[name].items():
                lines.append(f"{key} = {_value(value)}")
            lines.append("")
        if self.groups:
            lines.append("[groups]")
            for name in sorted(self.groups):
                lines.append(f"{_key(name)} = {_value(self.groups[name])}")
            lines.append("")
        return "\n".join(lines)


def masked(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile fit to print: secrets become ``***``."""
    return {key: ("***" if key in SECRET_FIELDS else value) for key, value in profile.items()}


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _value(value: object) -> str:
    # A JSON string is a valid TOML basic string; so are JSON numbers and booleans.
    if isinstance(value, bool | int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise CliError(f"cannot store {type(value).__name__} in the config file")
