from __future__ import annotations

import asyncio
import contextlib
import enum
import io
import os
import re
import time
from collections.abc import AsyncGenerator
from typing import IO, TYPE_CHECKING, Final, Literal, TypeAlias

from .._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_optional_bool,
    check_path,
    check_str,
    check_timeout,
    invalid,
    show,
)
from ..errors import (
    BadRequestError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    ProtocolError,
)
from ..transport.body import body_chunks
from ..transport.http_errors import request_info
from ..transport.params import Params
from ..transport.redaction import SecretURL
from ._base import Resource, parse
from .msd_busy import check_busy_wait, while_busy
from .msd_names import check_image_name, check_prefix
from .msd_upload import (
    Progress,
    UploadSource,
    _check_room,
    _counted,
    _open_source,
    _progress_records,
    _report,
    _write_result,
)
from .msd_upload import _progress_record as _progress_record  # tests read it from here

if TYPE_CHECKING:
    from ..models.msd import MsdImage, MsdState, MsdWriteResult

DownloadDest: TypeAlias = str | os.PathLike[str] | IO[bytes]
Compress: TypeAlias = Literal["lzma", "zstd"]

_URL_PATTERN: Final = re.compile(r"^(?:https?)://[\[\w]+\S*", re.IGNORECASE | re.MULTILINE)
_MIN_REMOTE_TIMEOUT: Final = 0.1
_REMOTE_TIMEOUT: Final = 10.0  # kvmd's default wait for the origin (api/msd.py)
_RECORD_INTERVAL: Final = 3.0  # kvmd's progress records come 1-3 s apart while data flows
_POLL_INTERVAL: Final = 0.1


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET: Final = _Unset.UNSET


