from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._checks import (
    KVMD_INT_MAX,
    check_bool,
    check_int,
    check_langs,
    check_optional_bool,
    check_region,
    invalid,
)
from ..errors import InvalidInputError, ProtocolError, UnavailableError, with_hint
from ..transport.http import Expect
from ..transport.params import ParamValue
from ._base import Resource, parse

if TYPE_CHECKING:
    from ..models.streamer import OcrState, StreamerState

_JPEG_START: Final = b"\xff\xd8"
_RESOLUTION: Final = re.compile(r"^\s*(\d+)x(\d+)\s*$")
_NO_VIDEO_HINT: Final = (
    "no video: kvmd runs the streamer only while a stream=True WebSocket session is open, "
    "so hold one (async with kvm.ws(stream=True): ...) while taking snapshots; with the "
    "streamer up but no signal from the host, allow_offline=True gives its stand-in picture"
)


def _int(name: str, value: object, low: int, high: int = KVMD_INT_MAX) -> int:
    return check_int(value, name, low=low, high=high)


def _resolution(value: str | tuple[int, int]) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        width, height = value
    else:
        match = _RESOLUTION.match(value) if isinstance(value, str) else None
        if match is None:
            raise invalid("resolution", "'WIDTHxHEIGHT' or (width, height)", value)
        width, height = int(match[1]), int(match[2])
    return f"{_int('resolution width', width, 1)}x{_int('resolution height', height, 1)}"


