"""Live video as a device serves it: ustreamer's MJPEG stream and kvmd-media's H.264.

``GET /streamer/stream`` is ustreamer's (src/ustreamer/http/server.c) behind nginx's
``auth_request`` (configs/nginx/kvmd.ctx-server.conf): refused credentials get nginx's
HTML page, not kvmd's envelope, and with ustreamer stopped (no ``stream=1`` session)
nginx answers its 502 page. What ustreamer does and this copies:

- frames at the streamer's ``desired_fps`` (0: the capture rate, 60) while there is a
  signal; without one, its blank picture once a second;
- an online frame identical to the last one sent is dropped, up to 30 in a row (kvmd's
  ``--drop-same-frames=30``), but something goes out at least once a second;
- a client gets the newest frame once the last one is written: a slow reader skips
  frames, nothing queues up for it;
- ``extra_headers``, ``zero_data`` and ``advance_headers`` read as ustreamer reads them
  (``1``, ``true``, ``yes``; anything else is off); the stream ends when kvmd stops
  ustreamer.

``/api/media`` and ``/api/media/ws`` are kvmd-media's (kvmd/apps/media/server.py), also
behind ``auth_request``. H.264 needs an encoder: PyAV with libx264 (its wheels bundle
one). Without it the emulator is a device whose kvmd-media has no H.264: ``media`` lists
no format and ``?video=h264`` is refused, as kvmd refuses a format it lacks (the captures
hold no H.264 payloads to replay). Each client gets its own encoder, which starts with a
keyframe, as kvmd-media's sender waits for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncGenerator
from typing import Any, Final

from aiohttp import WSMsgType, web

from ._errors import KvmdError, ValidatorError
from ._h264 import Encoder, encoder_available
from ._server import AuthCheck, Route, json_response
from ._snapshot import Frame
from ._streamer import Streamer

BOUNDARY: Final = "boundarydonotcross"
_DROP_SAME_FRAMES: Final = 30
_REPEAT_AFTER: Final = 1.0  # ustreamer repeats the exposed frame when nothing new came
_CAPTURE_FPS: Final = 60  # desired_fps=0: as fast as the source (captured_fps in streamer.json)
_PROFILE: Final = {"profile_level_id": "42E01F"}  # kvmd hardcodes it (media_stream.json)
_NGINX_PAGE: Final = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS: Final = {401: "Authorization Required", 403: "Forbidden", 500: "Internal Server Error"}


def nginx_page(status: int, reason: str) -> web.Response:
    text = _NGINX_PAGE.format(status=status, reason=reason)
    return web.Response(status=status, text=text, content_type="text/html")


def _true(value: str | None) -> bool:
    """ustreamer's us_evkeyvalq_get_true: ``1...``, ``true`` or ``yes``."""
    return value is not None and (value.startswith("1") or value.lower() in ("true", "yes"))


