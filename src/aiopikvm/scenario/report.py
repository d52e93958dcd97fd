"""A run's results as files: JSON lines (as it goes), JUnit XML (for CI) and an HTML page
with a filmstrip of the screen per step, self-contained (pictures embedded as data: URIs,
no script, no outside resource)."""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import os
import xml.etree.ElementTree as ET
from typing import IO, Any

from .results import RunResult, StepResult

THUMBNAIL = (640, 360)
"""The largest size of a filmstrip picture, in pixels."""


class JsonLines:
    """A :data:`~aiopikvm.scenario.runner.Listener` writing each event as one JSON line,
    flushed at once (a CI log tailing it sees a step as it ends)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def __call__(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def junit_xml(result: RunResult) -> str:
    """One ``testsuite`` named after the scenario, one ``testcase`` per step: a failed step
    has a ``failure`` (its message, the screen's text), a skipped one ``skipped``."""
    failures = sum(step.status == "failed" for step in result.steps)
    skipped = sum(step.status == "skipped" for step in result.steps)
    suite = ET.Element(
        "testsuite",
        name=result.name,
        tests=str(len(result.steps)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{result.duration:.3f}",
        timestamp=_when(result.started),
    )
    for step in result.steps:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"scenario.{result.name}",
            name=f"{step.number:02d} {step.label}",
            time=f"{step.duration:.3f}",
        )
        if step.status == "failed":
            failure = ET.SubElement(
                case, "failure", message=step.message or "", type=step.error_type or "Error"
            )
            failure.text = _failure_text(step)
        elif step.status == "skipped":
            ET.SubElement(case, "skipped", message="an earlier step failed")
        elif step.message:
            ET.SubElement(case, "system-out").text = step.message
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _failure_text(step: StepResult) -> str:
    lines = [step.message or "", f"attempts: {step.attempts}"]
    if step.ocr_text:
        lines += ["", "screen text:", step.ocr_text]
    if step.artifacts:
        lines += ["", "saved:", *step.artifacts]
    return "\n".join(lines)


def _when(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; }
.summary { margin-bottom: 1.5em; }
.step { border: 1px solid #ccc; border-radius: 6px; margin: 1em 0; padding: 0.6em 1em; }
.step h2 { font-size: 1.1em; margin: 0.2em 0; }
.passed { border-left: 6px solid #2a8; }
.failed { border-left: 6px solid #c33; background: #fff5f5; }
.skipped { border-left: 6px solid #aaa; color: #777; }
.status { font-weight: bold; text-transform: uppercase; font-size: 0.8em; }
.filmstrip { display: flex; gap: 8px; overflow-x: auto; padding: 0.4em 0; }
.filmstrip figure { margin: 0; flex: none; }
.filmstrip img { height: 150px; border: 1px solid #999; }
.filmstrip figcaption { font-size: 0.8em; color: #555; }
pre { white-space: pre-wrap; background: #f4f4f4; padding: 0.5em; }
"""


def html_report(result: RunResult) -> str:
    """The report page (UTF-8 text)."""
    verdict = "passed" if result.ok else "FAILED"
    failed = result.failed
    summary = f"{verdict} in {result.duration:.1f} s, {len(result.steps)} steps"
    if failed is not None:
        summary += f"; step {failed.number} ({failed.label}) failed: {failed.message}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(result.name)}: {verdict}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(result.name)}</h1>",
        f'<p class="summary" id="summary">{_e(summary)}</p>',
    ]
    parts += [_step_html(step) for step in result.steps]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _step_html(step: StepResult) -> str:
    parts = [
        f'<section class="step {step.status}" id="step-{step.number}">',
        f"<h2>{step.number}. {_e(step.label)} "
        f'<span class="status">{step.status}</span> '
        f"<small>{step.duration:.1f} s"
        + (f", {step.attempts} attempts" if step.attempts > 1 else "")
        + "</small></h2>",
    ]
    if step.message:
        parts.append(f'<p class="message">{_e(step.message)}</p>')
    if step.ocr_text:
        parts.append(f"<details><summary>screen text</summary><pre>{_e(step.ocr_text)}</pre>")
        parts.append("</details>")
    if step.frames:
        parts.append('<div class="filmstrip">')
        for frame in step.frames:
            picture = frame.data if step.status == "failed" else _thumbnail(frame.data)
            kind = "png" if picture.startswith(b"\x89PNG") else "jpeg"
            data = base64.b64encode(picture).decode("ascii")
            parts.append(
                f'<figure><img alt="{_e(frame.label)}" src="data:image/{kind};base64,{data}">'
                f"<figcaption>{_e(frame.label)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _thumbnail(data: bytes) -> bytes:
    """A small JPEG of a frame for the filmstrip (a full-HD one is ~100 KB, this ~15):
    the failed step's frames stay whole, to be read. Needs Pillow (the cli extra); the
    frame as it is without it."""
    try:
        from PIL import Image
    except ImportError:
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail(THUMBNAIL)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except OSError:
        return data
    return out.getvalue()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """``text`` into ``path`` whole or not at all (a temporary name, renamed into place)."""
    tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(tmp, path)
