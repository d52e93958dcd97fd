"""``pikvm run FILE``: a scenario (an unattended install, a boot-time task) on one device,
with its progress on stderr and its results as JUnit XML, an HTML report, JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from ._connect import client, targets
from ._exit import CliError, ExitCode, code_for
from ._output import Output
from ._run import options, output

if TYPE_CHECKING:
    from rich.status import Status

    from ..scenario import RunResult


def register(cli: click.Group) -> None:
    cli.add_command(run)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A variable.")
@click.option("--device", "-d", metavar="NAME", help="The profile to run on.")
@click.option(
    "--output",
    "output_dir",
    metavar="DIR",
    default="pikvm-run",
    show_default=True,
    help="Screenshots and a failed step's screen, text and last frames go here.",
)
@click.option("--junit", metavar="FILE", help="Write JUnit XML (a testcase per step).")
@click.option("--report", metavar="FILE", help="Write an HTML report with a filmstrip.")
@click.option("--json-lines", metavar="FILE", help="Write each event as a JSON line.")
@click.option("--http-ip", metavar="IP", help="Serve the install files here [the route's].")
@click.option("--http-port", type=click.IntRange(0, 65535), help="... on this port [free].")
@click.pass_context
def run(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    device: str | None,
    output_dir: str | None,
    junit: str | None,
    report: str | None,
    json_lines: str | None,
    http_ip: str | None,
    http_port: int | None,
) -> None:
    """Run the scenario FILE (YAML) on one device: its steps in order, the first that
    fails ends the run (its screen and text saved under --output), and the exit code is
    not 0. See docs/scenarios.md for the format."""
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]  # noqa: F401 - needed below
    except ImportError as exc:
        raise CliError(
            f"pikvm run needs the scenario extra ({exc.name} is missing): "
            "pip install 'aiopikvm[cli,scenario]'"
        ) from None
    from ..scenario import JsonLines, load_scenario
    from ..scenario.template import parse_var

    opts = options(ctx)
    if device is not None:
        opts.device = device
    out = output(ctx)
    given = dict(parse_var(text) for text in variables)
    scenario = load_scenario(file)  # every mistake reported before connecting
    found = targets(opts)
    if opts.is_fleet or len(found) != 1:
        raise CliError("pikvm run works on one device at a time: give one --device or --url")
    lines = JsonLines(json_lines) if json_lines else None
    live = _Live(out, len(scenario.steps))

    def on_event(event: dict[str, Any]) -> None:
        live(event)
        if lines is not None:
            lines(event)

    async def go() -> RunResult:
        from ..scenario import run_scenario

        async with client(opts, found[0]) as kvm:
            return await run_scenario(
                kvm,
                scenario,
                variables=given,
                output_dir=output_dir,
                http_ip=http_ip,
                http_port=http_port,
                on_event=on_event,
            )

    try:
        with live.running():
            result = asyncio.run(go())
    finally:
        if lines is not None:
            lines.close()
    _write_reports(result, junit, report)
    out.result(result.as_dict(), lambda _: _summary(result))
    if not result.ok:
        ctx.exit(int(code_for(result.error)) if result.error is not None else ExitCode.FAILED)


def _write_reports(result: RunResult, junit: str | None, report: str | None) -> None:
    from ..scenario import html_report, junit_xml
    from ..scenario.report import write_text

    for path, make in ((junit, junit_xml), (report, html_report)):
        if path is not None:
            try:
                write_text(path, make(result))
            except OSError as exc:
                raise CliError(f"cannot write {path!r}: {exc.strerror}", ExitCode.FAILED) from None


def _summary(result: RunResult) -> str:
    failed = result.failed
    if failed is None:
        return f"{result.name}: passed, {len(result.steps)} steps in {result.duration:.1f} s"
    where = f"; saved in {result.output_dir}" if result.output_dir else ""
    return (
        f"{result.name}: FAILED at step {failed.number} ({failed.label}) after "
        f"{result.duration:.1f} s: {failed.message}{where}"
    )


class _Live:
    """The run on stderr: a spinner on the step under way, a line per step done."""

    def __init__(self, out: Output, total: int) -> None:
        self.out, self.total = out, total
        self.status: Status | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        if self.out.quiet:
            yield
            return
        with self.out.err.status("starting") as status:
            self.status = status
            yield
        self.status = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "step_started" and self.status is not None:
            self.status.update(f"step {event['number']}/{self.total}: {event['name']}")
        elif kind == "step_finished":
            mark = "[green]✓[/]" if event["status"] == "passed" else "[red]✗[/]"
            said = f" — {event['message']}" if event["message"] else ""
            line = f"{event['number']:>3}. {event['name']} ({event['duration']:.1f} s){said}"
            if not self.out.quiet:
                self.out.err.print(f"{mark} ", end="")
                self.out.err.print(line, markup=False, highlight=False)
        elif kind == "step_retry":
            self.out.note(f"     step {event['number']} again: {event['why']}")
        elif kind == "http_started":
            self.out.note(f"serving the install files at {event['url']}")
        elif kind == "http_request":
            said = f"{event['client']} {event['method']} {event['path']} {event['status']}"
            self.out.note(f"     http: {said}")
