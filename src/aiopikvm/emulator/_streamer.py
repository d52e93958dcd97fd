"""The video streamer (kvmd driving ustreamer) and OCR: ``/api/streamer...``.

What kvmd does and this copies:

- ustreamer runs only while a ``stream=1`` WebSocket session is open. When the last one
  closes it keeps running for ``stop_delay`` more (kvmd's ``shutdown_delay``). While it is
  down ``streamer`` is null and a snapshot is 503 ``UnavailableError``: kvmd cannot reach
  ustreamer and does not start it for a snapshot.
- A freshly started ustreamer reports no signal at 640x480 until it locks onto the source
  (``start_delay`` here), and a host that is off gives no signal at all. A snapshot without
  signal is 503 unless ``allow_offline=1``, which returns ustreamer's blank frame.
- ``set_params`` checks kvmd's validators, refuses a parameter this streamer lacks with
  ``Streamer*NotSupported``, and then silently drops values outside the limits. A change
  restarts a running streamer. Values checked before a refused one stay pending and are
  applied at the next change, as in kvmd's stream controller.
- ``save=1`` keeps the snapshot (``snapshot.saved``), ``load=1`` returns it, DELETE forgets
  it without an event. Previews and OCR are validated only once there is a snapshot.
- ``streamer`` events are partial, with kvmd's granularity: ``params`` (with ``limits``),
  ``streamer`` (with ``applied`` when that changed, and then ``limits``), ``snapshot``.
- Without OCR (a device with no Tesseract) ``ocr.enabled`` is false with no languages,
  and a recognition, once its parameters pass, is refused with ``OcrError``.

The picture is the simulated host's console, drawn by :mod:`._screen` and captured by
:mod:`._capture` as a device captures it: every frame encoded afresh, with its noise, the
console's blinking cursor and, if asked for, a clock. ustreamer's blank "no signal" frame is
one picture, the same each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from . import _captures
from ._capture import Capture
from ._errors import (
    UnavailableError,
)
from ._screen import Screen, console, no_signal, render
from ._server import Broadcast, Route, json_response
from ._snapshot import Frame, snapshot_response, ustreamer_headers
from ._streamer_params import PARAMS
from ._subsystem import StatePublisher
from ._target import Target
from ._validators import (
    valid_bool,
)
from ._widgets import with_buttons

NO_SIGNAL_RESOLUTION: Final = (640, 480)
"""What ustreamer reports while it has no signal (its default capture size)."""


# ----- the subsystem ------------------------------------------------------------------


class Streamer:
    def __init__(
        self,
        target: Target,
        *,
        screen_size: tuple[int, int],
        ocr_enabled: bool = True,
        start_delay: float,
        stop_delay: float,
        stream_clients: Callable[[], int],
        broadcast: Broadcast,
        announce_clients: Callable[[], None] = lambda: None,
        capture: Capture | None = None,
    ) -> None:
        recorded = _captures.result("streamer.json")
        self._features: dict[str, bool] = recorded["features"]
        self._limits: dict[str, Any] = recorded["limits"]
        self._params: dict[str, Any] = recorded["params"]
        self._process: dict[str, Any] = recorded["streamer"]  # ustreamer's /state, online
        self._ocr: dict[str, Any] = _captures.result("streamer_ocr.json")["ocr"]
        self._ocr_langs: list[str] = list(self._ocr["langs"]["available"])
        if not ocr_enabled:
            self._ocr = {"enabled": False, "langs": {"default": [], "available": []}}
        self._target = target
        self._resolution_lock = threading.Lock()
        self._resolution = _checked_size(*screen_size)
        self._start_delay = start_delay
        self._stop_delay = stop_delay
        self._stream_clients = stream_clients
        self.publisher = StatePublisher("streamer", broadcast, self.get_state)
        # kvmd's controller announces the clients whenever it wakes, for these requests too.
        self._announce_clients = announce_clients
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._locked = False  # ustreamer has found the source's signal
        self._lock_timer: asyncio.TimerHandle | None = None
        self._stop_timer: asyncio.TimerHandle | None = None
        self._pending: dict[str, Any] = {}
        self._reset = False
        self._saved: Frame | None = None
        self._capture_card = Capture() if capture is None else capture
        self._rendered: tuple[tuple[Screen, int], bytes] | None = None  # the blank frame
        target.add_listener(self._changed_from_anywhere)

    # ----- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    def stop(self) -> None:
        self._cancel_timers()
        self._running = self._locked = False
        self._loop = None

    def _cancel_timers(self) -> None:
        for timer in (self._lock_timer, self._stop_timer):
            if timer is not None:
                timer.cancel()
        self._lock_timer = self._stop_timer = None

    # ----- the host's side ------------------------------------------------------------

    def set_resolution(self, width: int, height: int) -> None:
        """Any thread: the host switches its video mode."""
        size = _checked_size(width, height)
        with self._resolution_lock:
            self._resolution = size
        self._changed_from_anywhere()

    def _changed_from_anywhere(self) -> None:
        # The target calls this on its writer's thread, set_resolution on the caller's.
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._publish_streamer)

    def _online(self) -> bool:
        return self._running and self._locked and self._target.powered

    def _source_size(self, online: bool) -> tuple[int, int]:
        if not online:
            return NO_SIGNAL_RESOLUTION
        with self._resolution_lock:
            return self._resolution

    # ----- state ----------------------------------------------------------------------

    def _process_state(self) -> dict[str, Any] | None:
        if not self._running:
            return None
        state = copy.deepcopy(self._process)
        online = self._online()
        width, height = self._source_size(online)
        state["source"].update(
            resolution={"width": width, "height": height},
            online=online,
            desired_fps=self._params["desired_fps"],
            captured_fps=state["source"]["captured_fps"] if online else 0,
        )
        if "quality" in self._params:
            state["encoder"]["quality"] = self._params["quality"]
        if "h264_bitrate" in self._params:
            state["h264"].update(bitrate=self._params["h264_bitrate"], gop=self._params["h264_gop"])
        return state

    def _applied(self, process: dict[str, Any] | None) -> dict[str, Any]:
        applied = dict(self._params)
        if process is not None:
            applied["desired_fps"] = process["source"]["desired_fps"]
            if "resolution" in applied:
                applied["resolution"] = "{width}x{height}".format(**process["source"]["resolution"])
            if "quality" in applied:
                applied["quality"] = process["encoder"]["quality"]
            if "h264_bitrate" in applied:
                applied["h264_bitrate"] = process["h264"]["bitrate"]
                applied["h264_gop"] = process["h264"]["gop"]
        return applied

    def _snapshot_state(self) -> dict[str, Any]:
        return {"saved": None if self._saved is None else self._saved.summary()}

    def get_state(self) -> dict[str, Any]:
        process = self._process_state()
        return {
            "features": dict(self._features),
            "limits": copy.deepcopy(self._limits),
            "params": dict(self._params),
            "applied": self._applied(process),
            "streamer": process,
            "snapshot": self._snapshot_state(),
        }

    def ocr_state(self) -> dict[str, Any]:
        return copy.deepcopy(self._ocr)

    def _publish_streamer(self) -> None:
        self._publish(streamer=True)

    def _publish(
        self, *, params: bool = False, streamer: bool = False, snapshot: bool = False
    ) -> None:
        new: dict[str, Any] = {}

        def changed(key: str, value: Any) -> None:
            if self.publisher.sent.get(key) != value:
                new[key] = value

        if params:
            changed("params", dict(self._params))
        if streamer:
            process = self._process_state()
            changed("streamer", process)
            changed("applied", self._applied(process))
        if snapshot:
            changed("snapshot", self._snapshot_state())
        if "params" in new or "applied" in new:
            new["limits"] = copy.deepcopy(self._limits)
        if new:
            self.publisher.send(new)

    # ----- kvmd's stream controller ---------------------------------------------------

    def sessions_changed(self) -> None:
        """A WebSocket session opened or closed. Acted on after the handler's burst, as
        kvmd's controller task does: a new session sees ``streamer: null`` first."""
        if self._loop is not None:
            self._loop.call_soon(self._control)

    def _control(self) -> None:
        if self._loop is None:
            return
        if self._stream_clients() > 0:
            if self._stop_timer is not None:
                self._stop_timer.cancel()
                self._stop_timer = None
            elif not self._running:
                self._start_process()
        elif self._running and self._stop_timer is None:
            self._stop_timer = self._loop.call_later(self._stop_delay, self._stop_process)
        if self._reset or self._pending:
            restart = self._running and self._stop_timer is None
            if self._running:
                # A restart is over before kvmd's next poll: sessions never see it down.
                self._stop_process(publish=not restart)
            if self._pending:
                self._apply_params(self._pending)
                self._pending = {}
            if restart:
                self._start_process()
            self._reset = False

    def _start_process(self) -> None:
        assert self._loop is not None
        self._running = True
        self._locked = self._start_delay <= 0
        if not self._locked:
            self._lock_timer = self._loop.call_later(self._start_delay, self._lock_on)
        self._publish_streamer()

    def _lock_on(self) -> None:
        self._lock_timer = None
        self._locked = True
        self._publish_streamer()

    def _stop_process(self, *, publish: bool = True) -> None:
        self._cancel_timers()
        self._running = self._locked = False
        if publish:
            self._publish_streamer()

    def _apply_params(self, wanted: dict[str, Any]) -> None:
        # kvmd's Params.set_params: out-of-limit values and unknown resolutions vanish.
        new = dict(self._params)
        if "quality" in wanted and "quality" in new:
            new["quality"] = min(max(wanted["quality"], 1), 100)
        resolutions = self._limits.get("available_resolutions", [])
        if "resolution" in wanted and "resolution" in new and wanted["resolution"] in resolutions:
            new["resolution"] = wanted["resolution"]
        for key in ("desired_fps", "h264_bitrate", "h264_gop"):
            limits = self._limits.get(key, {})
            if key in wanted and key in new and limits["min"] <= wanted[key] <= limits["max"]:
                new[key] = wanted[key]
        self._params = new
        self._publish(params=True)

    # ----- snapshots ------------------------------------------------------------------

    async def _capture(self) -> Frame:
        online = self._online()
        width, height = self._source_size(online)
        quality = int(self._params.get("quality", 80))
        if online:
            screen = console(self._target.screen_text, width, height)
            data = await asyncio.to_thread(self._capture_card.frame, screen, quality)
        else:
            screen = no_signal(width, height)
            key = (screen, quality)
            if self._rendered is not None and self._rendered[0] == key:
                data = self._rendered[1]
            else:
                data = await asyncio.to_thread(render, screen, quality)
                self._rendered = (key, data)
        return Frame(online, screen, data, ustreamer_headers(online, width, height))

    async def take_snapshot(self, *, save: bool, load: bool, allow_offline: bool) -> Frame | None:
        if load:
            return self._saved
        if not self._running:
            return None
        frame = await with_buttons(
            await self._capture(), self._target.buttons, int(self._params.get("quality", 80))
        )
        if not (frame.online or allow_offline):
            return None
        if save:
            self._saved = frame
            self._publish(snapshot=True)
        return frame

    # ----- endpoints ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/streamer", self._h_state),
            Route("POST", "/streamer/set_params", self._h_set_params),
            Route("POST", "/streamer/reset", self._h_reset),
            Route("GET", "/streamer/snapshot", self._h_snapshot),
            Route("DELETE", "/streamer/snapshot", self._h_remove_snapshot),
            Route("GET", "/streamer/ocr", self._h_ocr),
        ]

    async def _h_state(self, _: web.Request) -> web.StreamResponse:
        return json_response(self.get_state())

    async def _h_set_params(self, request: web.Request) -> web.StreamResponse:
        for name, validator, unsupported in PARAMS:
            value = request.query.get(name)
            if value:
                if name not in self._params:
                    assert unsupported is not None, name
                    raise unsupported()
                checked = validator(value)
                if self._params[name] != checked:
                    self._pending[name] = checked
        self._announce_clients()
        self._control()
        return json_response()

    async def _h_reset(self, _: web.Request) -> web.StreamResponse:
        self._reset = True
        self._announce_clients()
        self._control()
        return json_response()

    async def _h_snapshot(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        frame = await self.take_snapshot(
            save=valid_bool(query.get("save", False)),
            load=valid_bool(query.get("load", False)),
            allow_offline=valid_bool(query.get("allow_offline", False)),
        )
        if frame is None:
            raise UnavailableError()
        return await snapshot_response(
            frame, query, ocr_langs=self._ocr_langs, ocr_enabled=self._ocr["enabled"]
        )

    async def _h_remove_snapshot(self, _: web.Request) -> web.StreamResponse:
        self._saved = None
        return json_response()

    async def _h_ocr(self, _: web.Request) -> web.StreamResponse:
        return json_response({"ocr": self.ocr_state()})


def _checked_size(width: int, height: int) -> tuple[int, int]:
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16384:
            raise ValueError(f"not a screen size: {width}x{height} (1..16384 pixels each)")
    return width, height
