"""Where a command connects: flags, then the environment, then a profile; and the password,
which never needs the command line (an environment variable, a profile's
``passwd_command``, the OS keyring if ``keyring`` is installed, or a prompt)."""

from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ._config import Config, check_name, config_path
from ._exit import CliError, ExitCode

if TYPE_CHECKING:
    from .. import PiKVM

KEYRING_SERVICE: Final = "aiopikvm"
PASSWD_COMMAND_TIMEOUT: Final = 30.0
MAX_PASSWD_BYTES: Final = 4096
TRUE: Final = frozenset({"1", "true", "yes", "on"})


class Secret(str):
    """A str whose repr hides it (so it never shows in a debug traceback's locals)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass
class Options:
    """The global flags, as the root command parsed them."""

    url: str | None = None
    user: str | None = None
    passwd_env: str | None = None
    totp_env: str | None = None
    device: str | None = None
    group: str | None = None
    all: bool = False
    config: str | None = None
    pin: str | None = None
    insecure: bool = False
    json: bool = False
    debug: bool = False
    quiet: bool = False
    parallel: int = 8
    timeout: float = 10.0
    _prompted: dict[str, Secret] = field(default_factory=dict, repr=False)

    def load_config(self) -> Config:
        return Config.load(config_path(self.config))

    @property
    def is_fleet(self) -> bool:
        return bool(self.group or self.all or (self.device and "," in self.device))


@dataclass(frozen=True)
class Target:
    """One device to connect to."""

    name: str
    url: str
    user: str = "admin"
    pin: str | None = None
    insecure: bool = False
    timeout: float = 10.0
    profile: dict[str, Any] = field(default_factory=dict, repr=False)


def targets(options: Options) -> list[Target]:
    """The devices the flags name: ``--url`` (or PIKVM_URL), or profiles."""
    names: list[str] = []
    if options.all or options.group or options.device:
        config = options.load_config()
        if options.all:
            names = sorted(config.devices)
            if not names:
                raise CliError(f"--all: no devices in {config.path}")
        if options.group:
            names += [n for n in config.group(options.group) if n not in names]
        if options.device:
            names += [n.strip() for n in options.device.split(",") if n.strip() not in names]
        return [_from_profile(options, name, config.profile(check_name(name))) for name in names]
    url = options.url or os.environ.get("PIKVM_URL")
    if not url:
        raise CliError(
            "no device: give --url URL (or PIKVM_URL), or --device NAME of a profile "
            "(pikvm config add NAME --url URL)"
        )
    return [
        Target(
            name=url,
            url=url,
            user=options.user or os.environ.get("PIKVM_USER") or "admin",
            pin=options.pin or os.environ.get("PIKVM_PIN") or None,
            insecure=options.insecure or _env_true("PIKVM_INSECURE"),
            timeout=options.timeout,
        )
    ]


def _from_profile(options: Options, name: str, profile: dict[str, Any]) -> Target:
    if not isinstance(profile.get("url"), str):
        raise CliError(f"device {name!r} has no url in its profile")
    return Target(
        name=name,
        url=options.url or profile["url"],
        user=options.user or os.environ.get("PIKVM_USER") or profile.get("user") or "admin",
        pin=options.pin or profile.get("pin") or os.environ.get("PIKVM_PIN") or None,
        insecure=options.insecure or bool(profile.get("insecure")) or _env_true("PIKVM_INSECURE"),
        timeout=float(profile.get("timeout", options.timeout)),
        profile=profile,
    )


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE


def verify_ssl(target: Target) -> Any:
    from .. import CertificateFingerprint

    if target.pin:
        return CertificateFingerprint(target.pin)
    return not target.insecure


def client(options: Options, target: Target) -> PiKVM:
    from .. import PiKVM

    totp = _totp(options, target)
    return PiKVM(
        target.url,
        user=target.user,
        passwd=passwd(options, target),
        totp_secret=totp,
        verify_ssl=verify_ssl(target),
        timeout=target.timeout,
    )


def passwd(options: Options, target: Target) -> Secret:
    """The password, from the first source that has one."""
    if options.passwd_env:
        value = os.environ.get(options.passwd_env)
        if value is None:
            raise CliError(f"--passwd-env {options.passwd_env}: that variable is not set")
        return Secret(value)
    if "PIKVM_PASSWD" in os.environ:
        return Secret(os.environ["PIKVM_PASSWD"])
    command = target.profile.get("passwd_command")
    if command:
        return _run_passwd_command(target.name, str(command))
    if "passwd" in target.profile:
        return Secret(str(target.profile["passwd"]))
    stored = _keyring(target.name)
    if stored is not None:
        return stored
    return _prompt(options, target)


def _totp(options: Options, target: Target) -> Secret | None:
    if options.totp_env:
        value = os.environ.get(options.totp_env)
        if value is None:
            raise CliError(f"--totp-env {options.totp_env}: that variable is not set")
        return Secret(value)
    value = os.environ.get("PIKVM_TOTP_SECRET") or target.profile.get("totp_secret")
    return Secret(value) if value else None


def _run_passwd_command(name: str, command: str) -> Secret:
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            timeout=PASSWD_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise CliError(f"device {name!r}: passwd_command failed: {exc}", ExitCode.AUTH) from None
    if done.returncode != 0:
        raise CliError(
            f"device {name!r}: passwd_command exited with {done.returncode}", ExitCode.AUTH
        )
    if len(done.stdout) > MAX_PASSWD_BYTES:
        raise CliError(f"device {name!r}: passwd_command printed too much", ExitCode.AUTH)
    return Secret(done.stdout.decode("utf-8", "replace").rstrip("\r\n"))


def _keyring(name: str) -> Secret | None:
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, name)
    except Exception:
        return None
    return Secret(value) if isinstance(value, str) else None


def _prompt(options: Options, target: Target) -> Secret:
    if target.name in options._prompted:
        return options._prompted[target.name]
    if not sys.stdin.isatty():
        raise CliError(
            f"no password for {target.name}: set PIKVM_PASSWD (or --passwd-env VAR), a "
            "profile's passwd_command, or run in a terminal to be asked",
            ExitCode.AUTH,
        )
    value = Secret(getpass.getpass(f"Password for {target.user} at {target.url}: "))
    options._prompted[target.name] = value
    return value
