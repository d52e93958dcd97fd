"""What goes on and on: ``events`` (NDJSON), ``log [--follow]``, and ``emulator`` (serve
one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import click

from . import _cmd_completion
from ._media import one_device
from ._run import output

if TYPE_CHECKING:
    from .. import PiKVM


def register(cli: click.Group) -> None:
    for command in (events, log, emulator):
        cli.add_command(command)
    _cmd_completion.register(cli)  # here, so that _main's list of modules stays as it is


def _line(text: str) -> None:
    # Written as they come, flushed: a pipe (jq, grep) sees each line at once. Not through
    # Rich, whose markup would eat the brackets of the JSON.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


_count = click.option(
    "--count",
    type=click.IntRange(1),
    metavar="N",
    help="Stop after N of them (default: go on until Ctrl-C).",
)


@click.command()
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="EVENT_TYPE",
    help="Only events of this type (repeatable): atx, hid, msd, streamer, gpio, ...",
)
@click.option("--video", is_flag=True, help="A stream=1 session: the streamer runs meanwhile.")
@_count
@click.pass_context
def events(ctx: click.Context, types: tuple[str, ...], video: bool, count: int | None) -> None:
    """The device's events as they happen, one a line: `event_type: {json}`, or with
    --json one JSON object a line (NDJSON). A dropped connection is opened again, and a
    `reconnected` event says so."""
    json_mode = output(ctx).json

    async def action(kvm: PiKVM) -> int:
        seen = 0
        async with kvm.ws(stream=video, reconnect=True) as ws:
            async for event in ws.events():
                if types and event.get("event_type") not in types:
                    continue
                if json_mode:
                    _line(json.dumps(event, ensure_ascii=False))
                else:
                    body = json.dumps(event.get("event"), ensure_ascii=False)
                    _line(f"{event.get('event_type')}: {body}")
                seen += 1
                if count is not None and seen >= count:
                    break
        return seen

    one_device(ctx, action)


@click.command()
@click.option("--follow", "-f", is_flag=True, help="Then each new entry as it is written.")
@click.option(
    "--seek", type=click.IntRange(0), metavar="SECONDS", help="Only the last SECONDS of it."
)
@_count
@click.pass_context
def log(ctx: click.Context, follow: bool, seek: int | None, count: int | None) -> None:
    """kvmd's log. With --json: a list of its lines; with --follow --json one JSON string a
    line (NDJSON)."""
    out = output(ctx)

    async def action(kvm: PiKVM) -> None:
        if not follow:
            lines = (await kvm.system.get_log(seek=seek)).splitlines()
            lines = lines[:count] if count is not None else lines
            if out.json:
                out.document(lines)
            elif lines:
                _line("\n".join(lines))
            return
        seen = 0
        stream = kvm.system.stream_log(seek=seek)
        try:
            async for line in stream:
                _line(json.dumps(line, ensure_ascii=False) if out.json else line)
                seen += 1
                if count is not None and seen >= count:
                    break
        finally:
            close = getattr(stream, "aclose", None)  # an async generator's: the link closes now
            if close is not None:
                await close()

    one_device(ctx, action)


@click.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],  # --help is the emulator's
    },
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def emulator(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Serve a kvmd-compatible emulator (the emulator extra): `pikvm emulator --help` lists
    its flags (those of pikvm-emulator), e.g. --port 8080 --tls."""
    command = [sys.executable, "-m", "aiopikvm.emulator", *args]
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        # Replaced by it: Ctrl-C and SIGTERM reach the emulator itself, which stops cleanly.
        os.execv(sys.executable, command)
    done = subprocess.run(command, check=False)  # pragma: no cover - not POSIX
    ctx.exit(done.returncode)  # pragma: no cover