class Streamer(Resource):
    """The video streamer: state, snapshots and OCR of the host's screen (``/api/streamer``).

    kvmd runs the streamer only while a ``stream=1`` WebSocket session is open (see
    :meth:`PiKVM.ws`); without one, and while the host sends no signal, a snapshot raises
    :class:`~aiopikvm.UnavailableError`.
    """

    async def get_state(self) -> StreamerState:
        from ..models.streamer import StreamerState

        return parse(StreamerState, await self._http.request("GET", "streamer"), "streamer state")

    async def set_params(
        self,
        *,
        quality: int | None = None,
        desired_fps: int | None = None,
        resolution: str | tuple[int, int] | None = None,
        h264_bitrate: int | None = None,
        h264_gop: int | None = None,
    ) -> None:
        """Change the stream's JPEG quality (1-100), frame rate, resolution (``"1280x720"``)
        or H.264 bitrate (kbit/s) and GOP. A running streamer restarts to apply them.

        kvmd silently drops a value outside the device's limits (``get_state().limits``),
        so those are checked against the device first; a parameter the device does not
        support at all raises :class:`~aiopikvm.BadRequestError`
        (``StreamerResolutionNotSupported``, ...).
        """
        params: dict[str, int | str] = {}
        if quality is not None:
            params["quality"] = _int("quality", quality, 1, 100)
        if desired_fps is not None:
            params["desired_fps"] = _int("desired_fps", desired_fps, 0, 120)
        if resolution is not None:
            params["resolution"] = _resolution(resolution)
        if h264_bitrate is not None:
            params["h264_bitrate"] = _int("h264_bitrate", h264_bitrate, 25, 20000)
        if h264_gop is not None:
            params["h264_gop"] = _int("h264_gop", h264_gop, 0, 60)
        if not params:
            raise InvalidInputError("set_params() needs at least one parameter")
        if params.keys() - {"quality"}:
            await self._check_limits(params)
        await self._http.request("POST", "streamer/set_params", params=params)

    async def _check_limits(self, params: dict[str, int | str]) -> None:
        state = await self.get_state()
        supported = state.params.model_dump(exclude_none=True)
        for name in ("desired_fps", "h264_bitrate", "h264_gop"):
            limit = getattr(state.limits, name)
            value = params.get(name)
            if name not in supported or limit is None or not isinstance(value, int):
                continue
            if not limit.min <= value <= limit.max:
                raise InvalidInputError(
                    f"{name}={value} is outside the device's limits"
                    f" {limit.min}..{limit.max}: kvmd would ignore it"
                )
        available = state.limits.available_resolutions or []
        wanted = params.get("resolution")
        if "resolution" in supported and wanted is not None and wanted not in available:
            raise InvalidInputError(
                f"resolution {wanted!r} is not one of the device's {available}:"
                " kvmd would ignore it"
            )

    async def reset(self) -> None:
        """Restart the streamer (a running one comes back after a moment)."""
        await self._http.request("POST", "streamer/reset")

    async def snapshot(
        self,
        *,
        allow_offline: bool | None = None,
        preview: bool = False,
        max_width: int | None = None,
        max_height: int | None = None,
        quality: int | None = None,
        save: bool | None = None,
        load: bool | None = None,
    ) -> bytes:
        """A JPEG of the host's screen.

        ``preview=True`` shrinks it to fit ``max_width`` x ``max_height`` (aspect ratio
        kept; a fifth of the size when neither is given) at JPEG ``quality`` (1-100,
        default 80). ``allow_offline=True`` returns the streamer's "no signal" picture
        instead of raising :class:`~aiopikvm.UnavailableError` when the host sends nothing.
        The snapshot is at most :data:`~aiopikvm.transport.body.MAX_SNAPSHOT_SIZE` (32 MiB).
        ``save=True`` keeps this snapshot on the device and ``load=True`` returns the kept
        one instead of taking a new one.
        """
        check_optional_bool(allow_offline, "allow_offline")
        check_bool(preview, "preview")
        check_optional_bool(save, "save")
        check_optional_bool(load, "load")
        if not preview and (max_width, max_height, quality) != (None, None, None):
            raise InvalidInputError("max_width, max_height and quality need preview=True")
        if save and load:
            raise InvalidInputError("save and load exclude each other (kvmd ignores save)")
        params: dict[str, int | bool | None] = {
            "allow_offline": allow_offline,
            "save": save,
            "load": load,
        }
        if preview:
            params["preview"] = True
            if max_width is not None:
                params["preview_max_width"] = _int("max_width", max_width, 0)
            if max_height is not None:
                params["preview_max_height"] = _int("max_height", max_height, 0)
            if quality is not None:
                params["preview_quality"] = _int("quality", quality, 1, 100)
        data: bytes = await self._snapshot(params, "bytes")
        if not data.startswith(_JPEG_START):
            raise ProtocolError("the device's snapshot is not a JPEG picture")
        return data

    async def ocr(
        self,
        *,
        langs: str | Sequence[str] | None = None,
        region: tuple[int, int, int, int] | None = None,
    ) -> str:
        """The text on the host's screen, read by the device's OCR (Tesseract).

        ``langs`` are Tesseract language names (``["eng", "rus"]``; see
        :meth:`get_ocr_info`), the device's default when None. ``region`` is
        ``(left, top, right, bottom)`` in screen pixels; the whole screen when None.
        """
        params: dict[str, int | bool | list[str]] = {"ocr": True}
        if langs is not None:
            params["ocr_langs"] = check_langs(langs)
        if region is not None:
            params.update(check_region(region))
        text: str = await self._snapshot(params, "text")
        return text

    async def _snapshot(self, params: Mapping[str, ParamValue], expect: Expect) -> Any:
        """``streamer/snapshot``, whose 503 says how to get the video up."""
        try:
            return await self._http.request(
                "GET", "streamer/snapshot", params=params, expect=expect
            )
        except UnavailableError as exc:
            error = with_hint(exc, _NO_VIDEO_HINT)
        raise error  # outside the except clause: a traceback shows one error, not two

    async def get_ocr_info(self) -> OcrState:
        """Whether the device has OCR, and its available and default languages."""
        from ..models.streamer import OcrState

        result = await self._http.request("GET", "streamer/ocr")
        body = result.get("ocr") if isinstance(result, dict) else None
        return parse(OcrState, body, "OCR state")

    async def delete_snapshot(self) -> None:
        """Forget the snapshot kept by ``snapshot(save=True)``."""
        await self._http.request("DELETE", "streamer/snapshot")
