"""Live video: ustreamer's MJPEG stream and kvmd-media's H.264, frame by frame.

MJPEG is ``GET /streamer/stream``, which nginx hands to ustreamer after kvmd's auth check
(configs/nginx/kvmd.ctx-server.conf), through the client's one request path: same
credentials, TLS and error mapping as every call. It is cut into frames by
:mod:`aiopikvm.protocol.multipart`. H.264 is kvmd-media's ``/api/media/ws?video=h264``,
the "pure" socket (kvmd/apps/media/server.py): every binary message one access unit in
Annex B, no framing to read.

Bounds. A frame is at most ``max_frame_size`` bytes and a part's headers at most
:data:`~aiopikvm.protocol.multipart.MAX_HEADER_SIZE`, else :class:`ProtocolError`; each
frame must be complete within ``idle_timeout`` of the wait for it starting, else
:class:`PiKVMTimeoutError` (a peer trickling a byte at a time does not keep it alive).
Nothing is queued: frames are read as the caller takes them, so a slow caller makes
ustreamer skip frames for it (it sends a client the newest one once the last is out),
and kvmd-media's queue of 32 overflows and waits for the next keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections import deque
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .._version import __version__
from ..errors import (
    APIError,
    ConnectionClosedError,
    PiKVMTimeoutError,
    ProtocolError,
    RequestInfo,
    with_hint,
)
from ..protocol.h264 import is_keyframe
from ..protocol.multipart import MultipartParser, Part, boundary_of
from ..transport.body import MAX_SNAPSHOT_SIZE, MiB, body_chunks
from ..transport.http import RootPath
from ..transport.http_errors import seconds_text
from ..transport.redaction import redact_url

if TYPE_CHECKING:
    import httpx
    import numpy
    import websockets
    from PIL import Image

    from ._base import Requester

MAX_MJPEG_FRAME: Final = MAX_SNAPSHOT_SIZE
"""An MJPEG frame, like a snapshot: at most 32 MiB by default."""
MAX_H264_FRAME: Final = 8 * MiB
"""An H.264 access unit: a 1080p keyframe at ustreamer's top bitrate is well under 1 MiB."""
MAX_FRAME_SIZE_LIMIT: Final = 1024 * MiB
"""The largest ``max_frame_size`` a caller may choose: what one frame may make us hold."""
DEFAULT_IDLE_TIMEOUT: Final = 10.0
"""Seconds for one frame to arrive whole: ustreamer repeats its "no signal" picture every
second, and on a still screen drops at most 30 identical frames in a row (kvmd's
``--drop-same-frames=30``, 1.5 s at 20 fps)."""
CLOSE_TIMEOUT: Final = 1.0
"""Seconds the H.264 socket's closing handshake may take once the reader stops; after
that the connection is dropped (nothing is left to say on it)."""
MAX_PIXELS: Final = 7680 * 4320
"""The most pixels :meth:`VideoFrame.image` decodes (8K), read from the JPEG's header."""
NO_VIDEO_HINT: Final = (
    "no video: kvmd runs the streamer only while a stream=True WebSocket session is open, "
    "so hold one (async with kvm.ws(stream=True): ...) while reading the stream"
)
NO_H264_HINT: Final = (
    "this device's kvmd-media has no H.264 (GET /api/media says what it serves): "
    "read kvm.streamer.mjpeg() instead"
)
_USER_AGENT: Final = f"aiopikvm/{__version__}"


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One MJPEG frame: the JPEG as ustreamer sent it.

    ``timestamp`` is ustreamer's ``X-Timestamp``, the device's wall clock (Unix time) when
    the frame went out; ``received`` is :func:`time.monotonic` here when it was complete.
    ``headers`` are the part's headers, names lower-cased (``extra_headers=True`` adds
    ustreamer's ``x-ustreamer-*`` statistics).
    """

    data: bytes = field(repr=False)
    timestamp: float
    received: float
    headers: Mapping[str, str] = field(repr=False)

    def image(self) -> Image.Image:
        """The frame as a Pillow image (RGB), decoded now; needs Pillow (the ``video``
        extra). A JPEG that declares more than :data:`MAX_PIXELS` is refused undecoded."""
        image_module = _import("PIL.Image")
        image = image_module.open(io.BytesIO(self.data), formats=["JPEG"])
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ProtocolError(f"a video frame of {width}x{height} pixels: more than 8K")
        converted: Image.Image = image.convert("RGB")
        return converted

    def array(self) -> numpy.ndarray[Any, Any]:
        """The frame as a ``height x width x 3`` array of ``uint8`` RGB; needs numpy and
        Pillow (the ``video`` extra)."""
        np = _import("numpy")
        array: numpy.ndarray[Any, Any] = np.asarray(self.image())
        return array


@dataclass(frozen=True, slots=True)
class H264Frame:
    """One H.264 access unit (Annex B) from kvmd-media; ``key`` when a decoder can start
    here (it carries the SPS or an IDR slice). kvmd-media sends no timestamps:
    ``timestamp`` is this machine's :func:`time.time` and ``received`` its
    :func:`time.monotonic` when the unit arrived."""

    data: bytes = field(repr=False)
    key: bool
    timestamp: float
    received: float


def _import(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"decoding video frames needs the 'video' extra ({error.name} is not installed):"
            " pip install 'aiopikvm[video]'",
            name=error.name,
        ) from None


async def mjpeg(
    http: Requester,
    *,
    idle_timeout: float | None,
    max_frame_size: int,
    extra_headers: bool,
) -> AsyncGenerator[VideoFrame, None]:
    """ustreamer's frames; the connection closes when the caller stops."""
    params = {"extra_headers": True} if extra_headers else None
    async with contextlib.AsyncExitStack() as stack:
        response = await _open_stream(stack, http, params, idle_timeout)
        info = RequestInfo("GET", redact_url(str(response.url)))
        try:
            boundary = boundary_of(response.headers.get("content-type"))
        except ProtocolError as exc:
            problem = str(exc)
        else:
            problem = ""
        if problem:
            raise ProtocolError(f"{info}: {problem}", request=info)
        parser = MultipartParser(boundary, max_part_size=max_frame_size)
        chunks = await stack.enter_async_context(
            contextlib.aclosing(body_chunks(response, what="video"))
        )
        ready: deque[Part] = deque()
        while True:
            try:
                async with asyncio.timeout(idle_timeout):
                    while not ready and not parser.closed:
                        chunk = await anext(chunks, None)
                        if chunk is None:
                            break
                        ready.extend(_parts(parser, chunk, info))
            except TimeoutError:
                timed_out = True
            else:
                timed_out = False
            if timed_out:
                message = f"{info}: no whole frame within {seconds_text(idle_timeout)} s"
                raise PiKVMTimeoutError(message, request=info)
            if not ready:
                if parser.closed:  # the closing boundary: the stream is over, as it says
                    return
                raise ConnectionClosedError(
                    f"{info}: the device ended the video stream (kvmd stopped the streamer:"
                    " is a stream=True session still open?)",
                    request=info,
                )
            received = time.monotonic()
            while ready:
                yield _frame(ready.popleft(), received, info)


