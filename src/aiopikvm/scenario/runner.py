"""Running a scenario on one device: its steps in order, each timed, tried again when it
says so, and recorded with a picture of the screen after it (the reports' filmstrip).

The first step that fails ends the run: its screen, the text read from it and the last
frames go into the output directory, and the steps after it are ``skipped``. The run
holds one ``stream=1`` session throughout, so the video stays up between steps (kvmd runs
the streamer only while one is open) and no step opens and closes one of its own.

    async with PiKVM(url, passwd=...) as kvm:
        result = await run_scenario(kvm, load_scenario("install.yaml"), output_dir="out")
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import PiKVMError, ScreenTimeoutError
from ..screen.picture import to_png
from . import execute
from .http import HttpServer, Request, route_ip
from .results import Frame, RunResult, StepFailedError, StepResult
from .steps import (
    AssertStep,
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

if TYPE_CHECKING:
    from .. import PiKVM

Listener = Callable[[dict[str, Any]], None]
"""Called with each event of a run (``run_started``, ``http_started``, ``http_request``,
``step_started``, ``step_retry``, ``step_finished``, ``run_finished``), a JSON-able dict,
on the event loop's thread: the terminal and the JSON-lines file follow it."""

GRACE: Final = 15.0
"""Seconds a step may run past its timeout before it is cancelled: its own wait ends by
the timeout and reports better than a cancellation would."""
FRAME_TIMEOUT: Final = 5.0
MAX_FRAMES: Final = 300
"""Pictures a run keeps for its reports; later ones are still saved, not embedded."""
LAST_FRAMES: Final = 5
"""Frames saved with a failure: the screen as the steps before it left it."""


