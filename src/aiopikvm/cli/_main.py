"""The ``pikvm`` application: global flags, the command groups, and the one place where an
error becomes a line on stderr and an exit code."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from . import (
    _cmd_config,
    _cmd_device,
    _cmd_input,
    _cmd_mcp,
    _cmd_msd,
    _cmd_run,
    _cmd_screen,
    _cmd_stream,
)
from ._connect import Options
from ._exit import ExitCode, code_for


@click.group(
    name="pikvm",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--url", metavar="URL", help="The device, https://host [PIKVM_URL].")
@click.option("--user", metavar="NAME", help="User name [PIKVM_USER; admin].")
@click.option("--passwd-env", metavar="VAR", help="Read the password from this variable.")
@click.option("--totp-env", metavar="VAR", help="Read the TOTP secret from this variable.")
@click.option("--device", "-d", metavar="NAME[,NAME]", help="Profile name(s), comma-separated.")
@click.option("--group", "-g", metavar="NAME", help="A group of profiles.")
@click.option("--all", "all_devices", is_flag=True, help="Every profile.")
@click.option("--config", metavar="FILE", help="The profiles file [PIKVM_CONFIG].")
@click.option("--pin", metavar="SHA256", help="Trust only the certificate with this hash.")
@click.option("--insecure", is_flag=True, help="Do not verify TLS [PIKVM_INSECURE].")
@click.option("--json", "json_output", is_flag=True, help="One JSON document on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or notes on stderr.")
@click.option("--debug", is_flag=True, help="A traceback with an error.")
@click.option(
    "--parallel",
    type=click.IntRange(1, 1024),
    default=8,
    show_default=True,
    help="Fleet: devices at once.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds per request.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    url: str | None,
    user: str | None,
    passwd_env: str | None,
    totp_env: str | None,
    device: str | None,
    group: str | None,
    all_devices: bool,
    config: str | None,
    pin: str | None,
    insecure: bool,
    json_output: bool,
    quiet: bool,
    debug: bool,
    parallel: int,
    timeout: float,
) -> None:
    """Drive PiKVMs from the shell: power, keyboard, mouse, screen, virtual media.

    Connect with --url (or PIKVM_URL) or a profile (--device NAME; see `pikvm config`).
    Passwords come from PIKVM_PASSWD, --passwd-env VAR, a profile's passwd_command, the OS
    keyring or a prompt: never the command line. --device a,b / --group / --all run the
    command on several devices at once.
    """
    ctx.obj = Options(
        url=url,
        user=user,
        passwd_env=passwd_env,
        totp_env=totp_env,
        device=device,
        group=group,
        all=all_devices,
        config=config,
        pin=pin,
        insecure=insecure,
        json=json_output,
        debug=debug,
        quiet=quiet,
        parallel=parallel,
        timeout=timeout,
    )


for module in (
    _cmd_device,
    _cmd_input,
    _cmd_screen,
    _cmd_msd,
    _cmd_stream,
    _cmd_config,
    _cmd_mcp,
    _cmd_run,
):
    module.register(cli)

HOISTED = ("--json", "--debug", "--quiet", "-q")
"""Flags of the root that may also come after the command (``pikvm power status --json``)."""


def _hoist(argv: list[str]) -> list[str]:
    end = argv.index("--") if "--" in argv else len(argv)
    if "emulator" in argv[:end]:
        return argv  # its flags are its own
    moved = [arg for arg in argv[:end] if arg in HOISTED]
    rest = [arg for arg in argv[:end] if arg not in HOISTED]
    return moved + rest + argv[end:]


def run(argv: Sequence[str] | None = None) -> int:
    args = _hoist(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    try:
        value = cli.main(args=args, prog_name="pikvm", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        print("pikvm: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "pikvm"
        print(f"pikvm: error: {exc.format_message()} (see `{where} --help`)", file=sys.stderr)
        return ExitCode.USAGE
    except click.ClickException as exc:
        print(f"pikvm: error: {exc.format_message()}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("pikvm: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"pikvm: error: {exc}", file=sys.stderr)
        return code_for(exc)
    return value if isinstance(value, int) else ExitCode.OK
