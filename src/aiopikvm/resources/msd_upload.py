"""The uploads of :class:`~aiopikvm.resources.msd.Msd`: whether an image fits its storage
part, the body read from its source in pieces and counted against its ``Content-Length``,
and what kvmd answers (``msd/write``'s result, ``msd/write_remote``'s progress stream)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import IO, TYPE_CHECKING, Any, Final, TypeAlias

from .._checks import show
from ..errors import InvalidInputError, PiKVMError, ProtocolError, RequestInfo, StreamError
from ..transport.body import body_lines
from ..transport.http_errors import loads
from ..transport.redaction import redact_userinfo
from ._base import parse

if TYPE_CHECKING:
    import httpx

    from ..models.msd import MsdPart, MsdStorage, MsdWriteResult

UploadSource: TypeAlias = (
    bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | AsyncIterable[bytes]
)
"""What :meth:`Msd.upload` sends: bytes, a file's path, a binary file object, or an async
iterator of bytes (with ``size=``)."""
Progress: TypeAlias = Callable[[int, int], Awaitable[object] | object]
"""``progress(done, total)`` in bytes; it may be a coroutine function."""

_CHUNK: Final = 256 * 1024


# ----- room ---------------------------------------------------------------------------------


def _check_room(storage: MsdStorage | None, path: str, size: int) -> None:
    """Refuse an image bigger than the free space of the storage part it goes to,
    before a byte is sent (kvmd would start writing it and fail halfway)."""
    if storage is None:
        return  # offline: kvmd refuses the upload itself (MsdOfflineError)
    part = _part_for(path, storage.parts)
    free = storage.parts[part].free if part is not None else None
    if free is not None and size > free:
        where = f"storage part {part!r}" if part else "storage"
        raise InvalidInputError(
            f"the image is {size} bytes, the device's {where} has {free} free: "
            "remove images (msd.remove) or upload a smaller one; nothing was sent"
        )


def _part_for(path: str, parts: Mapping[str, MsdPart]) -> str | None:
    """The storage part an image at ``path`` lands on: the deepest part whose directory
    holds it, else the root ``""`` (kvmd/plugins/msd/otg/storage.py lists mount points
    under the storage as parts)."""
    name = "/".join(part.strip() for part in path.split("/") if part.strip())
    holding = [part for part in parts if part and name.startswith(part.strip("/") + "/")]
    if holding:
        return max(holding, key=len)
    return "" if "" in parts else None


# ----- upload bodies ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _open_source(
    source: UploadSource, size: int | None
) -> AsyncIterator[tuple[AsyncIterator[bytes], int]]:
    """The source as pieces of bytes and its exact size, checked before anything is sent."""
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source).cast("B")
        _check_size(size, len(view))
        yield _memory_chunks(view), len(view)
    elif isinstance(source, str | os.PathLike):
        try:
            file = await asyncio.to_thread(open, source, "rb")
        except OSError as exc:
            raise InvalidInputError(f"source: cannot read {show(source)}: {exc.strerror}") from None
        try:
            total = (await asyncio.to_thread(os.fstat, file.fileno())).st_size
            _check_size(size, total)
            yield _file_chunks(file), total
        finally:
            await asyncio.to_thread(file.close)
    elif isinstance(source, AsyncIterable):
        if size is None:
            raise InvalidInputError("an async iterator as source needs size= (its byte count)")
        yield _async_chunks(source), size
    else:
        read = getattr(source, "read", None)
        if isinstance(source, io.TextIOBase) or not callable(read):
            raise InvalidInputError(
                "source must be bytes, a path, a binary file object or an async iterator of "
                f"bytes, got {type(source).__name__}"
            )
        stream: IO[bytes] = source
        remaining = await asyncio.to_thread(_remaining, stream)
        if size is None:
            if remaining is None:
                raise InvalidInputError("a file object that cannot seek needs size=")
            size = remaining
        elif remaining is not None:
            _check_size(size, remaining)
        yield _file_chunks(stream), size


def _check_size(size: int | None, actual: int) -> None:
    if size is not None and size != actual:
        raise InvalidInputError(f"size={size} but the source has {actual} bytes")


def _remaining(file: IO[bytes]) -> int | None:
    try:
        if not file.seekable():
            return None
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
    except (OSError, ValueError, AttributeError):
        return None
    return max(end - position, 0)


async def _memory_chunks(view: memoryview) -> AsyncIterator[bytes]:
    for start in range(0, len(view), _CHUNK):
        yield view[start : start + _CHUNK].tobytes()


async def _file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(file.read, _CHUNK):
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidInputError(f"the file gave {type(chunk).__name__}, not bytes")
        yield bytes(chunk)


async def _async_chunks(source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in source:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidInputError(f"the source gave {type(chunk).__name__}, not bytes")
        yield bytes(chunk)


async def _counted(
    chunks: AsyncIterator[bytes], total: int, progress: Progress | None
) -> AsyncIterator[bytes]:
    """The body as announced in Content-Length, with progress reported as it goes out."""
    sent = 0
    async for chunk in chunks:
        if not chunk:
            continue
        if sent + len(chunk) > total:
            raise InvalidInputError(f"the source has more than the {total} bytes announced")
        yield chunk
        # Resumed only when the transport asks for the next piece: this one is out.
        sent += len(chunk)
        if progress is not None:
            await _report(progress, sent, total)
    if sent != total:
        raise InvalidInputError(f"the source ended after {sent} of the {total} bytes announced")


async def _report(progress: Progress, done: int, total: int) -> None:
    result = progress(done, total)
    if inspect.isawaitable(result):
        await result


# ----- results ------------------------------------------------------------------------------


def _write_result(result: Any) -> MsdWriteResult:
    from ..models.msd import MsdWriteResult

    image = result.get("image") if isinstance(result, dict) else None
    return parse(MsdWriteResult, image, "msd write result")


async def _progress_records(
    response: httpx.Response, info: RequestInfo
) -> AsyncGenerator[MsdWriteResult | PiKVMError, None]:
    """The NDJSON progress stream's records, a failure among them as an error to raise.

    A failure is yielded, not raised: kvmd's record may quote the download URL with its
    credentials, and its line then sits in this frame, which a raise would put in the
    traceback (and its locals in Sentry's report)."""
    async with contextlib.aclosing(body_lines(response, what="progress record")) as lines:
        async for line in lines:
            if line.strip():
                yield _progress_outcome(line, info)


def _progress_record(line: str, info: RequestInfo) -> MsdWriteResult:
    """A progress record's result; its failure raised."""
    outcome = _progress_outcome(line, info)
    if isinstance(outcome, PiKVMError):
        raise outcome
    return outcome


def _progress_outcome(line: str, info: RequestInfo) -> MsdWriteResult | PiKVMError:
    try:
        record = loads(line)
    except ValueError:
        return ProtocolError(f"{info}: a progress record is not JSON", request=info)
    if not isinstance(record, dict) or "ok" not in record:
        return ProtocolError(f"{info}: a progress record is not kvmd's envelope", request=info)
    result = record.get("result")
    if record["ok"] is not True:
        details = result if isinstance(result, dict) else {}
        error = details.get("error") if isinstance(details.get("error"), str) else None
        error_msg = (
            redact_userinfo(details["error_msg"])  # it may quote the URL downloaded from
            if isinstance(details.get("error_msg"), str)
            else None
        )
        return StreamError(
            f"{info}: failed after the transfer started: {error}: {error_msg}",
            status_code=200,
            error=error,
            error_msg=error_msg,
            request=info,
        )
    return _write_result(result)
