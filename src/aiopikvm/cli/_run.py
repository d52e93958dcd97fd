"""Running a command's action on one device, or on a fleet of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import click

from ._connect import Options, Target, client, targets
from ._exit import CliError, ExitCode, code_for
from ._output import Output, jsonable

if TYPE_CHECKING:
    from .. import FleetResult, PiKVM

Action = Callable[["PiKVM"], Awaitable[Any]]
Show = Callable[[Any], Any]


def options(ctx: click.Context) -> Options:
    found = ctx.find_object(Options)
    if found is None:  # pragma: no cover - the root callback always sets it
        raise CliError("internal: no options")
    return found


def output(ctx: click.Context) -> Output:
    opts = options(ctx)
    return Output(json_mode=opts.json, quiet=opts.quiet)


def execute(
    ctx: click.Context,
    out: Output,
    action: Action,
    show: Show | None = None,
    *,
    fleet: bool = True,
) -> None:
    """Run ``action(kvm)`` on the device(s) the flags name and print its result."""
    opts = options(ctx)
    found = targets(opts)
    if not opts.is_fleet and len(found) == 1:
        out.result(asyncio.run(_single(opts, found[0], action)), show)
        return
    if not fleet:
        raise CliError("this command works on one device at a time: give one --device or --url")
    ctx.exit(asyncio.run(_fleet(opts, found, out, action, show)))


async def _single(opts: Options, target: Target, action: Action) -> Any:
    async with client(opts, target) as kvm:
        return await action(kvm)


async def _fleet(
    opts: Options, found: list[Target], out: Output, action: Action, show: Show | None
) -> int:
    from .. import Fleet

    clients = {target.name: client(opts, target) for target in found}
    lines: list[dict[str, Any]] = []

    def finished(result: FleetResult[Any]) -> None:
        if opts.json:
            return  # one document at the end
        if result.ok:
            text = show(result.value) if show is not None else "ok"
            out.human(f"{result.name}: {text if isinstance(text, str) and text else 'ok'}")
        else:
            out.human(f"{result.name}: FAILED: {result.error}")

    async with Fleet(clients, parallel=opts.parallel) as devices:
        results = await devices.run(action, on_result=finished)
    failed = [r for r in results.values() if not r.ok]
    codes = {code_for(r.error) for r in failed if r.error is not None}
    for result in results.values():
        entry: dict[str, Any] = {"device": result.name, "ok": result.ok}
        if result.ok:
            entry["result"] = jsonable(result.value)
        else:
            entry["error"] = str(result.error)
            entry["error_type"] = type(result.error).__name__
            entry["exit_code"] = int(code_for(result.error))  # type: ignore[arg-type]
        lines.append(entry)
    if opts.json:
        out.document(lines)
    names = ", ".join(r.name for r in failed)
    summary = f"{len(results) - len(failed)} of {len(results)} devices ok"
    out.note(summary + (f", {len(failed)} failed: {names}" if failed else ""))
    if not failed:
        return ExitCode.OK
    return codes.pop() if len(codes) == 1 else ExitCode.FAILED
