"""``pikvm config``: the device profiles (add, list, show, remove) and groups."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

import click

from ._config import Config, check_name, masked
from ._exit import CliError, ExitCode
from ._run import options, output

TOFU_TIMEOUT = 10.0


def register(cli: click.Group) -> None:
    cli.add_command(config)


@click.group()
def config() -> None:
    """Device profiles: `pikvm --device NAME ...` uses one."""


def _load(ctx: click.Context) -> Config:
    return options(ctx).load_config()


def fetch_fingerprint(url: str, timeout: float = TOFU_TIMEOUT) -> str:
    """The SHA-256 fingerprint of the certificate an ``https://`` device presents now."""
    from ..transport.pinning import CertificateFingerprint

    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise CliError(f"--tofu needs an https:// URL, got {url!r}")
    port = parts.port or 443
    try:
        pem = ssl.get_server_certificate((parts.hostname, port), timeout=timeout)
    except (OSError, ssl.SSLError) as exc:
        raise CliError(
            f"cannot read the certificate of {parts.hostname}:{port}: {exc}", ExitCode.CONNECTION
        ) from None
    return str(CertificateFingerprint.of(ssl.PEM_cert_to_DER_cert(pem)))


def _check_layout(layout: str) -> None:
    from ..protocol.layout import LAYOUTS

    if layout not in LAYOUTS:
        raise CliError(
            f"unknown --layout {layout!r}: kvmd's keymaps are {', '.join(LAYOUTS)}",
            ExitCode.USAGE,
        )


@config.command("add")
@click.argument("name")
@click.option("--url", required=True, help="https://host of the device.")
@click.option("--user", help="User name (default admin).")
@click.option("--pin", metavar="SHA256", help="Trust only the certificate with this hash.")
@click.option(
    "--tofu/--no-tofu",
    default=True,
    show_default=True,
    help="For https://: pin the certificate the device shows now (trust on first use).",
)
@click.option("--insecure", is_flag=True, help="Do not verify TLS for this device.")
@click.option("--passwd-command", metavar="CMD", help="A command that prints the password.")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Add it to this group.")
@click.option(
    "--layout", metavar="NAME", help="The host's keyboard layout, for pikvm mcp (e.g. de)."
)
@click.option("--replace", is_flag=True, help="Overwrite a profile of that name.")
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    url: str,
    user: str | None,
    pin: str | None,
    tofu: bool,
    insecure: bool,
    passwd_command: str | None,
    groups: tuple[str, ...],
    layout: str | None,
    replace: bool,
) -> None:
    """Add a device profile. No password is stored: use --passwd-command (e.g. `pass show
    pikvm`), PIKVM_PASSWD or the keyring, or be asked."""
    out = output(ctx)
    found = _load(ctx)
    check_name(name)
    if layout is not None:
        _check_layout(layout)
    if name in found.devices and not replace:
        raise CliError(f"a device {name!r} exists in {found.path}: give --replace to overwrite")
    secure = urlsplit(url).scheme.lower() == "https"
    if tofu and secure and not pin and not insecure:
        pin = fetch_fingerprint(url)
        out.note(f"{name}: the certificate's SHA-256 is {pin}: pinned (check it on the device)")
    profile: dict[str, Any] = {"url": url}
    if user:
        profile["user"] = user
    if pin:
        profile["pin"] = pin
    if insecure:
        profile["insecure"] = True
    if passwd_command:
        profile["passwd_command"] = passwd_command
    if layout:
        profile["layout"] = layout
    found.devices[name] = profile
    for group_name in groups:
        members = found.groups.setdefault(check_name(group_name, "group"), [])
        if name not in members:
            members.append(name)
    found.save()
    result = {"device": name, **masked(profile), "config": str(found.path)}
    out.result(result, lambda _: f"added {name} ({found.path})")


@config.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """The profiles and groups."""
    found = _load(ctx)
    data = {
        "devices": {name: masked(p) for name, p in sorted(found.devices.items())},
        "groups": dict(sorted(found.groups.items())),
    }

    def show(_: Any) -> str:
        lines = [f"{name}\t{p.get('url', '')}" for name, p in sorted(found.devices.items())]
        lines += [f"@{name}\t{' '.join(members)}" for name, members in sorted(found.groups.items())]
        return "\n".join(lines) or f"no profiles in {found.path}"

    output(ctx).result(data, show)


@config.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """One profile (secrets masked)."""
    profile = masked(_load(ctx).profile(check_name(name)))
    output(ctx).result(
        {"device": name, **profile},
        lambda _: "\n".join(f"{key} = {value}" for key, value in profile.items()),
    )


@config.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a profile (and it from every group)."""
    found = _load(ctx)
    found.profile(check_name(name))
    del found.devices[name]
    for members in found.groups.values():
        if name in members:
            members.remove(name)
    found.save()
    output(ctx).result({"removed": name}, lambda _: f"removed {name}")


@config.command("group")
@click.argument("name")
@click.argument("devices", nargs=-1)
@click.pass_context
def group(ctx: click.Context, name: str, devices: tuple[str, ...]) -> None:
    """Set a group's devices: `pikvm config group rack1 a b c` (no devices: remove it)."""
    found = _load(ctx)
    check_name(name, "group")
    for device in devices:
        found.profile(check_name(device))
    members = list(dict.fromkeys(devices))
    if members:
        found.groups[name] = members
    else:
        found.groups.pop(name, None)
    found.save()
    output(ctx).result(
        {"group": name, "devices": members}, lambda _: f"{name}: {' '.join(members)}"
    )