class Video:
    def __init__(self, streamer: Streamer, check_auth: AuthCheck, *, heartbeat: float) -> None:
        self._streamer = streamer
        self._check_auth = check_auth
        self._heartbeat = heartbeat
        self._formats = {"h264": dict(_PROFILE)} if encoder_available() else {}

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/streamer/stream", self._h_stream, auth_required=False, root=True),
            Route("GET", "/media", self._h_media, auth_required=False),
            Route("GET", "/media/ws", self._h_media_ws, auth_required=False),
        ]

    async def _denied(self, request: web.Request) -> web.Response | None:
        """nginx's ``auth_request``: kvmd's 401 or 403 as nginx's page, other failures 500."""
        try:
            await self._check_auth(request)
        except KvmdError as error:
            status = error.status if error.status in (401, 403) else 500
            return nginx_page(status, _REASONS[status])
        return None

    def _source(self) -> tuple[bool, float] | None:
        """``(online, seconds between frames)``, or None while ustreamer is stopped."""
        process = self._streamer.get_state()["streamer"]
        if process is None:
            return None
        online = bool(process["source"]["online"])
        fps = int(process["source"]["desired_fps"]) or _CAPTURE_FPS
        return online, (1 / fps if online else _REPEAT_AFTER)

    async def _frames(self) -> AsyncGenerator[tuple[Frame, int], None]:
        """ustreamer's exposed frames with the count of same frames dropped before each,
        paced; ends when ustreamer stops."""
        loop = asyncio.get_running_loop()
        last: bytes | None = None
        last_sent = 0.0
        dropped = 0
        due = loop.time()
        while (source := self._source()) is not None:
            online, interval = source
            frame = await self._streamer.take_snapshot(save=False, load=False, allow_offline=True)
            if frame is None:
                return
            now = loop.time()
            same = online and frame.data == last and now - last_sent < _REPEAT_AFTER
            if same and dropped < _DROP_SAME_FRAMES:
                dropped += 1
            else:
                yield frame, dropped
                last, last_sent, dropped = frame.data, loop.time(), 0
            due = max(due + interval, loop.time())
            await asyncio.sleep(due - loop.time())

    async def _h_stream(self, request: web.Request) -> web.StreamResponse:
        denied = await self._denied(request)
        if denied is not None:
            return denied
        if self._source() is None:
            return nginx_page(502, "Bad Gateway")
        query = request.query
        extra, zero = _true(query.get("extra_headers")), _true(query.get("zero_data"))
        advance = _true(query.get("advance_headers"))
        key = query.get("key") or "0"
        response = web.StreamResponse(
            headers={
                "Cache-Control": "no-store, no-cache, must-revalidate, proxy-revalidate,"
                " pre-check=0, post-check=0, max-age=0",
                "Pragma": "no-cache",
                "Expires": "Mon, 3 Jan 2000 12:34:56 GMT",
                "Set-Cookie": f"stream_client={key}/{secrets.randbits(64):x}; path=/; max-age=30",
                "Content-Type": f"multipart/x-mixed-replace;boundary={BOUNDARY}",
            }
        )
        await response.prepare(request)
        head = f"--{BOUNDARY}\r\n"
        if advance:
            head += _advance_headers()
        await response.write(head.encode())
        try:
            await self._send_parts(response, extra=extra, zero=zero, advance=advance)
        except ConnectionError:  # the client went away
            return response
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    async def _send_parts(
        self, response: web.StreamResponse, *, extra: bool, zero: bool, advance: bool
    ) -> None:
        fps = _FpsCounter()
        async with contextlib.aclosing(self._frames()) as frames:
            async for frame, dropped in frames:
                data = b"" if zero else frame.data
                if advance:  # no Content-Length nor statistics: the headers went out already
                    part = data + f"\r\n--{BOUNDARY}\r\n{_advance_headers()}".encode()
                else:
                    headers = _part_headers(
                        frame, len(data), dropped, fps.tick() if extra else None
                    )
                    part = headers.encode() + data + f"\r\n--{BOUNDARY}\r\n".encode()
                await response.write(part)  # waits while the client's socket is full

    async def _h_media(self, request: web.Request) -> web.StreamResponse:
        denied = await self._denied(request)
        if denied is not None:
            return denied
        return json_response({"media": self._media()})

    def _media(self) -> dict[str, Any]:
        return {"video": {name: dict(meta) for name, meta in self._formats.items()}}

    async def _h_media_ws(self, request: web.Request) -> web.StreamResponse:
        denied = await self._denied(request)
        if denied is not None:
            return denied
        fmt = request.query.get("video", "").strip()
        if fmt not in ("", *self._formats):
            raise ValidatorError("Unsupported video type")
        ws = web.WebSocketResponse(heartbeat=self._heartbeat)
        await ws.prepare(request)
        pure = bool(fmt)
        sender: asyncio.Task[None] | None = None
        keyframe = asyncio.Event()
        if pure:
            sender = asyncio.create_task(self._send_h264(ws, pure, keyframe))
        else:
            await ws.send_str(json.dumps({"event_type": "media", "event": self._media()}))
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY and message.data[:1] == b"\x00":
                    if not pure:  # kvmd-media: "Don't spoil pure data"
                        await ws.send_bytes(b"\xff")
                elif message.type == WSMsgType.BINARY and message.data[:1] == b"\x01":
                    keyframe.set()
                elif (
                    message.type == WSMsgType.TEXT
                    and sender is None
                    and _start_event(message.data) in self._formats
                ):
                    sender = asyncio.create_task(self._send_h264(ws, pure, keyframe))
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await sender
        return ws

    async def _send_h264(
        self, ws: web.WebSocketResponse, pure: bool, keyframe: asyncio.Event
    ) -> None:
        encoder: Encoder | None = None
        try:
            async with contextlib.aclosing(self._media_frames()) as frames:
                async for frame in frames:
                    params = self._streamer.get_state()["params"]
                    size = (frame.screen.width, frame.screen.height)
                    if encoder is None or encoder.size != size:
                        encoder = Encoder(size, params.get("h264_bitrate"), params.get("h264_gop"))
                    force = keyframe.is_set()
                    keyframe.clear()
                    units = await asyncio.to_thread(encoder.encode, frame.data, force)
                    for data, key in units:
                        message = data if pure else b"\x01" + bytes([key]) + data
                        await ws.send_bytes(message)
        finally:
            if encoder is not None:
                encoder.close()

    async def _media_frames(self) -> AsyncGenerator[Frame, None]:
        """The source's frames for kvmd-media: none while ustreamer is stopped (it waits,
        the socket stays open), every frame at the streamer's rate otherwise."""
        loop = asyncio.get_running_loop()
        while True:
            source = self._source()
            if source is None:
                await asyncio.sleep(_REPEAT_AFTER)  # kvmd-media looks again every second
                continue
            started = loop.time()
            frame = await self._streamer.take_snapshot(save=False, load=False, allow_offline=True)
            if frame is not None:
                yield frame
            await asyncio.sleep(max(0.0, started + source[1] - loop.time()))


