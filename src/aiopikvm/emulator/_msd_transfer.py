"""MSD transfers over HTTP, as kvmd's ``msd/read``, ``msd/write`` and
``msd/write_remote`` answer them: the image read back (optionally compressed), an upload
sized by its ``Content-Length``, and a download from a URL reported as NDJSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import lzma
import os
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from aiohttp import web
from aiohttp.multipart import parse_content_disposition

from ._server import json_response
from ._validators import (
    valid_bool,
    valid_float,
    valid_int,
    valid_msd_compress,
    valid_msd_image_name,
    valid_url,
)
from ._ws import VERSION

if TYPE_CHECKING:
    from ._msd import Msd

logger = logging.getLogger("aiopikvm.emulator.msd")

CHUNK: Final = 65536  # kvmd's read_chunk_size and write_chunk_size
TICK: Final = 1.0  # kvmd reports transfer progress about once a second
_REMOTE_READ_TIMEOUT: Final = 7 * 24 * 3600.0
_USER_AGENT: Final = f"KVMD/{VERSION['major']}.{VERSION['minor']}"


def _zstd_compressor() -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        # kvmd always has it; this emulator only when the package is installed.
        raise RuntimeError("compress=zstd needs the zstandard package") from None
    return zstandard.ZstdCompressor().compressobj()


COMPRESSORS: Final[dict[str, tuple[str, Callable[[], Any] | None]]] = {
    "": ("", None),
    "none": ("", None),
    "lzma": (".xz", lzma.LZMACompressor),
    "zstd": (".zst", _zstd_compressor),
}
"""``compress`` -> (the suffix of the download's file name, a compressor factory)."""


def _write_info(name: str, size: int, written: int) -> dict[str, Any]:
    return {"image": {"name": name, "size": size, "written": written}}


async def _stream_json(
    response: web.StreamResponse, result: dict[str, Any], ok: bool = True
) -> None:
    # kvmd's NDJSON line: json.dumps' default separators, CRLF, keys in insertion order.
    await response.write(json.dumps({"ok": ok, "result": result}).encode() + b"\r\n")


async def read(msd: Msd, request: web.Request) -> web.StreamResponse:
    name = valid_msd_image_name(request.query.get("image"))
    compress = valid_msd_compress(request.query.get("compress", ""), COMPRESSORS)
    suffix, make_compressor = COMPRESSORS[compress]
    async with msd.reading(name) as (size, chunks):
        response = web.StreamResponse(status=200, reason="OK")
        response.content_type = "application/octet-stream"
        if make_compressor is None:
            response.content_length = size
        quoted = urllib.parse.quote(name + suffix, safe="")
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted}"
        if make_compressor is not None:
            chunks = _compressed(chunks, make_compressor())
        await response.prepare(request)
        try:
            async for chunk in chunks:
                await response.write(chunk)
        except ConnectionError:
            pass  # the client hung up; aiohttp drops the connection
        return response


async def write(msd: Msd, request: web.Request) -> web.StreamResponse:
    prefix = request.query.get("prefix", "") + "/"
    name = valid_msd_image_name(prefix + request.query.get("image", ""))
    size = valid_int(request.content_length, "int", low=0)
    remove_incomplete = _valid_remove_incomplete(request)
    written = 0
    async with msd.writing(name, size, remove_incomplete) as writer:
        last = 0.0
        while chunk := await request.content.read(CHUNK):
            written = await writer.write(chunk)
            last = await msd.tick(last)
    return json_response(_write_info(name, size, written))


async def write_remote(msd: Msd, request: web.Request) -> web.StreamResponse:
    prefix = request.query.get("prefix", "") + "/"
    url = valid_url(request.query.get("url"))
    insecure = valid_bool(request.query.get("insecure", False))
    timeout = valid_float(request.query.get("timeout", 10.0), low=0.1)
    remove_incomplete = _valid_remove_incomplete(request)

    name = ""
    size = written = 0
    response: web.StreamResponse | None = None
    try:
        async with _fetch(url, verify=not insecure, timeout=timeout) as remote:
            name = str(request.query.get("image", "")).strip() or _remote_filename(remote)
            name = valid_msd_image_name(prefix + name)
            if remote.content_length is None:
                raise aiohttp.ClientError("No Content-Length found")
            size = valid_int(remote.content_length, "int", low=0)
            async with msd.writing(name, size, remove_incomplete) as writer:
                response = web.StreamResponse(status=200, reason="OK")
                response.content_type = "application/x-ndjson"
                await response.prepare(request)
                await _stream_json(response, _write_info(name, size, written))
                last_report = last_tick = 0.0
                async for chunk in remote.content.iter_chunked(CHUNK):
                    written = await writer.write(chunk)
                    if time.monotonic() - last_report >= TICK:
                        await _stream_json(response, _write_info(name, size, written))
                        last_report = time.monotonic()
                    last_tick = await msd.tick(last_tick)
            await _stream_json(response, _write_info(name, size, written))
            return response
    except Exception as error:
        if response is not None:
            await _break_stream(request, response, _write_info(name, size, written), error)
            return response
        if isinstance(error, aiohttp.ClientError):
            return json_response(
                {"error": type(error).__name__, "error_msg": str(error)}, status=400
            )
        raise


def _valid_remove_incomplete(request: web.Request) -> bool | None:
    flag = request.query.get("remove_incomplete")
    return valid_bool(flag) if flag is not None else None


@contextlib.asynccontextmanager
async def _fetch(
    url: str, *, verify: bool, timeout: float
) -> AsyncIterator[aiohttp.ClientResponse]:
    client_timeout = aiohttp.ClientTimeout(
        connect=timeout, sock_connect=timeout, sock_read=_REMOTE_READ_TIMEOUT
    )
    async with (
        aiohttp.ClientSession(
            headers={"User-Agent": _USER_AGENT}, timeout=client_timeout, trust_env=False
        ) as session,
        session.get(url, ssl=verify) as remote,
    ):
        if remote.status != 200:
            remote.release()
            raise aiohttp.ClientResponseError(
                remote.request_info,
                remote.history,
                status=remote.status,
                message=remote.reason or "",
                headers=remote.headers,
            )
        yield remote


def _remote_filename(remote: aiohttp.ClientResponse) -> str:
    try:
        return str(parse_content_disposition(remote.headers["Content-Disposition"])[1]["filename"])
    except Exception:
        return os.path.basename(remote.url.path)


async def _break_stream(
    request: web.Request,
    response: web.StreamResponse,
    info: dict[str, Any],
    error: Exception,
) -> None:
    """kvmd's failure after HTTP 200: the progress so far, the error as a last record, then
    the connection drops without the chunked body's final chunk."""
    logger.info("msd/write_remote failed: %s: %s", type(error).__name__, error)
    with contextlib.suppress(ConnectionError):
        await _stream_json(response, info)
        await _stream_json(
            response, {"error": type(error).__name__, "error_msg": str(error)}, False
        )
    if request.transport is not None:
        request.transport.close()


async def _compressed(chunks: AsyncIterator[bytes], compressor: Any) -> AsyncIterator[bytes]:
    buffer = b""
    try:
        async for chunk in chunks:
            buffer += await asyncio.to_thread(compressor.compress, chunk)
            if len(buffer) >= CHUNK:
                yield buffer
                buffer = b""
    finally:
        buffer += await asyncio.to_thread(compressor.flush)
    if buffer:
        yield buffer