async def run_scenario(
    kvm: PiKVM,
    scenario: Scenario,
    *,
    variables: Mapping[str, str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    http_ip: str | None = None,
    http_port: int | None = None,
    on_event: Listener | None = None,
    raise_on_failure: bool = False,
) -> RunResult:
    """Run ``scenario``'s steps on ``kvm`` and return how it went (``result.ok``,
    ``result.failed``). ``variables`` add to (and override) the file's ``vars``.
    ``output_dir`` receives the screenshots and, on failure, the screen, its text and
    the last frames. With ``raise_on_failure`` a failed step raises
    :class:`StepFailedError` instead."""
    runner = _Runner(kvm, scenario, variables or {}, output_dir, on_event or (lambda _: None))
    result = await runner.run(http_ip, http_port)
    failed = result.failed
    if raise_on_failure and failed is not None and result.error is not None:
        raise StepFailedError(
            f"step {failed.number} ({failed.label}) failed: {failed.message}",
            step=failed,
            result=result,
            cause=result.error,
        )
    return result


class _Runner:
    def __init__(
        self,
        kvm: PiKVM,
        scenario: Scenario,
        variables: Mapping[str, str],
        output_dir: str | os.PathLike[str] | None,
        emit: Listener,
    ) -> None:
        self.kvm, self.scenario, self.emit = kvm, scenario, emit
        self.base = Path(scenario.base_dir)
        self.out = Path(output_dir) if output_dir is not None else None
        self.variables = {"Name": scenario.name, **scenario.vars, **variables}
        self.http: HttpServer | None = None
        self.frames = 0
        self.recent: collections.deque[Frame] = collections.deque(maxlen=LAST_FRAMES)
        self.since = 0.0
        self.step_number = 0

    def render(self, text: str) -> str:
        return render(text, self.variables, where=f"step {self.step_number}")

    async def run(self, http_ip: str | None, http_port: int | None) -> RunResult:
        steps = self.scenario.steps
        result = RunResult(
            self.scenario.name,
            [StepResult(n, s.kind, s.label()) for n, s in enumerate(steps, 1)],
            started=time.time(),
            output_dir=None if self.out is None else str(self.out),
        )
        self.since = result.started
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
        self.emit({"event": "run_started", "name": result.name, "steps": len(steps)})
        async with self._http(http_ip, http_port), self._video():
            for step, record in zip(steps, result.steps, strict=True):
                self.step_number = record.number
                error = await self._step(step, record)
                if error is not None:
                    result.error = error
                    break
        result.duration = time.time() - result.started
        self.emit({"event": "run_finished", **result.as_dict()})
        return result

    # ----- around the run -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _http(self, ip: str | None, port: int | None) -> AsyncIterator[None]:
        settings = self.scenario.http
        if settings is None or settings.directory is None:
            yield
            return
        host = urllib.parse.urlsplit(self.kvm.url).hostname or "127.0.0.1"
        chosen = ip or settings.ip
        if chosen is None:
            chosen = await asyncio.to_thread(route_ip, host)
        loop = asyncio.get_running_loop()

        def served(request: Request) -> None:  # on the server's thread: over to the loop's
            event = {"event": "http_request", **dataclasses.asdict(request)}
            with contextlib.suppress(RuntimeError):  # a late one, the run over
                loop.call_soon_threadsafe(self.emit, event)

        self.http = HttpServer(
            self.base / settings.directory,
            ip=chosen,
            port=settings.port if port is None else port,
            variables=self.variables,
            on_request=served,
        )
        self.http.start()
        self.variables |= {"HTTPIP": self.http.ip, "HTTPPort": str(self.http.port)}
        self.emit({"event": "http_started", "url": self.http.url})
        try:
            yield
        finally:
            self.http.stop()

    @contextlib.asynccontextmanager
    async def _video(self) -> AsyncIterator[None]:
        # reconnect: an hour-long install outlives many a Wi-Fi hiccup, and kvmd stops the
        # streamer once no stream=1 session is left.
        async with self.kvm.ws(stream=True, reconnect=True) as ws:
            # Its events are read and dropped: the session is there for the video only.
            drain = asyncio.create_task(_drain(ws.events()))
            try:
                yield
            finally:
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError, PiKVMError):
                    await drain

    # ----- one step -------------------------------------------------------------------

    async def _step(self, step: Step, record: StepResult) -> BaseException | None:
        record.started = time.time()
        self.emit({"event": "step_started", "number": record.number, "name": record.label})
        timeout = step.timeout or step.default_timeout
        error: BaseException | None = None
        for attempt in range(step.retries + 1):
            record.attempts = attempt + 1
            try:
                async with asyncio.timeout(timeout + GRACE):
                    record.message = await self._execute(step, record, timeout)
                error = None
                break
            except (PiKVMError, TimeoutError, OSError) as exc:
                error = exc
                record.message = _why(exc)
                if attempt < step.retries:
                    self.emit({"event": "step_retry", "number": record.number, "why": _why(exc)})
                    await asyncio.sleep(min(2.0**attempt, 10.0))
        record.duration = time.time() - record.started
        if error is None:
            record.status = "passed"
            if not isinstance(step, ScreenshotStep):
                await self._frame(record, "after")
        else:
            record.status = "failed"
            record.error_type = type(error).__name__
            await self._failure(record, error)
        self.emit({"event": "step_finished", **record.as_dict()})
        return error

    async def _execute(self, step: Step, record: StepResult, timeout: float) -> str | None:
        kvm = self.kvm
        if isinstance(step, PowerStep):
            return await execute.power(kvm, step, timeout)
        if isinstance(step, MediaStep):
            return await execute.do_media(kvm, step, self.base, self.render)
        if isinstance(step, WaitStep):
            return await execute.wait(kvm, step, timeout, self.base, self.render)
        if isinstance(step, TypeStep):
            layout = step.layout or self.scenario.layout
            return await execute.type_step(kvm, step, layout, self.render)
        if isinstance(step, KeyStep):
            return await execute.key(kvm, step)
        if isinstance(step, SleepStep):
            return await execute.sleep(step)
        if isinstance(step, AssertStep):
            return await execute.check(kvm, step, self.base, self.render)
        if isinstance(step, HttpStep):
            return await execute.served(self.http, step, timeout, self.since, self.render)
        frame = await self._frame(record, "screenshot", step.file and self.render(step.file))
        if frame is None:
            raise ScreenTimeoutError("no picture of the screen came: is the host sending video?")
        return "saved" if self.out is not None else "kept for the report (no output directory)"

    # ----- pictures -------------------------------------------------------------------

    async def _snapshot(self) -> bytes | None:
        try:
            async with asyncio.timeout(FRAME_TIMEOUT):
                # With no signal, the streamer's "no signal" picture: worth seeing too.
                return await self.kvm.streamer.snapshot(allow_offline=True)
        except (PiKVMError, TimeoutError, OSError):
            return None

    async def _frame(self, record: StepResult, label: str, file: str | None = None) -> Frame | None:
        data = await self._snapshot()
        if data is None:
            return None
        if file is not None and file.lower().endswith(".png"):
            data = await asyncio.to_thread(to_png, data)
        frame = Frame(label, data, time.time())
        self.frames += 1
        self.recent.append(frame)
        if self.frames <= MAX_FRAMES:
            record.frames.append(frame)
        name = file or (f"step-{record.number:02d}.jpg" if label == "screenshot" else None)
        if name is not None and self.out is not None:
            record.artifacts.append(self._save(name, data))
        return frame

    def _save(self, name: str, data: bytes | str) -> str:
        assert self.out is not None
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, "utf-8")
        else:
            path.write_bytes(data)
        return str(path)

    async def _failure(self, record: StepResult, error: BaseException) -> None:
        """The screen at the failure, what it read, and the last frames, saved."""
        seen: bytes | None = getattr(error, "last_snapshot", None)
        text: str | None = getattr(error, "last_text", None) or None
        frame = await self._frame(record, "failed")
        if text is None:
            with contextlib.suppress(PiKVMError, TimeoutError, OSError):
                async with asyncio.timeout(FRAME_TIMEOUT):
                    text = await self.kvm.streamer.ocr()
        record.ocr_text = text
        if seen is not None and (frame is None or seen != frame.data):
            record.frames.append(Frame("last seen by the wait", seen, time.time()))
        if self.out is None:
            return
        prefix = f"step-{record.number:02d}-failed"
        shot = frame.data if frame is not None else seen
        if shot is not None:
            record.artifacts.append(self._save(f"{prefix}.jpg", shot))
        record.artifacts.append(self._save(f"{prefix}.txt", f"{record.message}\n\n{text or ''}"))
        if text is not None:
            record.artifacts.append(self._save(f"{prefix}-ocr.txt", text))
        if seen is not None:
            record.artifacts.append(self._save(f"{prefix}-last-seen.jpg", seen))
        for number, last in enumerate(self.recent, 1):
            record.artifacts.append(self._save(f"{prefix}-frame-{number}.jpg", last.data))


async def _drain(events: AsyncIterator[Any]) -> None:
    async for _ in events:
        pass


def _why(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, TimeoutError) and not isinstance(error, PiKVMError):
        text = "the step ran past its timeout"
    return text