def _start_event(raw: str) -> str | None:
    """The format a ``start`` event asks for; None for anything kvmd-media ignores."""
    try:
        message = json.loads(raw)
        if message["event_type"] != "start" or message["event"]["type"] != "video":
            return None
        return str(message["event"]["format"])
    except (ValueError, KeyError, TypeError):
        return None


def _advance_headers() -> str:
    return f"Content-Type: image/jpeg\r\nX-Timestamp: {time.time():.06f}\r\n\r\n"


def _part_headers(frame: Frame, length: int, dropped: int, client_fps: int | None) -> str:
    lines = [
        "Content-Type: image/jpeg",
        f"Content-Length: {length}",
        f"X-Timestamp: {time.time():.06f}",
    ]
    if client_fps is not None:
        now = time.monotonic()
        lines += [
            f"X-UStreamer-Online: {'true' if frame.online else 'false'}",
            f"X-UStreamer-Dropped: {dropped}",
            f"X-UStreamer-Width: {frame.screen.width}",
            f"X-UStreamer-Height: {frame.screen.height}",
            f"X-UStreamer-Client-FPS: {client_fps}",
            *(f"X-UStreamer-{name}-Time: {now:.06f}" for name in _STAGES),
            "X-UStreamer-Latency: 0.000000",
        ]
    return "\r\n".join(lines) + "\r\n\r\n"


_STAGES: Final = (
    "Grab-Begin",
    "Grab-End",
    "Encode-Begin",
    "Encode-End",
    "Expose-Begin",
    "Expose-Cmp",
    "Expose-End",
    "Send",
)


class _FpsCounter:
    """Frames sent in the last whole second, as ustreamer's per-client FPS reads."""

    def __init__(self) -> None:
        self._second = int(time.monotonic())
        self._count = 0
        self._last = 0

    def tick(self) -> int:
        second = int(time.monotonic())
        if second != self._second:
            self._last = self._count if second == self._second + 1 else 0
            self._second, self._count = second, 0
        self._count += 1
        return self._last