async def _open_stream(
    stack: contextlib.AsyncExitStack,
    http: Requester,
    params: dict[str, bool] | None,
    idle_timeout: float | None,
) -> httpx.Response:
    """The stream's response; a 502 (nginx with no ustreamer to reach) with its hint."""
    error: APIError
    path = RootPath("streamer/stream")
    try:
        return await stack.enter_async_context(
            http.stream("GET", path, params=params, idle_timeout=idle_timeout)
        )
    except APIError as exc:
        if exc.status_code != 502:
            raise
        error = with_hint(exc, NO_VIDEO_HINT)
    raise error  # outside the except clause: a traceback shows one error, not two


def _parts(parser: MultipartParser, chunk: bytes, info: RequestInfo) -> list[Part]:
    try:
        return parser.feed(chunk)
    except ProtocolError as exc:
        problem = str(exc)
    raise ProtocolError(f"{info}: {problem}", request=info)


def _frame(part: Part, received: float, info: RequestInfo) -> VideoFrame:
    kind = part.headers.get("content-type", "image/jpeg")
    if kind.lower() != "image/jpeg" or (part.body and not part.body.startswith(b"\xff\xd8")):
        raise ProtocolError(f"{info}: a part of the MJPEG stream is not a JPEG", request=info)
    stamp = part.headers.get("x-timestamp")
    try:
        timestamp = time.time() if stamp is None else float(stamp)
    except ValueError:
        timestamp = float("nan")
    if not 0 <= timestamp < 2**40:  # NaN too
        raise ProtocolError(
            f"{info}: a frame's X-Timestamp is not a time: {stamp!r:.40}", request=info
        )
    return VideoFrame(part.body, timestamp, received, part.headers)


async def h264(
    http: Requester,
    *,
    idle_timeout: float | None,
    max_frame_size: int,
    keyframe_first: bool = True,
) -> AsyncGenerator[H264Frame, None]:
    """kvmd-media's access units; the socket closes when the caller stops."""
    import websockets  # here: an HTTP-only client loads no WebSocket client

    from ..transport.ws_connect import open_session

    scheme, rest = http.url("media/ws").split(":", 1)
    url = ("wss" if scheme.lower() == "https" else "ws") + ":" + rest + "?video=h264"
    info = RequestInfo("GET", redact_url(url))
    try:
        error: APIError | None
        conn = await open_session(
            url,
            http.credentials,
            ssl_context=http.ssl_context,
            open_timeout=http.timeout,
            close_timeout=CLOSE_TIMEOUT,
            user_agent=_USER_AGENT,
            request=info,
            max_size=max_frame_size,
        )
    except APIError as exc:
        if exc.status_code != 400:
            raise
        error = with_hint(exc, NO_H264_HINT)
    else:
        error = None
    if error is not None:
        raise error
    try:
        started = not keyframe_first
        while True:
            failure: Exception | None = None
            try:
                async with asyncio.timeout(idle_timeout):
                    message, _ = conn.inbox.pop() or await conn.inbox.next()
            except TimeoutError:
                failure = PiKVMTimeoutError(
                    f"{info}: no frame within {seconds_text(idle_timeout)} s", request=info
                )
            except websockets.ConnectionClosedOK:
                return
            except websockets.ConnectionClosed as exc:
                failure = _closed(exc, info, max_frame_size)
            if failure is not None:
                raise failure
            if isinstance(message, str):
                message_error = f"{info}: a text message on the pure H.264 socket"
                raise ProtocolError(message_error, request=info)
            key = is_keyframe(message)
            started = started or key
            if started:
                yield H264Frame(message, key, time.time(), time.monotonic())
    finally:
        await conn.close()


def _closed(exc: websockets.ConnectionClosed, info: RequestInfo, limit: int) -> Exception:
    code = exc.sent.code if exc.sent else exc.rcvd.code if exc.rcvd else None
    if code == 1009:
        return ProtocolError(
            f"{info}: an H.264 frame larger than {limit} bytes (max_frame_size)", request=info
        )
    return ConnectionClosedError(f"{info}: the video socket closed", code=code, request=info)