class Msd(Resource):
    """Virtual media (``/api/msd``): images in the device's storage, shown to the host as a
    USB drive (a CD-ROM or a flash drive).

    The usual sequence: :meth:`upload` an image, :meth:`wait_for_image` until the storage
    lists it, :meth:`set_params` to select it, ``set_connected(True)`` to plug it in.
    kvmd refuses changes while the drive is connected (``MsdConnectedError``) and any
    operation while another runs (:class:`~aiopikvm.BusyError`, ``MsdIsBusyError``).

    Transfers (:meth:`upload`, :meth:`upload_remote`, :meth:`download`) take as long as
    they take, as long as they move: the client's ``timeout`` bounds connecting and each
    wait for the next piece (an idle timeout), not the whole transfer. Bound one with
    ``asyncio.timeout()`` if you need to.
    """

    async def get_state(self) -> MsdState:
        from ..models.msd import MsdState

        return parse(MsdState, await self._http.request("GET", "msd"), "msd state")

    async def set_params(
        self,
        *,
        image: str | _Unset | None = _UNSET,
        cdrom: bool | None = None,
        rw: bool | None = None,
        busy_wait: float = 0.0,
    ) -> None:
        """Select an ``image`` from storage (``None`` unselects), and how the host sees
        the drive: ``cdrom=True`` a CD-ROM, ``False`` a flash drive, writable with
        ``rw=True`` (a CD-ROM never is). Only the arguments given change. Refused while
        the drive is connected. ``busy_wait``: seconds to try again, backing off, while
        kvmd answers :class:`~aiopikvm.BusyError` (an operation that has just ended, such
        as a download whose last bytes were read, still holds the drive a moment)."""
        wait = check_busy_wait(busy_wait)
        params: dict[str, str | bool] = {}
        if image is not _UNSET:
            if image is None:
                params["image"] = ""  # kvmd's way to unselect
            else:
                if isinstance(image, str) and not image.strip():
                    raise invalid("image", "an image name (image=None unselects)", image)
                params["image"] = check_image_name(image)
        if cdrom is not None:
            params["cdrom"] = check_bool(cdrom, "cdrom")
        if rw is not None:
            params["rw"] = check_bool(rw, "rw")
        if cdrom and rw:
            # kvmd would quietly make it a read-only CD-ROM.
            raise InvalidInputError("a CD-ROM is read-only: cdrom=True and rw=True conflict")
        if not params:
            raise InvalidInputError("set_params() needs image, cdrom or rw")
        await while_busy(wait, lambda: self._http.request("POST", "msd/set_params", params=params))

    async def set_connected(
        self, connected: bool, *, strict: bool = False, busy_wait: float = 0.0
    ) -> None:
        """Plug the drive into the host (``True``; an image must be selected) or unplug
        it. A drive already in that state is left as it is; with ``strict=True`` that
        raises kvmd's :class:`~aiopikvm.BadRequestError` instead (``MsdConnectedError``,
        ``MsdDisconnectedError``). ``busy_wait``: as :meth:`set_params`'."""
        params = {"connected": check_bool(connected, "connected")}
        check_bool(strict, "strict")
        wait = check_busy_wait(busy_wait)
        try:
            await while_busy(
                wait, lambda: self._http.request("POST", "msd/set_connected", params=params)
            )
        except BadRequestError as exc:
            # kvmd/plugins/msd/otg: check_online_disconnected / check_online_connected
            already = "MsdConnectedError" if connected else "MsdDisconnectedError"
            if strict or exc.error != already:
                raise

    async def remove(self, image: str) -> None:
        """Delete an image from storage (refused while the drive is connected)."""
        params = {"image": check_image_name(image)}
        await self._http.request("POST", "msd/remove", params=params)

    async def reset(self) -> None:
        """Reset the drive: kvmd unplugs it from the host."""
        await self._http.request("POST", "msd/reset")

    async def wait_for_image(self, name: str, *, timeout: float = 10.0) -> MsdImage:
        """Wait until the storage lists ``name`` as complete, and return it.

        kvmd lists a new image only when its storage watcher notices the file, a moment
        after the upload returned; selecting it before that fails with
        ``MsdUnknownImageError``."""
        name = check_image_name(name)
        check_timeout(timeout, none_ok=False, zero_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            storage = (await self.get_state()).storage
            image = storage.images.get(name) if storage is not None else None
            if image is not None and image.complete:
                return image
            if time.monotonic() >= deadline:
                raise PiKVMTimeoutError(f"the image {name!r} did not show up in {timeout} s")
            await asyncio.sleep(_POLL_INTERVAL)

    # ----- uploads ------------------------------------------------------------------------

    async def upload(
        self,
        name: str,
        source: UploadSource,
        *,
        size: int | None = None,
        prefix: str | None = None,
        remove_incomplete: bool | None = None,
        progress: Progress | None = None,
    ) -> MsdWriteResult:
        """Upload an image into storage as ``name`` (under the directory ``prefix``).

        ``source`` is the content (bytes), a file's path (a ``str`` is always a path), a
        binary file object (read from its current position), or an async iterator of
        bytes, which needs ``size=``. It is streamed in pieces, never read whole, and sent
        with a ``Content-Length`` (kvmd refuses anything else). ``progress(sent, total)``
        is called as the bytes go out. With ``remove_incomplete=True`` kvmd deletes an
        image whose upload stopped short; otherwise it keeps it, marked incomplete.

        Returns what kvmd stored (``name`` includes the prefix). The storage lists the new
        image a moment later: see :meth:`wait_for_image`.
        """
        check_image_name(name, "name")
        check_prefix(prefix)
        check_image_name(f"{prefix or ''}/{name}")
        check_optional_bool(remove_incomplete, "remove_incomplete")
        if size is not None:
            check_int(size, "size", low=0)
        if progress is not None:
            check_callable(progress, "progress")
        if isinstance(source, str | os.PathLike):
            check_path(source, "source")
        params: Params = {"image": name, "prefix": prefix, "remove_incomplete": remove_incomplete}
        async with _open_source(source, size) as (chunks, total):
            _check_room((await self.get_state()).storage, f"{prefix or ''}/{name}", total)
            # A streamed body: each write must move within the client's timeout, and the
            # answer comes within it of the last byte (kvmd answers once it is written).
            result = await self._http.request(
                "POST",
                "msd/write",
                params=params,
                content=_counted(chunks, total, progress),
                headers={
                    "Content-Length": str(total),
                    "Content-Type": "application/octet-stream",
                },
            )
        return _write_result(result)

    async def upload_remote(
        self,
        url: str,
        *,
        image: str | None = None,
        prefix: str | None = None,
        insecure: bool | None = None,
        timeout: float | None = None,
        remove_incomplete: bool | None = None,
        progress: Progress | None = None,
    ) -> MsdWriteResult:
        """Have the device download an image from ``url`` (http or https) into storage.

        ``image`` names it (default: the name the server gives, or the URL's last part);
        ``insecure=True`` skips the server's certificate check; ``timeout`` is how long
        the device waits to connect (kvmd's default 10 s). ``progress(written, total)`` is
        called for each progress record kvmd sends (about one a second).

        A failure after the download started raises :class:`~aiopikvm.StreamError` with
        kvmd's ``error`` and ``error_msg`` (e.g. ``ClientPayloadError`` when the server
        closed early); a connection that breaks raises
        :class:`~aiopikvm.PiKVMConnectionError`.
        """
        url = SecretURL(url) if isinstance(url, str) else url  # its credentials: see redaction
        check_str(url, "url", printable=True, expected="an http or https URL")
        if _URL_PATTERN.match(url.strip()) is None:
            raise invalid("url", "an http or https URL", url)
        if image is not None:
            check_image_name(image, "image")
        check_prefix(prefix)
        if image is not None:
            check_image_name(f"{prefix or ''}/{image}")
        check_optional_bool(insecure, "insecure")
        check_optional_bool(remove_incomplete, "remove_incomplete")
        if timeout is not None:
            check_number(timeout, "timeout", low=_MIN_REMOTE_TIMEOUT, query=True)
        if progress is not None:
            check_callable(progress, "progress")
        params: Params = {
            "url": url,
            "image": image,
            "prefix": prefix,
            "insecure": insecure,
            "timeout": timeout,
            "remove_incomplete": remove_incomplete,
        }
        base = self._http.timeout
        # kvmd answers once it has reached the origin (waiting up to its `timeout`), then
        # sends a progress record every 1-3 s while bytes arrive.
        answer = None if base is None else base + (timeout or _REMOTE_TIMEOUT)
        idle = None if base is None else base + _RECORD_INTERVAL
        outcome = await self._write_remote(params, answer, idle, progress)
        if isinstance(outcome, PiKVMError):
            raise outcome
        return outcome

    async def _write_remote(
        self,
        params: Params,
        answer: float | None,
        idle: float | None,
        progress: Progress | None,
    ) -> MsdWriteResult | PiKVMError:
        """:meth:`upload_remote`'s exchange; a failure record is returned, not raised: this
        frame holds the response, whose request shows the URL with its credentials."""
        async with self._http.stream(
            "POST", "msd/write_remote", params=params, timeout=answer, idle_timeout=idle
        ) as response:
            info = request_info(response.request)
            result: MsdWriteResult | None = None
            async with contextlib.aclosing(_progress_records(response, info)) as records:
                async for record in records:
                    if isinstance(record, PiKVMError):
                        return record
                    result = record
                    if progress is not None:
                        await _report(progress, result.written, result.size)
        if result is None:
            return ProtocolError(f"{info}: the progress stream was empty", request=info)
        return result

    # ----- downloads ----------------------------------------------------------------------

    def iter_download(
        self, name: str, *, compress: Compress | None = None
    ) -> AsyncGenerator[bytes, None]:
        """An image's bytes, in pieces as they arrive (``compress``: ``"lzma"`` or
        ``"zstd"``, done by the device). kvmd counts the MSD busy until the body ends:
        break out of the loop inside ``contextlib.aclosing`` to end it at once::

            async with contextlib.aclosing(kvm.msd.iter_download("os.iso")) as chunks:
                async for chunk in chunks:
                    ...
        """
        return self._read(_read_params(name, compress))

    async def download(
        self, name: str, dest: DownloadDest, *, compress: Compress | None = None
    ) -> int:
        """Save an image to ``dest`` (a path, or a binary file object written from its
        current position), streamed with constant memory. Returns the bytes written. A
        file this call created is deleted again if the download fails."""
        params = _read_params(name, compress)
        if isinstance(dest, str | os.PathLike):
            check_path(dest, "dest")
            try:
                file = await asyncio.to_thread(open, dest, "wb")
            except OSError as exc:
                raise InvalidInputError(
                    f"dest: cannot write {show(dest)}: {exc.strerror}"
                ) from None
            try:
                written = await self._save(params, file)
            except BaseException:
                await asyncio.to_thread(_discard, file, dest)
                raise
            await asyncio.to_thread(file.close)
            return written
        if isinstance(dest, io.TextIOBase) or not callable(getattr(dest, "write", None)):
            raise invalid("dest", "a path or a binary file object", dest)
        return await self._save(params, dest)

    async def _save(self, params: Params, file: IO[bytes]) -> int:
        written = 0
        async with contextlib.aclosing(self._read(params)) as chunks:
            async for chunk in chunks:
                await asyncio.to_thread(file.write, chunk)
                written += len(chunk)
        return written

    async def _read(self, params: Params) -> AsyncGenerator[bytes, None]:
        # The answer's headers within the client's timeout, then each piece within it.
        async with (
            self._http.stream("GET", "msd/read", params=params) as response,
            contextlib.aclosing(body_chunks(response)) as chunks,
        ):
            async for chunk in chunks:
                yield chunk


# ----- checks -------------------------------------------------------------------------------


def _read_params(name: str, compress: Compress | None) -> Params:
    if compress is not None:
        check_choice(compress, "compress", ("lzma", "zstd"))
    return {"image": check_image_name(name), "compress": compress}


def _discard(file: IO[bytes], path: str | os.PathLike[str]) -> None:
    file.close()
    with contextlib.suppress(OSError):
        os.unlink(path)
